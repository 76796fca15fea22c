"""“<assistant> wants to save a file: <path>. Allow?” — asked on the UI thread, from a worker.

A tool that writes a file (``wizard.agent.tools``) calls ``confirm(path, preview)`` on the
worker thread running the reply and waits for the answer. :class:`WriteConfirmer` is that
callable: it shows the question as a window-modal dialog without blocking the window, and
the worker waits (not the UI). Closing the chat answers every open question with “no”.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path

from PySide6.QtCore import QObject, Qt, QThread, Signal
from PySide6.QtWidgets import QMessageBox, QWidget

from app.ui.widgets import name_qt_parts

PREVIEW_CHARS = 2000


@dataclass
class _Question:
    path: Path
    preview: str
    allowed: bool = False
    answered: threading.Event = field(default_factory=threading.Event)


class WriteConfirmer(QObject):
    """``confirmer(path, preview) -> bool``: True only when the person pressed Allow."""

    _asked = Signal(object)

    def __init__(self, parent: QWidget, assistant: str) -> None:
        super().__init__(parent)
        self.assistant = assistant
        self.dialog: QMessageBox | None = None
        self._open: list[_Question] = []
        self._closed = False
        self._asked.connect(self._show, Qt.ConnectionType.QueuedConnection)

    def __call__(self, path: Path, preview: str) -> bool:
        """Ask and wait for the answer. Must be called from a worker thread, never the UI thread."""
        if QThread.currentThread() is self.thread():
            raise RuntimeError("WriteConfirmer is called from worker threads only")
        question = _Question(Path(path), preview)
        if self._closed:
            return False
        self._asked.emit(question)
        question.answered.wait()
        return question.allowed

    def refuse_all(self) -> None:
        """Answer “no” to every open question (the chat is closing); later questions too."""
        self._closed = True
        for question in self._open:
            question.answered.set()
        self._open.clear()
        if self.dialog is not None:
            self.dialog.reject()

    def question_text(self, path: Path) -> str:
        return f"{self.assistant} wants to save a file: {path}. Allow?"

    def _show(self, question: _Question) -> None:
        if self._closed:
            question.answered.set()
            return
        self._open.append(question)
        box = QMessageBox(QMessageBox.Icon.Question, "Save a file?", self.question_text(question.path),
                          QMessageBox.StandardButton.NoButton, self.parent())
        box.setInformativeText("Nothing is saved unless you press Allow. "
                               "Show details to see what would be written.")
        box.setDetailedText(question.preview[:PREVIEW_CHARS])
        allow = box.addButton("Allow", QMessageBox.ButtonRole.AcceptRole)
        allow.setAccessibleName("Allow saving the file")
        refuse = box.addButton("Don't allow", QMessageBox.ButtonRole.RejectRole)
        refuse.setAccessibleName("Do not save the file")
        box.setDefaultButton(refuse)
        box.setEscapeButton(refuse)
        box.setAccessibleName("Save a file?")
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)

        def answered(_code: int) -> None:
            question.allowed = box.clickedButton() is allow and not self._closed
            question.answered.set()
            if question in self._open:
                self._open.remove(question)
            self.dialog = None

        box.finished.connect(answered)
        name_qt_parts(box)  # its "Show Details…" button and the details box
        self.dialog = box
        box.open()
