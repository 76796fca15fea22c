"""What every setup page shares: the answers, the services, and its running tasks."""

from __future__ import annotations

from PySide6.QtWidgets import QVBoxLayout, QWidget, QWizardPage

from app.tasks import TaskHandle
from app.ui.setup.state import SetupAnswers, SetupServices


class SetupPage(QWizardPage):
    """A page that reads and writes :class:`SetupAnswers` and may run background tasks.

    Subclasses set ``TITLE``/``SUBTITLE`` and build their widgets in ``build``. Every task
    a page starts goes in ``self.tasks`` so the wizard can stop them when it closes.
    """

    TITLE = ""
    SUBTITLE = ""

    def __init__(self, answers: SetupAnswers, services: SetupServices, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.answers = answers
        self.services = services
        self.tasks: list[TaskHandle] = []
        self.setTitle(self.TITLE)
        self.setSubTitle(self.SUBTITLE)
        self.setAccessibleName(self.TITLE)
        self.body = QVBoxLayout(self)
        self.body.setSpacing(12)
        self.build()

    def build(self) -> None:
        """Create the page's widgets (called once)."""

    def cleanupPage(self) -> None:  # noqa: N802 (Qt's name)
        """Going Back: keep every answer (Qt's default would reset the page's fields)."""

    def track(self, handle: TaskHandle) -> TaskHandle:
        self.tasks = [task for task in self.tasks if task.running] + [handle]
        return handle

    def stop_tasks(self) -> None:
        """Ask every running task of this page to stop (a download keeps its partial file)."""
        for task in self.tasks:
            task.cancel()

    def running_tasks(self) -> list[TaskHandle]:
        return [task for task in self.tasks if task.running]

    def forget_stopped_tasks(self) -> None:
        """Drop the tasks whose work has returned, delivered or not (the wizard is closing)."""
        self.tasks = [task for task in self.tasks if not task.wait(0)]
