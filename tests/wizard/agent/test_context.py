"""Prompt assembly within the context window: visible cuts, stable prefixes, plain refusals."""

from __future__ import annotations

import pytest

from wizard.agent.context import (
    OLDER_MESSAGES_LEFT_OUT,
    MessageTooLongError,
    assemble_prompt,
    reply_reserve_for,
)
from wizard.agent.store import Message
from wizard.agent.tokens import EstimatingTokenCounter

COUNTER = EstimatingTokenCounter()
SYSTEM = "You are a helpful assistant."


def history(turns: int, words: int = 40) -> list[Message]:
    messages = []
    for turn in range(turns):
        for role in ("user", "assistant"):
            number = len(messages) + 1
            messages.append(Message(id=number, conversation=1, role=role, content=f"{role} {turn} " + "word " * words,
                                    created="", model="", status="complete"))
    return messages


def test_everything_fits_nothing_is_said() -> None:
    prompt = assemble_prompt(system_prompt=SYSTEM, memory="- my cat is Tom", history=history(3),
                             newest="and now?", n_ctx=4096, counter=COUNTER)
    assert prompt.notices == [] and prompt.left_out == 0 and prompt.context_from is None
    assert prompt.messages[0] == {"role": "system", "content": SYSTEM + "\n\n- my cat is Tom"}
    assert [m["role"] for m in prompt.messages[1:]] == ["user", "assistant"] * 3 + ["user"]
    assert prompt.messages[-1]["content"] == "and now?"
    assert prompt.tokens <= 4096 - reply_reserve_for(4096)


def test_overflow_leaves_out_old_turns_and_says_so() -> None:
    past = history(30)
    prompt = assemble_prompt(system_prompt=SYSTEM, memory="- fact", history=past, newest="latest question",
                             n_ctx=1024, counter=COUNTER)
    assert [n.message for n in prompt.notices] == [OLDER_MESSAGES_LEFT_OUT]
    assert prompt.left_out > 0 and prompt.tokens <= 1024 - reply_reserve_for(1024)
    assert prompt.messages[0]["content"] == SYSTEM + "\n\n- fact"  # never dropped
    assert prompt.messages[-1] == {"role": "user", "content": "latest question"}  # never dropped
    assert prompt.messages[1]["role"] == "user"  # history starts with a whole turn
    kept = prompt.messages[1:-1]
    assert [m["content"] for m in kept] == [m.content for m in past[-len(kept):]]  # the newest are kept
    assert prompt.context_from == past[prompt.left_out].id


def test_after_a_cut_the_next_turns_keep_the_same_beginning() -> None:
    past = history(30)
    first = assemble_prompt(system_prompt=SYSTEM, memory="", history=past, newest="q1", n_ctx=1024, counter=COUNTER)
    # the turn is answered, and a new question follows
    reply = Message(id=62, conversation=1, role="assistant", content="a1", created="", model="", status="complete")
    question = Message(id=61, conversation=1, role="user", content="q1", created="", model="", status="complete")
    second = assemble_prompt(system_prompt=SYSTEM, memory="", history=[*past, question, reply], newest="q2",
                             n_ctx=1024, counter=COUNTER, context_from=first.context_from)
    assert second.messages[:len(first.messages)] == first.messages  # a prefix: the engine reuses its cache
    assert second.context_from == first.context_from
    assert [n.kind for n in second.notices] == ["older_messages_left_out"]  # still visible


def test_failed_and_empty_replies_are_not_sent() -> None:
    past = history(1)
    past.append(Message(id=3, conversation=1, role="user", content="again", created="", model="", status="complete"))
    past.append(Message(id=4, conversation=1, role="assistant", content="", created="", model="", status="failed"))
    prompt = assemble_prompt(system_prompt=SYSTEM, memory="", history=past, newest="q", n_ctx=2048, counter=COUNTER)
    assert [m["content"] for m in prompt.messages[1:]] == [past[0].content, past[1].content, "again", "q"]


def test_a_message_too_long_for_the_context_is_refused_plainly() -> None:
    with pytest.raises(MessageTooLongError) as caught:
        assemble_prompt(system_prompt=SYSTEM, memory="", history=history(2), newest="word " * 2000,
                        n_ctx=2048, counter=COUNTER)
    assert "too long" in caught.value.user_message
    assert caught.value.hint
