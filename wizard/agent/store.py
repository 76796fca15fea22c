"""Conversations and their messages in the chat database: create, read, search, rename, delete.

Every write is its own committed transaction (the connection is in autocommit mode), so what a
caller has been told is saved survives the process being killed a moment later.
"""

from __future__ import annotations

import re
import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path

from wizard.agent.database import DatabaseError, forget_deleted_text, now_text, open_database
from wizard.errors import HearthValueError

ROLES = ("system", "user", "assistant")
STATUSES = ("complete", "partial", "failed")
TITLE_MAX_CHARS = 200
AUTO_TITLE_CHARS = 60
SEARCH_MAX_TERMS = 12


class ConversationNotFoundError(HearthValueError, LookupError):
    """The conversation asked for does not exist (any more)."""

    default_hint = "It may have been deleted. Choose another conversation from the list."


class BadTitleError(HearthValueError):
    """A conversation title that cannot be used (empty or far too long)."""

    default_hint = f"Use a short name of 1 to {TITLE_MAX_CHARS} characters."


@dataclass(frozen=True)
class Conversation:
    id: int
    title: str
    created: str  # ISO 8601, UTC
    updated: str
    profile: str
    model: str
    context_from: int | None  # first message id still sent to the model; None: from the start


@dataclass(frozen=True)
class Message:
    id: int
    conversation: int
    role: str
    content: str
    created: str
    model: str
    status: str  # complete | partial (cut off: stopped, crashed, killed) | failed (nothing usable)
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    cached_tokens: int | None = None


@dataclass(frozen=True)
class SearchHit:
    conversation: int
    title: str
    message: int
    role: str
    snippet: str  # the matching words wrapped in [ and ]
    created: str


def fts_query(text: str) -> str:
    """A safe FTS5 query for what a person typed: every word quoted, all words required.

    The person's input is never FTS syntax: ``AND``, ``NEAR(``, ``"``, ``*``, ``col:`` … become
    plain words or are dropped. The last word also matches as a prefix (search as you type).
    Returns "" when there is no word to look for.
    """
    words = re.findall(r"\w+", text)[:SEARCH_MAX_TERMS]
    if not words:
        return ""
    quoted = [f'"{word}"' for word in words]  # \w+ never contains a double quote
    quoted[-1] += "*"
    return " ".join(quoted)


def auto_title(first_message: str) -> str:
    """A title from the first thing the person said: its first line, shortened at a word."""
    line = " ".join(first_message.split())
    if len(line) <= AUTO_TITLE_CHARS:
        return line or "New conversation"
    cut = line[:AUTO_TITLE_CHARS].rsplit(" ", 1)[0] or line[:AUTO_TITLE_CHARS]
    return cut.rstrip(",.;:") + "…"


