"""What the assistant remembers, all of it visible: see, change and delete each memory."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.ui.widgets import destructive_question, open_dialog
from wizard.agent import Memory, MemoryStore
from wizard.errors import HearthError

ID_ROLE = Qt.ItemDataRole.UserRole
KIND_WORDS = {"fact": "You asked it to remember", "summary": "Summary of a conversation"}


class MemoryPanel(QWidget):
    """The memories of one assistant (``profile``), as they are given to the model."""

    def __init__(self, memories: MemoryStore, *, profile: str, assistant: str,
                 on_error: Callable[[BaseException], None], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.memories = memories
        self.profile = profile
        self.on_error = on_error
        self.dialog: QDialog | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        intro = QLabel(f"What {assistant} remembers between conversations. Say “remember that …” "
                       "to add something.", self)
        intro.setWordWrap(True)
        self.list = QListWidget(self)
        self.list.setAccessibleName("Memories")
        self.list.setWordWrap(True)
        self.list.currentItemChanged.connect(lambda *_: self._update_buttons())
        self.list.itemActivated.connect(lambda _item: self.ask_edit())
        self.empty = QLabel("Nothing remembered yet.", self)
        row = QHBoxLayout()
        self.edit_button = QPushButton("Change…", self)
        self.edit_button.setAccessibleName("Change the selected memory")
        self.edit_button.clicked.connect(self.ask_edit)
        self.delete_button = QPushButton("Forget…", self)
        self.delete_button.setAccessibleName("Forget the selected memory")
        self.delete_button.clicked.connect(self.ask_delete)
        row.addWidget(self.edit_button)
        row.addWidget(self.delete_button)
        layout.addWidget(intro)
        layout.addWidget(self.list, 1)
        layout.addWidget(self.empty)
        layout.addLayout(row)
        self.refresh()

    def refresh(self) -> None:
        keep = self.selected()
        self.list.clear()
        try:
            memories = self.memories.list(profile=self.profile)
        except HearthError as exc:
            memories = []
            self.on_error(exc)
        for memory in memories:
            item = QListWidgetItem(memory.content)
            item.setData(ID_ROLE, memory.id)
            item.setToolTip(f"{KIND_WORDS.get(memory.kind, memory.kind)} · {memory.updated[:10]}")
            self.list.addItem(item)
            if keep is not None and memory.id == keep:
                self.list.setCurrentItem(item)
        self.empty.setVisible(not memories)
        self._update_buttons()

    def texts(self) -> list[str]:
        return [self.list.item(i).text() for i in range(self.list.count())]

    def selected(self) -> int | None:
        item = self.list.currentItem()
        return item.data(ID_ROLE) if item is not None else None

    def select_text(self, text: str) -> None:
        for i in range(self.list.count()):
            if self.list.item(i).text() == text:
                self.list.setCurrentRow(i)
                return
        raise LookupError(text)

    def ask_edit(self) -> None:
        memory_id = self.selected()
        if memory_id is None:
            return
        dialog = QInputDialog(self)
        dialog.setWindowTitle("Change a memory")
        dialog.setLabelText("What it should remember:")
        dialog.setTextValue(self.list.currentItem().text())
        dialog.setTextEchoMode(QLineEdit.EchoMode.Normal)
        dialog.setAccessibleName("Change a memory")
        dialog.textValueSelected.connect(lambda text: self.edit(memory_id, text))
        self._open(dialog)

    def edit(self, memory_id: int, text: str) -> Memory | None:
        try:
            memory = self.memories.edit(memory_id, text)
        except HearthError as exc:
            self.on_error(exc)
            memory = None
        self.refresh()
        return memory

    def ask_delete(self) -> None:
        memory_id = self.selected()
        if memory_id is None:
            return
        box, forget = destructive_question(
            self, "Forget a memory", f"Forget “{self.list.currentItem().text()}”?", do="Forget",
            do_name="Forget it for good", keep_name="Keep the memory")
        box.finished.connect(lambda _code: box.clickedButton() is forget and self.delete(memory_id))
        self._open(box)

    def delete(self, memory_id: int) -> None:
        try:
            self.memories.delete(memory_id)
        except HearthError as exc:
            self.on_error(exc)
        self.refresh()

    def _update_buttons(self) -> None:
        has = self.selected() is not None
        self.edit_button.setEnabled(has)
        self.delete_button.setEnabled(has)

    def _open(self, dialog: QDialog) -> None:
        open_dialog(self, dialog)
