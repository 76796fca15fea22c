"""Chat turns through the real engine child process and the real tiny model."""

from __future__ import annotations

import os
import signal
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from wizard.agent.chat import ChatSession
from wizard.agent.context import MessageTooLongError
from wizard.agent.database import database_path
from wizard.agent.memory import MemoryPolicy, MemoryStore, summarize_conversation
from wizard.agent.store import ConversationStore
from wizard.agent.tokens import ModelTokenCounter
from wizard.engine import EngineCrashed, GenerationParams, LoadPlan, LocalEngine

GREEDY = GenerationParams(temperature=0.0, max_tokens=48)
LONG = GenerationParams(temperature=0.0)
STORY = "Write a very long story about a dragon who learns to bake bread."


@pytest.fixture(scope="module")
def engine(tiny_model: Path) -> Iterator[LocalEngine]:
    with LocalEngine(tiny_model, LoadPlan(n_ctx=2048, n_threads=2), busy_wait=0.5) as running:
        yield running


@pytest.fixture(scope="module")
def counter(tiny_model: Path) -> ModelTokenCounter:
    return ModelTokenCounter(tiny_model)


@pytest.fixture
def store() -> Iterator[ConversationStore]:
    with ConversationStore() as opened:
        yield opened


def session(store, engine, counter, **options) -> ChatSession:
    options.setdefault("params", GREEDY)
    options.setdefault("n_ctx", 2048)
    return ChatSession(store, engine, counter=counter, model=engine.model_path.stem, **options)


def other_connection() -> sqlite3.Connection:
    return sqlite3.connect(database_path())


def test_the_user_message_is_committed_before_the_first_word(store, engine, counter) -> None:
    seen = []

    def on_text(piece: str) -> None:
        if not seen:  # at the first word, look from another connection: it must already be on disk
            with other_connection() as db:
                seen.append(db.execute("SELECT role, content, status FROM messages ORDER BY id").fetchall())

    chat = session(store, engine, counter)
    result = chat.send("Name the capital city of France.", on_text=on_text)
    assert seen[0] == [("user", "Name the capital city of France.", "complete"),
                       ("assistant", seen[0][1][1], "partial")]
    assert result.reply.status == "complete" and "Paris" in result.reply.content
    assert result.reply.content == result.summary.text
    assert result.reply.prompt_tokens == result.summary.prompt_tokens > 0
    assert counter.count(result.prompt.messages[-1]["content"]) < result.prompt.tokens
    assert result.prompt.tokens >= result.summary.prompt_tokens  # the budget never undercounts


def test_consecutive_turns_share_the_prompt_as_a_prefix(store, engine, counter) -> None:
    MemoryStore(store).add_fact("my daughter is called Ana")
    chat = session(store, engine, counter)
    first = chat.send("Name the capital city of France.")
    second = chat.send("And the capital city of Italy?")
    assert second.prompt.messages[:len(first.prompt.messages)] == first.prompt.messages
    assert "my daughter is called Ana" in first.prompt.messages[0]["content"]
    assert second.prompt.messages[len(first.prompt.messages)]["content"] == first.reply.content
    # the engine really reused what it had: at least the whole first prompt came from its cache
    assert second.summary.cached_tokens >= first.summary.prompt_tokens


def test_remembered_facts_reach_the_next_conversation(store, engine, counter) -> None:
    first = session(store, engine, counter).send("Remember that my daughter is called Ana.")
    assert [n.message for n in first.notices] == ["Remembered: my daughter is called Ana"]
    assert [m.content for m in MemoryStore(store).list()] == ["my daughter is called Ana"]
    later = session(store, engine, counter).send("What is my daughter called?")
    assert "my daughter is called Ana" in later.prompt.messages[0]["content"]
    assert later.prompt.messages[0]["content"] == first.prompt.messages[0]["content"]


def test_with_memory_off_nothing_is_remembered_or_given_to_the_model(store, engine, counter) -> None:
    earlier = store.create()
    memories = MemoryStore(store)
    memories.add_fact("my daughter is called Ana")
    memories.set_summary(earlier.id, "We planned a birthday party.")
    off = MemoryPolicy(facts=False, preferences=False, summaries=False)
    result = session(store, engine, counter, memory=off).send("Remember that my cat is called Tom.")
    assert [(n.kind, n.message) for n in result.notices] == [
        ("not_remembered", "Not remembered: this assistant is set up not to keep memories between conversations.")]
    assert sorted(m.content for m in memories.list()) == ["We planned a birthday party.", "my daughter is called Ana"]
    system = result.prompt.messages[0]["content"]
    assert "Ana" not in system and "birthday" not in system
    assert result.reply.status == "complete"  # the question is still answered


