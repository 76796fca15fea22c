"""Fixtures for the Settings window: a dialog, and a helper that answers its message boxes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

from app.tasks import cancel_all_and_wait
from app.ui.settings import SESSION_SECRETS, SettingsDialog


class BoxAnswerer:
    """Clicks the button named in ``answers`` (in order) on each message box that opens.

    With no answer queued a box is dismissed (Cancel / Close). ``seen`` keeps (title, text,
    informative text) of every box, so a test can check what the person was told.
    """

    def __init__(self) -> None:
        self.answers: list[str] = []
        self.seen: list[tuple[str, str, str]] = []
        self.timer = QTimer()
        self.timer.setInterval(30)
        self.timer.timeout.connect(self._poll)
        self.timer.start()

    def _poll(self) -> None:
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox):
            return
        self.seen.append((box.windowTitle(), box.text(), box.informativeText()))
        wanted = self.answers.pop(0) if self.answers else None
        for button in box.buttons():
            if wanted is not None and button.text().replace("&", "") == wanted:
                button.click()
                return
        assert wanted is None, f"no button {wanted!r} on the box {box.text()!r}"
        box.reject()

    def texts(self) -> str:
        return "\n".join(" ".join(parts) for parts in self.seen)


@pytest.fixture
def boxes(qtbot) -> Iterator[BoxAnswerer]:
    answerer = BoxAnswerer()
    yield answerer
    answerer.timer.stop()


@pytest.fixture
def dialog(qtbot, boxes: BoxAnswerer) -> Iterator[SettingsDialog]:
    window = SettingsDialog()
    qtbot.addWidget(window)
    window.show()
    yield window
    window.done(0)
    assert cancel_all_and_wait(timeout=30)
    SESSION_SECRETS.clear()


@pytest.fixture
def os_default_layout(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """Hearth's OS-default folders, under tmp (the data folder can only be moved in this layout)."""
    monkeypatch.delenv("HEARTH_HOME")
    for name in ("DATA", "CONFIG", "CACHE", "STATE"):
        monkeypatch.setenv(f"XDG_{name}_HOME", str(tmp_path / f"xdg-{name.lower()}"))
    return tmp_path
