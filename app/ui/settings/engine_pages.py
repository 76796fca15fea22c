"""Settings → Engine (this computer or another one on the network) and Local API (for other apps)."""

from __future__ import annotations

from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from app.tasks import TaskHandle, run_task
from app.ui.settings.state import SettingsState, with_secret_storage
from wizard.errors import HearthError
from wizard.settings import remote_url_problem
from wizard.settings_secrets import local_api_token, new_local_api_token, remote_engine_key, set_remote_engine_key


def check_connection(url: str, key: str) -> list[str]:
    """The model names the server at ``url`` offers (proves it answers and accepts the key).

    Raises: EngineConnectionError, EngineAuthError, EngineTimeout, EngineError, EngineRequestError.
    """
    from wizard.engine import EngineClient

    return EngineClient(url.strip(), api_key=key, timeout=15.0, connect_timeout=5.0).list_models()


class EnginePage(QWidget):
    def __init__(self, state: SettingsState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.tasks: list[TaskHandle] = []
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("Where the AI runs:"))
        self.local = QRadioButton("On &this computer")
        self.local.setAccessibleName("Run the AI on this computer")
        self.remote = QRadioButton("On another computer on my &network")
        self.remote.setAccessibleName("Use an AI server on another computer on my network")
        group = QButtonGroup(self)
        group.addButton(self.local)
        group.addButton(self.remote)
        layout.addWidget(self.local)
        layout.addWidget(self.remote)
        self.remote_box = QWidget()
        form = QFormLayout(self.remote_box)
        self.url = QLineEdit(state.settings.remote_url)
        self.url.setPlaceholderText("http://192.168.1.20:8080/v1")
        self.url.setAccessibleName("Server address")
        self.key = QLineEdit()
        self.key.setEchoMode(QLineEdit.EchoMode.Password)
        self.key.setPlaceholderText("only if the server asks for one")
        self.key.setAccessibleName("Server key")
        form.addRow("Server &address:", self.url)
        form.addRow("&Key:", self.key)
        buttons = QHBoxLayout()
        self.use_button = QPushButton("&Use this server")
        self.use_button.setAccessibleName("Use this server")
        self.test_button = QPushButton("T&est connection")
        self.test_button.setAccessibleName("Test connection")
        buttons.addWidget(self.use_button)
        buttons.addWidget(self.test_button)
        buttons.addStretch(1)
        form.addRow(buttons)
        self.result = QLabel()
        self.result.setWordWrap(True)
        self.result.setAccessibleName("Connection test result")
        form.addRow(self.result)
        layout.addWidget(self.remote_box)
        layout.addStretch(1)
        is_remote = state.settings.engine == "remote"
        (self.remote if is_remote else self.local).setChecked(True)
        self.remote_box.setEnabled(is_remote)
        self._load_key()
        self.remote.toggled.connect(self.remote_box.setEnabled)
        self.local.toggled.connect(lambda on: on and self.state.update(self, engine="local"))
        self.use_button.clicked.connect(self.use_server)
        self.test_button.clicked.connect(self.start_test)

    def _load_key(self) -> None:
        try:
            self.key.setText(remote_engine_key(session=self.state.session) or "")
        except HearthError:  # no keyring: the person types it again when needed
            self.key.setText("")

    def use_server(self) -> bool:
        """Save the address (settings file) and the key (keyring) and switch to that server."""
        saved = with_secret_storage(self, self.state, lambda session: set_remote_engine_key(
            self.key.text(), session=session) or True)
        if not saved:
            return False
        if self.state.update(self, engine="remote", remote_url=self.url.text().strip()):
            self.result.setText("Hearth will use this server from the next conversation.")
            return True
        return False

    def start_test(self) -> TaskHandle | None:
        url, key = self.url.text().strip(), self.key.text().strip()
        problem = remote_url_problem(url) if url else "Type the server's address first."
        if problem:
            self.result.setText(problem)
            return None
        self.test_button.setEnabled(False)
        self.result.setText("Testing…")

        def succeeded(models: list[str]) -> None:
            names = ", ".join(models[:3]) or "no models listed"
            self.result.setText(f"Connected. The server answered and offers: {names}.")

        def failed(exc: BaseException) -> None:
            if isinstance(exc, HearthError):
                self.result.setText(f"Not connected. {exc.user_message} {exc.hint}".strip())
            else:
                self.result.setText("Not connected. Something unexpected went wrong; the log file has details.")

        handle = run_task(lambda _progress, _cancel: check_connection(url, key), parent=self,
                          name="test connection", on_success=succeeded, on_error=failed,
                          on_finished=lambda: self.test_button.setEnabled(True))
        self.tasks.append(handle)
        return handle


