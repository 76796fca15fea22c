"""Starting ``hearth`` draws its window before the slow imports (the Hub client, llama.cpp).

Each case runs the real entry point (``app.__main__.main([])``) in its own process, as
tests/app/test_cli.py does, and notes which heavy modules are loaded when the main window's
first paint arrives, and again once its real content (the setup wizard on a first run, the
chat otherwise) is in place, to prove the content is still built right after.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
HEAVY = ("huggingface_hub", "llama_cpp", "httpx", "keyring")
# Light, but not needed to draw the window on a first run (no settings file yet): the log file's
# handlers, the TOML reader, the keyring wrapper. Each costs a few ms before the first paint.
NOT_BEFORE_FIRST_RUN_PAINT = ("logging.handlers", "tomllib", "wizard.secrets")

WATCH_START = """
import json, sys
from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication
from app.__main__ import main
from app.gui import create_application
from app.main_window import MainWindow

HEAVY = %r
create_application(sys.argv)
seen = {}

def loaded():
    return [name for name in HEAVY if name in sys.modules]

def content_built(window):
    seen["content"] = loaded()
    QTimer.singleShot(200, lambda: finish(window))  # the wizard opens after the content

def finish(window):
    wizard = window.setup_wizard
    seen["wizard shown"] = wizard is not None and wizard.isVisible()
    seen["chat shown"] = window.chat is not None and window.chat.isVisible()
    seen["after"] = loaded()
    if wizard is not None:
        wizard.close()
    window.close()
    QApplication.quit()

class FirstPaint(QObject):
    def eventFilter(self, obj, event):
        if event.type() == QEvent.Type.Paint and "first paint" not in seen and isinstance(obj, QObject) \\
                and hasattr(obj, "window") and isinstance(obj.window(), MainWindow):
            window = obj.window()
            seen["first paint"] = loaded()
            seen["content built at first paint"] = window.chat is not None or window.welcome_page is not None
            window.content_ready.connect(lambda: content_built(window))
        return False

watcher = FirstPaint()
QApplication.instance().installEventFilter(watcher)
QTimer.singleShot(60_000, QApplication.quit)  # never hang the test run
code = main([])
print("SEEN " + json.dumps(seen), "EXIT", code)
"""


def _start(home: Path) -> dict:
    env = dict(os.environ, HEARTH_HOME=str(home), PYTHONPATH=str(REPO))
    result = subprocess.run([sys.executable, "-c", WATCH_START % (HEAVY + NOT_BEFORE_FIRST_RUN_PAINT,)], cwd=REPO, env=env,
                            capture_output=True, text=True, timeout=120)
    line = next((x for x in result.stdout.splitlines() if x.startswith("SEEN ")), None)
    assert result.returncode == 0 and line is not None, result.stdout + result.stderr
    assert line.endswith("EXIT 0"), line
    return json.loads(line[len("SEEN "):-len(" EXIT 0")])


def test_a_first_run_draws_the_window_before_the_heavy_imports(tmp_path: Path) -> None:
    seen = _start(tmp_path / "empty-home")
    assert seen["first paint"] == [], f"loaded before the window was drawn: {seen['first paint']}"
    assert (tmp_path / "empty-home" / "logs" / "hearth.log").is_file()  # opened once it was drawn
    assert seen["content built at first paint"] is False  # the light "Getting ready…" page was drawn
    assert seen["wizard shown"] is True  # and the setup wizard opened right after
    assert "huggingface_hub" not in seen["after"]  # only a download needs the Hub client


def test_with_an_assistant_the_window_is_drawn_before_the_chat_is_built(hearth_home: Path, tiny_model: Path) -> None:
    from tests.app.chat.conftest import make_profile

    make_profile(tiny_model)  # in this test's own HEARTH_HOME
    seen = _start(hearth_home)
    heavy_at_paint = [name for name in seen["first paint"] if name in HEAVY]
    assert heavy_at_paint == [], f"loaded before the window was drawn: {heavy_at_paint}"
    assert seen["content built at first paint"] is False
    assert seen["chat shown"] is True
    assert "huggingface_hub" not in seen["after"] and "llama_cpp" not in seen["content"]
