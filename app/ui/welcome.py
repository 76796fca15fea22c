"""The page the main window shows before any assistant is set up: what Hearth is, and where its files are."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QLabel, QPushButton, QVBoxLayout, QWidget

from app.ui.widgets import scaled_font_label

WELCOME_TITLE = "Welcome to Hearth"
WELCOME_TEXT = (
    "Hearth runs an AI assistant privately, on this computer. "
    "Nothing you type leaves it unless you say so, and every file it keeps is yours."
)


class WelcomePage(QWidget):
    open_folder_requested = Signal()

    def __init__(self, data_folder: Path, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(48, 48, 48, 48)
        layout.setSpacing(16)

        title = scaled_font_label(WELCOME_TITLE, self, factor=1.8, bold=True)
        title.setAccessibleName("Welcome title")

        text = QLabel(WELCOME_TEXT, self)
        text.setWordWrap(True)
        text.setAccessibleName("What Hearth is")

        where = QLabel(f"Your files are kept in: {data_folder}", self)
        where.setWordWrap(True)
        where.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        where.setAccessibleName("Where your files are kept")

        self.open_folder_button = QPushButton("Open my files folder", self)
        self.open_folder_button.setAccessibleName("Open my files folder")
        self.open_folder_button.clicked.connect(self.open_folder_requested)

        layout.addWidget(title)
        layout.addWidget(text)
        layout.addWidget(where)
        layout.addWidget(self.open_folder_button, alignment=Qt.AlignmentFlag.AlignLeft)
        layout.addStretch(1)
