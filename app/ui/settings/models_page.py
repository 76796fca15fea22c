"""Settings → Model: the installed models (remove, add a file) and the model each assistant uses."""

from __future__ import annotations

import tomllib
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.commands.progress_bar import human_bytes
from app.error_dialog import show_error
from app.tasks import TaskHandle, run_task
from app.ui.settings.state import SettingsState, ask
from wizard.errors import HearthError
from wizard.models import InstalledModel, ModelRegistry, ModelSource, OutsideModelsFolderError
from wizard.recipes.plan import PROFILE_FILE, RECIPE_FILE, profiles_dir

OWN_CHOICE = "The assistant's own model"


def assistant_names() -> list[tuple[str, str]]:
    """(profile id, name shown) for every assistant set up on this computer."""
    try:
        from wizard.profiles import list_profiles
    except ImportError:  # older layout: read the profile folders directly
        list_profiles = None
    if list_profiles is not None:
        try:
            return [(profile.id, profile.name) for profile in list_profiles()]
        except HearthError:
            return []
    found = []
    root = profiles_dir()
    if not root.is_dir():
        return found
    for folder in sorted(p for p in root.iterdir() if p.is_dir() and (p / PROFILE_FILE).is_file()):
        try:
            name = str(tomllib.loads((folder / RECIPE_FILE).read_text(encoding="utf-8")).get("name") or folder.name)
        except (OSError, ValueError):
            name = folder.name
        found.append((folder.name, name))
    return found


def add_model_file(path: Path) -> InstalledModel:
    """Check that ``path`` is a model file Hearth can read, then list it (the file stays where it is).

    Raises: HearthFileError, GGUFMalformedError (not a usable model file).
    """
    from wizard.gguf import read_gguf_header
    from wizard.models import register_file

    read_gguf_header(path)
    return register_file(path, source=ModelSource(kind="manual"))


