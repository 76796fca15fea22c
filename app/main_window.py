"""Hearth's main window: the chat with the assistant, or a welcome page before setup.

The window is shown with a light "Getting ready…" page and builds its real content (the
chat, or the welcome page) right after its first paint: the chat pulls in the agent and
engine code, and a window that appears at once matters more than those imports.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

# Only what the window needs to be drawn: PySide6 sets up each Qt class on its first use (1-4 ms
# each), so the rest is imported where it is used, after the first paint.
from PySide6.QtCore import QByteArray, QSettings, QTimer, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QHBoxLayout, QLabel, QMainWindow, QToolButton, QVBoxLayout, QWidget

from wizard import __version__
from wizard.errors import HearthError
from wizard.paths import hearth_paths

if TYPE_CHECKING:
    from PySide6.QtGui import QCloseEvent, QPaintEvent, QShowEvent
    from PySide6.QtWidgets import QComboBox

log = logging.getLogger(__name__)

GETTING_READY = "Getting ready…"
# Settings the engine is started with: changing one restarts the open chat (see _settings_changed).
ENGINE_SETTINGS = ("context_size", "threads", "engine", "remote_url", "local_api", "local_api_port")
RESTART_DELAY_MS = 800  # several changes in a row (typing a number) restart the assistant once


def window_settings() -> QSettings:
    """Window size and position, kept in Hearth's own config folder."""
    path = hearth_paths().config / "window.ini"
    return QSettings(str(path), QSettings.Format.IniFormat)


