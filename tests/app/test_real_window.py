"""``hearth``'s window on a real X server (Xvfb), not only offscreen."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtGui import QImage

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Xvfb is a Linux X server")
def test_the_main_window_shows_on_a_real_x_server(tmp_path: Path) -> None:
    shot = tmp_path / "main-window.png"
    env = dict(os.environ, HEARTH_HOME=str(tmp_path / "home"), PYTHONPATH=str(REPO))
    env.pop("QT_QPA_PLATFORM")  # the real xcb platform, as on a desktop
    result = subprocess.run(
        ["xvfb-run", "-a", "-s", "-screen 0 1024x700x24",
         sys.executable, str(REPO / "packaging" / "screenshot.py"), str(shot)],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    image = QImage(str(shot))
    assert image.width() >= 480 and image.height() >= 360
    colours = {image.pixel(x, y) for x in range(0, image.width(), 7) for y in range(0, image.height(), 7)}
    assert len(colours) > 10, "the screenshot is blank: nothing was drawn"
