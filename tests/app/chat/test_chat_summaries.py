"""Summaries of past conversations in the chat window: written when the person moves on or closes,
only when the assistant's memory allows it, never in the way of a reply or of closing.

The real tiny model in the real engine process, the real database, the real main window.
"""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt, QThreadPool

from app.main_window import MainWindow
from app.ui.chat import runner as runner_module
from app.ui.chat.runner import READY
from tests.app.chat.conftest import (
    QUESTION,
    ask,
    engine_children,
    make_profile,
    open_main_window,
    saved_messages,
    wait_ready,
)
from wizard.agent import ConversationStore, MemoryStore

SUMMARIES_RECIPE = '''
[memory]
enabled = true
remember = ["facts", "conversation_summaries"]
'''


@pytest.fixture
def profile(tiny_model, monkeypatch):
    """The chat tests' profile, with a recipe that lets it keep summaries of conversations."""
    from tests.app.chat import conftest

    recipe = conftest.RECIPE.split("[memory]")[0] + SUMMARIES_RECIPE
    monkeypatch.setattr(conftest, "RECIPE", recipe)
    return make_profile(tiny_model)


def summaries() -> dict[int, str]:
    with ConversationStore() as store:
        return {m.conversation: m.content for m in MemoryStore(store).list(kind="summary")}


def close(window: MainWindow) -> None:
    window.close()
    assert QThreadPool.globalInstance().waitForDone(30_000), "a task was still running"
    assert engine_children() == [], "an engine process was left running"


def saved_messages_text(chat, conversation_id: int) -> str:
    return "\n".join(m.content for m in chat.store.messages(conversation_id))


def test_moving_to_another_conversation_summarises_the_one_left(qtbot, chat) -> None:
    ask(qtbot, chat, QUESTION)
    left = chat.conversation_id
    assert summaries() == {}  # not while the person is still in it
    with qtbot.waitSignal(chat.runner.summary_written, timeout=60_000) as written:
        chat.show_conversation(None)
    assert written.args == [left]
    summary = summaries()[left]
    assert summary.strip() and summary != saved_messages_text(chat, left)
    shown = [chat.memory.list.item(row).text() for row in range(chat.memory.list.count())]
    assert summary in shown  # the Memory tab shows it at once
    assert chat.runner.state == READY and not chat.error.isVisible()


def test_a_reply_asked_for_during_a_summary_comes_first(qtbot, chat) -> None:
    ask(qtbot, chat, "Write a short poem about the sea.")
    left = chat.conversation_id
    chat.show_conversation(None)
    qtbot.waitUntil(lambda: chat.runner.engine.client().health()["busy"], timeout=30_000)  # summarising
    ask(qtbot, chat, QUESTION)
    [(_, question, _), (role, answer, status)] = saved_messages(chat)
    assert question == QUESTION and role == "assistant" and status == "complete" and "Paris" in answer
    assert not chat.error.isVisible()
    # the summary that was stopped for the reply is written afterwards
    qtbot.waitUntil(lambda: left in summaries(), timeout=60_000)


def test_stop_while_the_reply_waits_for_a_summary_keeps_the_question_and_no_empty_answer(qtbot, chat) -> None:
    ask(qtbot, chat, "Write a short poem about the sea.")
    chat.show_conversation(None)
    qtbot.waitUntil(lambda: chat.runner.engine.client().health()["busy"], timeout=30_000)  # summarising
    chat.composer.set_text(QUESTION)
    qtbot.keyClick(chat.composer.edit, Qt.Key.Key_Return)
    assert chat.runner._summary_task.running  # the reply waits for the summary to let go of the engine
    qtbot.keyClick(chat.composer.edit, Qt.Key.Key_Escape)
    wait_ready(qtbot, chat)
    assert saved_messages(chat) == [("user", QUESTION, "complete")]  # no empty "No answer came."
    assert [(w.role, w.text()) for w in chat.messages.messages()] == [("user", QUESTION)]
    assert any("Stopped before" in n.text() for n in chat.messages.notices())
    assert not chat.error.isVisible() and chat.composer.regenerate_button.isEnabled()
    qtbot.mouseClick(chat.composer.regenerate_button, Qt.MouseButton.LeftButton)
    wait_ready(qtbot, chat)
    [_, (role, answer, status)] = saved_messages(chat)
    assert (role, status) == ("assistant", "complete") and "Paris" in answer


def test_closing_summarises_the_open_conversation_when_it_fits_the_time(qtbot, profile, monkeypatch) -> None:
    # A generous closing time, so that the answer does not depend on how busy this machine is.
    monkeypatch.setattr(runner_module, "CLOSE_SUMMARY_SECONDS", 300.0)
    window = open_main_window(qtbot)
    qtbot.waitUntil(lambda: window.chat.runner.state == READY, timeout=90_000)
    ask(qtbot, window.chat, QUESTION)
    conversation = window.chat.conversation_id
    estimate = window.chat.runner.estimated_summary_seconds(conversation)
    assert estimate is not None and 0 < estimate < 300  # from the speeds measured on the reply
    window.chat.runner.shutdown(timeout=300)  # what closing the window does, with that much time
    assert summaries().get(conversation, "").strip()
    close(window)


def test_closing_skips_a_summary_that_would_keep_the_window_waiting(qtbot, profile, monkeypatch) -> None:
    monkeypatch.setattr(runner_module, "CLOSE_SUMMARY_SECONDS", 0.01)  # as if the model were very slow
    window = open_main_window(qtbot)
    qtbot.waitUntil(lambda: window.chat.runner.state == READY, timeout=90_000)
    ask(qtbot, window.chat, QUESTION)
    close(window)
    assert summaries() == {}


def test_without_summaries_in_the_recipe_none_is_written(qtbot, tiny_model) -> None:
    make_profile(tiny_model)  # the chat tests' recipe: memory of facts and preferences only
    window = open_main_window(qtbot)
    qtbot.waitUntil(lambda: window.chat.runner.state == READY, timeout=90_000)
    chat = window.chat
    ask(qtbot, chat, QUESTION)
    first = chat.conversation_id
    chat.show_conversation(None)
    ask(qtbot, chat, "And of Germany?")
    chat.show_conversation(first)
    qtbot.wait(500)
    assert chat.runner._summary_task is None
    close(window)
    assert summaries() == {}
