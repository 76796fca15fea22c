"""Small widgets the setup wizard and the chat window share: an inline error, a choice card,
a label that scales with the system font, and plain-word numbers.

Kept apart from :mod:`app.ui.setup` so the chat window can use them without importing the
wizard (its pages pull in the download code, which is slow to import).
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractScrollArea,
    QAbstractSpinBox,
    QApplication,
    QComboBox,
    QDialog,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QRadioButton,
    QScrollBar,
    QStyle,
    QTextEdit,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.error_dialog import error_texts

__all__ = ["ChoiceCard", "InlineError", "ScaledLabel", "name_qt_parts", "plain_bytes", "plain_duration", "plain_label",
           "scaled_font_label"]


class ScaledLabel(QLabel):
    """A wrapped label whose text is ``factor`` times the application's font size (never fixed pixels).

    It follows a change of the system font while Hearth runs too: a size set once from the
    font of the moment would stay behind, because an explicitly set size is not inherited
    (so it listens to the application's ``fontChanged``).
    """

    def __init__(self, text: str, parent: QWidget | None, *, factor: float = 1.0, bold: bool = False) -> None:
        super().__init__(text, parent)
        self.factor, self.bold = factor, bold
        self.setWordWrap(True)
        self._follow_application_font()
        QApplication.instance().fontChanged.connect(self._follow_application_font)

    def _follow_application_font(self, *_font: object) -> None:
        font = QApplication.font(self)
        if self.factor != 1.0:
            font.setPointSizeF(font.pointSizeF() * self.factor)
        font.setBold(self.bold)
        self.setFont(font)


def scaled_font_label(text: str, parent: QWidget, *, factor: float = 1.0, bold: bool = False) -> QLabel:
    """A wrapped label whose font follows the system size (scaled, never fixed pixels)."""
    return ScaledLabel(text, parent, factor=factor, bold=bold)


class InlineError(QFrame):
    """An error inside the page: a plain sentence, what to do, a details expander, and Try again.

    Built on :func:`app.error_dialog.error_texts`, the same words the error dialog shows.
    Hidden until :meth:`show_error`.
    """

    retry_requested = Signal()

    def __init__(self, parent: QWidget, *, retry_text: str = "Try again", name: str = "Problem") -> None:
        super().__init__(parent)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setAccessibleName(name)
        layout = QVBoxLayout(self)
        top = QHBoxLayout()
        icon = QLabel(self)
        size = self.style().pixelMetric(QStyle.PixelMetric.PM_MessageBoxIconSize)
        icon.setPixmap(self.style().standardIcon(QStyle.StandardPixmap.SP_MessageBoxWarning).pixmap(size, size))
        icon.setAlignment(Qt.AlignmentFlag.AlignTop)
        texts = QVBoxLayout()
        self.message = scaled_font_label("", self, bold=True)
        self.message.setAccessibleName("What went wrong")
        self.hint = scaled_font_label("", self)
        self.hint.setAccessibleName("What you can do")
        texts.addWidget(self.message)
        texts.addWidget(self.hint)
        top.addWidget(icon)
        top.addLayout(texts, 1)
        layout.addLayout(top)
        buttons = QHBoxLayout()
        self.details_button = QToolButton(self)
        self.details_button.setText("Show details")
        self.details_button.setCheckable(True)
        self.details_button.setAccessibleName("Show technical details")
        self.details_button.toggled.connect(self._toggle_details)
        self.retry_button = QPushButton(retry_text, self)
        self.retry_button.setAccessibleName(retry_text)
        self.retry_button.clicked.connect(self.retry_requested)
        self.retry_button.setVisible(False)
        buttons.addWidget(self.retry_button)
        buttons.addStretch(1)
        buttons.addWidget(self.details_button)
        layout.addLayout(buttons)
        self.details = QPlainTextEdit(self)
        self.details.setReadOnly(True)
        self.details.setAccessibleName("Technical details")
        self.details.setVisible(False)
        layout.addWidget(self.details)
        self.setVisible(False)
        name_qt_parts(self)

    def show_error(self, exc: BaseException, *, can_retry: bool = False) -> None:
        message, hint, details = error_texts(exc)
        self.show_text(message, hint, details, can_retry=can_retry)

    def show_text(self, message: str, hint: str = "", details: str = "", *, can_retry: bool = False) -> None:
        self.message.setText(message)
        self.hint.setText(hint)
        self.hint.setVisible(bool(hint))
        self.details.setPlainText(details)
        self.details_button.setVisible(bool(details))
        self.details_button.setChecked(False)
        self.retry_button.setVisible(can_retry)
        self.setVisible(True)

    def clear(self) -> None:
        self.setVisible(False)
        self.message.clear()
        self.hint.clear()
        self.details.clear()

    def _toggle_details(self, shown: bool) -> None:
        self.details.setVisible(shown)
        self.details_button.setText("Hide details" if shown else "Show details")


class ChoiceCard(QFrame):
    """A card with a radio button (the title) and a plain description under it.

    Clicking anywhere on the card chooses it; arrow keys move between cards in one group.
    """

    def __init__(self, title: str, description: str, parent: QWidget, *, badge: str = "") -> None:
        super().__init__(parent)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        layout = QVBoxLayout(self)
        head = QHBoxLayout()
        self.radio = QRadioButton(title, self)
        font = self.radio.font()
        font.setBold(True)
        self.radio.setFont(font)
        self.radio.setAccessibleName(title)
        self.radio.setAccessibleDescription(description)
        head.addWidget(self.radio, 1)
        self.badge = QLabel(badge, self)
        self.badge.setVisible(bool(badge))
        head.addWidget(self.badge)
        layout.addLayout(head)
        self.description = QLabel(description, self)
        self.description.setWordWrap(True)
        self.description.setVisible(bool(description))
        indent = self.style().pixelMetric(QStyle.PixelMetric.PM_ExclusiveIndicatorWidth)
        self.description.setContentsMargins(indent + 8, 0, 0, 0)
        layout.addWidget(self.description)

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 (Qt's name)
        self.radio.setChecked(True)
        self.radio.setFocus()
        super().mousePressEvent(event)


def plain_bytes(size: float) -> str:
    """"512 KB", "12.5 MB", "1.2 GB" (decimal units, as download pages show them)."""
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("KB", 1e3)):
        if size >= scale:
            value = size / scale
            return f"{value:.1f} {unit}" if value < 100 else f"{value:.0f} {unit}"
    return f"{int(size)} bytes"


def plain_duration(seconds: float | None) -> str:
    """"less than a minute", "about 3 minutes", "about 1 hour 20 minutes"; "" when unknown."""
    if seconds is None:
        return ""
    if seconds < 60:
        return "less than a minute"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"about {minutes} minute{'s' if minutes != 1 else ''}"
    hours, minutes = divmod(minutes, 60)
    text = f"about {hours} hour{'s' if hours != 1 else ''}"
    return text + (f" {minutes} minutes" if minutes else "")


def name_qt_parts(root: QWidget) -> None:
    """Give the parts Qt adds by itself inside ``root`` the accessible name a screen reader needs.

    A scroll bar is named after its scroll area ("Memories: scroll up and down"), a spin box's
    text field and a list's pop-up after their owner, a field after the label it belongs to
    ("File name"), a standard dialog button after its text ("OK"), a message box's details
    after what they are. Widgets that already have a name keep it; parts whose owner has no
    name stay unnamed (the accessibility test lists them). Call it again after adding widgets.
    """
    # keyed by the widget itself (kept alive here, so findChildren hands back the same object)
    buddies = {label.buddy(): plain_label(label.text()) for label in root.findChildren(QLabel)
               if label.buddy() is not None and label.text()}
    for widget in [root, *root.findChildren(QWidget)]:
        if not widget.accessibleName():
            name = _part_name(widget, buddies)
            if name:
                widget.setAccessibleName(name)
        if isinstance(widget, QComboBox) and widget.accessibleName() and not widget.view().accessibleName():
            widget.view().setAccessibleName(f"{widget.accessibleName()}: choices")


def plain_label(text: str) -> str:
    """A label's words without its shortcut marker and trailing colon ("&File name:" -> "File name")."""
    return text.replace("&&", "\0").replace("&", "").replace("\0", "&").strip().rstrip(":").strip()


def _part_name(widget: QWidget, buddies: dict[QWidget, str]) -> str:
    if isinstance(widget, QScrollBar):
        area = widget.parentWidget()
        while area is not None and not isinstance(area, QAbstractScrollArea):
            area = area.parentWidget()
        if area is None or not area.accessibleName():
            return ""
        way = "up and down" if widget.orientation() == Qt.Orientation.Vertical else "left and right"
        return f"{area.accessibleName()}: scroll {way}"
    if widget in buddies:
        return buddies[widget]
    owner = widget.parentWidget()
    if isinstance(widget, QHeaderView) and owner is not None and owner.accessibleName():
        return f"{owner.accessibleName()}: column headings"
    if isinstance(widget, QLineEdit) and isinstance(owner, QAbstractSpinBox):
        return owner.accessibleName()
    if isinstance(widget, QLineEdit) and isinstance(owner, QInputDialog):
        return plain_label(owner.labelText())
    if isinstance(widget, QTextEdit) and isinstance(widget.window(), QMessageBox):
        return "Technical details"
    if isinstance(widget, QAbstractButton) and widget.text():
        return plain_label(widget.text())
    return ""


def destructive_question(parent: QWidget, title: str, text: str, *, do: str, do_name: str, keep_name: str,
                         informative: str = "") -> tuple[QMessageBox, QAbstractButton]:
    """A "remove it for good?" box with Cancel as the default; returns it and its ``do`` button."""
    box = QMessageBox(QMessageBox.Icon.Question, title, text, QMessageBox.StandardButton.Cancel, parent)
    if informative:
        box.setInformativeText(informative)
    button = box.addButton(do, QMessageBox.ButtonRole.DestructiveRole)
    button.setAccessibleName(do_name)
    box.button(QMessageBox.StandardButton.Cancel).setAccessibleName(keep_name)
    box.setDefaultButton(QMessageBox.StandardButton.Cancel)
    box.setAccessibleName(title)
    return box, button


def open_dialog(owner: QWidget, dialog: QDialog) -> None:
    """Open ``dialog`` without blocking (``open()``, never ``exec()``); ``owner.dialog`` is it until it closes.

    Tests reach the dialog through ``owner.dialog``; it deletes itself when closed.
    """
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    owner.dialog = dialog
    dialog.finished.connect(lambda _code: setattr(owner, "dialog", None))
    dialog.open()
    name_qt_parts(dialog)  # after open(): Qt builds some dialogs' fields only when they are shown

