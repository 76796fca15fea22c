"""The one way Hearth shows an error in the window."""

from __future__ import annotations

import traceback

from PySide6.QtWidgets import QMessageBox, QWidget

from wizard.errors import HearthError
from wizard.paths import hearth_paths

UNEXPECTED_MESSAGE = "Something went wrong inside Hearth."


def error_texts(exc: BaseException) -> tuple[str, str, str]:
    """(message, hint, details) for any exception, in plain words first."""
    details = "".join(traceback.format_exception(exc)).strip()
    if isinstance(exc, HearthError):
        return exc.user_message, exc.hint, "\n\n".join(filter(None, [exc.details, details]))
    hint = (
        "Nothing you saved was lost. If it happens again, the log file "
        f"has the details: {hearth_paths().log_file}"
    )
    return UNEXPECTED_MESSAGE, hint, details


def build_error_box(parent: QWidget | None, exc: BaseException) -> QMessageBox:
    message, hint, details = error_texts(exc)
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Warning)
    box.setWindowTitle("Hearth")
    box.setText(message)
    box.setInformativeText(hint)
    box.setDetailedText(details)  # Qt adds a "Show Details…" button for it
    box.setStandardButtons(QMessageBox.StandardButton.Ok)  # now, not when shown: so it can be named
    box.setAccessibleName("Error message")
    from app.ui.widgets import name_qt_parts

    name_qt_parts(box)
    return box


def show_error(parent: QWidget | None, exc: BaseException) -> None:
    """Show ``exc`` as a plain sentence, what to do, and a details expander."""
    build_error_box(parent, exc).exec()