def test_a_preferences_only_assistant_keeps_and_uses_only_preferences(store, engine, counter) -> None:
    earlier = store.create()
    memories = MemoryStore(store)
    memories.add_fact("my daughter is called Ana")
    memories.set_summary(earlier.id, "We planned a birthday party.")
    preferences = MemoryPolicy(facts=False, preferences=True, summaries=False)
    kept = session(store, engine, counter, memory=preferences).send("Remember that I prefer short answers.")
    refused = session(store, engine, counter, memory=preferences).send("Remember that my cat is called Tom.")
    assert [n.message for n in kept.notices] == ["Remembered: I prefer short answers"]
    assert [n.message for n in refused.notices] == ["Not remembered: this assistant only remembers how you "
                                                    "like its answers."]
    assert "my cat is called Tom" not in [m.content for m in memories.list()]
    system = refused.prompt.messages[0]["content"]
    assert "I prefer short answers" in system
    assert "Ana" not in system and "birthday" not in system


def test_overflow_is_visible_and_the_reply_still_comes(store, engine, counter) -> None:
    chat = session(store, engine, counter, n_ctx=600)  # a small window for this conversation
    results = [chat.send(f"Tell me one fact about the number {n}, in a long sentence.") for n in range(8)]
    cut = [r for r in results if r.notices]
    assert cut, "eight turns cannot fit in 600 tokens"
    assert cut[0].notices[0].kind == "older_messages_left_out"
    assert "left out" in cut[0].notices[0].message
    for result in results:
        assert result.reply.status in ("complete",) and result.reply.content
        assert result.prompt.tokens >= result.summary.prompt_tokens  # the estimate held
        assert result.summary.prompt_tokens <= 600 - 150
    assert len(store.messages(chat.conversation_id)) == 16  # nothing deleted, only not sent
    assert store.get(chat.conversation_id).context_from is not None


def test_a_message_too_long_is_refused_and_nothing_is_saved(store, engine, counter) -> None:
    chat = session(store, engine, counter, n_ctx=512)
    with pytest.raises(MessageTooLongError):
        chat.send("please read this " * 400)
    assert store.list() == []


def test_stopping_a_reply_keeps_what_was_written(store, engine, counter) -> None:
    cancel = threading.Event()
    pieces = []

    def on_text(piece: str) -> None:
        pieces.append(piece)
        if len(pieces) == 20:
            cancel.set()

    result = session(store, engine, counter, params=LONG).send(STORY, on_text=on_text, cancel=cancel)
    assert result.stopped
    assert result.reply.status == "partial"
    assert result.reply.content == "".join(pieces) and len(pieces) >= 20


def test_an_engine_crash_keeps_everything_and_regenerate_answers(store, tiny_model: Path, counter) -> None:
    with LocalEngine(tiny_model, LoadPlan(n_ctx=2048, n_threads=2)) as own:
        chat = session(store, own, counter, params=LONG)
        pieces = []

        def on_text(piece: str) -> None:
            pieces.append(piece)
            if len(pieces) == 15:
                os.kill(own.pid, signal.SIGKILL)

        with pytest.raises(EngineCrashed):
            chat.send(STORY, on_text=on_text)
        saved = store.messages(chat.conversation_id)
        assert [(m.role, m.status) for m in saved] == [("user", "complete"), ("assistant", "partial")]
        assert saved[0].content == STORY
        assert "".join(pieces).startswith(saved[1].content) and saved[1].content

        own.restart()
        chat.params = GREEDY
        again = chat.regenerate()
        assert again.user_message.id == saved[0].id and again.reply.status == "complete"
        assert [m.role for m in store.messages(chat.conversation_id)] == ["user", "assistant"]


def test_a_summary_is_written_by_the_model_and_goes_with_its_conversation(store, engine, counter) -> None:
    chat = session(store, engine, counter)
    chat.send("I am planning a trip to Lisbon in May with my sister.")
    summary = summarize_conversation(store, chat.conversation_id, engine)
    assert summary is not None and summary.kind == "summary" and summary.conversation == chat.conversation_id
    assert summary.content.strip() and len(summary.content) < 1000
    assert [m.id for m in MemoryStore(store).list(kind="summary")] == [summary.id]
    store.delete(chat.conversation_id)
    assert MemoryStore(store).list(kind="summary") == []