class LocalApiPage(QWidget):
    def __init__(self, state: SettingsState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        layout = QVBoxLayout(self)
        intro = QLabel("Other apps on this computer can use Hearth's AI through an OpenAI-compatible "
                       "connection. It is off unless you turn it on, only this computer can reach it, "
                       "and every app must give the token below.")
        intro.setWordWrap(True)
        layout.addWidget(intro)
        self.enabled = QCheckBox("Let other &apps on this computer use Hearth's AI")
        self.enabled.setAccessibleName("Local API on")
        layout.addWidget(self.enabled)
        self.details = QWidget()
        form = QFormLayout(self.details)
        self.address = QLineEdit()
        self.address.setReadOnly(True)
        self.address.setAccessibleName("Local API address")
        self.token = QLineEdit()
        self.token.setReadOnly(True)
        self.token.setEchoMode(QLineEdit.EchoMode.PasswordEchoOnEdit)
        self.token.setAccessibleName("Local API token")
        self.copy_address = QPushButton("Copy")
        self.copy_address.setAccessibleName("Copy the address")
        self.copy_token = QPushButton("&Copy token")
        self.copy_token.setAccessibleName("Copy the token")
        self.new_token = QPushButton("&New token")
        self.new_token.setAccessibleName("Make a new token")
        row = QHBoxLayout()
        row.addWidget(self.address, 1)
        row.addWidget(self.copy_address)
        form.addRow("Address:", row)
        row = QHBoxLayout()
        row.addWidget(self.token, 1)
        row.addWidget(self.copy_token)
        row.addWidget(self.new_token)
        form.addRow("Token:", row)
        self.note = QLabel()
        self.note.setWordWrap(True)
        form.addRow(self.note)
        layout.addWidget(self.details)
        layout.addStretch(1)
        self.enabled.setChecked(state.settings.local_api)
        self._show(state.settings.local_api)
        self.enabled.toggled.connect(self.turn)
        self.copy_address.clicked.connect(lambda: QGuiApplication.clipboard().setText(self.address.text()))
        self.copy_token.clicked.connect(lambda: QGuiApplication.clipboard().setText(self.token.text()))
        self.new_token.clicked.connect(self.make_new_token)

    def _show(self, on: bool) -> None:
        self.details.setVisible(on)
        self.address.setText(self.state.settings.local_api_address)
        if not on:
            self.token.clear()
            return
        token = with_secret_storage(self, self.state, lambda session: local_api_token(session=session))
        self.token.setText(token or "")
        self.note.setText("" if token else "There is no token, so apps cannot connect yet.")

    def turn(self, on: bool) -> None:
        if self.state.update(self, local_api=on):
            self._show(on)
            if on and self.token.text():
                self.note.setText("The connection opens the next time the AI starts.")
        else:
            self.enabled.blockSignals(True)
            self.enabled.setChecked(self.state.settings.local_api)
            self.enabled.blockSignals(False)

    def make_new_token(self) -> None:
        token = with_secret_storage(self, self.state, lambda session: new_local_api_token(session=session))
        if token:
            self.token.setText(token)
            self.note.setText("New token made. Apps using the old one must be given this one.")
