"""A real SQLite connection made to refuse writes, as a read-only or full disk would."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def refusing_writes(connection: sqlite3.Connection) -> Iterator[None]:
    """Every write on ``connection`` fails while inside."""
    connection.execute("PRAGMA query_only = ON")
    try:
        yield
    finally:
        connection.execute("PRAGMA query_only = OFF")


@contextmanager
def refusing_new_messages(connection: sqlite3.Connection) -> Iterator[None]:
    """Inserting a message fails (after any earlier statement of its transaction ran) while inside."""
    connection.execute("CREATE TEMP TRIGGER refuse_messages BEFORE INSERT ON messages "
                       "BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END")
    try:
        yield
    finally:
        connection.execute("DROP TRIGGER refuse_messages")
