"""Model output shown as Markdown, safely: it is untrusted text.

Raw HTML in a reply is shown as the characters it is (``MarkdownNoHTML``), images are
never fetched (not from the network, not from disk: ``loadResource`` returns nothing) and
links are not followed when clicked (their address shows as a tooltip-like status instead).
Code blocks keep their lines and use the system's fixed-width font.
"""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt, QUrl
from PySide6.QtGui import QFontDatabase, QImage, QResizeEvent, QTextDocument
from PySide6.QtWidgets import QFrame, QSizePolicy, QTextBrowser, QWidget

MARKDOWN_FEATURES = (QTextDocument.MarkdownFeature.MarkdownDialectGitHub
                     | QTextDocument.MarkdownFeature.MarkdownNoHTML)


def safe_markdown_document(text: str, document: QTextDocument) -> None:
    """Fill ``document`` with ``text`` read as GitHub Markdown with every HTML tag shown as text."""
    document.setMarkdown(text, MARKDOWN_FEATURES)


class MarkdownView(QTextBrowser):
    """A read-only Markdown message that is exactly as tall as its text (no inner scroll bar)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setOpenLinks(False)
        self.setOpenExternalLinks(False)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextBrowserInteraction
                                     | Qt.TextInteractionFlag.TextSelectableByKeyboard)
        fixed = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        self.document().setDefaultStyleSheet(f"pre, code {{ font-family: '{fixed.family()}'; }}")
        self.document().documentLayout().documentSizeChanged.connect(self._fit_height)
        self.highlighted.connect(lambda url: self.setToolTip(url.toString() if url.isValid() else ""))
        self._markdown = ""

    def set_markdown(self, text: str) -> None:
        """Show ``text``; the same text again does nothing (streaming calls this often)."""
        if text == self._markdown:
            return
        self._markdown = text
        safe_markdown_document(text, self.document())
        self._fit_height()

    def markdown(self) -> str:
        return self._markdown

    def loadResource(self, kind: int, url: QUrl | str) -> object:  # noqa: N802 (Qt's name)
        """Never load anything a reply points at (remote or local images, style sheets).

        The answer must not be empty: on an empty answer QTextDocument reads local files itself.
        """
        if kind == QTextDocument.ResourceType.ImageResource:
            blank = QImage(1, 1, QImage.Format.Format_ARGB32)
            blank.fill(0)
            return blank
        return " "

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 (Qt's name)
        super().resizeEvent(event)
        self._fit_height()

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt's name)
        return QSize(super().sizeHint().width(), self._wanted_height())

    def _wanted_height(self) -> int:
        self.document().setTextWidth(max(50, self.viewport().width()))
        margins = self.contentsMargins()
        return int(self.document().size().height()) + margins.top() + margins.bottom() + 2

    def _fit_height(self) -> None:
        height = self._wanted_height()
        if height != self.height():
            self.setFixedHeight(height)
