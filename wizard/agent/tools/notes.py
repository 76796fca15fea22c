"""Notes the assistant writes and searches for the person, in SQLite (FTS5) in the profile folder."""

from __future__ import annotations

import sqlite3
from datetime import datetime
from pathlib import Path

from wizard.agent.documents.index import fts_query
from wizard.agent.tools.base import Tool, ToolError
from wizard.errors import HearthFileError

MAX_NOTE_CHARS = 4000
SCHEMA = """
CREATE TABLE IF NOT EXISTS notes (id INTEGER PRIMARY KEY, created TEXT NOT NULL, text TEXT NOT NULL);
CREATE VIRTUAL TABLE IF NOT EXISTS notes_fts USING fts5(text, content='notes', content_rowid='id',
    tokenize='unicode61 remove_diacritics 2');
CREATE TRIGGER IF NOT EXISTS notes_ai AFTER INSERT ON notes BEGIN
    INSERT INTO notes_fts(rowid, text) VALUES (new.id, new.text); END;
CREATE TRIGGER IF NOT EXISTS notes_ad AFTER DELETE ON notes BEGIN
    INSERT INTO notes_fts(notes_fts, rowid, text) VALUES ('delete', old.id, old.text); END;
"""


class NotesError(HearthFileError):
    """The notes file cannot be opened or written."""

    default_hint = "Check that there is free disk space. Your existing notes are kept."


class NotesStore:
    """The notes of one profile, in the SQLite file ``db_path``. Opened per call (thread safe)."""

    def __init__(self, db_path: Path) -> None:
        self.db_path = Path(db_path)
        with self._connect() as db:
            db.executescript(SCHEMA)

    def _connect(self) -> sqlite3.Connection:
        try:
            self.db_path.parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(self.db_path, timeout=30)
            db.execute("PRAGMA journal_mode=WAL")
            return db
        except (sqlite3.Error, OSError) as exc:
            raise NotesError("Hearth could not open your notes.", details=f"{self.db_path}: {exc!r}") from exc

    def add(self, text: str, *, now: datetime | None = None) -> int:
        """Store a note; returns its id.

        Raises:
            ToolError: empty or too long. NotesError: the file cannot be written.
        """
        text = (text or "").strip()
        if not text:
            raise ToolError("The note is empty.")
        if len(text) > MAX_NOTE_CHARS:
            raise ToolError(f"The note is too long (over {MAX_NOTE_CHARS} characters).")
        created = (now or datetime.now().astimezone()).isoformat(timespec="seconds")
        db = self._connect()
        try:
            with db:
                return db.execute("INSERT INTO notes(created, text) VALUES (?, ?)", (created, text)).lastrowid
        except sqlite3.Error as exc:
            raise NotesError("Hearth could not save the note.", details=repr(exc)) from exc
        finally:
            db.close()

    def search(self, query: str, *, limit: int = 5) -> list[tuple[int, str, str]]:
        """``(id, created, text)`` of the notes matching any word of ``query``, best first;
        the latest notes when the query has no words."""
        match = fts_query(query)
        db = self._connect()
        try:
            if not match:
                return db.execute("SELECT id, created, text FROM notes ORDER BY id DESC LIMIT ?", (limit,)).fetchall()
            return db.execute(
                "SELECT notes.id, notes.created, notes.text FROM notes_fts JOIN notes ON notes.id = notes_fts.rowid "
                "WHERE notes_fts MATCH ? ORDER BY bm25(notes_fts) LIMIT ?", (match, limit)).fetchall()
        except sqlite3.Error as exc:
            raise NotesError("Hearth could not search your notes.", details=repr(exc)) from exc
        finally:
            db.close()

    def delete(self, note_id: int) -> bool:
        db = self._connect()
        try:
            with db:
                return db.execute("DELETE FROM notes WHERE id = ?", (note_id,)).rowcount > 0
        finally:
            db.close()


def notes_write_tool(store: NotesStore) -> Tool:
    def run(arguments: dict) -> str:
        note_id = store.add(arguments["text"])
        return f"Saved as note {note_id}."

    return Tool(name="notes_write", description="Save a note for the person to find later.",
                parameters={"type": "object", "properties": {"text": {"type": "string", "maxLength": 500}},
                            "required": ["text"], "additionalProperties": False},
                run=run, example={"text": "Dentist on Friday at 10"})


def notes_search_tool(store: NotesStore) -> Tool:
    def run(arguments: dict) -> str:
        found = store.search(arguments["query"])
        if not found:
            return "No note matches."
        return "\n".join(f"- note {note_id} ({created[:10]}): {text}" for note_id, created, text in found)

    return Tool(name="notes_search", description="Search the person's saved notes.",
                parameters={"type": "object", "properties": {"query": {"type": "string", "maxLength": 100}},
                            "required": ["query"], "additionalProperties": False},
                run=run, example={"query": "dentist"})
