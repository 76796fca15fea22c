"""A full-text index (SQLite FTS5) of the documents in the folders a recipe granted.

Re-indexing is incremental: each file's size, modification time and sha256 are stored; a file
whose size and time are unchanged is not opened at all, one whose time changed but whose bytes
hash the same is not extracted again, and files that disappeared (or whose folder is no longer
granted) leave the index. Each file is replaced in its own transaction, so a cancel (or a
crash) between files leaves a consistent index: every file in it is either its old or its new
version, never half of each.

Search answers come with the file's path and where in it (``page 3``, ``part 2``) so the
assistant can cite the file.
"""

from __future__ import annotations

import hashlib
import os
import re
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from wizard.agent.documents.extract import DocumentSkipped, Extracted, extract, is_supported, read_capped
from wizard.errors import HearthFileError

MAX_FILES = 50_000
CHUNK_TARGET = 1500
CHUNK_MAX = 2000
SCHEMA = """
CREATE TABLE IF NOT EXISTS files (
    path TEXT PRIMARY KEY, mtime_ns INTEGER NOT NULL, size INTEGER NOT NULL, sha256 TEXT NOT NULL,
    status TEXT NOT NULL, reason TEXT NOT NULL DEFAULT '', chunks INTEGER NOT NULL DEFAULT 0,
    indexed_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS chunks (
    id INTEGER PRIMARY KEY, path TEXT NOT NULL, ordinal INTEGER NOT NULL, location TEXT NOT NULL,
    start INTEGER NOT NULL, text TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS chunks_by_path ON chunks(path);
CREATE VIRTUAL TABLE IF NOT EXISTS chunks_fts USING fts5(
    text, content='chunks', content_rowid='id', tokenize='unicode61 remove_diacritics 2');
CREATE TRIGGER IF NOT EXISTS chunks_ai AFTER INSERT ON chunks BEGIN
    INSERT INTO chunks_fts(rowid, text) VALUES (new.id, new.text); END;
CREATE TRIGGER IF NOT EXISTS chunks_ad AFTER DELETE ON chunks BEGIN
    INSERT INTO chunks_fts(chunks_fts, rowid, text) VALUES ('delete', old.id, old.text); END;
"""

# Words that match almost every passage (English; questions to the model are mostly phrased so).
STOP_WORDS = frozenset(
    "a an and are as at be by did do does for from had has have how i in is it me my of on or our "
    "so than that the their them there these this those to was we were what when where which who "
    "why will with you your about can could should would".split())

Cancel = threading.Event | Callable[[], bool] | None


class DocumentIndexError(HearthFileError):
    """The document index file cannot be opened or written."""

    default_hint = "Check that there is free disk space; the index can be rebuilt at any time."


@dataclass(frozen=True)
class IndexProgress:
    done: int
    total: int
    current: str  # the file being looked at now ("" when finished)


