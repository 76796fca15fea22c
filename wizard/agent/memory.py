"""What Hearth remembers across conversations, all of it visible and editable by the person.

Two kinds of memory, both rows of the ``memories`` table:

- ``fact``: something the person asked it to remember ("remember that my daughter is called
  Ana"), found by :func:`detect_remember_request` (a fixed pattern, no model involved) or added,
  edited and deleted from the GUI through :class:`MemoryStore`;
- ``summary``: a one- or two-sentence summary of a past conversation, written by the model
  (:func:`summarize_conversation`), one per conversation, deleted with the conversation.

:func:`memory_block` turns them into the text added to the system prompt, within a token budget.
Its order depends only on what is stored (facts newest first, then summaries newest first), never
on the time or on the latest message, so the prompt's beginning stays the same from one turn to
the next and the engine can reuse its cache.

What an assistant may keep is its recipe's ``[memory]`` (:class:`MemoryPolicy`): nothing when
memory is off; ``facts`` (anything the person asks it to remember), ``preferences`` (only what
says how the person likes answers), ``conversation_summaries``. The same policy decides what is
saved and what stored memories are given to the model.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from wizard.agent.database import now_text
from wizard.agent.store import ConversationStore, Message
from wizard.agent.tokens import TokenCounter
from wizard.engine.client import Cancel
from wizard.engine.plan import GenerationParams
from wizard.errors import HearthValueError

FACT_MAX_CHARS = 500
SUMMARY_MAX_TOKENS = 80
SUMMARY_TRANSCRIPT_CHARS = 6000
MEMORY_HEADER = "What you remember about the user (from earlier conversations):"
FACTS_HEADER = "Facts the user asked you to remember, in their words:"
SUMMARIES_HEADER = "Summaries of earlier conversations:"
SUMMARY_INSTRUCTION = ("Summarise the conversation below in one or two short sentences, "
                       "keeping names, dates and decisions. Reply with the summary only.")

_REMEMBER = re.compile(
    r"^\s*(?:(?:hey|hi|ok|okay)\b[\s,!]*)?(?:hearth\b[\s,!]*)?(?:please\b[\s,]*)?"
    r"(?:(?:can|could|would|will)\s+you\s+(?:please\s+)?)?"
    r"(?:remember|don'?t\s+forget|do\s+not\s+forget|keep\s+in\s+mind)"
    r"(?:\s+that\b\s*|\s*:\s*)(?P<fact>.+)$",
    re.IGNORECASE | re.DOTALL)
_SENTENCE_END = re.compile(r"[.!?](?:\s|$)|\n")
# How the person likes answers: "I prefer short answers", "always answer in French", "call me Sam".
_PREFERENCE = re.compile(
    r"^\s*(?:i\s+(?:really\s+|much\s+)?(?:prefer|like|love|hate|dislike|enjoy|want|need)\b"
    r"|i(?:\s+would|'d)\s+(?:rather|like|prefer)\b|i\s+(?:don'?t|do\s+not)\s+(?:like|want)\b"
    r"|(?:always|never)\b|(?:call|address)\s+me\b|(?:answer|reply|respond|write|speak|talk)\b"
    r"|(?:your|the|my)\s+(?:answers|replies)\b)",
    re.IGNORECASE)


class MemoryNotFoundError(HearthValueError, LookupError):
    """The memory asked for does not exist (any more)."""

    default_hint = "It may have been deleted already. Open the memory list again."


class BadMemoryError(HearthValueError):
    """A memory text that cannot be stored (empty or far too long)."""

    default_hint = f"Write the fact in one short sentence (at most {FACT_MAX_CHARS} characters)."


@dataclass(frozen=True)
class Memory:
    id: int
    kind: str  # fact | summary
    content: str
    profile: str
    created: str
    updated: str
    conversation: int | None  # summaries: the conversation summarised
    source_conversation: int | None  # facts: where the person said it (None if deleted since)


def detect_remember_request(text: str) -> str | None:
    """The fact in an explicit request to remember something, else None.

    Recognised (any case, optionally after "please", "hey", "can you" …): "remember that X",
    "remember: X", "don't forget that X", "keep in mind that X". Only the first sentence is the
    fact; "do you remember …?" and "remember to …" (a reminder, not a fact) are not requests.
    """
    match = _REMEMBER.match(text)
    if not match:
        return None
    fact = match.group("fact").strip()
    end = _SENTENCE_END.search(fact)
    if end:
        fact = fact[:end.start()]
    fact = re.sub(r"[\s,]*\bplease\s*$", "", fact, flags=re.IGNORECASE).strip(" \t,;:")
    if len(fact.split()) < 2 or len(fact) > FACT_MAX_CHARS:
        return None
    return fact


def is_preference(fact: str) -> bool:
    """Whether a remembered sentence says how the person likes answers ("I prefer short answers")."""
    return bool(_PREFERENCE.match(fact))


@dataclass(frozen=True)
class MemoryPolicy:
    """What an assistant may remember. The default keeps everything (a bare model file, no recipe)."""

    facts: bool = True  # anything the person explicitly asks it to remember
    preferences: bool = True  # what says how the person likes answers
    summaries: bool = True  # short summaries of past conversations

    @classmethod
    def from_recipe(cls, memory: object) -> MemoryPolicy:
        """From a recipe's ``[memory]`` (:class:`wizard.recipes.schema.Memory`): off keeps nothing."""
        if not getattr(memory, "enabled", False):
            return cls(facts=False, preferences=False, summaries=False)
        kinds = set(getattr(memory, "remember", ()))
        return cls(facts="facts" in kinds, preferences="preferences" in kinds,
                   summaries="conversation_summaries" in kinds)

    @property
    def enabled(self) -> bool:
        return self.facts or self.preferences or self.summaries

    def may_keep_fact(self, text: str) -> bool:
        return self.facts or (self.preferences and is_preference(text))

    def may_use(self, memory: Memory) -> bool:
        """Whether a stored memory may go to the model (one kept before the recipe changed may not)."""
        if memory.kind == "summary":
            return self.summaries
        return self.may_keep_fact(memory.content)

    def refusal(self) -> str:
        """Why a "remember that …" was not kept, in plain words."""
        if not self.enabled:
            return "Not remembered: this assistant is set up not to keep memories between conversations."
        if self.preferences:
            return "Not remembered: this assistant only remembers how you like its answers."
        return "Not remembered: this assistant is set up not to remember what you ask it to."


