"""Hearth's chat database: one SQLite file, opened the same way everywhere, migrated in one place.

Where: ``hearth_paths().data / "hearth.db"`` — one database per Hearth home. Conversations and
memories carry a ``profile`` column (the profile id, ``""`` for "no profile"), so profiles share
one file and a profile's data is one ``WHERE profile = ?`` away; deleting a profile deletes its rows.

How: WAL journal (readers never block the writer), ``synchronous=FULL`` (a committed message
survives a crash of the app and of the computer), foreign keys on, ``secure_delete`` on (deleted
text is overwritten in the file, not just unlinked), a busy timeout so the GUI and a CLI can
share the file.

Schema changes: append a new entry to :data:`MIGRATIONS`; never edit a released one. The
``schema_version`` table holds the number of migrations applied.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime, timezone
from pathlib import Path

from wizard.errors import HearthFileError
from wizard.paths import hearth_paths

DATABASE_NAME = "hearth.db"

MIGRATIONS: tuple[str, ...] = (
    # 1: conversations, messages (+ full-text index), memories.
    """
    CREATE TABLE conversations (
        id INTEGER PRIMARY KEY,
        title TEXT NOT NULL DEFAULT '',
        created TEXT NOT NULL,
        updated TEXT NOT NULL,
        profile TEXT NOT NULL DEFAULT '',
        model TEXT NOT NULL DEFAULT '',
        context_from INTEGER  -- first message id still sent to the model (older ones left out)
    );
    CREATE INDEX conversations_by_update ON conversations(profile, updated);

    CREATE TABLE messages (
        id INTEGER PRIMARY KEY,
        conversation INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
        role TEXT NOT NULL CHECK (role IN ('system', 'user', 'assistant')),
        content TEXT NOT NULL,
        created TEXT NOT NULL,
        model TEXT NOT NULL DEFAULT '',
        prompt_tokens INTEGER,
        completion_tokens INTEGER,
        cached_tokens INTEGER,
        status TEXT NOT NULL DEFAULT 'complete' CHECK (status IN ('complete', 'partial', 'failed'))
    );
    CREATE INDEX messages_by_conversation ON messages(conversation, id);

    CREATE VIRTUAL TABLE messages_fts USING fts5(
        content, content='messages', content_rowid='id', tokenize='unicode61 remove_diacritics 2');
    CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN
        INSERT INTO messages_fts(rowid, content) VALUES (new.id, new.content);
    END;
    CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN
        INSERT INTO messages_fts(messages_fts, rowid, content) VALUES ('delete', old.id, old.content);
    END;
    CREATE TRIGGER messages_fts_update AFTER UPDATE OF content ON messages BEGIN
        INSERT INTO messages_fts(messages_fts, rowid, content) VALUES ('delete', old.id, old.content);
        INSERT INTO messages_fts(rowid, content) VALUES (new.id, new.content);
    END;

    CREATE TABLE memories (
        id INTEGER PRIMARY KEY,
        kind TEXT NOT NULL CHECK (kind IN ('fact', 'summary')),
        content TEXT NOT NULL,
        profile TEXT NOT NULL DEFAULT '',
        created TEXT NOT NULL,
        updated TEXT NOT NULL,
        -- the conversation a summary summarises: deleting the conversation deletes its summary
        conversation INTEGER REFERENCES conversations(id) ON DELETE CASCADE,
        -- the conversation a fact was said in: the fact outlives it
        source_conversation INTEGER REFERENCES conversations(id) ON DELETE SET NULL,
        CHECK ((kind = 'summary') = (conversation IS NOT NULL))
    );
    CREATE UNIQUE INDEX one_summary_per_conversation ON memories(conversation);
    CREATE INDEX memories_by_profile ON memories(profile, kind, id);
    """,
)


class DatabaseError(HearthFileError):
    """Hearth's conversation database could not be opened, read or written."""

    default_hint = ("Check that the disk is not full and that Hearth's data folder can be written. "
                    "Your earlier conversations are kept in the file hearth.db in that folder.")


class DatabaseTooNewError(DatabaseError):
    """The database was written by a newer Hearth than this one."""

    default_hint = "Update Hearth to open these conversations; nothing was changed in the file."


def database_path() -> Path:
    return hearth_paths().data / DATABASE_NAME


def now_text() -> str:
    """The current time as stored: ISO 8601 in UTC with milliseconds."""
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


def open_database(path: Path | None = None) -> sqlite3.Connection:
    """Open (creating and migrating if needed) the chat database.

    The connection may be used from any thread, one at a time (callers serialise).

    Raises:
        DatabaseError: the file cannot be created/opened, is not a database, or is damaged.
        DatabaseTooNewError: its schema is newer than this Hearth knows.
    """
    path = Path(path) if path is not None else database_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        connection = sqlite3.connect(path, timeout=10.0, isolation_level=None, check_same_thread=False)
    except (OSError, sqlite3.Error) as exc:
        raise DatabaseError("Hearth could not open its conversation file.", details=f"{path}: {exc}") from exc
    try:
        connection.row_factory = sqlite3.Row
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=FULL")
        connection.execute("PRAGMA foreign_keys=ON")
        connection.execute("PRAGMA secure_delete=ON")
        _migrate(connection, path)
    except sqlite3.DatabaseError as exc:
        connection.close()
        raise DatabaseError("Hearth's conversation file is damaged or is not a Hearth database.",
                            details=f"{path}: {exc}") from exc
    except BaseException:
        connection.close()
        raise
    return connection


def _migrate(connection: sqlite3.Connection, path: Path) -> None:
    connection.execute("BEGIN IMMEDIATE")  # one process migrates; others wait, then see it done
    try:
        connection.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
        row = connection.execute("SELECT version FROM schema_version").fetchone()
        version = row[0] if row else 0
        if row is None:
            connection.execute("INSERT INTO schema_version (version) VALUES (0)")
        if version > len(MIGRATIONS):
            raise DatabaseTooNewError("These conversations were saved by a newer version of Hearth.",
                                      details=f"{path}: schema {version}, this Hearth knows {len(MIGRATIONS)}")
        for number in range(version, len(MIGRATIONS)):
            for statement in _statements(MIGRATIONS[number]):
                connection.execute(statement)
            connection.execute("UPDATE schema_version SET version = ?", (number + 1,))
        connection.execute("COMMIT")
    except BaseException:
        connection.execute("ROLLBACK")
        raise


def _statements(script: str) -> list[str]:
    """Split a migration into statements (executescript would commit our transaction)."""
    statements, current = [], ""
    for line in script.splitlines(keepends=True):
        current += line
        if sqlite3.complete_statement(current):
            statements.append(current.strip())
            current = ""
    if current.strip():
        statements.append(current.strip())
    return statements


def forget_deleted_text(connection: sqlite3.Connection) -> None:
    """Make deleted text really gone: merge the search index and empty the write-ahead log.

    The search index keeps deleted words in old segments until they are merged, and the WAL file
    keeps old pages until a checkpoint; ``secure_delete`` then zeroes the freed pages.
    """
    connection.execute("INSERT INTO messages_fts(messages_fts) VALUES ('optimize')")
    connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
