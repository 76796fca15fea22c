"""Settings → Downloads: where models are downloaded from (a mirror) and the Hugging Face access token.

The mirror goes to the settings file; the token only to the keyring (or, where there is
none and the person agrees, to this session's memory), never to a file. Every download
(the setup window, ``hearth download``, ``hearth provision``) uses both.
"""

from __future__ import annotations

from PySide6.QtWidgets import QFormLayout, QHBoxLayout, QLabel, QLineEdit, QPushButton, QVBoxLayout, QWidget

from app.error_dialog import show_error
from app.ui.settings.state import SettingsState, with_secret_storage
from wizard.errors import HearthError
from wizard.secrets import HUB_TOKEN, NoSecureStorageError, storage_name
from wizard.settings_secrets import remove_hub_token, saved_hub_token, set_hub_token

HUB_NAME = "Hugging Face (huggingface.co)"


def _label(text: str, buddy: QWidget) -> QLabel:
    """A form label whose Alt+letter moves to ``buddy`` (a row holding a layout gets none by itself)."""
    label = QLabel(text)
    label.setBuddy(buddy)
    return label


class DownloadsPage(QWidget):
    def __init__(self, state: SettingsState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        layout = QVBoxLayout(self)
        intro = QLabel("Where Hearth downloads AI models from, and the access token that some models "
                       "need (those whose makers ask you to accept their terms first).")
        intro.setWordWrap(True)
        layout.addWidget(intro)
        form = QFormLayout()
        self.mirror = QLineEdit(state.settings.hub_mirror)
        self.mirror.setPlaceholderText("empty: Hugging Face itself")
        self.mirror.setAccessibleName("Download mirror")
        self.use_mirror = QPushButton("&Use this mirror")
        self.use_mirror.setAccessibleName("Use this download mirror")
        row = QHBoxLayout()
        row.addWidget(self.mirror, 1)
        row.addWidget(self.use_mirror)
        form.addRow(_label("Download m&irror:", self.mirror), row)
        self.mirror_note = QLabel()
        self.mirror_note.setWordWrap(True)
        self.mirror_note.setAccessibleName("Where models come from")
        form.addRow(self.mirror_note)

        self.token = QLineEdit()
        self.token.setEchoMode(QLineEdit.EchoMode.Password)
        self.token.setPlaceholderText("hf_…")
        self.token.setAccessibleName("Hugging Face access token")
        self.save_token = QPushButton("&Save token")
        self.save_token.setAccessibleName("Save the access token")
        self.remove_token = QPushButton("Remo&ve")
        self.remove_token.setAccessibleName("Remove the access token")
        row = QHBoxLayout()
        row.addWidget(self.token, 1)
        row.addWidget(self.save_token)
        row.addWidget(self.remove_token)
        form.addRow(_label("Hugging Face access &token:", self.token), row)
        self.token_note = QLabel()
        self.token_note.setWordWrap(True)
        self.token_note.setAccessibleName("Access token status")
        form.addRow(self.token_note)
        layout.addLayout(form)
        layout.addStretch(1)

        self._show_mirror()
        self._load_token()
        self.use_mirror.clicked.connect(self.apply_mirror)
        self.mirror.returnPressed.connect(self.apply_mirror)
        self.save_token.clicked.connect(self.store_token)
        self.remove_token.clicked.connect(self.forget_token)

    # ---- the mirror ------------------------------------------------------------------
    def _show_mirror(self) -> None:
        mirror = self.state.settings.hub_mirror
        self.mirror_note.setText(f"Models are downloaded from the mirror {mirror}." if mirror
                                 else f"Models are downloaded from {HUB_NAME}.")

    def apply_mirror(self) -> bool:
        """Save the mirror's address (empty: Hugging Face itself); a bad address is refused plainly."""
        address = self.mirror.text().strip().rstrip("/")
        if not self.state.update(self, hub_mirror=address):
            return False
        self.mirror.setText(address)
        self._show_mirror()
        return True

    # ---- the token -------------------------------------------------------------------
    def _keyring_problem(self) -> str | None:
        try:
            storage_name()
        except NoSecureStorageError as exc:
            return exc.user_message
        return None

    def _load_token(self) -> None:
        try:
            token = saved_hub_token(session=self.state.session)
        except HearthError:  # no keyring, or it failed: nothing saved can be shown
            token = None
        self.token.setText(token or "")
        self._show_token_state(bool(token))

    def _show_token_state(self, saved: bool) -> None:
        self.remove_token.setEnabled(saved)
        if saved and self.state.session.get(*HUB_TOKEN):
            self.token_note.setText("The access token is kept for this session only: Hearth forgets it "
                                    "when it closes.")
        elif saved:
            self.token_note.setText("The access token is saved in this computer's keyring, never in a file.")
        elif problem := self._keyring_problem():
            self.token_note.setText(f"{problem} You can still use an access token for this session only.")
        else:
            self.token_note.setText("No access token is saved. Most models do not need one.")

    def store_token(self) -> bool:
        """Save the token in the keyring; with no keyring, offer "this session only"."""
        text = self.token.text()
        saved = with_secret_storage(self, self.state,
                                    lambda session: set_hub_token(text, session=session) or True)
        self._show_token_state(bool(saved) or self._has_token())
        return bool(saved)

    def forget_token(self) -> bool:
        try:
            removed = remove_hub_token(session=self.state.session)
        except HearthError as exc:
            show_error(self, exc)
            return False
        self.token.clear()
        self._show_token_state(False)
        if removed:
            self.token_note.setText("The access token was removed.")
        return removed

    def _has_token(self) -> bool:
        try:
            return bool(saved_hub_token(session=self.state.session))
        except HearthError:
            return False
