"""Page 8: Start chatting: what will be set up, in plain words; finishing creates the profile."""

from __future__ import annotations

from PySide6.QtWidgets import QPlainTextEdit, QWizard

from app.ui.setup.base import SetupPage
from app.ui.setup.profile import finish_setup, setup_plan
from app.ui.widgets import InlineError, scaled_font_label
from wizard.errors import HearthError


class FinishPage(SetupPage):
    TITLE = "Ready to start"
    SUBTITLE = "Press Start chatting to set up your assistant. You can change all of this later."

    def build(self) -> None:
        self.summary = scaled_font_label("", self)
        self.summary.setAccessibleName("Your assistant")
        self.body.addWidget(self.summary)
        self.body.addWidget(scaled_font_label("What it may do:", self, bold=True))
        self.permissions = QPlainTextEdit(self)
        self.permissions.setReadOnly(True)
        self.permissions.setAccessibleName("What your assistant may do")
        self.body.addWidget(self.permissions, 1)
        self.error = InlineError(self)
        self.body.addWidget(self.error)
        self.setFinalPage(True)
        self.setButtonText(QWizard.WizardButton.FinishButton, "Start chatting")

    def initializePage(self) -> None:  # noqa: N802 (Qt's name)
        a = self.answers
        self.error.clear()
        self.summary.setText(f"{a.person_name}, your “{a.recipe.recipe.name}” will use the model "
                             f"{a.model.name}, running on this computer only.")
        try:
            lines = setup_plan(a).lines()
        except HearthError as exc:
            self.error.show_error(exc)
            lines = []
        self.permissions.setPlainText("\n".join(line for line in lines if not line.startswith("Model:")))

    def validatePage(self) -> bool:  # noqa: N802 (Qt's name)
        """Create the profile; on an error stay here, say why, and keep every answer."""
        self.error.clear()
        try:
            finish_setup(self.answers)
        except HearthError as exc:
            self.error.show_error(exc)
            return False
        return True
