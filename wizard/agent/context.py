"""Fitting a conversation into the model's context window, never silently.

The prompt is, in this order: the system prompt (fixed text, then the memory block — no time,
no date, nothing that changes by itself), the conversation's messages from ``context_from`` on,
and the newest user message. The budget is ``n_ctx - reply_reserve`` tokens.

When everything does not fit, the oldest messages are left out, whole turns at a time, and a
:class:`TurnNotice` says so. The cut is made generously (down to :data:`REFILL_FRACTION` of the
budget) and remembered in ``context_from``, so the following turns send the very same beginning
again and the engine reuses its cache, until the window is full once more.

The system prompt and the newest user message are never left out: if they alone do not fit,
:class:`MessageTooLongError` says so plainly.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from wizard.agent.store import Message
from wizard.agent.tokens import TokenCounter
from wizard.errors import HearthValueError

REFILL_FRACTION = 0.6  # after a cut, the kept history uses at most this share of the budget
MEMORY_BUDGET_FRACTION = 0.2  # memory never takes more than this share of the context
MIN_REPLY_RESERVE = 128

OLDER_MESSAGES_LEFT_OUT = ("Older messages were left out so the conversation fits the model's memory. "
                           "They are still saved here; start a new conversation for a fresh start.")


class MessageTooLongError(HearthValueError):
    """One message is longer than the model can read at once."""

    default_hint = "Shorten the message or split it into parts, or choose a model with a larger context."


@dataclass(frozen=True)
class TurnNotice:
    """Something the person should see next to a reply (the GUI shows it, the CLI prints it)."""

    kind: str  # older_messages_left_out | remembered | memories_left_out
    message: str


@dataclass
class AssembledPrompt:
    messages: list[dict]  # ready for EngineClient.stream_chat
    tokens: int  # the counter's figure for the whole prompt
    context_from: int | None  # first history message id included (None: none left out)
    left_out: int  # history messages not sent
    notices: list[TurnNotice] = field(default_factory=list)


def reply_reserve_for(n_ctx: int) -> int:
    """Tokens kept free for the reply: a quarter of the context, at least 128."""
    return max(MIN_REPLY_RESERVE, n_ctx // 4)


def memory_budget_for(n_ctx: int) -> int:
    return int(n_ctx * MEMORY_BUDGET_FRACTION)


def system_text(system_prompt: str, memory: str) -> str:
    return f"{system_prompt}\n\n{memory}" if memory else system_prompt


def _sendable(message: Message) -> bool:
    return message.role in ("user", "assistant") and message.status != "failed" and bool(message.content.strip())


def assemble_prompt(*, system_prompt: str, memory: str, history: Sequence[Message], newest: str,
                    n_ctx: int, counter: TokenCounter, context_from: int | None = None,
                    reply_reserve: int | None = None) -> AssembledPrompt:
    """The messages to send for one turn.

    ``history``: the conversation's stored messages before the newest user message, oldest first.
    ``context_from``: the cut remembered from earlier turns (None: from the start).

    Raises:
        MessageTooLongError: the system prompt, memory and newest message alone leave no room.
    """
    reserve = reply_reserve_for(n_ctx) if reply_reserve is None else reply_reserve
    budget = n_ctx - reserve
    system = system_text(system_prompt, memory)
    overhead = counter.message_overhead
    fixed = counter.count(system) + counter.count(newest) + 3 * overhead  # + the reply's opening
    if fixed > budget:
        newest_tokens = counter.count(newest)
        raise MessageTooLongError(
            f"This message is too long for the model: about {newest_tokens} tokens, and the model can "
            f"read about {max(0, budget - (fixed - newest_tokens))} at once in this conversation.",
            details=f"fixed={fixed} budget={budget} n_ctx={n_ctx} reserve={reserve}")

    candidates = [m for m in history if _sendable(m)]
    costs = [counter.count(m.content) + overhead for m in candidates]
    start = 0
    if context_from is not None:
        start = next((i for i, m in enumerate(candidates) if m.id >= context_from), len(candidates))
    notices: list[TurnNotice] = []
    if fixed + sum(costs[start:]) > budget:
        target = fixed + (budget - fixed) * REFILL_FRACTION
        while start < len(candidates) and fixed + sum(costs[start:]) > target:
            start += 1
        while start < len(candidates) and candidates[start].role != "user":
            start += 1  # begin at a user message: some chat templates insist on it
        notices.append(TurnNotice("older_messages_left_out", OLDER_MESSAGES_LEFT_OUT))
    elif start > 0:
        # earlier cut still in force: say so again, the person keeps seeing why
        notices.append(TurnNotice("older_messages_left_out", OLDER_MESSAGES_LEFT_OUT))

    kept = candidates[start:]
    messages = [{"role": "system", "content": system}]
    messages += [{"role": m.role, "content": m.content} for m in kept]
    messages.append({"role": "user", "content": newest})
    new_from = kept[0].id if start > 0 and kept else (None if start == 0 else _after(candidates))
    return AssembledPrompt(messages=messages, tokens=fixed + sum(costs[start:]), context_from=new_from,
                           left_out=start, notices=notices)


def _after(candidates: Sequence[Message]) -> int | None:
    """Every history message was cut: the next one to keep is whatever comes after them."""
    return candidates[-1].id + 1 if candidates else None