class MemoryStore:
    """Every memory, in the same database (and connection) as the conversations."""

    def __init__(self, conversations: ConversationStore) -> None:
        self._conversations = conversations

    def list(self, *, profile: str | None = None, kind: str | None = None) -> list[Memory]:
        """Memories in the order they are given to the model: facts, then summaries, newest first."""
        sql, args = "SELECT * FROM memories WHERE 1", []
        if profile is not None:
            sql += " AND profile = ?"
            args.append(profile)
        if kind is not None:
            sql += " AND kind = ?"
            args.append(kind)
        sql += " ORDER BY kind = 'summary', id DESC"
        return [_memory(row) for row in self._conversations._read(sql, args)]

    def get(self, memory_id: int) -> Memory:
        """Raises: MemoryNotFoundError."""
        rows = self._conversations._read("SELECT * FROM memories WHERE id = ?", (memory_id,))
        if not rows:
            raise MemoryNotFoundError("This memory no longer exists.", details=f"memory {memory_id}")
        return _memory(rows[0])

    def add_fact(self, text: str, *, profile: str = "", source_conversation: int | None = None) -> Memory:
        """Remember a fact (an identical fact already stored is returned, not duplicated).

        Raises: BadMemoryError.
        """
        text = _clean(text)
        existing = self._conversations._read(
            "SELECT * FROM memories WHERE kind = 'fact' AND profile = ? AND content = ?", (profile, text))
        if existing:
            return _memory(existing[0])
        stamp = now_text()
        with self._conversations._write() as db:
            cursor = db.execute(
                "INSERT INTO memories (kind, content, profile, created, updated, source_conversation) "
                "VALUES ('fact', ?, ?, ?, ?, ?)", (text, profile, stamp, stamp, source_conversation))
        return self.get(cursor.lastrowid)

    def edit(self, memory_id: int, text: str) -> Memory:
        """Replace a memory's text (a fact or a summary). Raises: BadMemoryError, MemoryNotFoundError."""
        text = _clean(text, limit=None if self.get(memory_id).kind == "summary" else FACT_MAX_CHARS)
        with self._conversations._write() as db:
            db.execute("UPDATE memories SET content = ?, updated = ? WHERE id = ?", (text, now_text(), memory_id))
        return self.get(memory_id)

    def delete(self, memory_id: int) -> None:
        """Forget a memory for good. Raises: MemoryNotFoundError."""
        self.get(memory_id)
        with self._conversations._write() as db:
            db.execute("DELETE FROM memories WHERE id = ?", (memory_id,))
        with self._conversations._lock:
            self._conversations.connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def set_summary(self, conversation_id: int, text: str) -> Memory:
        """Store (or replace) the summary of a conversation. Raises: BadMemoryError,
        ConversationNotFoundError."""
        conversation = self._conversations.get(conversation_id)
        text = _clean(text, limit=None)
        stamp = now_text()
        with self._conversations._write() as db:
            db.execute(
                "INSERT INTO memories (kind, content, profile, created, updated, conversation) "
                "VALUES ('summary', ?, ?, ?, ?, ?) ON CONFLICT (conversation) DO UPDATE SET "
                "content = excluded.content, updated = excluded.updated",
                (text, conversation.profile, stamp, stamp, conversation_id))
        rows = self._conversations._read("SELECT * FROM memories WHERE conversation = ?", (conversation_id,))
        return _memory(rows[0])


