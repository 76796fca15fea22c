"""Helpers for tests of real Qt windows: controls without a name, a page's tasks finishing."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractSlider,
    QAbstractSpinBox,
    QComboBox,
    QLineEdit,
    QListView,
    QPlainTextEdit,
    QTableView,
    QTabBar,
    QTextEdit,
    QTreeView,
    QWidget,
)

INTERACTIVE = (QAbstractButton, QLineEdit, QTextEdit, QPlainTextEdit, QComboBox, QAbstractSpinBox,
               QAbstractSlider, QListView, QTreeView, QTableView, QTabBar)


def unnamed(root: QWidget, where: str) -> list[str]:
    """Every interactive widget in ``root`` (itself included; shown or not) without an accessible name."""
    found = []
    for widget in [root, *root.findChildren(QWidget)]:
        if isinstance(widget, INTERACTIVE) and not widget.accessibleName():
            chain, parent = [], widget
            while parent is not None and parent is not root:
                chain.append(type(parent).__name__ + (f"({parent.objectName()})" if parent.objectName() else ""))
                parent = parent.parentWidget()
            found.append(f"{where}: " + " < ".join(chain))
    return found


def wait_idle(qtbot, page) -> None:
    """Wait until ``page`` (a setup page) runs no task, and its last callbacks have run."""
    qtbot.waitUntil(lambda: not page.running_tasks(), timeout=30_000)
    qtbot.wait(50)  # the task's last callbacks are queued on the UI thread
