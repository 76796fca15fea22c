"""Start the Qt application and show the main window."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from types import TracebackType

from PySide6.QtWidgets import QApplication

from wizard import __version__
from wizard.paths import assets_dir

log = logging.getLogger(__name__)


def _install_excepthook() -> None:
    """Log any uncaught error and show it as a plain message instead of vanishing."""

    def hook(kind: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        log.error("Uncaught error", exc_info=(kind, exc, tb))
        if QApplication.instance() is None or issubclass(kind, KeyboardInterrupt):
            sys.__excepthook__(kind, exc, tb)
            return
        from app.error_dialog import show_error

        show_error(QApplication.activeWindow(), exc)

    sys.excepthook = hook


def create_application(argv: list[str], *, with_icon: bool = True) -> QApplication:
    """The one QApplication, created on first use and named for QSettings and the OS."""
    app = QApplication.instance() or QApplication(argv)
    app.setApplicationName("Hearth")
    app.setOrganizationName("Hearth")
    app.setApplicationVersion(__version__)
    app.setApplicationDisplayName("Hearth")
    if with_icon:
        set_window_icon(app)
    return app


def set_window_icon(app: QApplication) -> None:
    from PySide6.QtGui import QIcon  # here: the icon is set once the window is drawn (~4 ms sooner)

    icon = assets_dir() / "icons" / "hearth-256.png"
    if icon.is_file():
        app.setWindowIcon(QIcon(str(icon)))


LAST_THEME_KEY = "appearance/last-theme"  # in window.ini, a copy; settings.toml says what is chosen


def run_gui(argv: list[str], *, open_log: Callable[[], object] | None = None) -> int:
    """Show the main window and run the event loop until it closes.

    The window is drawn first, in the theme it had when Hearth last closed (kept beside the
    window's size: reading settings.toml needs the TOML reader, ~10 ms). Right after the first
    paint: the log file opens (``open_log``), the saved settings are read (their theme applied
    should it differ, say after an edit by hand), the icon is set, the chat or the welcome page
    is built and, on a first run, the setup wizard opens.
    """
    from app.main_window import MainWindow, window_settings
    from app.ui.theme import apply_theme

    app = create_application(argv, with_icon=False)
    _install_excepthook()
    apply_theme(app, str(window_settings().value(LAST_THEME_KEY, "system")))
    app.aboutToQuit.connect(lambda: _on_quit(app))
    window = MainWindow()
    window.building_content.connect(lambda: _after_first_paint(app, open_log))
    window.content_ready.connect(window.open_setup_if_first_run)
    window.show()
    log.info("Main window shown")
    return app.exec()


def _after_first_paint(app: QApplication, open_log: Callable[[], object] | None) -> None:
    from app.ui.theme import apply_theme, current_theme
    from wizard.settings import load_settings

    if open_log is not None:
        open_log()
    loaded = load_settings()
    if loaded.notice is not None:
        log.warning("Settings: %s", loaded.notice)
    if loaded.settings.theme != current_theme(app):
        apply_theme(app, loaded.settings.theme)
    set_window_icon(app)


def _on_quit(app: QApplication) -> None:
    from app.main_window import window_settings
    from app.tasks import cancel_all_and_wait
    from app.ui.theme import current_theme

    window_settings().setValue(LAST_THEME_KEY, current_theme(app))
    cancel_all_and_wait()
