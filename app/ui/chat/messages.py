"""The messages of one conversation, oldest first, each with its own Copy (and Edit) button."""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from app.ui.chat.markdown_view import MarkdownView
from app.ui.widgets import name_qt_parts

STATUS_NOTES = {
    "partial": "This answer stopped before the end.",
    "failed": "No answer came.",
}


def bold_label(text: str, parent: QWidget) -> QLabel:
    label = QLabel(text, parent)
    font = label.font()
    font.setBold(True)
    label.setFont(font)
    return label


class MessageWidget(QFrame):
    """One message: who said it, the text as Markdown, a note if it was cut off, and its buttons."""

    edit_requested = Signal(int, str)  # message id, text

    def __init__(self, *, role: str, speaker: str, text: str, message_id: int | None = None,
                 status: str = "complete", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.role = role
        self.message_id = message_id
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setAccessibleName(f"Message from {speaker}")
        layout = QVBoxLayout(self)
        top = QHBoxLayout()
        self.speaker = bold_label(speaker, self)
        top.addWidget(self.speaker)
        top.addStretch(1)
        self.copy_button = QPushButton("Copy", self)
        self.copy_button.setAccessibleName(f"Copy this message from {speaker}")
        self.copy_button.clicked.connect(self.copy_text)
        top.addWidget(self.copy_button)
        self._top = top
        self.edit_button: QPushButton | None = None
        self.set_message_id(message_id)
        layout.addLayout(top)
        self.body = MarkdownView(self)
        self.body.setAccessibleName("Your message" if role == "user" else f"Answer from {speaker}")
        layout.addWidget(self.body)
        self.note = QLabel("", self)
        self.note.setWordWrap(True)
        self.note.setAccessibleName("About this message")
        layout.addWidget(self.note)
        self.set_text(text)
        self.set_status(status)

    def set_message_id(self, message_id: int | None) -> None:
        """The saved message this one shows; a saved message of the person's can be edited."""
        self.message_id = message_id
        if self.role == "user" and message_id is not None and self.edit_button is None:
            self.edit_button = QPushButton("Edit", self)
            self.edit_button.setAccessibleName("Edit this message and send it again")
            self.edit_button.clicked.connect(lambda: self.edit_requested.emit(self.message_id, self.text()))
            self._top.addWidget(self.edit_button)

    def text(self) -> str:
        return self.body.markdown()

    def set_text(self, text: str) -> None:
        self.body.set_markdown(text)

    def set_status(self, status: str) -> None:
        note = STATUS_NOTES.get(status, "")
        self.note.setText(note)
        self.note.setVisible(bool(note))

    def copy_text(self) -> None:
        QGuiApplication.clipboard().setText(self.text())


class NoticeWidget(QLabel):
    """A plain sentence between messages: the AI restarted, something was remembered …"""

    def __init__(self, text: str, parent: QWidget | None = None) -> None:
        super().__init__(text, parent)
        self.setWordWrap(True)
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.setAccessibleName("Notice")
        self.setFrameShape(QFrame.Shape.StyledPanel)


class MessageList(QScrollArea):
    """The scrolling column of messages; it follows new text while the person is at the bottom."""

    edit_requested = Signal(int, str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWidgetResizable(True)
        self.setAccessibleName("Conversation")
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self._column = QWidget(self)
        self._layout = QVBoxLayout(self._column)
        self._layout.addStretch(1)
        self.setWidget(self._column)
        self._follow = True
        self.verticalScrollBar().rangeChanged.connect(self._keep_at_bottom)
        self.verticalScrollBar().valueChanged.connect(self._note_position)

    def clear(self) -> None:
        while self._layout.count() > 1:
            item = self._layout.takeAt(0)
            if item.widget() is not None:
                item.widget().deleteLater()
        self._follow = True

    def messages(self) -> list[MessageWidget]:
        return [w for w in self._items() if isinstance(w, MessageWidget)]

    def notices(self) -> list[NoticeWidget]:
        return [w for w in self._items() if isinstance(w, NoticeWidget)]

    def remove_notices(self) -> None:
        for notice in self.notices():
            self._layout.removeWidget(notice)
            notice.deleteLater()

    def add_message(self, **kwargs: object) -> MessageWidget:
        widget = MessageWidget(parent=self._column, **kwargs)
        widget.edit_requested.connect(self.edit_requested)
        name_qt_parts(widget)
        self._insert(widget)
        return widget

    def add_notice(self, text: str) -> NoticeWidget:
        widget = NoticeWidget(text, self._column)
        self._insert(widget)
        return widget

    def scroll_to_bottom(self) -> None:
        self._follow = True
        QTimer.singleShot(0, self, lambda: self.verticalScrollBar().setValue(self.verticalScrollBar().maximum()))

    def _items(self) -> list[QWidget]:
        items = (self._layout.itemAt(i).widget() for i in range(self._layout.count()))
        return [w for w in items if w is not None]

    def _insert(self, widget: QWidget) -> None:
        self._layout.insertWidget(self._layout.count() - 1, widget)

    def _note_position(self, value: int) -> None:
        bar = self.verticalScrollBar()
        self._follow = value >= bar.maximum() - 4

    def _keep_at_bottom(self, _minimum: int, maximum: int) -> None:
        if self._follow:
            self.verticalScrollBar().setValue(maximum)
