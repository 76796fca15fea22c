"""Page 6: "Make it yours": the person's name, the folders it may use, and any secrets the recipe needs.

Secrets go to the computer's keyring (:mod:`wizard.secrets`) when setup finishes. Where
there is no secure keyring the page says so plainly and offers "keep for this session
only"; it never writes a secret to a file.
"""

from __future__ import annotations

from PySide6.QtWidgets import QCheckBox, QFormLayout, QGroupBox, QLineEdit, QVBoxLayout

from app.ui.setup.base import SetupPage
from app.ui.widgets import scaled_font_label
from wizard.errors import HearthError
from wizard.recipes.schema import Recipe


def folder_uses(recipe: Recipe) -> dict[str, list[str]]:
    """Each folder the recipe names -> what it may do there, in plain words."""
    uses: dict[str, list[str]] = {}
    for folder in recipe.document_folders:
        uses.setdefault(str(folder.path), []).append("search your documents")
    for tool in recipe.tools:
        for folder in tool.read_folders:
            uses.setdefault(str(folder.path), []).append("read files")
        for folder in tool.write_folders:
            uses.setdefault(str(folder.path), []).append(
                "save files (asking you each time)" if tool.confirm_each_write else "SAVE FILES WITHOUT ASKING")
    return uses


class PersonalisePage(SetupPage):
    TITLE = "Make it yours"
    SUBTITLE = "Tell your assistant your name, and choose what it may use."

    def build(self) -> None:
        form = QFormLayout()
        self.name_edit = QLineEdit(self)
        self.name_edit.setAccessibleName("Your name")
        self.name_edit.setPlaceholderText("for example Sam")
        self.name_edit.textChanged.connect(self._name_changed)
        form.addRow("Your &name:", self.name_edit)
        self.body.addLayout(form)
        self.registerField("person_name*", self.name_edit)

        self.folders_box = QGroupBox("Folders it may use", self)
        self.folders_layout = QVBoxLayout(self.folders_box)
        self.body.addWidget(self.folders_box)
        self.folder_checks: dict[str, QCheckBox] = {}

        self.secrets_box = QGroupBox("Passwords and keys it needs", self)
        secrets_layout = QVBoxLayout(self.secrets_box)
        self.no_storage = scaled_font_label("", self.secrets_box)
        self.no_storage.setAccessibleName("About keeping passwords")
        secrets_layout.addWidget(self.no_storage)
        self.secrets_form = QFormLayout()
        secrets_layout.addLayout(self.secrets_form)
        self.session_only = QCheckBox("Keep them for this session only (Hearth forgets them when it closes)",
                                      self.secrets_box)
        self.session_only.setAccessibleName("Keep passwords for this session only")
        self.session_only.toggled.connect(self._session_only_changed)
        secrets_layout.addWidget(self.session_only)
        self.body.addWidget(self.secrets_box)
        self.secret_edits: dict[str, QLineEdit] = {}
        self.storage_ok = True
        self.nothing_more = scaled_font_label("This assistant needs none of your folders and no passwords: "
                                              "it only sees what you type to it.", self)
        self.nothing_more.setAccessibleName("What else it needs")
        self.body.addWidget(self.nothing_more)
        self.body.addStretch(1)
        self._recipe: Recipe | None = None  # the recipe the boxes were built for

    def initializePage(self) -> None:  # noqa: N802 (Qt's name)
        recipe = self.answers.recipe.recipe
        if self.name_edit.text() != self.answers.person_name:
            self.name_edit.setText(self.answers.person_name)
        self.name_edit.setFocus()
        if recipe == self._recipe:  # the whole recipe: an added one may share a shipped one's id
            return  # same recipe as last time: keep every box as it was left
        self._recipe = recipe
        self._build_folders(recipe)
        self._build_secrets(recipe)
        self.nothing_more.setVisible(not self.folder_checks and not self.secret_edits)
        self.completeChanged.emit()

    def _build_folders(self, recipe: Recipe) -> None:
        for check in self.folder_checks.values():
            check.deleteLater()
        self.folder_checks.clear()
        uses = folder_uses(recipe)
        for path, what in uses.items():
            allowed = self.answers.folders_allowed.setdefault(path, True)
            check = QCheckBox(f"{path}: {', '.join(dict.fromkeys(what))}", self.folders_box)
            check.setChecked(allowed)
            check.setAccessibleName(f"Allow {path}")
            check.toggled.connect(lambda on, folder=path: self.answers.folders_allowed.__setitem__(folder, on))
            self.folders_layout.addWidget(check)
            self.folder_checks[path] = check
        self.folders_box.setVisible(bool(uses))

    def _build_secrets(self, recipe: Recipe) -> None:
        while self.secrets_form.rowCount():
            self.secrets_form.removeRow(0)
        self.secret_edits.clear()
        names = recipe.secret_names
        self.secrets_box.setVisible(bool(names))
        if not names:
            return
        for name in names:
            edit = QLineEdit(self.secrets_box)
            edit.setEchoMode(QLineEdit.EchoMode.Password)
            edit.setAccessibleName(f"Secret {name}")
            edit.setText(self.answers.secret_values.get(name, ""))
            edit.textChanged.connect(lambda text, key=name: self._secret_changed(key, text))
            self.secrets_form.addRow(f"{name}:", edit)
            self.secret_edits[name] = edit
        self._check_storage()

    def _check_storage(self) -> None:
        from wizard.secrets import secure_backend, storage_name

        try:
            secure_backend()
        except HearthError as exc:
            self.storage_ok = False
            self.no_storage.setText(f"{exc.user_message} {exc.hint}")
        else:
            self.storage_ok = True
            self.no_storage.setText(f"They are kept safely in {storage_name()}, never in a file.")
        self.session_only.setVisible(not self.storage_ok)

    def _name_changed(self, text: str) -> None:
        self.answers.person_name = text.strip()
        self.completeChanged.emit()

    def _secret_changed(self, name: str, text: str) -> None:
        self.answers.secret_values[name] = text
        self.completeChanged.emit()

    def _session_only_changed(self, on: bool) -> None:
        self.answers.session_only_secrets = on
        self.completeChanged.emit()

    def isComplete(self) -> bool:  # noqa: N802 (Qt's name)
        if not self.answers.person_name:
            return False
        if any(not edit.text() for edit in self.secret_edits.values()):
            return False
        return self.storage_ok or not self.secret_edits or self.session_only.isChecked()
