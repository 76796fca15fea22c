"""Render ``assets/icons/hearth.svg`` into the PNG and ICO files the installers use.

    .venv/bin/python packaging/render_icons.py

Run it again after changing the SVG; the rendered files are committed so a build needs
no SVG renderer. Uses Qt's own SVG renderer (QtSvg ships in PySide6-Essentials).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ICONS = Path(__file__).resolve().parent.parent / "assets" / "icons"
SOURCE = ICONS / "hearth.svg"
PNG_SIZES = (16, 32, 48, 64, 128, 256, 512)
ICO_SIZE = 256  # Windows scales the one 256 px image down for Explorer and the Start menu


def render(size: int):
    """The SVG drawn on a transparent ``size``×``size`` QImage.

    Raises:
        ValueError: the SVG could not be parsed.
    """
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    renderer = QSvgRenderer(str(SOURCE))
    if not renderer.isValid():
        raise ValueError(f"{SOURCE} is not a valid SVG")
    image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    renderer.render(painter)
    painter.end()
    return image


def main() -> int:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtGui import QGuiApplication

    app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])  # noqa: F841 - Qt needs one
    for size in PNG_SIZES:
        target = ICONS / f"hearth-{size}.png"
        if not render(size).save(str(target), "PNG"):
            raise OSError(f"could not write {target}")
        print(target)
    ico = ICONS / "hearth.ico"
    if not render(ICO_SIZE).save(str(ico), "ICO"):
        raise OSError(f"could not write {ico}")
    print(ico)
    return 0


if __name__ == "__main__":
    sys.exit(main())
