"""The conversation list (search, rename, delete, export) and the memory panel, on the real database."""

from __future__ import annotations

import json

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog, QInputDialog, QMessageBox

from tests.app.chat.conftest import QUESTION, ask, saved_messages
from tests.support.sqlite_refusals import refusing_writes


def answer_input(qtbot, dialog: QInputDialog, text: str) -> None:
    assert isinstance(dialog, QInputDialog) and dialog.isVisible()
    dialog.setTextValue(text)
    dialog.accept()


def click_box_button(box: QMessageBox, accessible_name: str) -> None:
    assert isinstance(box, QMessageBox) and box.isVisible()
    [button] = [b for b in box.buttons() if b.accessibleName() == accessible_name]
    button.click()


def test_search_rename_and_delete_conversations(qtbot, chat) -> None:
    ask(qtbot, chat, QUESTION)
    france = chat.conversation_id
    chat.conversations.new_button.click()
    ask(qtbot, chat, "Name the capital city of Italy.")
    panel = chat.conversations
    assert sorted(panel.titles()) == sorted([QUESTION, "Name the capital city of Italy."])

    qtbot.keyClicks(panel.search, "fran")  # the last word matches as a prefix
    assert panel.titles() == [QUESTION]
    assert "[" in panel.list.item(0).toolTip()  # the matching words are marked in the snippet
    panel.list.setCurrentRow(0)
    panel.list.itemClicked.emit(panel.list.item(0))
    assert chat.conversation_id == france and saved_messages(chat)[0][1] == QUESTION

    qtbot.mouseClick(panel.rename_button, Qt.MouseButton.LeftButton)
    answer_input(qtbot, panel.dialog, "Trip to Paris")
    assert chat.store.get(france).title == "Trip to Paris"
    panel.search.clear()
    assert "Trip to Paris" in panel.titles()

    panel.list.setCurrentRow(panel.titles().index("Trip to Paris"))
    qtbot.mouseClick(panel.delete_button, Qt.MouseButton.LeftButton)
    click_box_button(panel.dialog, "Keep the conversation")
    assert "Trip to Paris" in panel.titles()
    qtbot.mouseClick(panel.delete_button, Qt.MouseButton.LeftButton)
    click_box_button(panel.dialog, "Delete the conversation for good")
    assert panel.titles() == ["Name the capital city of Italy."]
    assert france not in [c.id for c in chat.store.list()]
    assert chat.conversation_id is None  # the one shown was deleted: an empty one instead
    assert chat.store.search("France") == []


def test_a_bad_name_is_refused_in_plain_words(qtbot, chat) -> None:
    ask(qtbot, chat, QUESTION)
    panel = chat.conversations
    panel.list.setCurrentRow(0)
    panel.ask_rename()
    answer_input(qtbot, panel.dialog, "   ")
    assert chat.error.isVisible() and "name" in chat.error.message.text()
    assert panel.titles() == [QUESTION]


def test_a_delete_the_database_refuses_keeps_the_conversation_shown_and_listed(qtbot, chat) -> None:
    ask(qtbot, chat, QUESTION)
    conversation, before = chat.conversation_id, saved_messages(chat)
    panel = chat.conversations
    panel.list.setCurrentRow(0)
    with refusing_writes(chat.store.connection):
        qtbot.mouseClick(panel.delete_button, Qt.MouseButton.LeftButton)
        click_box_button(panel.dialog, "Delete the conversation for good")
    assert chat.error.isVisible() and "could not" in chat.error.message.text()
    assert chat.store.get(conversation)  # still there, so still shown and listed
    assert chat.conversation_id == conversation and saved_messages(chat) == before
    assert [w.text() for w in chat.messages.messages()] == [m[1] for m in before]
    assert panel.titles() == [QUESTION] and panel.selected_id() == conversation


def export_through_the_dialog(qtbot, chat, folder, name: str, name_filter: str) -> None:
    """Save as file, answered like a person would; the file is written in a task meanwhile."""
    panel = chat.conversations
    qtbot.mouseClick(panel.export_button, Qt.MouseButton.LeftButton)
    dialog = panel.dialog
    assert isinstance(dialog, QFileDialog) and dialog.acceptMode() == QFileDialog.AcceptMode.AcceptSave
    dialog.setDirectory(str(folder))
    dialog.selectNameFilter(name_filter)
    dialog.selectFile(str(folder / name))
    dialog.accept()
    # written off the UI thread: the button says so, and the text box can be typed in meanwhile
    assert panel.export_button.text() == "Saving…" and not panel.export_button.isEnabled()
    qtbot.keyClicks(chat.composer.edit, "!")
    qtbot.waitUntil(lambda: not panel.export_task.running, timeout=30_000)
    assert panel.export_button.text() == "Save as file…" and panel.export_button.isEnabled()


def test_export_writes_markdown_and_json_files(qtbot, chat, tmp_path) -> None:
    ask(qtbot, chat, QUESTION)
    chat.composer.set_text("A draft")
    chat.conversations.list.setCurrentRow(0)
    exported = []
    chat.conversations.exported.connect(exported.append)
    for name, name_filter in (("trip", "JSON (*.json)"), ("trip-notes.md", "Markdown (*.md)")):
        export_through_the_dialog(qtbot, chat, tmp_path, name, name_filter)
    assert exported == [tmp_path / "trip.json", tmp_path / "trip-notes.md"]
    exported = json.loads((tmp_path / "trip.json").read_text(encoding="utf-8"))
    assert exported["ai_generated"] is True
    assert [m["content"] for m in exported["messages"]] == [m[1] for m in saved_messages(chat)]
    markdown = (tmp_path / "trip-notes.md").read_text(encoding="utf-8")
    assert QUESTION in markdown and "AI-generated" in markdown and "Paris" in markdown
    assert chat.composer.text() == "A draft!!" and not chat.error.isVisible()  # nothing typed was touched


def test_export_to_a_folder_that_cannot_be_written_says_so(qtbot, chat, tmp_path) -> None:
    ask(qtbot, chat, QUESTION)
    chat.composer.set_text("A draft")
    chat.conversations.list.setCurrentRow(0)
    export_through_the_dialog(qtbot, chat, tmp_path, "missing-folder/x.md", "Markdown (*.md)")
    assert chat.error.isVisible() and "could not save" in chat.error.message.text()
    assert not (tmp_path / "missing-folder").exists()
    assert chat.composer.text() == "A draft!"


def test_memories_are_shown_changed_and_forgotten(qtbot, chat) -> None:
    ask(qtbot, chat, "Remember that my cat is called Tom.")
    assert any("Remembered: my cat is called Tom" in n.text() for n in chat.messages.notices())
    panel = chat.memory
    assert panel.texts() == ["my cat is called Tom"]
    chat.side.setCurrentWidget(panel)

    panel.select_text("my cat is called Tom")
    qtbot.mouseClick(panel.edit_button, Qt.MouseButton.LeftButton)
    answer_input(qtbot, panel.dialog, "my cat is called Tim")
    assert [m.content for m in panel.memories.list(profile="test-helper")] == ["my cat is called Tim"]
    assert panel.texts() == ["my cat is called Tim"]

    panel.select_text("my cat is called Tim")
    qtbot.mouseClick(panel.delete_button, Qt.MouseButton.LeftButton)
    click_box_button(panel.dialog, "Forget it for good")
    assert panel.texts() == [] and panel.memories.list() == []
    assert panel.empty.isVisible()
