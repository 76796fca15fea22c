"""Page 2: "Your computer": a friendly card with the memory, graphics and free disk, and what they mean.

The probe runs through :func:`app.tasks.run_task`, so the window never waits for it.
"""

from __future__ import annotations

from PySide6.QtWidgets import QFrame, QProgressBar, QVBoxLayout

from app.tasks import run_task
from app.ui.setup.base import SetupPage
from app.ui.widgets import InlineError, scaled_font_label
from wizard.hardware import HardwareProfile
from wizard.hardware.summary import summarize


class ComputerPage(SetupPage):
    TITLE = "Your computer"
    SUBTITLE = "Hearth looks at this computer to choose an AI model that runs well on it."

    def build(self) -> None:
        self.busy = QProgressBar(self)
        self.busy.setRange(0, 0)  # "working", no percentage
        self.busy.setAccessibleName("Looking at this computer")
        self.busy.setFormat("Looking at this computer…")
        self.body.addWidget(self.busy)

        self.card = QFrame(self)
        self.card.setFrameShape(QFrame.Shape.StyledPanel)
        card_layout = QVBoxLayout(self.card)
        self.headline = scaled_font_label("", self.card, factor=1.3, bold=True)
        self.headline.setAccessibleName("This computer")
        self.meaning = scaled_font_label("", self.card)
        self.meaning.setAccessibleName("What that means")
        self.details = scaled_font_label("", self.card)
        self.details.setAccessibleName("Worth knowing")
        for label in (self.headline, self.meaning, self.details):
            card_layout.addWidget(label)
        self.card.setVisible(False)
        self.body.addWidget(self.card)

        self.error = InlineError(self, retry_text="Look again")
        self.error.retry_requested.connect(self.start_probe)
        self.body.addWidget(self.error)
        self.body.addStretch(1)

    def initializePage(self) -> None:  # noqa: N802 (Qt's name)
        if self.answers.hardware is None:
            self.start_probe()
        else:
            self._show(self.answers.hardware)

    def start_probe(self) -> None:
        if self.running_tasks():
            return
        self.error.clear()
        self.card.setVisible(False)
        self.busy.setVisible(True)
        probe = self.services.probe
        self.track(run_task(lambda progress, cancel: probe(), parent=self, name="hardware probe",
                            on_success=self._probed, on_error=self._failed))

    def _probed(self, profile: HardwareProfile) -> None:
        self.answers.hardware = profile
        self._show(profile)
        self.completeChanged.emit()

    def _failed(self, exc: BaseException) -> None:
        self.busy.setVisible(False)
        self.error.show_error(exc, can_retry=True)

    def _show(self, profile: HardwareProfile) -> None:
        summary = summarize(profile)
        self.busy.setVisible(False)
        self.headline.setText(summary.headline)
        self.meaning.setText(summary.meaning)
        self.details.setText("\n".join(summary.details))
        self.details.setVisible(bool(summary.details))
        self.card.setVisible(True)

    def isComplete(self) -> bool:  # noqa: N802 (Qt's name)
        return self.answers.hardware is not None
