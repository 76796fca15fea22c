"""``hearth`` and ``python -m app`` on the command line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


from wizard import __version__

REPO = Path(__file__).resolve().parents[2]


def _run(cmd: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=60,
                          env=dict(os.environ))


def test_python_dash_m_app_prints_the_version() -> None:
    result = _run([sys.executable, "-m", "app", "--version"])
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"Hearth {__version__}"


def test_the_hearth_command_is_installed_and_prints_the_version() -> None:
    script = Path(sys.executable).parent / ("hearth.exe" if os.name == "nt" else "hearth")
    assert script.exists(), "the `hearth` entry point is not installed (pip install -e .)"
    result = _run([str(script), "--version"])
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"Hearth {__version__}"


def test_version_and_help_answer_without_loading_qt() -> None:
    probe = (
        "import sys\n"
        "from app.__main__ import main\n"
        "for args in (['--version'], ['--help']):\n"
        "    try:\n"
        "        main(args)\n"
        "    except SystemExit as stop:\n"
        "        assert stop.code == 0, stop.code\n"
        "print('QT', any(m.startswith('PySide6') for m in sys.modules))\n"
    )
    result = _run([sys.executable, "-c", probe])
    assert result.returncode == 0, result.stderr
    assert "QT False" in result.stdout


def test_an_unknown_option_is_refused_plainly() -> None:
    result = _run([sys.executable, "-m", "app", "--frobnicate"])
    assert result.returncode == 2
    assert "unrecognized arguments: --frobnicate" in result.stderr


BARE_HEARTH = """
import sys
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
from app.__main__ import main
from app.gui import create_application
from app.main_window import MainWindow

create_application(sys.argv)  # the timer below needs the application main() will use
seen = []

def look_then_quit():
    seen.extend(w.windowTitle() for w in QApplication.topLevelWidgets()
                if isinstance(w, MainWindow) and w.isVisible())
    for widget in QApplication.topLevelWidgets():
        widget.close()
    QApplication.quit()

QTimer.singleShot(1500, look_then_quit)
code = main([])
print("SHOWN", seen, "EXIT", code)
"""


def test_bare_hearth_opens_the_main_window() -> None:
    """``main([])`` is what ``hearth`` runs: it must show a real window and run the event loop.

    It runs in its own process: once an event loop has quit, Qt refuses to run nested
    loops in that process, which would break every later test.
    """
    result = _run([sys.executable, "-c", BARE_HEARTH])
    assert result.returncode == 0, result.stderr
    assert "SHOWN ['Hearth'] EXIT 0" in result.stdout, result.stdout + result.stderr


def test_the_window_opens_its_log_file_once_drawn_and_nothing_logged_before_is_lost() -> None:
    from wizard.paths import hearth_paths

    result = _run([sys.executable, "-c", BARE_HEARTH])
    assert "SHOWN ['Hearth'] EXIT 0" in result.stdout, result.stdout + result.stderr
    log = hearth_paths().log_file.read_text(encoding="utf-8")
    held = [log.find(f"Hearth {__version__} starting"), log.find("Main window shown")]
    opened = log.find(f"Hearth {__version__}; log file {hearth_paths().log_file}")
    assert -1 not in held and held == sorted(held) and opened > held[-1], log


def test_a_log_folder_that_cannot_be_written_does_not_stop_the_window() -> None:
    from wizard.paths import hearth_paths

    logs = hearth_paths().logs
    logs.parent.mkdir(parents=True, exist_ok=True)
    logs.write_text("a file where the log folder should be", encoding="utf-8")
    result = _run([sys.executable, "-c", BARE_HEARTH])
    assert result.returncode == 0, result.stderr
    assert "SHOWN ['Hearth'] EXIT 0" in result.stdout, result.stdout + result.stderr
    assert "Hearth could not write its log file" in result.stderr
    assert "Traceback" not in result.stderr, result.stderr


# Watches the one main window (not the whole application: an app-wide filter slows every event):
# ``at_first_paint`` runs once it has been drawn, ``when_ready`` once its content is in place.
WATCH_MAIN_WINDOW = """
import sys
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
from app.__main__ import main
from app.gui import create_application
from app.main_window import MainWindow
from app.ui.theme import is_dark

app = create_application(sys.argv)
hooks = {"first paint": [], "ready": []}
_build = MainWindow.__init__

def _watched_init(self, *args, **kwargs):
    _build(self, *args, **kwargs)
    self.placeholder.painted.connect(lambda: [hook() for hook in hooks["first paint"]])
    self.content_ready.connect(lambda: [QTimer.singleShot(200, hook) for hook in hooks["ready"]])

MainWindow.__init__ = _watched_init
QTimer.singleShot(60_000, QApplication.quit)  # a hang ends the test instead of blocking it

def quit_all():
    for widget in QApplication.topLevelWidgets():
        widget.close()
    QApplication.quit()
"""

DARK_START = WATCH_MAIN_WINDOW + """
seen = []

def look_then_quit():
    seen.append((is_dark(app.palette()), not app.windowIcon().isNull()))
    quit_all()

hooks["ready"].append(look_then_quit)
main([])
print("DARK, ICON", seen)
"""


def test_the_saved_theme_and_the_icon_apply_from_the_start(hearth_home: Path) -> None:
    from wizard.settings import Settings, save_settings

    save_settings(Settings(theme="dark"))
    result = _run([sys.executable, "-c", DARK_START])
    assert result.returncode == 0, result.stderr
    assert "DARK, ICON [(True, True)]" in result.stdout, result.stdout + result.stderr


THEME_AT_FIRST_PAINT = WATCH_MAIN_WINDOW + """
seen = {}

def theme():
    return "dark" if is_dark(app.palette()) else "light"

def look_then_quit():
    seen["later"] = theme()
    quit_all()

hooks["first paint"].append(lambda: seen.setdefault("first paint", theme()))
hooks["ready"].append(look_then_quit)
main([])
print("THEME", seen.get("first paint"), seen.get("later"))
"""


def test_the_window_is_drawn_in_the_theme_chosen_before_and_a_hand_edit_applies_right_after() -> None:
    from wizard.settings import Settings, save_settings

    save_settings(Settings(theme="dark"))
    first = _run([sys.executable, "-c", THEME_AT_FIRST_PAINT])
    assert "THEME light dark" in first.stdout, first.stdout + first.stderr  # nothing kept yet: read after the paint
    second = _run([sys.executable, "-c", THEME_AT_FIRST_PAINT])
    assert "THEME dark dark" in second.stdout, second.stdout + second.stderr  # drawn dark from the start
    save_settings(Settings(theme="light"))  # as if settings.toml were edited while Hearth was closed
    edited = _run([sys.executable, "-c", THEME_AT_FIRST_PAINT])
    assert "THEME dark light" in edited.stdout, edited.stdout + edited.stderr
