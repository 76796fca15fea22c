"""The Settings window: one tab per plain-language section; every change is saved at once."""

from __future__ import annotations

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QTabWidget, QVBoxLayout, QWidget

from app.tasks import TaskHandle
from app.ui.settings.data_page import DataPage
from app.ui.settings.download_page import DownloadsPage
from app.ui.settings.engine_pages import EnginePage, LocalApiPage
from app.ui.settings.general_pages import AppearancePage, PerformancePage
from app.ui.settings.models_page import ModelsPage
from app.ui.settings.state import SettingsState


class SettingsDialog(QDialog):
    """Hearth's settings. ``state.changed`` announces each saved change; ``data.data_moved`` a move.

    The sections: Model, Performance, Engine, Downloads, Local API, Appearance, Your data.
    """

    def __init__(self, parent: QWidget | None = None, *, state: SettingsState | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Settings")
        self.setAccessibleName("Settings")
        self.resize(640, 480)
        self.state = state or SettingsState(parent=self)
        self.tabs = QTabWidget()
        self.tabs.setAccessibleName("Settings sections")
        self.tabs.tabBar().setAccessibleName("Settings sections")
        self.models = ModelsPage(self.state)
        self.performance = PerformancePage(self.state)
        self.engine = EnginePage(self.state)
        self.downloads = DownloadsPage(self.state)
        self.local_api = LocalApiPage(self.state)
        self.appearance = AppearancePage(self.state)
        self.data = DataPage(self.state)
        for page, title in ((self.models, "&Model"), (self.performance, "&Performance"), (self.engine, "E&ngine"),
                            (self.downloads, "Do&wnloads"), (self.local_api, "&Local API"),
                            (self.appearance, "Appea&rance"), (self.data, "Your &data")):
            page.setAccessibleName(title.replace("&", ""))
            self.tabs.addTab(page, title)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close = buttons.button(QDialogButtonBox.StandardButton.Close)
        close.setAccessibleName("Close settings")
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        if self.state.notice is not None:
            notice = QLabel(f"{self.state.notice.user_message} {self.state.notice.hint}")
            notice.setWordWrap(True)
            notice.setAccessibleName("Settings notice")
            layout.addWidget(notice)
        layout.addWidget(self.tabs)
        layout.addWidget(buttons)

    def running_tasks(self) -> list[TaskHandle]:
        return [t for t in self.models.tasks + self.engine.tasks if t.running]

    def done(self, code: int) -> None:
        for task in self.running_tasks():  # a connection test or a model check still running
            task.cancel()
        super().done(code)
