"""The setup wizard: ``SetupWizard.PAGES`` in order, each page its own module.

Closing the wizard at any point stops its tasks cleanly: a download keeps its partial
file and continues next time; a model being checked is stopped with its engine process.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import QWidget, QWizard

from app.ui.setup.base import SetupPage
from app.ui.setup.check import CheckPage
from app.ui.setup.computer import ComputerPage
from app.ui.setup.download import DownloadPage
from app.ui.setup.finish import FinishPage
from app.ui.setup.model import ModelPage
from app.ui.setup.personalise import PersonalisePage
from app.ui.setup.purpose import PurposePage
from app.ui.setup.state import SetupAnswers, SetupServices
from app.ui.setup.welcome import WelcomePage
from app.ui.widgets import name_qt_parts

STOP_WAIT_SECONDS = 15.0  # an engine still loading the model is waited for, then stopped

BUTTON_NAMES = {
    QWizard.WizardButton.BackButton: "Back",
    QWizard.WizardButton.NextButton: "Next",
    QWizard.WizardButton.FinishButton: "Start chatting",
    QWizard.WizardButton.CancelButton: "Cancel setup",
    QWizard.WizardButton.CommitButton: "Commit",
    QWizard.WizardButton.HelpButton: "Help",
}


class SetupWizard(QWizard):
    PAGES: tuple[tuple[str, type[SetupPage]], ...] = (
        ("welcome", WelcomePage),
        ("computer", ComputerPage),
        ("purpose", PurposePage),
        ("model", ModelPage),
        ("download", DownloadPage),
        ("personalise", PersonalisePage),
        ("check", CheckPage),
        ("finish", FinishPage),
    )

    def __init__(self, parent: QWidget | None = None, *, services: SetupServices | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Set up Hearth")
        self.setAccessibleName("Hearth setup")
        self.setWizardStyle(QWizard.WizardStyle.ModernStyle)
        self.setOption(QWizard.WizardOption.NoBackButtonOnStartPage, True)
        self.setOption(QWizard.WizardOption.NoDefaultButton, False)
        self.setWindowModality(Qt.WindowModality.ApplicationModal)
        self.answers = SetupAnswers()
        self.services = services or SetupServices()
        self._ids: dict[str, int] = {}
        for index, (key, page_class) in enumerate(self.PAGES):
            page = page_class(self.answers, self.services, self)
            page.setObjectName(key)
            self._ids[key] = index
            self.setPage(index, page)
        for which, name in BUTTON_NAMES.items():
            self.button(which).setAccessibleName(name)
        name_qt_parts(self)
        self.currentIdChanged.connect(lambda _id: name_qt_parts(self))  # pages add cards as they are shown
        self.setMinimumSize(640, 520)
        self.resize(760, 600)

    def page_id(self, key: str) -> int:
        return self._ids[key]

    def setup_page(self, key: str) -> SetupPage:
        return self.page(self._ids[key])

    def setup_pages(self) -> list[SetupPage]:
        return [self.page(index) for index in self._ids.values()]

    def stop_all(self, timeout: float = STOP_WAIT_SECONDS) -> bool:
        """Stop every page's tasks and wait for them; True when all have stopped."""
        pages = self.setup_pages()
        for page in pages:
            page.stop_tasks()
        stopped = all(task.wait(timeout) for page in pages for task in page.running_tasks())
        for page in pages:
            page.forget_stopped_tasks()
        return stopped

    def done(self, result: int) -> None:
        self.stop_all()
        super().done(result)

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 (Qt's name)
        self.stop_all()
        super().closeEvent(event)
