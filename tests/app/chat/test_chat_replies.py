"""Replies in the chat window from the real tiny model: streaming, Stop, Regenerate, edit-and-resend."""

from __future__ import annotations

from PySide6.QtCore import Qt

from app.ui.chat.runner import READY
from tests.app.chat.conftest import LONG_REQUEST, QUESTION, ask, saved_messages, wait_ready


def test_a_first_reply_streams_in_and_is_saved(qtbot, chat) -> None:
    batches: list[str] = []
    chat.runner.text_arrived.connect(batches.append)
    ask(qtbot, chat, QUESTION)
    [(role_q, question, _), (role_a, answer, status)] = saved_messages(chat)
    assert (role_q, question, role_a, status) == ("user", QUESTION, "assistant", "complete")
    assert "Paris" in answer
    assert "".join(batches) == answer  # everything shown came in batches, nothing lost
    shown = [w for w in chat.messages.messages() if w.message_id is not None]
    assert [w.text() for w in shown] == [QUESTION, answer]
    assert chat.conversations.titles() == [QUESTION]
    assert "tokens a second" in chat.status.speed.text()
    assert "MB" in chat.status.memory.text()


def test_shift_enter_is_a_new_line_and_enter_sends(qtbot, chat) -> None:
    edit = chat.composer.edit
    edit.setFocus()
    qtbot.keyClicks(edit, "Name the capital city")
    qtbot.keyClick(edit, Qt.Key.Key_Return, Qt.KeyboardModifier.ShiftModifier)
    qtbot.keyClicks(edit, "of France.")
    assert edit.toPlainText() == "Name the capital city\nof France."
    assert not chat.runner.replying
    qtbot.keyClick(edit, Qt.Key.Key_Return)
    assert chat.runner.replying and edit.toPlainText() == ""
    wait_ready(qtbot, chat)
    assert saved_messages(chat)[0][1] == "Name the capital city\nof France."


def test_escape_stops_the_answer_and_keeps_what_was_written(qtbot, chat) -> None:
    import time

    shown: list[str] = []
    chat.runner.text_arrived.connect(shown.append)
    chat.composer.set_text(LONG_REQUEST)
    qtbot.keyClick(chat.composer.edit, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: len("".join(shown)) > 40, timeout=60_000)
    pressed = time.perf_counter()
    qtbot.keyClick(chat.composer.edit, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: not chat.runner.replying, timeout=10_000)
    print(f"stopped {1000 * (time.perf_counter() - pressed):.0f} ms after Esc")
    wait_ready(qtbot, chat)
    [_, (role, text, status)] = saved_messages(chat)
    assert (role, status) == ("assistant", "partial")
    assert text and text.startswith("".join(shown)[:40])
    assert chat.runner.last_result.stopped
    answer = chat.messages.messages()[-1]
    assert "stopped before the end" in answer.note.text()
    # A message drawn anew is shown by its layout on the next pass of the event loop.
    qtbot.waitUntil(answer.note.isVisible, timeout=5000)


def test_regenerate_writes_the_last_answer_again(qtbot, chat) -> None:
    ask(qtbot, chat, QUESTION)
    first = chat.store.messages(chat.conversation_id)[-1]
    assert chat.composer.regenerate_button.isEnabled()
    qtbot.mouseClick(chat.composer.regenerate_button, Qt.MouseButton.LeftButton)
    assert chat.runner.replying
    wait_ready(qtbot, chat)
    messages = chat.store.messages(chat.conversation_id)
    assert [m.role for m in messages] == ["user", "assistant"]
    assert messages[-1].created > first.created and messages[-1].status == "complete"
    assert messages[-1].content == first.content  # temperature 0: the same answer again
    assert [w.text() for w in chat.messages.messages()] == [QUESTION, first.content]


def test_edit_and_send_again_replaces_the_message_and_what_followed(qtbot, chat) -> None:
    ask(qtbot, chat, "Name the capital city of Italy.")
    ask(qtbot, chat, "And of Spain?")
    [first_question] = [w for w in chat.messages.messages() if w.message_id is not None][:1]
    qtbot.mouseClick(first_question.edit_button, Qt.MouseButton.LeftButton)
    assert chat.composer.editing == first_question.message_id
    assert chat.composer.text() == "Name the capital city of Italy."
    assert chat.composer.editing_label.isVisible()
    chat.composer.set_text(QUESTION)
    qtbot.keyClick(chat.composer.edit, Qt.Key.Key_Return)
    wait_ready(qtbot, chat)
    saved = saved_messages(chat)
    assert [(role, status) for role, _, status in saved] == [("user", "complete"), ("assistant", "complete")]
    assert saved[0][1] == QUESTION and "Paris" in saved[1][1]
    assert not chat.composer.editing_label.isVisible() and chat.composer.editing is None


def test_copy_puts_the_answer_on_the_clipboard(qtbot, chat) -> None:
    from PySide6.QtGui import QGuiApplication

    ask(qtbot, chat, QUESTION)
    answer = chat.messages.messages()[-1]
    qtbot.mouseClick(answer.copy_button, Qt.MouseButton.LeftButton)
    assert QGuiApplication.clipboard().text() == saved_messages(chat)[-1][1]


def test_a_new_conversation_starts_empty_with_the_greeting(qtbot, chat) -> None:
    ask(qtbot, chat, QUESTION)
    first = chat.conversation_id
    qtbot.mouseClick(chat.conversations.new_button, Qt.MouseButton.LeftButton)
    assert chat.conversation_id is None
    assert [w.text() for w in chat.messages.messages()] == ["Hello! What can I do for you?"]
    assert not chat.composer.regenerate_button.isEnabled()
    ask(qtbot, chat, "Name the capital city of Italy.")
    assert chat.conversation_id not in (None, first)
    assert len(chat.conversations.titles()) == 2
    assert chat.runner.state == READY


def test_a_later_answer_leaves_the_earlier_messages_as_drawn(qtbot, chat) -> None:
    ask(qtbot, chat, QUESTION)
    earlier = chat.messages.messages()
    ask(qtbot, chat, "And of Italy?")
    shown = chat.messages.messages()
    assert shown[:len(earlier)] == earlier  # the same widgets: nothing was drawn again
    saved = chat.store.messages(chat.conversation_id)
    assert [(w.role, w.message_id, w.text()) for w in shown] == [(m.role, m.id, m.content) for m in saved]
    assert shown[-2].edit_button is not None  # the new question can be edited and sent again