class ModelsPage(QWidget):
    """The list of installed models with Remove and Add, and the model per assistant."""

    models_changed = Signal()

    def __init__(self, state: SettingsState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.registry = ModelRegistry()
        self.tasks: list[TaskHandle] = []
        self._removal: TaskHandle | None = None  # one model is removed at a time
        layout = QVBoxLayout(self)
        intro = QLabel("The AI models on this computer. Removing one deletes its file and gives the space back.")
        intro.setWordWrap(True)
        layout.addWidget(intro)
        self.model_list = QListWidget()
        self.model_list.setAccessibleName("Installed models")
        layout.addWidget(self.model_list)
        self.total_label = QLabel()
        layout.addWidget(self.total_label)
        buttons = QHBoxLayout()
        self.remove_button = QPushButton("&Remove…")
        self.remove_button.setAccessibleName("Remove the selected model")
        self.remove_button.clicked.connect(self.remove_selected)
        self.add_button = QPushButton("&Add a model file…")
        self.add_button.setAccessibleName("Add a model file")
        self.add_button.clicked.connect(self.choose_model_file)
        buttons.addWidget(self.remove_button)
        buttons.addWidget(self.add_button)
        buttons.addStretch(1)
        layout.addLayout(buttons)
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.status.setAccessibleName("Model status")
        layout.addWidget(self.status)

        form = QFormLayout()
        self.assistant_box = QComboBox()
        self.assistant_box.setAccessibleName("Assistant")
        self.assistant_model_box = QComboBox()
        self.assistant_model_box.setAccessibleName("Model the assistant uses")
        form.addRow("A&ssistant:", self.assistant_box)
        form.addRow("&Uses:", self.assistant_model_box)
        layout.addLayout(form)
        self.assistant_box.currentIndexChanged.connect(self._show_assistant_choice)
        self.assistant_model_box.activated.connect(self._choose_model_for_assistant)
        layout.addStretch(1)
        self.model_list.currentRowChanged.connect(lambda _row: self._enable())
        self.refresh()

    # ---- the list ----------------------------------------------------------------------
    def refresh(self) -> None:
        try:
            models = self.registry.list()
        except HearthError as exc:
            models = []
            self.status.setText(exc.user_message)
        if self.registry.problem is not None:
            self.status.setText(self.registry.problem.user_message)
        self.model_list.clear()
        for model in models:
            item = QListWidgetItem(f"{Path(model.path).name} — {human_bytes(model.size)}, {model.source.describe()}")
            item.setData(Qt.ItemDataRole.UserRole, model.id)
            item.setData(Qt.ItemDataRole.AccessibleTextRole, f"{model.id}, {human_bytes(model.size)}")
            self.model_list.addItem(item)
        if models:
            self.model_list.setCurrentRow(0)
        total = sum(m.size for m in models)
        self.total_label.setText(f"{len(models)} model{'s' if len(models) != 1 else ''}, {human_bytes(total)} in all."
                                 if models else "No models are installed yet.")
        self._fill_assistants(models)
        self._enable()

    def _enable(self) -> None:
        removing = self._removal is not None and self._removal.running
        self.remove_button.setEnabled(self.model_list.currentItem() is not None and not removing)

    def selected_id(self) -> str | None:
        item = self.model_list.currentItem()
        return item.data(Qt.ItemDataRole.UserRole) if item else None

    def remove_selected(self) -> TaskHandle | None:
        """Ask, then delete the selected model's file off the UI thread (a big file takes a while to
        give back to the disk); returns the task, or None when nothing is removed."""
        model_id = self.selected_id()
        if model_id is None:
            return None
        try:
            model = self.registry.get(model_id)
        except HearthError as exc:
            show_error(self, exc)
            return None
        name = Path(model.path).name
        if not ask(self, "Remove model", f"Delete {name} from this computer?",
                   yes="Delete the model", informative=f"This gives back {human_bytes(model.size)}. You can "
                   "download it again later."):
            return None

        def done(removal) -> None:
            self.status.setText(f"Removed {name}: {human_bytes(removal.bytes_freed)} freed."
                                if not removal.file_was_missing else
                                f"Removed {name} from the list (its file was already gone).")

        def failed(exc: BaseException) -> None:
            self.status.setText("")
            if isinstance(exc, OutsideModelsFolderError):
                if ask(self, "Remove model", exc.user_message, yes="Take it off the list, keep the file"):
                    self.registry.forget(model_id)
                    self.status.setText(f"{name} is off the list; the file was kept.")
            else:
                show_error(self, exc)

        def finished() -> None:
            self.refresh()
            self.models_changed.emit()

        self.remove_button.setEnabled(False)
        self.status.setText(f"Removing {name}…")
        handle = run_task(lambda _progress, _cancel: self.registry.delete(model_id), parent=self,
                          name="remove model", on_success=done, on_error=failed, on_finished=finished)
        self.tasks.append(handle)
        self._removal = handle
        return handle

    # ---- adding --------------------------------------------------------------------------
    def choose_model_file(self) -> None:
        path, _filter = QFileDialog.getOpenFileName(self, "Add a model file", str(Path.home()),
                                                    "Model files (*.gguf);;All files (*)")
        if path:
            self.add_file(Path(path))

    def add_file(self, path: Path) -> TaskHandle:
        """Check and list ``path`` off the UI thread (hashing a large file takes a while)."""
        self.add_button.setEnabled(False)
        self.status.setText(f"Checking {path.name}…")

        def done(model: InstalledModel) -> None:
            self.status.setText(f"Added {Path(model.path).name} ({human_bytes(model.size)}).")
            self.refresh()
            self.models_changed.emit()

        def failed(exc: BaseException) -> None:
            self.status.setText("")
            show_error(self, exc)

        handle = run_task(lambda _progress, _cancel: add_model_file(path), parent=self, name="add model file",
                          on_success=done, on_error=failed, on_finished=lambda: self.add_button.setEnabled(True))
        self.tasks.append(handle)
        return handle

    # ---- the model per assistant ---------------------------------------------------------
    def _fill_assistants(self, models: list[InstalledModel]) -> None:
        self._models = models
        current = self.assistant_box.currentData()
        self.assistant_box.blockSignals(True)
        self.assistant_box.clear()
        for profile_id, name in assistant_names():
            self.assistant_box.addItem(name, profile_id)
        index = self.assistant_box.findData(current)
        self.assistant_box.setCurrentIndex(max(index, 0))
        self.assistant_box.blockSignals(False)
        has_assistants = self.assistant_box.count() > 0
        self.assistant_box.setEnabled(has_assistants)
        self.assistant_model_box.setEnabled(has_assistants)
        self._show_assistant_choice()

    def _show_assistant_choice(self) -> None:
        self.assistant_model_box.clear()
        self.assistant_model_box.addItem(OWN_CHOICE, None)
        for model in self._models:
            self.assistant_model_box.addItem(Path(model.path).name, model.id)
        profile_id = self.assistant_box.currentData()
        chosen = self.state.settings.model_for(profile_id) if profile_id else None
        self.assistant_model_box.setCurrentIndex(max(self.assistant_model_box.findData(chosen), 0)
                                                 if chosen else 0)

    def _choose_model_for_assistant(self, _index: int) -> None:
        profile_id = self.assistant_box.currentData()
        if profile_id:
            self.state.replace(self, self.state.settings.with_model_for(profile_id,
                                                                        self.assistant_model_box.currentData()))
            name, model = self.assistant_box.currentText(), self.assistant_model_box.currentText()
            # True because the main window restarts an open chat on this change (MainWindow._settings_changed)
            self.status.setText(f"{name} uses {model} from now on. If {name} is open, Hearth starts it again "
                                "with this model as soon as it is not writing an answer.")

