"""What the person typed is never lost: not on a refused message, a failed save or a change of conversation."""

from __future__ import annotations

from PySide6.QtCore import Qt

from tests.app.chat.conftest import QUESTION, ask, saved_messages, wait_ready
from tests.support.sqlite_refusals import refusing_new_messages, refusing_writes

TOO_LONG = "tea " * 6000  # far more than the tiny model's 2048 tokens


def test_an_edit_too_long_to_send_keeps_the_conversation_and_the_edit(qtbot, chat) -> None:
    ask(qtbot, chat, QUESTION)
    before = saved_messages(chat)
    question = chat.messages.messages()[0]
    qtbot.mouseClick(question.edit_button, Qt.MouseButton.LeftButton)
    chat.composer.set_text(TOO_LONG)
    qtbot.keyClick(chat.composer.edit, Qt.Key.Key_Return)
    wait_ready(qtbot, chat)
    assert chat.error.isVisible() and "too long for the model" in chat.error.message.text()
    assert saved_messages(chat) == before  # nothing was removed for a message that was never sent
    assert [w.text() for w in chat.messages.messages() if w.isVisibleTo(chat)] == [m[1] for m in before]
    assert chat.composer.text() == TOO_LONG
    assert chat.composer.editing == question.message_id and chat.composer.editing_label.isVisibleTo(chat)


def test_a_message_that_could_not_be_saved_goes_back_in_the_text_box(qtbot, chat) -> None:
    ask(qtbot, chat, QUESTION)
    before = saved_messages(chat)
    with refusing_writes(chat.store.connection):
        chat.composer.set_text("Name the capital city of Italy.")
        qtbot.keyClick(chat.composer.edit, Qt.Key.Key_Return)
        wait_ready(qtbot, chat)
    assert chat.error.isVisible()
    assert saved_messages(chat) == before
    assert chat.composer.text() == "Name the capital city of Italy."  # nothing typed is lost


def test_a_draft_stays_in_the_text_box_when_another_conversation_is_shown(qtbot, chat) -> None:
    ask(qtbot, chat, QUESTION)
    first = chat.conversation_id
    chat.composer.set_text("A draft I have not sent yet")
    qtbot.mouseClick(chat.conversations.new_button, Qt.MouseButton.LeftButton)
    assert chat.conversation_id is None
    assert chat.composer.text() == "A draft I have not sent yet"
    chat.show_conversation(first)
    assert chat.composer.text() == "A draft I have not sent yet"
    question = chat.messages.messages()[0]
    qtbot.mouseClick(question.edit_button, Qt.MouseButton.LeftButton)  # an edit belongs to its conversation
    assert chat.composer.text() == QUESTION
    qtbot.mouseClick(chat.conversations.new_button, Qt.MouseButton.LeftButton)
    assert chat.composer.editing is None and chat.composer.text() == "A draft I have not sent yet"


def test_a_draft_comes_back_after_editing_an_earlier_message(qtbot, chat) -> None:
    ask(qtbot, chat, QUESTION)
    chat.composer.set_text("A draft I have not sent yet")
    question = chat.messages.messages()[0]
    qtbot.mouseClick(question.edit_button, Qt.MouseButton.LeftButton)
    assert chat.composer.text() == QUESTION
    qtbot.mouseClick(chat.composer.cancel_edit_button, Qt.MouseButton.LeftButton)
    assert chat.composer.text() == "A draft I have not sent yet"
    qtbot.mouseClick(chat.messages.messages()[0].edit_button, Qt.MouseButton.LeftButton)
    chat.composer.set_text("Name the capital city of Italy.")
    qtbot.keyClick(chat.composer.edit, Qt.Key.Key_Return)
    assert chat.composer.text() == "A draft I have not sent yet" and chat.composer.editing is None
    wait_ready(qtbot, chat)
    assert saved_messages(chat)[0][1] == "Name the capital city of Italy."
    assert chat.composer.text() == "A draft I have not sent yet"


def test_an_edit_whose_save_fails_loses_neither_the_conversation_nor_the_edit(qtbot, chat) -> None:
    ask(qtbot, chat, QUESTION)
    before = saved_messages(chat)
    # The save fails after the old messages were removed in it (as a full disk would): all is undone.
    with refusing_new_messages(chat.store.connection):
        question = chat.messages.messages()[0]
        qtbot.mouseClick(question.edit_button, Qt.MouseButton.LeftButton)
        chat.composer.set_text("Name the capital city of Italy.")
        qtbot.keyClick(chat.composer.edit, Qt.Key.Key_Return)
        wait_ready(qtbot, chat)
    assert chat.error.isVisible()
    assert saved_messages(chat) == before
    assert [w.text() for w in chat.messages.messages() if w.isVisibleTo(chat)] == [m[1] for m in before]
    assert chat.composer.text() == "Name the capital city of Italy."
    assert chat.composer.editing == question.message_id
