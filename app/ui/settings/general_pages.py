"""Settings → Performance (context size, threads, behind "Advanced") and Appearance (theme)."""

from __future__ import annotations

import os

from PySide6.QtWidgets import (
    QApplication,
    QButtonGroup,
    QCheckBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QRadioButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app.ui.settings.state import SettingsState
from app.ui.theme import apply_theme
from wizard.settings import CONTEXT_RANGE, THREADS_RANGE


class _AutomaticOrNumber(QWidget):
    """An "Automatic" tick box and a number that is used only when it is not ticked."""

    def __init__(self, name: str, low: int, high: int, step: int, suggested: int, value: int | None,
                 on_change) -> None:
        super().__init__()
        self.automatic = QCheckBox("Automatic")
        self.automatic.setAccessibleName(f"{name}: automatic")
        self.number = QSpinBox()
        self.number.setRange(low, high)
        self.number.setSingleStep(step)
        self.number.setAccessibleName(name)
        self.number.setValue(value if value is not None else suggested)
        self.automatic.setChecked(value is None)
        self.number.setEnabled(value is not None)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.automatic)
        layout.addWidget(self.number, 1)
        self._on_change = on_change
        self.automatic.toggled.connect(self._changed)
        self.number.editingFinished.connect(self._changed)

    def value(self) -> int | None:
        return None if self.automatic.isChecked() else self.number.value()

    def show_value(self, value: int | None) -> None:
        for widget in (self.automatic, self.number):
            widget.blockSignals(True)
        self.automatic.setChecked(value is None)
        if value is not None:
            self.number.setValue(value)
        self.number.setEnabled(value is not None)
        for widget in (self.automatic, self.number):
            widget.blockSignals(False)

    def _changed(self, *_args: object) -> None:
        self.number.setEnabled(not self.automatic.isChecked())
        self._on_change(self.value())


class PerformancePage(QWidget):
    def __init__(self, state: SettingsState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        layout = QVBoxLayout(self)
        intro = QLabel("Hearth chooses how much the AI can keep in mind and how many processor cores it "
                       "uses, to fit this computer. Change these only if you know you need to.")
        intro.setWordWrap(True)
        layout.addWidget(intro)
        self.advanced = QCheckBox("Show &advanced settings")
        self.advanced.setAccessibleName("Show advanced performance settings")
        layout.addWidget(self.advanced)
        self.details = QWidget()
        form = QFormLayout(self.details)
        settings = state.settings
        self.context = _AutomaticOrNumber("Context size in tokens", *CONTEXT_RANGE, 1024, 4096,
                                          settings.context_size, lambda v: self._save(context_size=v))
        self.threads = _AutomaticOrNumber("Processor threads", *THREADS_RANGE, 1, max(1, (os.cpu_count() or 2) // 2),
                                          settings.threads, lambda v: self._save(threads=v))
        form.addRow("Context size (how much of the conversation the AI keeps in mind):", self.context)
        form.addRow("Processor threads:", self.threads)
        note = QLabel("A larger context needs more memory. Changes apply the next time the AI starts.")
        note.setWordWrap(True)
        form.addRow(note)
        layout.addWidget(self.details)
        layout.addStretch(1)
        custom = settings.context_size is not None or settings.threads is not None
        self.advanced.setChecked(custom)
        self.details.setVisible(custom)
        self.advanced.toggled.connect(self.details.setVisible)

    def _save(self, **changes: object) -> None:
        if not self.state.update(self, **changes):
            self.context.show_value(self.state.settings.context_size)
            self.threads.show_value(self.state.settings.threads)


class AppearancePage(QWidget):
    LABELS = {"system": "&Same as this computer", "light": "Li&ght", "dark": "Dar&k"}

    def __init__(self, state: SettingsState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("Colours:"))
        self.group = QButtonGroup(self)
        self.buttons: dict[str, QRadioButton] = {}
        for choice, label in self.LABELS.items():
            button = QRadioButton(label)
            button.setAccessibleName(f"Theme: {label.replace('&', '')}")
            button.setChecked(state.settings.theme == choice)
            self.group.addButton(button)
            self.buttons[choice] = button
            layout.addWidget(button)
            button.toggled.connect(lambda on, choice=choice: on and self.choose(choice))
        layout.addStretch(1)

    def choose(self, choice: str) -> None:
        """Apply the theme at once and remember it."""
        if self.state.update(self, theme=choice):
            app = QApplication.instance()
            if app is not None:
                apply_theme(app, choice)