class _GettingReady(QLabel):
    """The page shown until the real content is built; says when it has been drawn."""

    painted = Signal()

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 (Qt's name)
        super().paintEvent(event)
        self.painted.emit()


class MainWindow(QMainWindow):
    building_content = Signal()  # right after the first paint, before the chat or the welcome page is built
    content_ready = Signal()  # the chat or the welcome page is in place

    def __init__(self) -> None:
        super().__init__()
        self.setWindowTitle("Hearth")
        self.setAccessibleName("Hearth main window")
        self.setMinimumSize(480, 360)
        self.chat = None  # app.ui.chat.ChatView once an assistant is set up
        self.profile_switcher: QComboBox | None = None
        self.setup_wizard = None
        self.welcome_page: QWidget | None = None
        self._store = None
        self._content_built = False
        self._content_scheduled = False
        self._shortcuts_added = False
        self._closed = False
        self._engine_settings = None  # the settings the open Settings window started from
        self._restart_pending = False
        self._restart_timer = QTimer(self)
        self._restart_timer.setSingleShot(True)
        self._restart_timer.setInterval(RESTART_DELAY_MS)
        self._restart_timer.timeout.connect(self._restart_when_idle)
        self._build_menus()
        self._build_placeholder()
        self._restore_geometry()

    def _build_placeholder(self) -> None:
        # Centred with stretches, not Qt.AlignmentFlag: PySide builds the whole Qt namespace on its
        # first use (~16 ms), and nothing drawn before the first paint needs it.
        page = QWidget(self)
        row = QHBoxLayout(page)
        column = QVBoxLayout()
        placeholder = _GettingReady(GETTING_READY, page)
        placeholder.setAccessibleName("Hearth is getting ready")
        placeholder.painted.connect(self._schedule_content)
        column.addStretch(1)
        column.addWidget(placeholder)
        column.addStretch(1)
        row.addStretch(1)
        row.addLayout(column)
        row.addStretch(1)
        self.placeholder = placeholder
        self.setCentralWidget(page)

    def _schedule_content(self) -> None:
        if not self._content_scheduled and not self._content_built:
            self._content_scheduled = True
            QTimer.singleShot(0, self, self.build_content)  # after the paint has reached the screen

    def build_content(self) -> None:
        """Put the chat (when an assistant is set up) or the welcome page in place; once.

        Runs by itself right after the first paint; tests and callers may run it sooner.
        """
        if self._content_built or self._closed:
            return
        self._content_built = True
        self.building_content.emit()
        if not self.show_chat_if_set_up():
            self._build_welcome()
        self.content_ready.emit()

    def _add_shortcuts(self) -> None:
        """With the content (chat or welcome page), not in _build_menus: the first standard key
        sequence builds Qt's key enums (~30 ms), which would delay the first paint."""
        if self._shortcuts_added:
            return
        self._shortcuts_added = True
        from PySide6.QtGui import QKeySequence

        self.settings_action.setShortcut(QKeySequence.StandardKey.Preferences)
        self.quit_action.setShortcut(QKeySequence.StandardKey.Quit)

    def _build_menus(self) -> None:
        hearth_menu = self.menuBar().addMenu("&Hearth")
        self.open_data_action = QAction("Open my &files folder", self)
        self.open_data_action.triggered.connect(self.open_data_folder)
        hearth_menu.addAction(self.open_data_action)
        self.setup_action = QAction("&Set up again…", self)
        self.setup_action.triggered.connect(self.open_setup)
        hearth_menu.addAction(self.setup_action)
        self.settings_action = QAction("Se&ttings…", self)
        self.settings_action.triggered.connect(self.open_settings)
        hearth_menu.addAction(self.settings_action)
        hearth_menu.addSeparator()
        self.quit_action = QAction("&Quit", self)
        self.quit_action.triggered.connect(self.close)
        hearth_menu.addAction(self.quit_action)

        help_menu = self.menuBar().addMenu("&Help")
        about_action = QAction("&About Hearth", self)
        about_action.triggered.connect(self.show_about)
        help_menu.addAction(about_action)
        overflow = self.menuBar().findChild(QToolButton, "qt_menubar_ext_button")
        if overflow is not None:  # shown by Qt when the window is too narrow for every menu
            overflow.setAccessibleName("More menus")

    def _build_welcome(self) -> None:
        from app.ui.welcome import WelcomePage

        self._add_shortcuts()
        self.welcome_page = WelcomePage(hearth_paths().data, self)
        self.welcome_page.open_folder_requested.connect(self.open_data_folder)
        self.setCentralWidget(self.welcome_page)

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

    def show_chat(self, profile, *, conversation_id: int | None = None) -> None:
        """Replace the central area with the chat with ``profile`` (stopping any other assistant),
        showing the conversation ``conversation_id`` (None: a new one)."""
        from PySide6.QtWidgets import QComboBox

        from app.ui.chat import ChatSetup, ChatView
        from app.ui.widgets import name_qt_parts
        from wizard.agent import ConversationStore
        from wizard.profiles import list_profiles, mark_used

        self._content_built = True
        self.welcome_page = None
        self._add_shortcuts()
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
        if conversation_id is not None:
            self.chat.show_conversation(conversation_id)
        self.chat.state_changed.connect(self._chat_state_changed)
        layout.addWidget(self.chat, 1)
        self.setCentralWidget(page)
        name_qt_parts(page)
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
        if self._closed:  # shown again after a close: its content is built after the next paint
            self._closed = False
            self._content_scheduled = False
        if self.chat is not None and self.chat.runner.state == "stopped":
            QTimer.singleShot(0, self.chat, self.chat.start)  # the window is drawn first, then the model loads

    # -- menus ---------------------------------------------------------------------------------

    def open_data_folder(self) -> None:
        from PySide6.QtCore import QUrl
        from PySide6.QtGui import QDesktopServices

        folder = hearth_paths().data
        folder.mkdir(parents=True, exist_ok=True)
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder)))

    def open_setup(self) -> None:
        """Show the setup wizard (first run, or "Set up again…" from the menu)."""
        from PySide6.QtCore import Qt

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
        from wizard.profiles import list_profiles  # not app.ui.setup: that imports every wizard page

        if self._closed or list_profiles():
            return False
        self.open_setup()
        return True

    def open_settings(self):
        """Show the Settings window (not waited for); returns it."""
        from app.ui.settings import SettingsDialog

        from PySide6.QtCore import Qt

        from app.ui.widgets import name_qt_parts

        dialog = SettingsDialog(self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        name_qt_parts(dialog)  # Qt's own parts inside it: scroll bars, a spin box's text field
        self._engine_settings = dialog.state.settings
        dialog.state.changed.connect(self._settings_changed)
        dialog.data.data_moved.connect(self._data_moved)
        dialog.finished.connect(self._settings_closed)
        dialog.open()
        return dialog

    # -- settings that change the running assistant ---------------------------------------------

    def _settings_changed(self, new) -> None:
        """A saved change: the assistant is started again when it changes how its engine runs."""
        old, self._engine_settings = self._engine_settings, new
        if self.chat is None or not self._changes_engine(old, new, self.chat.setup.profile_id):
            return
        self._restart_pending = True
        self._restart_timer.start()

    @staticmethod
    def _changes_engine(old, new, profile_id: str) -> bool:
        if any(getattr(old, name) != getattr(new, name) for name in ENGINE_SETTINGS):
            return True
        if old.model_for(profile_id) != new.model_for(profile_id):
            return True
        # Saved again unchanged: "Use this server" pressed again, perhaps with a new key.
        return old == new and new.engine == "remote"

    def _settings_closed(self, _code: int) -> None:
        # A bound method, not a lambda: a lambda on a deleting dialog's finished() crashed PySide6 6.11.
        if self._restart_timer.isActive():  # a change waiting for the next: apply it now
            self._restart_timer.stop()
            self._restart_when_idle()

    def _restart_when_idle(self) -> None:
        """Start the assistant again with the saved settings, unless it is writing an answer:
        then as soon as that answer ends (see _chat_state_changed)."""
        if not self._restart_pending or self.chat is None or self._closed:
            self._restart_pending = False
            return
        if self.chat.runner.replying:
            return
        self._restart_pending = False
        self.reopen_chat()

    def _chat_state_changed(self, _state: str) -> None:
        if self._restart_pending and not self._restart_timer.isActive() and self.chat is not None \
                and not self.chat.runner.replying:
            # not from inside the chat's own signal: it is replaced
            QTimer.singleShot(0, self, self._restart_when_idle)

    def reopen_chat(self, *, reopen_store: bool = False) -> bool:
        """Start the open chat again from its profile as saved now (same conversation shown).

        ``reopen_store``: the conversation file moved; close it and open it at its new place.
        Returns False (the message shown) when the assistant cannot be read again.
        """
        from wizard.profiles import load_profile

        if self.chat is None:
            return False
        profile_id, conversation_id = self.chat.setup.profile_id, self.chat.conversation_id
        self._stop_chat()
        if reopen_store and self._store is not None:
            self._store.close()
            self._store = None
        try:
            profile = load_profile(profile_id)
            self.show_chat(profile, conversation_id=conversation_id)
        except HearthError as exc:
            from app.error_dialog import show_error

            log.warning("could not start the assistant again: %s", exc)
            self._build_welcome()
            show_error(self, exc)
            return False
        return True

    def _data_moved(self, _new_folder) -> None:
        """The data folder moved (and the old one is gone): the chat reopens its file there."""
        if self.chat is not None:
            self._restart_pending = False
            self._restart_timer.stop()
            self.reopen_chat(reopen_store=True)
            return
        if self._store is not None:
            self._store.close()
            self._store = None
        if self.welcome_page is not None:
            self._build_welcome()  # it names the folder

    def show_about(self) -> None:
        from PySide6.QtWidgets import QMessageBox

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
        self._closed = True
        self._restart_timer.stop()
        settings = window_settings()
        settings.setValue("main/geometry", self.saveGeometry())
        settings.sync()
        self._stop_chat()
        if self._store is not None:
            self._store.close()
            self._store = None
        super().closeEvent(event)
