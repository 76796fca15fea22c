"""Page 1: what Hearth is, in three plain promises."""

from __future__ import annotations

from app.ui.setup.base import SetupPage
from app.ui.widgets import scaled_font_label

PROMISES = (
    ("Private", "Hearth runs an AI assistant on this computer. What you type stays here: "
                "nothing is sent to any company."),
    ("On this computer", "Once it is set up, it works without the internet. It only goes online "
                         "to download the AI model, and only when you say so."),
    ("Yours", "Every file Hearth keeps is yours to read, copy and delete. You choose what it may "
              "read and what it remembers."),
)


class WelcomePage(SetupPage):
    TITLE = "Welcome to Hearth"
    SUBTITLE = "Let's set up your own private AI assistant. It takes a few minutes, most of it downloading."

    def build(self) -> None:
        for heading, text in PROMISES:
            title = scaled_font_label(heading, self, factor=1.2, bold=True)
            title.setAccessibleName(heading)
            line = scaled_font_label(text, self)
            line.setAccessibleName(f"{heading}: explained")
            self.body.addWidget(title)
            self.body.addWidget(line)
        self.body.addStretch(1)
        self.body.addWidget(scaled_font_label(
            "You can go back at any step, and nothing you type is lost. Press Next to begin.", self))
