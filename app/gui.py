"""Start the Qt application and show the main window."""

from __future__ import annotations

import logging
import sys
from types import TracebackType

from PySide6.QtGui import QIcon
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


def create_application(argv: list[str]) -> QApplication:
    """The one QApplication, created on first use and named for QSettings and the OS."""
    app = QApplication.instance() or QApplication(argv)
    app.setApplicationName("Hearth")
    app.setOrganizationName("Hearth")
    app.setApplicationVersion(__version__)
    app.setApplicationDisplayName("Hearth")
    icon = assets_dir() / "icons" / "hearth-256.png"
    if icon.is_file():
        app.setWindowIcon(QIcon(str(icon)))
    return app


def run_gui(argv: list[str]) -> int:
    """Show the main window and run the event loop until it closes."""
    from app.main_window import MainWindow

    from app.tasks import cancel_all_and_wait

    from app.ui.theme import apply_theme
    from wizard.settings import load_settings

    app = create_application(argv)
    _install_excepthook()
    loaded = load_settings()
    if loaded.notice is not None:
        log.warning("Settings: %s", loaded.notice)
    apply_theme(app, loaded.settings.theme)
    app.aboutToQuit.connect(cancel_all_and_wait)
    window = MainWindow()
    # The window is drawn first; right after, it builds the chat or the welcome page, then on a
    # first run the setup wizard opens (both import much more than the window needs to appear).
    window.content_ready.connect(window.open_setup_if_first_run)
    window.show()
    log.info("Main window shown")
    return app.exec()
