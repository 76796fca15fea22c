"""A file write asked from a worker thread waits for the person's answer in a clear dialog."""

from __future__ import annotations

import threading
from pathlib import Path

from PySide6.QtWidgets import QMessageBox, QWidget

from app.tasks import run_task
from app.ui.chat.confirm import WriteConfirmer
from wizard.agent.tools.files import write_file_tool
from wizard.agent.tools.permissions import FolderPermissions


def ask_from_worker(qtbot, confirmer: WriteConfirmer, work) -> list:
    results: list = []
    run_task(lambda _p, _c: work(), on_success=results.append, on_error=results.append)
    qtbot.waitUntil(lambda: confirmer.dialog is not None and confirmer.dialog.isVisible(), timeout=5_000)
    return results


def press(box: QMessageBox, accessible_name: str) -> None:
    [button] = [b for b in box.buttons() if b.accessibleName() == accessible_name]
    button.click()


def test_the_real_write_tool_saves_only_after_allow(qtbot, tmp_path: Path) -> None:
    parent = QWidget()
    qtbot.addWidget(parent)
    confirmer = WriteConfirmer(parent, "Robin")
    tool = write_file_tool(FolderPermissions(write=[tmp_path]), confirmer)
    target = tmp_path / "shopping.txt"

    results = ask_from_worker(qtbot, confirmer, lambda: tool.run({"path": str(target), "content": "eggs\n"}))
    box = confirmer.dialog
    assert box.text() == f"Robin wants to save a file: {target}. Allow?"
    assert "eggs" in box.detailedText()
    assert not target.exists()  # the worker is waiting; nothing written yet
    press(box, "Do not save the file")
    qtbot.waitUntil(lambda: bool(results), timeout=5_000)
    assert not target.exists()

    results = ask_from_worker(qtbot, confirmer, lambda: tool.run({"path": str(target), "content": "eggs\n"}))
    press(confirmer.dialog, "Allow saving the file")
    qtbot.waitUntil(lambda: bool(results), timeout=5_000)
    assert target.read_text() == "eggs\n"


def test_closing_answers_no_and_frees_the_waiting_worker(qtbot, tmp_path: Path) -> None:
    parent = QWidget()
    qtbot.addWidget(parent)
    confirmer = WriteConfirmer(parent, "Robin")
    done = threading.Event()
    results = ask_from_worker(qtbot, confirmer, lambda: (confirmer(tmp_path / "x.txt", "x"), done.set())[0])
    confirmer.refuse_all()
    qtbot.waitUntil(lambda: bool(results), timeout=5_000)
    assert results == [False] and done.is_set()
