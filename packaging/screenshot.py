"""Screenshot Hearth's main window on a real X server (Xvfb), for the README and reviews.

    HEARTH_HOME=$(mktemp -d) xvfb-run -a -s "-screen 0 1024x700x24" \
        .venv/bin/python packaging/screenshot.py assets/main-window.png

Runs the same code path as ``hearth`` (``app.gui.run_gui``) and grabs the screen once the
window is up, so the picture is what a person sees, not a widget rendered on its own. With an
empty ``HEARTH_HOME`` that is a first start: the main window with the setup wizard over it.
The chat window with a real conversation: ``tests/app/chat/make_screenshots.py``; the setup
wizard's pages: ``tests/app/setup/make_screenshots.py``.
"""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from app.gui import create_application, run_gui
from app.main_window import MainWindow


def main(target: Path) -> int:
    def grab_then_quit() -> None:
        [window] = [w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow)]
        window.move(0, 0)
        QApplication.processEvents()
        screen = QApplication.primaryScreen()
        frame = window.frameGeometry()
        picture = screen.grabWindow(0, frame.x(), frame.y(), frame.width(), frame.height())
        target.parent.mkdir(parents=True, exist_ok=True)
        if not picture.save(str(target)):
            print(f"could not save {target}", file=sys.stderr)
        window.close()
        QApplication.quit()

    create_application([sys.argv[0]])  # timers need the application to exist
    QTimer.singleShot(800, grab_then_quit)
    return run_gui([sys.argv[0]])


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1] if len(sys.argv) > 1 else "assets/main-window.png")))