def _clean(text: str, limit: int | None = FACT_MAX_CHARS) -> str:
    text = " ".join(text.split())
    if not text:
        raise BadMemoryError("A memory cannot be empty.")
    if limit is not None and len(text) > limit:
        raise BadMemoryError(f"This is too long to remember as one fact ({len(text)} characters).",
                             details=f"limit {limit}")
    return text


def _memory(row: object) -> Memory:
    return Memory(id=row["id"], kind=row["kind"], content=row["content"], profile=row["profile"],
                  created=row["created"], updated=row["updated"], conversation=row["conversation"],
                  source_conversation=row["source_conversation"])


def memory_block(memories: list[Memory], *, budget_tokens: int, counter: TokenCounter,
                 exclude_conversation: int | None = None) -> tuple[str, int]:
    """The memory text for the system prompt and how many memories did not fit.

    ``memories`` in :meth:`MemoryStore.list` order; the summary of ``exclude_conversation`` (the
    conversation in progress) is left out. Items are taken in order while they fit the budget.
    """
    facts, summaries, left_out = [], [], 0
    used = counter.count(MEMORY_HEADER) + counter.count(FACTS_HEADER) + counter.count(SUMMARIES_HEADER)
    for memory in memories:
        if memory.kind == "summary" and memory.conversation == exclude_conversation:
            continue
        line = f"- {memory.content}"
        cost = counter.count(line) + 1
        if used + cost > budget_tokens:
            left_out += 1
            continue
        used += cost
        (facts if memory.kind == "fact" else summaries).append(line)
    if not facts and not summaries:
        return "", left_out
    parts = [MEMORY_HEADER]
    if facts:
        parts += [FACTS_HEADER, *facts]
    if summaries:
        parts += [SUMMARIES_HEADER, *summaries]
    return "\n".join(parts), left_out


def summary_prompt(messages: list[Message]) -> list[dict]:
    """The short request that asks the model for a conversation's summary (the newest part of
    the transcript if it is long)."""
    lines = []
    for message in messages:
        if message.role in ("user", "assistant") and message.content.strip() and message.status != "failed":
            speaker = "User" if message.role == "user" else "Assistant"
            lines.append(f"{speaker}: {' '.join(message.content.split())}")
    transcript = "\n".join(lines)[-SUMMARY_TRANSCRIPT_CHARS:]
    return [{"role": "system", "content": SUMMARY_INSTRUCTION},
            {"role": "user", "content": f"Conversation:\n{transcript}\n\nSummary:"}]


def summarize_conversation(conversations: ConversationStore, conversation_id: int, engine: object, *,
                           cancel: Cancel = None) -> Memory | None:
    """Ask the model for a short summary of the conversation and store it as a memory.

    ``engine`` has ``stream_chat(messages, params=, cancel=)`` (LocalEngine or EngineClient).
    Returns None (nothing stored) when there is nothing to summarise yet or it was cancelled.

    Raises: ConversationNotFoundError, EngineError subclasses (nothing is stored then).
    """
    messages = conversations.messages(conversation_id)
    if not any(m.role == "user" for m in messages) or not any(m.role == "assistant" for m in messages):
        return None
    stream = engine.stream_chat(summary_prompt(messages), cancel=cancel,
                                params=GenerationParams(temperature=0.0, max_tokens=SUMMARY_MAX_TOKENS))
    for _ in stream:
        pass
    text = stream.text.strip()
    if stream.summary.finish_reason == "cancelled" or not text:
        return None
    return MemoryStore(conversations).set_summary(conversation_id, text)