@dataclass
class IndexReport:
    """What one update did. ``extracted`` lists the files whose text was (re)read."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: int = 0
    extracted: list[str] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)  # path -> plain reason
    cancelled: bool = False


@dataclass(frozen=True)
class SearchHit:
    path: str
    location: str  # "page 3", "part 2"
    snippet: str


@dataclass(frozen=True)
class Chunk:
    ordinal: int
    location: str
    start: int  # character offset in its section
    text: str


def chunk_text(extracted: Extracted, *, target: int = CHUNK_TARGET, maximum: int = CHUNK_MAX) -> list[Chunk]:
    """Split a document into passages of about ``target`` characters along paragraph breaks."""
    chunks: list[Chunk] = []
    for label, section in extracted.sections:
        for start, text in _passages(section, target, maximum):
            location = label or f"part {len(chunks) + 1}"
            chunks.append(Chunk(len(chunks), location, start, text))
    return chunks


def _passages(text: str, target: int, maximum: int) -> Iterator[tuple[int, str]]:
    pieces: list[tuple[int, str]] = []  # (offset, paragraph) with long paragraphs cut down
    for offset, paragraph in _paragraphs(text):
        while len(paragraph) > maximum:
            cut = paragraph.rfind(" ", target // 2, target)
            cut = cut if cut > 0 else target
            pieces.append((offset, paragraph[:cut].rstrip()))
            rest = paragraph[cut:]
            offset, paragraph = offset + cut + len(rest) - len(rest.lstrip()), rest.lstrip()
        pieces.append((offset, paragraph))
    current_start, current = None, []
    size = 0
    for offset, paragraph in pieces:
        if current and size + len(paragraph) > target:
            yield current_start, "\n\n".join(current)
            current_start, current, size = None, [], 0
        if current_start is None:
            current_start = offset
        current.append(paragraph)
        size += len(paragraph) + 2
    if current:
        yield current_start, "\n\n".join(current)


def _paragraphs(text: str) -> Iterator[tuple[int, str]]:
    """(offset, paragraph) for the blank-line separated paragraphs, stripped, empty ones left out."""
    start = 0
    for separator in [*re.finditer(r"\n[ \t\r\f\v]*\n\s*", text), None]:
        end = separator.start() if separator else len(text)
        block = text[start:end]
        stripped = block.strip()
        if stripped:
            yield start + (len(block) - len(block.lstrip())), stripped
        if separator:
            start = separator.end()


def fts_query(text: str, *, max_terms: int = 12) -> str:
    """A safe FTS5 query from free text: its words, each quoted, any of them may match.

    FTS5 has its own query language (AND, NEAR, column filters, ``*``); the model's text is
    never passed to it raw.
    """
    words = re.findall(r"\w+", text.lower())
    unique = list(dict.fromkeys(w for w in words if (len(w) > 1 or w.isdigit()) and w not in STOP_WORDS))
    unique = unique[:max_terms]
    return " OR ".join(f'"{word}"' for word in unique)


def _is_cancelled(cancel: Cancel) -> bool:
    if cancel is None:
        return False
    return cancel.is_set() if isinstance(cancel, threading.Event) else bool(cancel())


class DocumentIndex:
    """The index stored in one SQLite file (``db_path``); safe to use from several threads."""

    def __init__(self, db_path: Path) -> None:
        self.db_path = Path(db_path)
        with self._connect() as db:
            db.executescript(SCHEMA)

    def _connect(self) -> sqlite3.Connection:
        try:
            self.db_path.parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(self.db_path, timeout=30)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA foreign_keys=ON")
        except (sqlite3.Error, OSError) as exc:
            raise DocumentIndexError("Hearth could not open its index of your documents.",
                              details=f"{self.db_path}: {exc!r}") from exc
        return db

    # -- updating ------------------------------------------------------------------------------

    def update(self, folders: Sequence[Path], *, progress: Callable[[IndexProgress], None] | None = None,
               cancel: Cancel = None) -> IndexReport:
        """Bring the index in line with ``folders`` (the complete list of granted folders).

        Raises:
            DocumentIndexError: the index file cannot be written (disk full …). Unreadable documents
                never raise: they are listed in ``report.skipped`` with a plain reason.
        """
        report = IndexReport()
        roots = [Path(f).resolve() for f in folders if Path(f).is_dir()]
        files = sorted(set(_walk(roots)))
        total = len(files)
        db = self._connect()
        try:
            known = {row[0]: row[1:] for row in db.execute("SELECT path, mtime_ns, size, sha256 FROM files")}
            for done, path in enumerate(files):
                if _is_cancelled(cancel):
                    report.cancelled = True
                    break
                if progress:
                    progress(IndexProgress(done, total, str(path)))
                self._update_file(db, path, known.get(str(path)), report)
            if not report.cancelled:
                seen = {str(p) for p in files}
                for gone in sorted(set(known) - seen):
                    with db:
                        db.execute("DELETE FROM chunks WHERE path = ?", (gone,))
                        db.execute("DELETE FROM files WHERE path = ?", (gone,))
                    report.removed.append(gone)
                if progress:
                    progress(IndexProgress(total, total, ""))
        except sqlite3.Error as exc:
            raise DocumentIndexError("Hearth could not update its index of your documents.", details=repr(exc)) from exc
        finally:
            db.close()
        return report

    def _update_file(self, db: sqlite3.Connection, path: Path, known: tuple | None, report: IndexReport) -> None:
        name = str(path)
        try:
            info = path.stat()
        except OSError:
            report.skipped[name] = "The file could not be opened."
            return
        if known is not None and known[0] == info.st_mtime_ns and known[1] == info.st_size:
            report.unchanged += 1
            return
        try:
            data = read_capped(path)
        except DocumentSkipped as exc:
            self._store(db, name, info, "", [], exc.user_message)
            report.skipped[name] = exc.user_message
            return
        digest = hashlib.sha256(data).hexdigest()
        if known is not None and known[2] == digest:
            with db:  # touched, same bytes: remember the new time, keep the text
                db.execute("UPDATE files SET mtime_ns = ?, size = ? WHERE path = ?",
                           (info.st_mtime_ns, info.st_size, name))
            report.unchanged += 1
            return
        report.extracted.append(name)
        try:
            chunks = chunk_text(extract(path, data=data))
            reason = ""
        except DocumentSkipped as exc:
            chunks, reason = [], exc.user_message
            report.skipped[name] = reason
        self._store(db, name, info, digest, chunks, reason)
        (report.updated if known is not None else report.added).append(name)

    @staticmethod
    def _store(db: sqlite3.Connection, name: str, info: os.stat_result, digest: str, chunks: list[Chunk],
               reason: str) -> None:
        with db:
            db.execute("DELETE FROM chunks WHERE path = ?", (name,))
            db.executemany("INSERT INTO chunks(path, ordinal, location, start, text) VALUES (?, ?, ?, ?, ?)",
                           [(name, c.ordinal, c.location, c.start, c.text) for c in chunks])
            db.execute("INSERT OR REPLACE INTO files(path, mtime_ns, size, sha256, status, reason, chunks, "
                       "indexed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                       (name, info.st_mtime_ns, info.st_size, digest, "skipped" if reason else "indexed",
                        reason, len(chunks), time.time()))

    # -- reading -------------------------------------------------------------------------------

    def search(self, query: str, *, limit: int = 5) -> list[SearchHit]:
        """The best passages for ``query`` (any of its words), best first, with their file path.

        Raises:
            DocumentIndexError: the index cannot be read.
        """
        match = fts_query(query)
        if not match:
            return []
        db = self._connect()
        try:
            rows = db.execute(
                "SELECT chunks.path, chunks.location, snippet(chunks_fts, 0, '', '', ' … ', 40) "
                "FROM chunks_fts JOIN chunks ON chunks.id = chunks_fts.rowid "
                "WHERE chunks_fts MATCH ? ORDER BY bm25(chunks_fts) LIMIT ?", (match, limit)).fetchall()
        except sqlite3.Error as exc:
            raise DocumentIndexError("Hearth could not search your documents.", details=repr(exc)) from exc
        finally:
            db.close()
        return [SearchHit(path, location, snippet) for path, location, snippet in rows]

    def files(self) -> dict[str, dict]:
        """Every file the index knows: path -> status, reason, chunks, size, sha256."""
        db = self._connect()
        try:
            return {row[0]: {"status": row[1], "reason": row[2], "chunks": row[3], "size": row[4], "sha256": row[5]}
                    for row in db.execute("SELECT path, status, reason, chunks, size, sha256 FROM files")}
        finally:
            db.close()


def _walk(roots: Iterable[Path]) -> Iterator[Path]:
    """Supported files under ``roots``; hidden files and folders are left out, and a symlink is
    followed only when its real target stays inside the same granted folder."""
    # Imported here: the tools package imports this module (notes, documents_search).
    from wizard.agent.tools.permissions import is_inside

    count = 0
    for root in roots:
        for folder, dirs, names in os.walk(root, followlinks=False):
            dirs[:] = sorted(d for d in dirs if not d.startswith("."))
            for name in sorted(names):
                if name.startswith(".") or not is_supported(Path(name)):
                    continue
                path = Path(folder) / name
                try:
                    real = path.resolve(strict=True)
                except (OSError, RuntimeError):
                    continue
                if not is_inside(real, root) or not real.is_file():
                    continue
                count += 1
                if count > MAX_FILES:
                    return
                yield real