class ConversationStore:
    """Conversations in one database connection (see :mod:`wizard.agent.database`).

    Safe to share between threads: calls are serialised by a lock. Raises DatabaseError for any
    failure of the file itself.
    """

    def __init__(self, connection: sqlite3.Connection | None = None, *, path: Path | None = None) -> None:
        self.connection = connection if connection is not None else open_database(path)
        self._lock = threading.RLock()

    def close(self) -> None:
        self.connection.close()

    def __enter__(self) -> ConversationStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- conversations -------------------------------------------------------------------------

    def create(self, *, title: str = "", profile: str = "", model: str = "") -> Conversation:
        stamp = now_text()
        with self._write() as db:
            cursor = db.execute(
                "INSERT INTO conversations (title, created, updated, profile, model) VALUES (?, ?, ?, ?, ?)",
                (title.strip()[:TITLE_MAX_CHARS], stamp, stamp, profile, model))
        return self.get(cursor.lastrowid)

    def get(self, conversation_id: int) -> Conversation:
        """Raises: ConversationNotFoundError."""
        row = self._read("SELECT * FROM conversations WHERE id = ?", (conversation_id,))
        if not row:
            raise ConversationNotFoundError("This conversation no longer exists.",
                                            details=f"conversation {conversation_id}")
        return _conversation(row[0])

    def list(self, *, profile: str | None = None, limit: int | None = None) -> list[Conversation]:
        """Conversations, the most recently active first (``profile`` None: every profile)."""
        sql = "SELECT * FROM conversations"
        args: list = []
        if profile is not None:
            sql += " WHERE profile = ?"
            args.append(profile)
        # within one millisecond, the conversation with the newest message wins
        sql += (" ORDER BY updated DESC, (SELECT max(id) FROM messages WHERE conversation = conversations.id)"
                " DESC NULLS LAST, id DESC")
        if limit is not None:
            sql += " LIMIT ?"
            args.append(int(limit))
        return [_conversation(row) for row in self._read(sql, args)]

    def rename(self, conversation_id: int, title: str) -> Conversation:
        """Raises: BadTitleError, ConversationNotFoundError."""
        title = " ".join(title.split())
        if not title or len(title) > TITLE_MAX_CHARS:
            raise BadTitleError("A conversation's name must have between 1 and "
                                f"{TITLE_MAX_CHARS} characters.", details=f"{len(title)} characters")
        self.get(conversation_id)
        with self._write() as db:
            db.execute("UPDATE conversations SET title = ? WHERE id = ?", (title, conversation_id))
        return self.get(conversation_id)

    def set_context_from(self, conversation_id: int, message_id: int | None) -> None:
        with self._write() as db:
            db.execute("UPDATE conversations SET context_from = ? WHERE id = ?", (message_id, conversation_id))

    def delete(self, conversation_id: int) -> None:
        """Delete the conversation, its messages, their search entries and its summary, for good.

        Raises: ConversationNotFoundError.
        """
        self.get(conversation_id)
        with self._write() as db:
            db.execute("DELETE FROM conversations WHERE id = ?", (conversation_id,))
        with self._lock:
            try:
                forget_deleted_text(self.connection)
            except sqlite3.Error as exc:
                raise DatabaseError("Hearth could not finish deleting the conversation.", details=str(exc)) from exc

    # -- messages ------------------------------------------------------------------------------

    def add_message(self, conversation_id: int, role: str, content: str, *, model: str = "",
                    status: str = "complete", replacing_from: int | None = None) -> Message:
        """Append a message and commit it; the conversation's ``updated`` time moves on.

        ``replacing_from``: the conversation's message with this id and every later one are
        deleted in the same transaction (an edited message sent again): if the new one cannot
        be saved, none of them is lost.

        Raises: ConversationNotFoundError, ValueError (unknown role/status), DatabaseError.
        """
        if role not in ROLES or status not in STATUSES:
            raise ValueError(f"bad role/status {role!r}/{status!r}")
        conversation = self.get(conversation_id)
        stamp = now_text()
        with self._write() as db:
            if replacing_from is not None:
                db.execute("DELETE FROM messages WHERE conversation = ? AND id >= ?", (conversation_id, replacing_from))
            cursor = db.execute(
                "INSERT INTO messages (conversation, role, content, created, model, status) "
                "VALUES (?, ?, ?, ?, ?, ?)", (conversation_id, role, content, stamp, model, status))
            db.execute("UPDATE conversations SET updated = ? WHERE id = ?", (stamp, conversation_id))
            if role == "user" and not conversation.title:
                db.execute("UPDATE conversations SET title = ? WHERE id = ?", (auto_title(content), conversation_id))
        return self.message(cursor.lastrowid)

    def update_message(self, message_id: int, *, content: str | None = None, status: str | None = None,
                       model: str | None = None, prompt_tokens: int | None = None,
                       completion_tokens: int | None = None, cached_tokens: int | None = None) -> None:
        """Change a message (a reply as it streams in) and commit. Fields left None stay as they are."""
        if status is not None and status not in STATUSES:
            raise ValueError(f"bad status {status!r}")
        fields = {"content": content, "status": status, "model": model, "prompt_tokens": prompt_tokens,
                  "completion_tokens": completion_tokens, "cached_tokens": cached_tokens}
        changes = {name: value for name, value in fields.items() if value is not None}
        if not changes:
            return
        assignments = ", ".join(f"{name} = ?" for name in changes)
        with self._write() as db:
            db.execute(f"UPDATE messages SET {assignments} WHERE id = ?", (*changes.values(), message_id))
            db.execute("UPDATE conversations SET updated = ? WHERE id = "
                       "(SELECT conversation FROM messages WHERE id = ?)", (now_text(), message_id))

    def message(self, message_id: int) -> Message:
        rows = self._read("SELECT * FROM messages WHERE id = ?", (message_id,))
        if not rows:
            raise LookupError(f"no message {message_id}")
        return _message(rows[0])

    def messages(self, conversation_id: int) -> list[Message]:
        """The conversation's messages, oldest first. Raises: ConversationNotFoundError."""
        self.get(conversation_id)
        rows = self._read("SELECT * FROM messages WHERE conversation = ? ORDER BY id", (conversation_id,))
        return [_message(row) for row in rows]

    def delete_message(self, message_id: int) -> None:
        with self._write() as db:
            db.execute("DELETE FROM messages WHERE id = ?", (message_id,))

    # -- search --------------------------------------------------------------------------------

    def search(self, text: str, *, profile: str | None = None, limit: int = 50) -> list[SearchHit]:
        """Messages containing every word of ``text`` (any case, accents ignored), best first."""
        query = fts_query(text)
        if not query:
            return []
        sql = ("SELECT m.conversation, c.title, m.id, m.role, m.created, "
               "snippet(messages_fts, 0, '[', ']', '…', 12) AS snippet "
               "FROM messages_fts JOIN messages m ON m.id = messages_fts.rowid "
               "JOIN conversations c ON c.id = m.conversation WHERE messages_fts MATCH ?")
        args: list = [query]
        if profile is not None:
            sql += " AND c.profile = ?"
            args.append(profile)
        sql += " ORDER BY rank LIMIT ?"
        args.append(int(limit))
        return [SearchHit(conversation=row["conversation"], title=row["title"], message=row["id"],
                          role=row["role"], snippet=row["snippet"], created=row["created"])
                for row in self._read(sql, args)]

    # -- plumbing ------------------------------------------------------------------------------

    def _read(self, sql: str, args: object = ()) -> list[sqlite3.Row]:
        with self._lock:
            try:
                return self.connection.execute(sql, args).fetchall()
            except sqlite3.Error as exc:
                raise DatabaseError("Hearth could not read its conversation file.", details=str(exc)) from exc

    def _write(self) -> _Transaction:
        return _Transaction(self.connection, self._lock)


