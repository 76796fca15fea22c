"""The Settings window: ``SettingsDialog(parent).exec()`` (see :mod:`app.ui.settings.dialog`)."""

from app.ui.settings.dialog import SettingsDialog
from app.ui.settings.state import SESSION_SECRETS, SettingsState

__all__ = ["SESSION_SECRETS", "SettingsDialog", "SettingsState"]
