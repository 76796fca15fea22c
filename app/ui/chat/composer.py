"""Where the person writes: Enter sends, Shift+Enter starts a new line; Send, Stop, Regenerate."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPlainTextEdit, QPushButton, QVBoxLayout, QWidget


class MessageEdit(QPlainTextEdit):
    """The text box. Enter (without Shift) sends; Tab moves on instead of typing a tab."""

    send_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setTabChangesFocus(True)
        self.setPlaceholderText("Write a message. Enter sends, Shift+Enter starts a new line.")
        self.setAccessibleName("Your message")
        self.setAccessibleDescription("Enter sends, Shift+Enter starts a new line, Escape stops an answer.")
        line = self.fontMetrics().lineSpacing()
        self.setMinimumHeight(line * 3)
        self.setMaximumHeight(line * 8)

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 (Qt's name)
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            if event.modifiers() & Qt.KeyboardModifier.ShiftModifier:
                self.insertPlainText("\n")
            else:
                self.send_requested.emit()
            event.accept()
            return
        super().keyPressEvent(event)


class Composer(QWidget):
    """The text box and the buttons under it. ``editing`` is the id of a message being edited."""

    send_requested = Signal(str)
    stop_requested = Signal()
    regenerate_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.editing: int | None = None
        self._draft = ""  # what was in the box when an edit began; it comes back after the edit
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        editing_row = QHBoxLayout()
        self.editing_label = QLabel("You are changing an earlier message: sending it removes "
                                    "everything after it.", self)
        self.editing_label.setWordWrap(True)
        self.cancel_edit_button = QPushButton("Cancel editing", self)
        self.cancel_edit_button.setAccessibleName("Cancel editing the earlier message")
        self.cancel_edit_button.clicked.connect(self.cancel_edit)
        editing_row.addWidget(self.editing_label, 1)
        editing_row.addWidget(self.cancel_edit_button)
        layout.addLayout(editing_row)
        self.edit = MessageEdit(self)
        self.edit.send_requested.connect(self._send)
        layout.addWidget(self.edit)
        buttons = QHBoxLayout()
        self.regenerate_button = QPushButton("&Regenerate", self)
        self.regenerate_button.setAccessibleName("Write the last answer again")
        self.regenerate_button.setToolTip("Write the last answer again")
        self.regenerate_button.clicked.connect(self.regenerate_requested)
        self.stop_button = QPushButton("Stop", self)
        self.stop_button.setAccessibleName("Stop the answer")
        self.stop_button.setToolTip("Stop the answer (Esc)")
        self.stop_button.clicked.connect(self.stop_requested)
        self.send_button = QPushButton("&Send", self)
        self.send_button.setAccessibleName("Send the message")
        self.send_button.setToolTip("Send (Enter)")
        self.send_button.clicked.connect(self._send)
        buttons.addWidget(self.regenerate_button)
        buttons.addStretch(1)
        buttons.addWidget(self.stop_button)
        buttons.addWidget(self.send_button)
        layout.addLayout(buttons)
        self.setTabOrder(self.edit, self.send_button)
        self.setTabOrder(self.send_button, self.stop_button)
        self.setTabOrder(self.stop_button, self.regenerate_button)
        self._show_editing(False)
        self.set_state(ready=False, replying=False, can_regenerate=False)

    def text(self) -> str:
        return self.edit.toPlainText()

    def set_text(self, text: str) -> None:
        self.edit.setPlainText(text)
        cursor = self.edit.textCursor()
        cursor.movePosition(cursor.MoveOperation.End)
        self.edit.setTextCursor(cursor)

    def start_edit(self, message_id: int, text: str) -> None:
        if self.editing is None:
            self._draft = self.text()
        self.editing = message_id
        self.set_text(text)
        self._show_editing(True)
        self.edit.setFocus()

    def cancel_edit(self) -> None:
        """Stop editing an earlier message; the draft written before it comes back (a draft stays)."""
        if self.editing is not None:
            self.finish_edit()

    def finish_edit(self) -> None:
        """The edit was sent (or cancelled): the draft written before it comes back."""
        if self.editing is not None:
            self.set_text(self._draft)
        self._draft = ""
        self.editing = None
        self._show_editing(False)

    def set_state(self, *, ready: bool, replying: bool, can_regenerate: bool) -> None:
        """``ready``: the AI can take a message; ``replying``: an answer is being written."""
        self.send_button.setEnabled(ready and not replying)
        self.stop_button.setEnabled(replying)
        self.regenerate_button.setEnabled(ready and not replying and can_regenerate)
        self.cancel_edit_button.setEnabled(not replying)
        self._ready = ready and not replying

    def _show_editing(self, shown: bool) -> None:
        self.editing_label.setVisible(shown)
        self.cancel_edit_button.setVisible(shown)

    def _send(self) -> None:
        if self._ready and self.text().strip():
            self.send_requested.emit(self.text())
