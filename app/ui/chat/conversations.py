"""The conversation list: new, search (the store's full-text search), rename, delete, export.

Questions to the person (a new name, "delete for good?", where to save) are real dialogs
opened with ``open()``, never ``exec()``: the window keeps running, and ``self.dialog`` is the
one showing (tests answer it like a person would).
Saving as a file is a task (a long conversation does not hold the window).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QFileDialog,
    QGridLayout,
    QInputDialog,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.tasks import TaskHandle, run_task
from app.ui.widgets import destructive_question, open_dialog
from wizard.agent import ConversationNotFoundError, ConversationStore, write_export
from wizard.errors import HearthError

ID_ROLE = Qt.ItemDataRole.UserRole
EXPORT_TEXT = "Save as file…"
EXPORT_FILTERS = {"Markdown (*.md)": ".md", "JSON (*.json)": ".json"}


def export_file_name(title: str, suffix: str) -> str:
    """A file name made of the title's words (no characters a file system refuses)."""
    words = re.findall(r"[\w-]+", title)[:8]
    return ("-".join(words) or "conversation") + suffix


class ConversationPanel(QWidget):
    """Lists the conversations of one assistant (``profile``); the current one is selected."""

    chosen = Signal(int)  # a conversation was picked
    new_requested = Signal()
    deleted = Signal(int)
    exported = Signal(Path)

    def __init__(self, store: ConversationStore, *, profile: str, on_error: Callable[[BaseException], None],
                 export_folder: Path | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.store = store
        self.profile = profile
        self.on_error = on_error
        self.export_folder = export_folder or Path.home()
        self.dialog: QDialog | None = None
        self.export_task: TaskHandle | None = None
        self._current: int | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.new_button = QPushButton("&New conversation", self)
        self.new_button.setAccessibleName("Start a new conversation")
        self.new_button.clicked.connect(self.new_requested)
        self.search = QLineEdit(self)
        self.search.setPlaceholderText("Search your conversations")
        self.search.setAccessibleName("Search conversations")
        self.search.setClearButtonEnabled(True)
        for button in self.search.findChildren(QToolButton):  # Qt's own clear button
            button.setAccessibleName("Clear the search")
        self.search.textChanged.connect(lambda _text: self.refresh())
        self.list = QListWidget(self)
        self.list.setAccessibleName("Conversations")
        self.list.setWordWrap(True)
        self.list.itemActivated.connect(self._pick)
        self.list.itemClicked.connect(self._pick)
        self.list.currentItemChanged.connect(lambda *_: self._update_buttons())
        buttons = QGridLayout()
        self.rename_button = QPushButton("Rename…", self)
        self.rename_button.setAccessibleName("Rename the selected conversation")
        self.rename_button.clicked.connect(self.ask_rename)
        self.delete_button = QPushButton("Delete…", self)
        self.delete_button.setAccessibleName("Delete the selected conversation")
        self.delete_button.clicked.connect(self.ask_delete)
        self.export_button = QPushButton(EXPORT_TEXT, self)
        self.export_button.setAccessibleName("Save the selected conversation as a file")
        self.export_button.setToolTip("Save as Markdown or JSON")
        self.export_button.clicked.connect(self.ask_export)
        buttons.addWidget(self.rename_button, 0, 0)
        buttons.addWidget(self.delete_button, 0, 1)
        buttons.addWidget(self.export_button, 1, 0, 1, 2)
        layout.addWidget(self.new_button)
        layout.addWidget(self.search)
        layout.addWidget(self.list, 1)
        layout.addLayout(buttons)
        self.refresh()

    # -- the list ----------------------------------------------------------------------------

    def refresh(self, *, current: int | None = None) -> None:
        """Show the conversations (or the search results), keeping ``current`` selected."""
        if current is not None:
            self._current = current
        query = self.search.text().strip()
        self.list.blockSignals(True)
        self.list.clear()
        try:
            rows = self._search(query) if query else [
                (c.id, c.title or "New conversation", "") for c in self.store.list(profile=self.profile)]
        except HearthError as exc:
            rows = []
            self.on_error(exc)
        for conversation_id, title, snippet in rows:
            item = QListWidgetItem(title if not snippet else f"{title}\n{snippet}")
            item.setData(ID_ROLE, conversation_id)
            item.setToolTip(snippet or title)
            self.list.addItem(item)
            if conversation_id == self._current:
                self.list.setCurrentItem(item)
        self.list.blockSignals(False)
        self._update_buttons()

    def _search(self, query: str) -> list[tuple[int, str, str]]:
        found: dict[int, tuple[int, str, str]] = {}
        for hit in self.store.search(query, profile=self.profile):
            if hit.conversation not in found:
                found[hit.conversation] = (hit.conversation, hit.title or "New conversation", hit.snippet)
        return list(found.values())

    def titles(self) -> list[str]:
        return [self.list.item(i).text().split("\n")[0] for i in range(self.list.count())]

    def selected_id(self) -> int | None:
        item = self.list.currentItem()
        return item.data(ID_ROLE) if item is not None else None

    def select(self, conversation_id: int | None) -> None:
        self._current = conversation_id
        self.refresh()

    def _pick(self, item: QListWidgetItem) -> None:
        conversation_id = item.data(ID_ROLE)
        if conversation_id != self._current:
            self._current = conversation_id
            self.chosen.emit(conversation_id)

    def _update_buttons(self) -> None:
        has = self.selected_id() is not None
        for button in (self.rename_button, self.delete_button, self.export_button):
            button.setEnabled(has and self.isEnabled())
        if self.export_task is not None and self.export_task.running:
            self.export_button.setEnabled(False)  # one file at a time; its text says "Saving…"

    # -- rename, delete, export ------------------------------------------------------------------

    def ask_rename(self) -> None:
        conversation_id = self.selected_id()
        if conversation_id is None:
            return
        dialog = QInputDialog(self)
        dialog.setWindowTitle("Rename conversation")
        dialog.setLabelText("New name:")
        dialog.setTextValue(self.list.currentItem().text().split("\n")[0])
        dialog.setAccessibleName("Rename conversation")
        dialog.textValueSelected.connect(lambda text: self.rename(conversation_id, text))
        self._open(dialog)

    def rename(self, conversation_id: int, title: str) -> None:
        try:
            self.store.rename(conversation_id, title)
        except HearthError as exc:
            self.on_error(exc)
        self.refresh()

    def ask_delete(self) -> None:
        conversation_id = self.selected_id()
        if conversation_id is None:
            return
        title = self.list.currentItem().text().split("\n")[0]
        box, delete = destructive_question(
            self, "Delete conversation", f"Delete “{title}” for good?", do="Delete",
            do_name="Delete the conversation for good", keep_name="Keep the conversation",
            informative="Its messages are removed from this computer. This cannot be undone.")
        box.finished.connect(lambda _code: box.clickedButton() is delete and self.delete(conversation_id))
        self._open(box)

    def delete(self, conversation_id: int) -> bool:
        """Delete the conversation for good; False (and the error shown) if the database refused."""
        try:
            self.store.delete(conversation_id)
        except HearthError as exc:
            self.on_error(exc)
            if self._exists(conversation_id):  # refused: it stays listed (and shown)
                self.refresh()
                return False
        if self._current == conversation_id:
            self._current = None
        self.refresh()
        self.deleted.emit(conversation_id)
        return True

    def _exists(self, conversation_id: int) -> bool:
        try:
            self.store.get(conversation_id)
        except ConversationNotFoundError:
            return False
        except HearthError:
            return True  # it cannot be read, so it was not deleted either
        return True

    def ask_export(self) -> None:
        conversation_id = self.selected_id()
        if conversation_id is None:
            return
        title = self.list.currentItem().text().split("\n")[0]
        dialog = QFileDialog(self, "Save the conversation as a file",
                             str(self.export_folder / export_file_name(title, ".md")))
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        dialog.setNameFilters(list(EXPORT_FILTERS))
        dialog.setAccessibleName("Save the conversation as a file")
        dialog.fileSelected.connect(
            lambda name: self.export(conversation_id, Path(name), EXPORT_FILTERS.get(dialog.selectedNameFilter(), ".md")))
        self._open(dialog)

    def export(self, conversation_id: int, target: Path, suffix: str = ".md") -> TaskHandle | None:
        """Write the conversation to ``target`` (``suffix`` added when it has none) in a task, so a
        long one does not hold the window; ``exported`` says when it is written, a failure is shown.
        None if a file is still being saved."""
        if self.export_task is not None and self.export_task.running:
            return None
        if target.suffix.lower() not in (".md", ".json", ".markdown", ".txt"):
            target = target.with_name(target.name + suffix)
        store = self.store
        self.export_button.setText("Saving…")
        self.export_task = run_task(lambda _p, _c: write_export(store, conversation_id, target), parent=self,
                                    name="save conversation as a file", on_success=self._export_written,
                                    on_error=self.on_error, on_finished=self._export_finished)
        self._update_buttons()
        return self.export_task

    def _export_written(self, written: Path) -> None:
        self.export_folder = written.parent
        self.exported.emit(written)

    def _export_finished(self) -> None:
        self.export_button.setText(EXPORT_TEXT)
        self._update_buttons()

    def _open(self, dialog: QDialog) -> None:
        open_dialog(self, dialog)

    def changeEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        super().changeEvent(event)
        if event.type() == event.Type.EnabledChange:
            self._update_buttons()
