"""Hearth's main window: the chat with the assistant, or a welcome page before setup."""

from __future__ import annotations

import logging

from PySide6.QtCore import QByteArray, QSettings, Qt, QTimer, QUrl
from PySide6.QtGui import QAction, QCloseEvent, QDesktopServices, QKeySequence, QShowEvent
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMessageBox,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from wizard import __version__
from wizard.errors import HearthError
from wizard.paths import hearth_paths

log = logging.getLogger(__name__)

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
        self.chat = None  # app.ui.chat.ChatView once an assistant is set up
        self.profile_switcher: QComboBox | None = None
        self._store = None
        self._build_menus()
        self._build_welcome()
        self._restore_geometry()
        self.show_chat_if_set_up()

    def _build_menus(self) -> None:
        hearth_menu = self.menuBar().addMenu("&Hearth")
        self.open_data_action = QAction("Open my &files folder", self)
        self.open_data_action.triggered.connect(self.open_data_folder)
        hearth_menu.addAction(self.open_data_action)
        self.setup_action = QAction("&Set up again…", self)
        self.setup_action.triggered.connect(self.open_setup)
        hearth_menu.addAction(self.setup_action)
        self.settings_action = QAction("Se&ttings…", self)
        self.settings_action.setShortcut(QKeySequence.StandardKey.Preferences)
        self.settings_action.triggered.connect(self.open_settings)
        hearth_menu.addAction(self.settings_action)
        hearth_menu.addSeparator()
        quit_action = QAction("&Quit", self)
        quit_action.setShortcut(QKeySequence.StandardKey.Quit)
        quit_action.triggered.connect(self.close)
        hearth_menu.addAction(quit_action)

        help_menu = self.menuBar().addMenu("&Help")
        about_action = QAction("&About Hearth", self)
        about_action.triggered.connect(self.show_about)
        help_menu.addAction(about_action)
        overflow = self.menuBar().findChild(QToolButton, "qt_menubar_ext_button")
        if overflow is not None:  # shown by Qt when the window is too narrow for every menu
            overflow.setAccessibleName("More menus")

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

    # -- the chat ------------------------------------------------------------------------------

    def show_chat_if_set_up(self) -> bool:
        """Show the chat with the assistant used last (or the only one); True if there is one."""
        from wizard.profiles import default_profile

        if self.chat is not None:
            return True
        try:
            profile = default_profile()
        except HearthError as exc:
            log.warning("no usable assistant: %s", exc)
            return False
        if profile is None:
            return False
        self.show_chat(profile)
        return True

    def show_chat(self, profile) -> None:
        """Replace the central area with the chat with ``profile`` (stopping any other assistant)."""
        from app.ui.chat import ChatSetup, ChatView
        from wizard.agent import ConversationStore
        from wizard.profiles import list_profiles, mark_used

        splitter = self.chat.splitter_state() if self.chat is not None else window_settings().value("chat/splitter")
        self._stop_chat()
        if self._store is None:
            self._store = ConversationStore()
        try:
            mark_used(profile)
        except HearthError as exc:
            log.warning("could not remember the assistant used: %s", exc)
        page = QWidget(self)
        layout = QVBoxLayout(page)
        profiles = list_profiles()
        self.profile_switcher = None
        if len(profiles) > 1:
            row = QHBoxLayout()
            label = QLabel("&Assistant:", page)
            self.profile_switcher = QComboBox(page)
            self.profile_switcher.setAccessibleName("Choose the assistant")
            self.profile_switcher.view().setAccessibleName("Assistants")
            label.setBuddy(self.profile_switcher)
            for each in profiles:
                self.profile_switcher.addItem(each.name, each.id)
            self.profile_switcher.setCurrentIndex(max(0, self.profile_switcher.findData(profile.id)))
            # switching replaces this very combo box: do it after its signal has returned
            self.profile_switcher.activated.connect(
                lambda index: QTimer.singleShot(0, self, lambda: self._switch_profile(index)))
            row.addWidget(label)
            row.addWidget(self.profile_switcher)
            row.addStretch(1)
            layout.addLayout(row)
        self.chat = ChatView(ChatSetup.from_profile(profile), store=self._store, parent=page)
        self.chat.restore_splitter(splitter)
        layout.addWidget(self.chat, 1)
        self.setCentralWidget(page)
        self.setWindowTitle(f"{profile.name} — Hearth")
        if self.isVisible():
            QTimer.singleShot(0, self.chat, self.chat.start)

    def _switch_profile(self, index: int) -> None:
        from wizard.profiles import load_profile

        if self.profile_switcher is None:
            return
        profile_id = self.profile_switcher.itemData(index)
        if self.chat is not None and self.chat.setup.profile_id == profile_id:
            return
        try:
            profile = load_profile(profile_id)
        except HearthError as exc:
            from app.error_dialog import show_error

            show_error(self, exc)
            return
        self.show_chat(profile)

    def _stop_chat(self) -> None:
        if self.chat is not None:
            window_settings().setValue("chat/splitter", self.chat.splitter_state())
            self.chat.shutdown()
            self.chat = None

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 (Qt's name)
        super().showEvent(event)
        if self.chat is not None and self.chat.runner.state == "stopped":
            QTimer.singleShot(0, self.chat, self.chat.start)  # the window is drawn first, then the model loads

    # -- menus ---------------------------------------------------------------------------------

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
        self.setup_wizard.accepted.connect(self._setup_finished)
        self.setup_wizard.show()

    def _setup_finished(self) -> None:
        from wizard.profiles import default_profile

        try:
            profile = default_profile()
        except HearthError as exc:
            log.warning("the new assistant cannot be read: %s", exc)
            return
        if profile is not None and (self.chat is None or self.chat.setup.profile_id != profile.id):
            self.show_chat(profile)

    def open_setup_if_first_run(self) -> bool:
        """Open the setup wizard when no profile has been set up yet; True if it was opened."""
        from app.ui.setup import has_completed_profile

        if has_completed_profile():
            return False
        self.open_setup()
        return True

    def open_settings(self) -> None:
        from app.ui.settings import SettingsDialog

        dialog = SettingsDialog(self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()

    def show_about(self) -> None:
        QMessageBox.about(
            self,
            "About Hearth",
            f"Hearth {__version__}\n\nYour own private AI, on your own computer.",
        )

    # -- remembered geometry, closing ----------------------------------------------------------

    def _restore_geometry(self) -> None:
        saved = window_settings().value("main/geometry")
        if isinstance(saved, QByteArray) and self.restoreGeometry(saved):
            return
        self.resize(960, 640)

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 (Qt's name)
        settings = window_settings()
        settings.setValue("main/geometry", self.saveGeometry())
        settings.sync()
        self._stop_chat()
        if self._store is not None:
            self._store.close()
            self._store = None
        super().closeEvent(event)
