"""Settings → Your data: where it lives, open it, move it elsewhere, export everything."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.commands.progress_bar import human_bytes
from app.error_dialog import show_error
from app.tasks import TaskHandle, run_task
from app.ui.settings.state import SettingsState, ask
from wizard.errors import HearthError
from wizard.export_all import ExportCancelled, ExportProgress, ExportSummary, export_everything
from wizard.move_data import MoveCancelled, MoveProgress, MoveResult, check_move, move_data_folder
from wizard.paths import hearth_paths


class ProgressDialog(QDialog):
    """Runs one task with a progress bar, a line of text and Cancel; closes itself when done."""

    def __init__(self, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setAccessibleName(title)
        self.setModal(True)
        layout = QVBoxLayout(self)
        self.text = QLabel("Starting…")
        self.text.setWordWrap(True)
        self.text.setMinimumWidth(380)
        self.bar = QProgressBar()
        self.bar.setRange(0, 1000)
        self.bar.setAccessibleName(f"{title} progress")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setAccessibleName(f"Cancel: {title}")
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.cancel_button)
        layout.addWidget(self.text)
        layout.addWidget(self.bar)
        layout.addLayout(row)
        self.handle: TaskHandle | None = None
        self.outcome: Any = None
        self.error: BaseException | None = None

    def run(self, work: Callable[..., Any], on_progress: Callable[[Any], tuple[float, str]]) -> TaskHandle:
        """Start ``work(progress=…, cancel=…)``; ``on_progress`` turns an event into (fraction, text)."""
        def progressed(event: Any) -> None:
            fraction, text = on_progress(event)
            self.bar.setValue(int(max(0.0, min(1.0, fraction)) * 1000))
            self.text.setText(text)

        def succeeded(result: Any) -> None:
            self.outcome = result
            self.accept()

        def failed(exc: BaseException) -> None:
            self.error = exc
            self.done(QDialog.DialogCode.Rejected)  # not reject(): that would only ask to cancel

        self.handle = run_task(lambda progress, cancel: work(progress=progress, cancel=cancel), parent=self,
                               name=self.windowTitle(), on_progress=progressed, on_success=succeeded,
                               on_error=failed)
        self.cancel_button.clicked.connect(self._cancel)
        return self.handle

    def _cancel(self) -> None:
        if self.handle is not None:
            self.cancel_button.setEnabled(False)
            self.text.setText("Stopping…")
            self.handle.cancel()

    def reject(self) -> None:
        """Esc or closing the window asks the task to stop; the dialog closes when it has."""
        if self.handle is not None and self.handle.running:
            self._cancel()
            return
        super().reject()


def _move_text(event: MoveProgress) -> tuple[float, str]:
    what = {"copying": "Copying", "checking": "Checking the copy", "removing": "Removing the old copy",
            "done": "Done"}[event.stage]
    return event.fraction, f"{what}: {human_bytes(event.bytes_done)} of {human_bytes(event.bytes_total)}"


def _export_text(event: ExportProgress) -> tuple[float, str]:
    return (event.done / event.total if event.total else 1.0), event.message


class DataPage(QWidget):
    """Where the data lives, Open folder, Move…, Export everything…"""

    data_moved = Signal(object)  # the new data folder: stores holding the old one must reopen

    def __init__(self, state: SettingsState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        layout = QVBoxLayout(self)
        intro = QLabel("Your conversations, memories, assistants and models are kept in this folder. "
                       "They are yours: you can open, copy or move them.")
        intro.setWordWrap(True)
        layout.addWidget(intro)
        self.location = QLineEdit()
        self.location.setReadOnly(True)
        self.location.setAccessibleName("Data folder location")
        layout.addWidget(self.location)
        row = QHBoxLayout()
        self.open_button = QPushButton("&Open folder")
        self.open_button.setAccessibleName("Open the data folder")
        self.move_button = QPushButton("&Move…")
        self.move_button.setAccessibleName("Move the data folder")
        self.export_button = QPushButton("&Export everything…")
        self.export_button.setAccessibleName("Export everything")
        for button in (self.open_button, self.move_button, self.export_button):
            row.addWidget(button)
        row.addStretch(1)
        layout.addLayout(row)
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.status.setAccessibleName("Your data status")
        layout.addWidget(self.status)
        layout.addStretch(1)
        self.open_button.clicked.connect(self.open_folder)
        self.move_button.clicked.connect(self.choose_move_target)
        self.export_button.clicked.connect(self.choose_export_target)
        self.refresh()

    def refresh(self) -> None:
        self.location.setText(str(hearth_paths().data))

    def open_folder(self) -> None:
        folder = hearth_paths().data
        folder.mkdir(parents=True, exist_ok=True)
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder)))

    # ---- move ----------------------------------------------------------------------------
    def choose_move_target(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Move your data to…", str(Path.home()))
        if folder:
            self.move_to(Path(folder))

    def move_to(self, target: Path, *, confirm: bool = True) -> ProgressDialog | None:
        """Check, confirm, then move with a progress dialog (open, not waited for; see ``finished``)."""
        try:
            _source, target, _files, total = check_move(target)
        except HearthError as exc:
            show_error(self, exc)
            return None
        if confirm and not ask(self, "Move your data", f"Move your data ({human_bytes(total)}) to {target}?",
                               yes="Move", informative="Hearth copies everything, checks the copy, and only "
                               "then deletes the old folder. You can cancel while it copies."):
            return None
        dialog = ProgressDialog("Moving your data", self)
        dialog.finished.connect(lambda _code: self._moved(dialog))
        dialog.run(lambda progress, cancel: move_data_folder(target, progress=progress, cancel=cancel), _move_text)
        dialog.open()
        return dialog

    def _moved(self, dialog: ProgressDialog) -> None:
        self.refresh()
        result: MoveResult | None = dialog.outcome
        if isinstance(dialog.error, MoveCancelled):
            self.status.setText(dialog.error.user_message)
        elif dialog.error is not None:
            show_error(self, dialog.error)
        elif result is not None:
            self.status.setText(result.left_behind or f"Your data is now in {result.new}.")
            self.data_moved.emit(result.new)

    # ---- export --------------------------------------------------------------------------
    def choose_export_target(self) -> None:
        default = Path.home() / f"Hearth export {time.strftime('%Y-%m-%d')}.zip"
        path, _filter = QFileDialog.getSaveFileName(self, "Export everything", str(default), "Zip files (*.zip)")
        if path:
            self.export_to(Path(path) if path.lower().endswith(".zip") else Path(path + ".zip"))

    def export_to(self, target: Path) -> ProgressDialog:
        dialog = ProgressDialog("Exporting everything", self)
        dialog.finished.connect(lambda _code: self._exported(dialog))
        session = self.state.session
        hidden = [value for owner, name in session.names() if (value := session.get(owner, name))]
        dialog.run(lambda progress, cancel: export_everything(target, progress=progress, cancel=cancel,
                                                              also_hide=hidden), _export_text)
        dialog.open()
        return dialog

    def _exported(self, dialog: ProgressDialog) -> None:
        summary: ExportSummary | None = dialog.outcome
        if isinstance(dialog.error, ExportCancelled):
            self.status.setText(dialog.error.user_message)
        elif dialog.error is not None:
            show_error(self, dialog.error)
        elif summary is not None:
            self.status.setText(f"Exported {summary.conversations} conversations, {summary.memories} memories and "
                                f"{summary.profiles} assistants to {summary.path} ({human_bytes(summary.bytes_written)}).")
