"""Text follows the system font size: nothing is drawn at a fixed pixel size."""

from __future__ import annotations

from PySide6.QtGui import QFont
from PySide6.QtWidgets import QApplication, QLabel

from app.ui.setup import SetupWizard
from app.ui.widgets import ScaledLabel
from tests.app.chat.conftest import QUESTION, ask


def wizard_titles(wizard: SetupWizard) -> list[QLabel]:
    """The page title Qt's wizard shows, and the page's own headings (bigger than its text)."""
    page = wizard.currentPage()
    header = [label for label in wizard.findChildren(QLabel) if label.isVisible() and label.text() == page.title()]
    headings = [label for label in page.findChildren(ScaledLabel) if label.factor > 1]
    assert header and headings
    return header + headings


def point_sizes(widgets) -> list[float]:
    return [widget.fontInfo().pointSizeF() for widget in widgets]


def test_doubling_the_system_font_doubles_the_chat_text_and_the_wizard_titles(qtbot, window) -> None:
    chat = window.chat
    ask(qtbot, chat, QUESTION)
    bodies = [message.body for message in chat.messages.messages()]
    wizard = SetupWizard(window)
    qtbot.addWidget(wizard)
    wizard.show()
    qtbot.waitExposed(wizard)
    text_before, titles_before = point_sizes(bodies), point_sizes(wizard_titles(wizard))
    heights_before = [body.height() for body in bodies]

    app = QApplication.instance()
    original = QFont(app.font())
    doubled = QFont(original)
    doubled.setPointSizeF(original.pointSizeF() * 2)
    try:
        app.setFont(doubled)  # what a change of the system's text size does while Hearth runs
        qtbot.waitUntil(lambda: all(a > b for a, b in zip([w.height() for w in bodies], heights_before)),
                        timeout=5000)
        for before, after in zip(text_before, point_sizes(bodies)):
            assert after >= 1.9 * before, "a message kept its text size"
        for before, after in zip(titles_before, point_sizes(wizard_titles(wizard))):
            assert after >= 1.9 * before, "a wizard title kept its text size"

        opened_after = SetupWizard(window)  # a window opened with the big font starts big too
        qtbot.addWidget(opened_after)
        opened_after.show()
        qtbot.waitExposed(opened_after)
        assert min(point_sizes(wizard_titles(opened_after))) >= 1.9 * min(titles_before)
        opened_after.close()
    finally:
        app.setFont(original)
        wizard.close()
    qtbot.waitUntil(lambda: point_sizes(bodies) == text_before, timeout=5000)
