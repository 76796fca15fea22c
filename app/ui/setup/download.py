"""Page 5: Download: a progress bar, speed, time left, Pause/Resume and Cancel.

The download itself is :func:`wizard.download.download_from_hub`: it keeps the partial
file when paused, cancelled, interrupted or when the wizard closes, and the next start
continues from there. Going Back stops the transfer (the partial stays); coming back
continues it. The mirror comes from ``SetupServices.endpoint`` (see ``state.py``); the access
token for gated models from :func:`wizard.secrets.hub_token`, read at each start, so a token
added in Settings is used by the next Retry. It is passed as a parameter, never written.
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING

from PySide6.QtWidgets import QHBoxLayout, QProgressBar, QPushButton

from app.tasks import TaskHandle, run_task
from app.ui.setup.base import SetupPage
from app.ui.setup.widgets import InlineError, plain_bytes, plain_duration, scaled_font_label
from wizard.errors import HearthError
from wizard.secrets import hub_token

if TYPE_CHECKING:  # wizard.download imports huggingface_hub and httpx: only when a download starts
    from wizard.download import DownloadProgress, DownloadResult

log = logging.getLogger(__name__)

IDLE, RUNNING, PAUSING, PAUSED, STOPPED, FAILED, DONE = ("idle", "running", "pausing", "paused", "stopped",
                                                         "failed", "done")


def download_and_register(repo: str, filename: str, *, revision: str, endpoint: str | None, models_dir,
                          progress, cancel, pause, token: str | None = None) -> DownloadResult:
    """Download (or continue) the file and add a finished one to the installed-models list.

    A failure to register does not undo the download (it is logged).

    Raises: what :func:`wizard.download.download_from_hub` raises.
    """
    from wizard.download import download_from_hub

    result = download_from_hub(repo, filename, revision=revision, endpoint=endpoint, token=token,
                               models_dir=models_dir, progress=progress, cancel=cancel, pause=pause)
    if result.state == "done":
        from wizard.models import ModelRegistry, register_download

        try:
            register_download(result, revision=revision, endpoint=endpoint,
                              registry=ModelRegistry(models_dir=models_dir))
        except HearthError as exc:
            log.warning("download not registered: %s", exc.details or exc)
    return result


class DownloadPage(SetupPage):
    TITLE = "Downloading your model"
    SUBTITLE = ("The AI model is a large file. You can pause, or even close Hearth: "
                "the download continues where it stopped.")

    def build(self) -> None:
        self.what = scaled_font_label("", self, bold=True)
        self.what.setAccessibleName("What is being downloaded")
        self.body.addWidget(self.what)
        self.bar = QProgressBar(self)
        self.bar.setRange(0, 1000)
        self.bar.setAccessibleName("Download progress")
        self.body.addWidget(self.bar)
        self.status = scaled_font_label("", self)
        self.status.setAccessibleName("Download status")
        self.body.addWidget(self.status)
        self.numbers = scaled_font_label("", self)
        self.numbers.setAccessibleName("Downloaded so far, speed and time left")
        self.body.addWidget(self.numbers)

        row = QHBoxLayout()
        self.pause_button = QPushButton("Pause", self)
        self.pause_button.setAccessibleName("Pause or resume the download")
        self.pause_button.clicked.connect(self._pause_or_resume)
        self.cancel_button = QPushButton("Cancel download", self)
        self.cancel_button.setAccessibleName("Cancel the download")
        self.cancel_button.clicked.connect(self.cancel_download)
        row.addWidget(self.pause_button)
        row.addWidget(self.cancel_button)
        row.addStretch(1)
        self.body.addLayout(row)

        self.error = InlineError(self)
        self.error.retry_requested.connect(self.start_download)
        self.body.addWidget(self.error)
        self.body.addStretch(1)

        self.state = IDLE
        self.last_progress: DownloadProgress | None = None
        self.result: DownloadResult | None = None
        self._handle: TaskHandle | None = None
        self._pause = threading.Event()
        self._generation = 0
        self._start_when_free = False
        self._bar_shows: tuple[str, str] | None = None  # (repo, file) whose bytes the bar counts

    # ---- lifecycle -------------------------------------------------------------------
    def initializePage(self) -> None:  # noqa: N802 (Qt's name)
        entry = self.answers.model.entry
        self.what.setText(f"{self.answers.model.name}"
                          + (f" ({plain_bytes(entry.size_bytes)})" if entry.size_bytes else ""))
        if self.result is not None and self.result.state == "done" and self.answers.model_path == self.result.path \
                and self.result.filename == entry.file and self.result.repo_id == entry.repo:
            self._set_state(DONE)
            return
        self.result = None
        self.answers.model_path = None
        self.start_download()

    def cleanupPage(self) -> None:  # noqa: N802 (Qt's name)
        """Going Back: stop the transfer; the partial file stays for next time."""
        self._start_when_free = False
        self.stop_tasks()

    # ---- actions ---------------------------------------------------------------------
    def start_download(self) -> None:
        """Start, continue after a pause/cancel, or try again after an error."""
        if self._handle is not None and self._handle.running:
            self._start_when_free = True  # the stopped transfer still holds the file's lock
            return
        entry = self.answers.model.entry
        self._generation += 1
        generation = self._generation
        self._pause = threading.Event()
        pause, services = self._pause, self.services
        from app.ui.settings.state import SESSION_SECRETS  # a token kept "for this session only"
        self.error.clear()
        if self._bar_shows != (entry.repo, entry.file):  # another model: its bytes start from nothing
            self._bar_shows = (entry.repo, entry.file)
            self.bar.setValue(0)
            self.numbers.clear()
        self._set_state(RUNNING)
        self.status.setText("Connecting…")

        def work(progress, cancel):
            return download_and_register(entry.repo, entry.file, revision=entry.revision or "main",
                                         endpoint=services.endpoint, models_dir=services.models_dir,
                                         token=hub_token(session=SESSION_SECRETS),
                                         progress=progress, cancel=cancel, pause=pause)

        self._handle = self.track(run_task(
            work, parent=self, name="model download",
            on_progress=lambda event: generation == self._generation and self._progress(event),
            on_success=lambda result: generation == self._generation and self._finished(result),
            on_error=lambda exc: generation == self._generation and self._failed(exc),
            on_finished=self._task_ended))

    def pause(self) -> None:
        self._start_when_free = False  # a start waiting for a stopped transfer is not wanted any more
        if self.state == RUNNING:
            self._pause.set()
            self._set_state(PAUSING)

    def resume(self) -> None:
        if self.state in (PAUSED, STOPPED):
            self.start_download()

    def cancel_download(self) -> None:
        self._start_when_free = False
        if self._handle is not None and self._handle.running:
            self._handle.cancel()

    def _pause_or_resume(self) -> None:
        if self.state == RUNNING:
            self.pause()
        else:
            self.resume()

    # ---- what the task reports (on the UI thread) ---------------------------------------
    def _progress(self, event: DownloadProgress) -> None:
        self.last_progress = event
        # "verifying" re-reads bytes already here (the part kept from last time) from byte 0: the
        # bar keeps showing what is downloaded instead of running back to the start
        checking = event.state == "verifying"
        if event.bytes_total and not checking:
            self.bar.setValue(min(1000, int(event.fraction * 1000)))
        if event.message:
            self.status.setText(event.message)
        elif event.state == "downloading":
            self.status.setText("Downloading…")
        elif event.state == "verifying":
            self.status.setText("Checking the downloaded file…")
        parts = []
        if event.bytes_total:
            parts.append(f"{plain_bytes(event.bytes_done)} of {plain_bytes(event.bytes_total)}"
                         + (" checked" if checking else ""))
        if event.state == "downloading" and event.speed > 0:
            parts.append(f"{plain_bytes(event.speed)} per second")
            left = plain_duration(event.eta)
            if left:
                parts.append(f"{left} left")
        self.numbers.setText(" · ".join(parts))

    def _finished(self, result: DownloadResult) -> None:
        self.result = result
        if result.state == "paused":
            self._set_state(PAUSED)
            self.status.setText("Paused. What was downloaded so far is kept.")
            return
        self.answers.model_path = result.path
        self.bar.setValue(1000)
        self._set_state(DONE)

    def _failed(self, exc: BaseException) -> None:
        from wizard.download import DownloadCancelled  # imported already: the download ran

        if isinstance(exc, DownloadCancelled):
            self._set_state(STOPPED)
            self.status.setText("Stopped. What was downloaded so far is kept: press Resume to continue.")
            return
        self._set_state(FAILED)
        self.status.setText("The download stopped.")
        self.error.show_error(exc, can_retry=True)

    def _task_ended(self) -> None:
        if self._start_when_free:
            self._start_when_free = False
            self.start_download()

    def _set_state(self, state: str) -> None:
        self.state = state
        self.pause_button.setText({RUNNING: "Pause", PAUSING: "Pausing…"}.get(state, "Resume"))
        self.pause_button.setEnabled(state in (RUNNING, PAUSED, STOPPED))
        self.pause_button.setVisible(state != DONE)
        self.cancel_button.setEnabled(state in (RUNNING, PAUSING))
        self.cancel_button.setVisible(state != DONE)
        if state == DONE:
            self.status.setText("Downloaded and checked. It is ready to use.")
            self.numbers.setText(f"Saved as {self.answers.model_path}")
        self.completeChanged.emit()

    def isComplete(self) -> bool:  # noqa: N802 (Qt's name)
        return self.state == DONE and self.answers.model_path is not None
