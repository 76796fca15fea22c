"""Hearth's main window. For now a welcome screen; the chat lives here later."""

from __future__ import annotations

from PySide6.QtCore import QByteArray, QSettings, Qt, QUrl
from PySide6.QtGui import QAction, QCloseEvent, QDesktopServices, QKeySequence
from PySide6.QtWidgets import (
    QLabel,
    QMainWindow,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from wizard import __version__
from wizard.paths import hearth_paths

WELCOME_TITLE = "Welcome to Hearth"
WELCOME_TEXT = (
    "Hearth runs an AI assistant privately, on this computer. "
    "Nothing you type leaves it unless you say so, and every file it keeps is yours."
)


def window_settings() -> QSettings:
    """Window size and position, kept in Hearth's own config folder."""
    path = hearth_paths().config / "window.ini"
    return QSettings(str(path), QSettings.Format.IniFormat)


class MainWindow(QMainWindow):
    def __init__(self) -> None:
        super().__init__()
        self.setWindowTitle("Hearth")
        self.setAccessibleName("Hearth main window")
        self.setMinimumSize(480, 360)
        self._build_menus()
        self._build_welcome()
        self._restore_geometry()

    def _build_menus(self) -> None:
        hearth_menu = self.menuBar().addMenu("&Hearth")
        self.open_data_action = QAction("Open my &files folder", self)
        self.open_data_action.triggered.connect(self.open_data_folder)
        hearth_menu.addAction(self.open_data_action)
        self.setup_action = QAction("&Set up again…", self)
        self.setup_action.triggered.connect(self.open_setup)
        hearth_menu.addAction(self.setup_action)
        hearth_menu.addSeparator()
        quit_action = QAction("&Quit", self)
        quit_action.setShortcut(QKeySequence.StandardKey.Quit)
        quit_action.triggered.connect(self.close)
        hearth_menu.addAction(quit_action)

        help_menu = self.menuBar().addMenu("&Help")
        about_action = QAction("&About Hearth", self)
        about_action.triggered.connect(self.show_about)
        help_menu.addAction(about_action)

    def _build_welcome(self) -> None:
        page = QWidget(self)
        layout = QVBoxLayout(page)
        layout.setContentsMargins(48, 48, 48, 48)
        layout.setSpacing(16)

        title = QLabel(WELCOME_TITLE, page)
        font = title.font()
        font.setPointSizeF(font.pointSizeF() * 1.8)
        font.setBold(True)
        title.setFont(font)
        title.setAccessibleName("Welcome title")

        text = QLabel(WELCOME_TEXT, page)
        text.setWordWrap(True)
        text.setAccessibleName("What Hearth is")

        where = QLabel(f"Your files are kept in: {hearth_paths().data}", page)
        where.setWordWrap(True)
        where.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        where.setAccessibleName("Where your files are kept")

        self.open_folder_button = QPushButton("Open my files folder", page)
        self.open_folder_button.setAccessibleName("Open my files folder")
        self.open_folder_button.clicked.connect(self.open_data_folder)

        layout.addWidget(title)
        layout.addWidget(text)
        layout.addWidget(where)
        layout.addWidget(self.open_folder_button, alignment=Qt.AlignmentFlag.AlignLeft)
        layout.addStretch(1)
        self.setCentralWidget(page)

    def open_data_folder(self) -> None:
        folder = hearth_paths().data
        folder.mkdir(parents=True, exist_ok=True)
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder)))

    def open_setup(self) -> None:
        """Show the setup wizard (first run, or "Set up again…" from the menu)."""
        from app.ui.setup import SetupWizard

        if getattr(self, "setup_wizard", None) is not None and self.setup_wizard.isVisible():
            self.setup_wizard.raise_()
            return
        self.setup_wizard = SetupWizard(self)
        self.setup_wizard.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.setup_wizard.destroyed.connect(lambda: setattr(self, "setup_wizard", None))
        self.setup_wizard.show()

    def open_setup_if_first_run(self) -> bool:
        """Open the setup wizard when no profile has been set up yet; True if it was opened."""
        from app.ui.setup import has_completed_profile

        if has_completed_profile():
            return False
        self.open_setup()
        return True

    def show_about(self) -> None:
        QMessageBox.about(
            self,
            "About Hearth",
            f"Hearth {__version__}\n\nYour own private AI, on your own computer.",
        )

    def _restore_geometry(self) -> None:
        saved = window_settings().value("main/geometry")
        if isinstance(saved, QByteArray) and self.restoreGeometry(saved):
            return
        self.resize(760, 520)

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 (Qt's name)
        settings = window_settings()
        settings.setValue("main/geometry", self.saveGeometry())
        settings.sync()
        super().closeEvent(event)
