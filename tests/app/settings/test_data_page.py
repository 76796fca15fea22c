"""Settings → Your data: moving the data folder and exporting everything, with progress and Cancel."""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from app.ui.settings import SettingsDialog
from wizard import move_data
from wizard.agent import ConversationStore
from wizard.paths import hearth_paths


def _window(qtbot) -> SettingsDialog:
    window = SettingsDialog()
    qtbot.addWidget(window)
    window.show()
    return window


def _conversations(count: int, messages: int = 2) -> None:
    with ConversationStore() as store:
        for number in range(count):
            conversation = store.create(title=f"Conversation {number}")
            for index in range(messages):
                store.add_message(conversation.id, "user" if index % 2 == 0 else "assistant",
                                  f"message {index} of conversation {number}")


def test_move_shows_progress_then_uses_the_new_folder(os_default_layout: Path, qtbot, boxes) -> None:
    _conversations(3)
    (hearth_paths().models / "owner--m").mkdir(parents=True)
    (hearth_paths().models / "owner--m" / "m.gguf").write_bytes(os.urandom(2_000_000))
    old = hearth_paths().data
    window = _window(qtbot)
    page = window.data
    assert page.location.text() == str(old)
    moved = []
    page.data_moved.connect(moved.append)
    target = os_default_layout / "new disk" / "Hearth"
    boxes.answers.append("Move")
    dialog = page.move_to(target)
    assert dialog is not None and dialog.isVisible()
    assert "Move your data" in boxes.texts() and str(target) in boxes.texts()
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=30000)
    assert dialog.error is None and dialog.bar.value() > 0
    assert moved == [target] and hearth_paths().data == target and page.location.text() == str(target)
    assert "now in" in page.status.text() and not old.exists()
    with ConversationStore() as store:
        assert len(store.list()) == 3
    assert (target / "models" / "owner--m" / "m.gguf").stat().st_size == 2_000_000


def test_cancel_during_a_move_keeps_everything_where_it_was(os_default_layout: Path, qtbot, boxes,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(move_data, "BLOCK", 256 * 1024)
    _conversations(1)
    big = hearth_paths().models / "owner--m" / "big.gguf"
    big.parent.mkdir(parents=True)
    with big.open("wb") as handle:
        for _ in range(150):
            handle.write(os.urandom(1024 * 1024))
    old = hearth_paths().data
    window = _window(qtbot)
    target = os_default_layout / "elsewhere"
    dialog = window.data.move_to(target, confirm=False)
    dialog.handle.signals.progressed.connect(lambda _event: dialog.cancel_button.click())
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=60000)
    assert dialog.outcome is None and "still where it was" in window.data.status.text()
    assert hearth_paths().data == old and big.stat().st_size == 150 * 1024 * 1024
    assert not target.exists() and window.data.location.text() == str(old)
    assert boxes.seen == []  # a cancel is not an error


def test_a_move_into_the_data_folder_is_refused_plainly(os_default_layout: Path, qtbot, boxes) -> None:
    _conversations(1)
    window = _window(qtbot)
    assert window.data.move_to(hearth_paths().data / "inside") is None
    qtbot.waitUntil(lambda: bool(boxes.seen), timeout=3000)
    assert "inside the data folder" in boxes.texts()


def test_export_everything_with_progress(qtbot, boxes, tmp_path: Path) -> None:
    _conversations(4)
    window = _window(qtbot)
    target = tmp_path / "exports" / "Hearth export.zip"
    dialog = window.data.export_to(target)
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=30000)
    assert dialog.error is None and "Exported 4 conversations" in window.data.status.text()
    with zipfile.ZipFile(target) as archive:
        assert sum(name.endswith(".md") for name in archive.namelist()) == 4


def test_export_cancel_leaves_no_file(qtbot, boxes, tmp_path: Path) -> None:
    _conversations(400, messages=6)
    window = _window(qtbot)
    target = tmp_path / "Hearth export.zip"
    dialog = window.data.export_to(target)
    # Esc asks the export to stop (the window closes once it has)
    dialog.handle.signals.progressed.connect(lambda _event: qtbot.keyClick(dialog, Qt.Key.Key_Escape))
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=60000)
    assert dialog.outcome is None and "stopped" in window.data.status.text()
    assert list(tmp_path.glob("*.zip")) == [] and list(tmp_path.glob(".*partial")) == []
    assert boxes.seen == []