class _Transaction:
    """``with store._write() as db:`` — one committed transaction, rolled back on any error."""

    def __init__(self, connection: sqlite3.Connection, lock: threading.RLock) -> None:
        self.connection = connection
        self.lock = lock

    def __enter__(self) -> sqlite3.Connection:
        self.lock.acquire()
        try:
            self.connection.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            self.lock.release()
            raise DatabaseError("Hearth could not write to its conversation file.", details=str(exc)) from exc
        return self.connection

    def __exit__(self, exc_type: type | None, exc: BaseException | None, tb: object) -> None:
        try:
            if exc_type is None:
                try:
                    self.connection.execute("COMMIT")
                except sqlite3.Error as error:
                    self.connection.execute("ROLLBACK")
                    raise DatabaseError("Hearth could not save to its conversation file.",
                                        details=str(error)) from error
            else:
                self.connection.execute("ROLLBACK")
                if isinstance(exc, sqlite3.Error):
                    raise DatabaseError("Hearth could not write to its conversation file.",
                                        details=str(exc)) from exc
        finally:
            self.lock.release()


def _conversation(row: sqlite3.Row) -> Conversation:
    return Conversation(id=row["id"], title=row["title"], created=row["created"], updated=row["updated"],
                        profile=row["profile"], model=row["model"], context_from=row["context_from"])


def _message(row: sqlite3.Row) -> Message:
    return Message(id=row["id"], conversation=row["conversation"], role=row["role"], content=row["content"],
                   created=row["created"], model=row["model"], status=row["status"],
                   prompt_tokens=row["prompt_tokens"], completion_tokens=row["completion_tokens"],
                   cached_tokens=row["cached_tokens"])
