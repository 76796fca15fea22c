"""What every settings section shares: the settings in force, saving them, and small helpers."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QMessageBox, QWidget

from app.error_dialog import show_error
from wizard.errors import HearthError
from wizard.secrets import NoSecureStorageError, SessionSecrets
from wizard.settings import LoadedSettings, Settings, load_settings, save_settings

# Keys the person chose to keep "for this session only" (no secure keyring): for the whole run.
SESSION_SECRETS = SessionSecrets()


class SettingsState(QObject):
    """The settings in force; every change is validated and saved at once, then announced."""

    changed = Signal(object)  # the new Settings

    def __init__(self, loaded: LoadedSettings | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        loaded = loaded or load_settings()
        self.settings: Settings = loaded.settings
        self.path = loaded.path
        self.notice = loaded.notice
        self.session = SESSION_SECRETS

    def update(self, parent: QWidget | None, **changes: object) -> bool:
        """Apply and save ``changes``; on a problem show it (nothing changes) and return False."""
        try:
            new = self.settings.changed(**changes)
            save_settings(new, self.path)
        except HearthError as exc:
            show_error(parent, exc)
            return False
        self.settings = new
        self.changed.emit(new)
        return True

    def replace(self, parent: QWidget | None, new: Settings) -> bool:
        try:
            save_settings(new, self.path)
        except HearthError as exc:
            show_error(parent, exc)
            return False
        self.settings = new
        self.changed.emit(new)
        return True


def ask(parent: QWidget | None, title: str, text: str, *, yes: str, no: str = "Cancel",
        informative: str = "") -> bool:
    """A plain yes/no question; True when the person chose ``yes``."""
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Question)
    box.setWindowTitle(title)
    box.setText(text)
    box.setInformativeText(informative)
    box.setAccessibleName(title)
    yes_button = box.addButton(yes, QMessageBox.ButtonRole.AcceptRole)
    no_button = box.addButton(no, QMessageBox.ButtonRole.RejectRole)
    yes_button.setAccessibleName(yes)
    no_button.setAccessibleName(no)
    box.setDefaultButton(no_button)
    box.exec()
    return box.clickedButton() is yes_button


def tell(parent: QWidget | None, title: str, text: str) -> None:
    box = QMessageBox(QMessageBox.Icon.Information, title, text, QMessageBox.StandardButton.Ok, parent)
    box.setAccessibleName(title)
    box.exec()


def with_secret_storage(parent: QWidget | None, state: SettingsState,
                        action: Callable[[SessionSecrets | None], object]) -> object | None:
    """Run ``action(None)`` (the keyring); with no secure keyring, offer "this session only".

    Returns what ``action`` returned, or None when it failed or the person declined.
    """
    try:
        return action(None)
    except NoSecureStorageError as exc:
        if not ask(parent, "No safe place for keys", exc.user_message, yes="Keep it for this session only",
                   informative=exc.hint):
            return None
        try:
            return action(state.session)
        except HearthError as again:
            show_error(parent, again)
    except HearthError as exc:
        show_error(parent, exc)
    return None
