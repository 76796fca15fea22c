"""The lines under the chat: the model, the speed of the last answer, memory in use; documents."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QWidget

from app.tasks import TaskHandle, run_task
from app.error_dialog import error_texts

MEGABYTE = 1024 * 1024


def engine_memory_bytes(pid: int | None) -> int | None:
    """Resident memory of the engine process and its children, or None if it is not running."""
    if pid is None:
        return None
    import psutil

    try:
        process = psutil.Process(pid)
        total = process.memory_info().rss
        for child in process.children(recursive=True):
            try:
                total += child.memory_info().rss
            except psutil.Error:
                continue
        return total
    except psutil.Error:
        return None


def memory_words(size: int | None) -> str:
    if size is None:
        return "Memory in use: —"
    if size >= 1024 * MEGABYTE:
        return f"Memory in use: {size / (1024 * MEGABYTE):.1f} GB"
    return f"Memory in use: {size / MEGABYTE:.0f} MB"


def speed_words(tokens_per_second: float | None) -> str:
    if not tokens_per_second:
        return "Last answer: —"
    return f"Last answer: {tokens_per_second:.0f} tokens a second"


class StatusLine(QWidget):
    """Plain facts about the assistant, updated by the chat view."""

    def __init__(self, model_name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.state = QLabel("", self)
        self.state.setAccessibleName("What the assistant is doing")
        self.model = QLabel(f"Model: {model_name}", self)
        self.model.setAccessibleName("Model")
        self.speed = QLabel(speed_words(None), self)
        self.speed.setAccessibleName("Speed of the last answer")
        self.speed.setToolTip("A token is a word or a piece of a word.")
        self.memory = QLabel(memory_words(None), self)
        self.memory.setAccessibleName("Memory the model uses")
        layout.addWidget(self.state, 1)
        for label in (self.model, self.speed, self.memory):
            layout.addWidget(label)

    def set_speed(self, tokens_per_second: float | None) -> None:
        self.speed.setText(speed_words(tokens_per_second))

    def set_memory(self, size: int | None) -> None:
        self.memory.setText(memory_words(size))


class DocumentsStatus(QWidget):
    """Reads the assistant's document folders into its search index, with progress and Cancel."""

    def __init__(self, index_path: Path, folders: tuple[Path, ...], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.index_path = index_path
        self.folders = folders
        self.task: TaskHandle | None = None
        self.report = None
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.label = QLabel("", self)
        self.label.setWordWrap(True)
        self.label.setAccessibleName("Your documents")
        self.cancel_button = QPushButton("Stop reading", self)
        self.cancel_button.setAccessibleName("Stop reading your documents")
        self.cancel_button.clicked.connect(self.cancel)
        self.again_button = QPushButton("Read again", self)
        self.again_button.setAccessibleName("Read your documents again")
        self.again_button.clicked.connect(self.start)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.cancel_button)
        layout.addWidget(self.again_button)
        self.again_button.setVisible(False)

    def start(self) -> None:
        """Bring the index up to date with the folders (a task; only new or changed files are read)."""
        if self.task is not None and self.task.running:
            return
        from wizard.agent.documents import DocumentIndex

        index_path, folders = self.index_path, self.folders
        self.label.setText("Looking at your documents…")
        self.cancel_button.setVisible(True)
        self.again_button.setVisible(False)
        self.task = run_task(lambda progress, cancel: DocumentIndex(index_path).update(
                                 folders, progress=progress, cancel=cancel),
                             parent=self, name="index documents", on_progress=self._progress,
                             on_success=self._done, on_error=self._failed)

    def cancel(self) -> None:
        if self.task is not None:
            self.task.cancel()

    def _progress(self, progress) -> None:
        if progress.total and progress.done < progress.total:
            self.label.setText(f"Reading your documents: {progress.done + 1} of {progress.total} files…")

    def _done(self, report) -> None:
        self.report = report
        self.cancel_button.setVisible(False)
        self.again_button.setVisible(True)
        if report.cancelled:
            self.label.setText("Reading your documents was stopped. What was read so far can be searched.")
            return
        with_text = len(report.added) + len(report.updated) + report.unchanged
        text = f"Your documents are ready: {with_text} files read."
        if report.skipped:
            text += f" {len(report.skipped)} could not be read."
            self.label.setToolTip("\n".join(f"{Path(p).name}: {why}" for p, why in report.skipped.items()))
        self.label.setText(text)

    def _failed(self, exc: BaseException) -> None:
        message, hint, _details = error_texts(exc)
        self.cancel_button.setVisible(False)
        self.again_button.setVisible(True)
        self.label.setText(f"{message} {hint}")
