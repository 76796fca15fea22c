"""Moving the data folder (conversations, profiles, models: possibly many GB) somewhere else.

    move_data_folder(Path("/media/big-disk/Hearth"), progress=show, cancel=event)

Order, so that the old folder stays in force until the new one is known to be good:

1. checks, before any byte is copied: the layout allows moving (not with ``HEARTH_HOME`` or
   in portable mode), the target is not inside the data folder, is empty or new, and its disk
   has room for everything plus a margin (the message says how many GB are needed);
2. copy every file, hashing what is read; SQLite databases are copied with SQLite's own
   backup (a consistent copy even with a write-ahead log), then checked with
   ``PRAGMA integrity_check``;
3. verify: every size; the sha256 of every file up to :data:`FULL_CHECK_LIMIT` read back
   from the new disk; for larger files (models) their first and last :data:`SAMPLE_BYTES`;
4. :func:`wizard.paths.set_data_location` — from here on the new folder is in force;
5. delete the old folder. If that fails, the move still succeeded; the result says what was
   left behind.

A cancel or failure during 1–3 removes what was copied; the old folder is untouched and
still in force. Programs holding the old database open (the chat window) must reopen it
after a move.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from wizard.download.disk import DiskUsageFunction, check_free_space
from wizard.errors import HearthError, HearthFileError, HearthValueError, StoppedByPerson
from wizard.paths import HOME_ENV, hearth_paths, portable_root, set_data_location

log = logging.getLogger(__name__)

BLOCK = 4 * 1024 * 1024
FULL_CHECK_LIMIT = 256 * 1024 * 1024
SAMPLE_BYTES = 8 * 1024 * 1024
SQLITE_MAGIC = b"SQLite format 3\x00"
Cancel = threading.Event | Callable[[], bool] | None
Stage = Literal["copying", "checking", "removing", "done"]


class MoveNotAllowedError(HearthValueError):
    """The data folder cannot be moved to that place (or at all in this layout); nothing changed."""

    default_hint = "Choose an empty folder (or a new one) on another disk or elsewhere on this one."


class MoveCancelled(StoppedByPerson):
    """The person stopped the move; the old folder is still in use and complete."""

    default_hint = "Your data is where it was. Start the move again when you are ready."


class MoveFailedError(HearthFileError):
    """Copying or checking failed; the old folder is still in use and complete."""

    default_hint = ("Your data is where it was and Hearth still uses it. Check that the other disk is "
                    "connected and has free space, then try again.")


@dataclass(frozen=True)
class MoveProgress:
    stage: Stage
    bytes_done: int
    bytes_total: int
    message: str = ""

    @property
    def fraction(self) -> float:
        return self.bytes_done / self.bytes_total if self.bytes_total else 1.0


@dataclass(frozen=True)
class MoveResult:
    old: Path
    new: Path
    files: int
    bytes_moved: int
    left_behind: str = ""  # a plain sentence when the old folder could not be fully deleted


def _stopped(cancel: Cancel) -> bool:
    if isinstance(cancel, threading.Event):
        return cancel.is_set()
    return bool(cancel and cancel())


def _is_sqlite(path: Path) -> bool:
    try:
        with path.open("rb") as handle:
            return handle.read(len(SQLITE_MAGIC)) == SQLITE_MAGIC
    except OSError:
        return False


def _files_to_move(source: Path) -> list[Path]:
    """Every file under ``source`` (relative), leaving out SQLite's -wal/-shm companions."""
    files = [p for p in sorted(source.rglob("*")) if p.is_file() or p.is_symlink()]
    databases = {p for p in files if _is_sqlite(p)}
    companions = {p.with_name(p.name + suffix) for p in databases for suffix in ("-wal", "-shm", "-journal")}
    return [p.relative_to(source) for p in files if p not in companions]


def check_move(target: Path) -> tuple[Path, Path, list[Path], int]:
    """(source, target, files, bytes) when the data folder may move to ``target``.

    Raises:
        MoveNotAllowedError: wrong layout, target inside the data folder, target not empty,
            or target is a file.
    """
    if os.environ.get(HOME_ENV, "").strip() or portable_root() is not None:
        raise MoveNotAllowedError(
            "This copy of Hearth keeps all its files in one chosen folder, so the data folder cannot be "
            "moved from here.", hint="Move that whole folder yourself while Hearth is closed.",
            details=f"{HOME_ENV}={os.environ.get(HOME_ENV, '')!r} portable={portable_root()}")
    source = hearth_paths().data.resolve()
    target = Path(target).expanduser()
    if not target.is_absolute():
        raise MoveNotAllowedError("Choose a folder by its full location.", details=f"target={target}")
    target = target.resolve()
    if target == source or target.is_relative_to(source):
        raise MoveNotAllowedError("The new place is inside the data folder itself.",
                                  hint="Choose a folder outside it.", details=f"{target} in {source}")
    if target.exists() and not target.is_dir():
        raise MoveNotAllowedError(f"{target.name} is a file, not a folder.", details=str(target))
    if target.is_dir() and any(target.iterdir()):
        raise MoveNotAllowedError("The folder you chose already has files in it.",
                                  hint="Choose an empty folder, or make a new one.", details=str(target))
    files = _files_to_move(source) if source.is_dir() else []
    total = sum((source / f).stat().st_size for f in files if not (source / f).is_symlink())
    return source, target, files, total


def move_data_folder(target: Path, *, progress: Callable[[MoveProgress], None] | None = None,
                     cancel: Cancel = None, disk_usage: DiskUsageFunction = shutil.disk_usage) -> MoveResult:
    """Move the data folder to ``target`` (see the module's docstring for the order).

    Raises:
        MoveNotAllowedError: see :func:`check_move`.
        NotEnoughSpaceError: the target's disk has too little room (checked first).
        MoveCancelled: ``cancel`` was set; the copy was removed, the old folder is in force.
        MoveFailedError: copying or checking failed; the copy was removed, the old folder is in force.
        OSError: the new location could not be recorded; the copy was removed.
    """
    source, target, files, total = check_move(target)
    check_free_space(target, total, disk_usage=disk_usage, what="Moving your data")
    report = _Reporter(progress, total)
    created_target = not target.exists()
    try:
        target.mkdir(parents=True, exist_ok=True)
        digests = _copy_all(source, target, files, report, cancel)
        _verify_all(source, target, files, digests, report, cancel)
        set_data_location(target)
    except BaseException as exc:
        _remove_copy(target, created_target)
        if isinstance(exc, OSError) and not isinstance(exc, HearthError):
            raise MoveFailedError("Hearth could not copy your data to the new folder.",
                                  details=f"{type(exc).__name__}: {exc}") from exc
        raise
    log.info("data folder moved from %s to %s (%d files, %d bytes)", source, target, len(files), total)
    report.send("removing", total, "Removing the old copy")
    left_behind = ""
    try:
        shutil.rmtree(source)
    except OSError as exc:
        log.warning("old data folder %s not fully removed: %s", source, exc)
        left_behind = (f"Your data was moved, but Hearth could not delete everything in the old folder "
                       f"{source}. You may delete it yourself.")
    report.send("done", total, "Done")
    return MoveResult(source, target, len(files), total, left_behind)


class _Reporter:
    def __init__(self, callback: Callable[[MoveProgress], None] | None, total: int) -> None:
        self.callback, self.total, self._last, self._stage = callback, total, 0.0, ""

    def send(self, stage: Stage, done: int, message: str = "", *, throttle: bool = False) -> None:
        """Throttled to 10 a second within a stage; the first event of a stage always goes out."""
        now = time.monotonic()
        if self.callback is None or (throttle and stage == self._stage and now - self._last < 0.1):
            return
        self._last, self._stage = now, stage
        self.callback(MoveProgress(stage, done, self.total, message))


def _copy_all(source: Path, target: Path, files: list[Path], report: _Reporter, cancel: Cancel) -> dict[Path, str]:
    digests: dict[Path, str] = {}
    done = 0
    for relative in files:
        if _stopped(cancel):
            raise MoveCancelled("The move was stopped. Your data is still where it was.")
        origin, copy = source / relative, target / relative
        copy.parent.mkdir(parents=True, exist_ok=True)
        report.send("copying", done, f"Copying {relative.as_posix()}")
        if origin.is_symlink():
            os.symlink(os.readlink(origin), copy)
            continue
        if _is_sqlite(origin):
            _copy_database(origin, copy)
            done += origin.stat().st_size
            continue
        digest = hashlib.sha256()
        with origin.open("rb") as reader, copy.open("wb") as writer:
            while block := reader.read(BLOCK):
                if _stopped(cancel):
                    raise MoveCancelled("The move was stopped. Your data is still where it was.")
                writer.write(block)
                digest.update(block)
                done += len(block)
                report.send("copying", done, f"Copying {relative.as_posix()}", throttle=True)
            writer.flush()
            os.fsync(writer.fileno())
        shutil.copystat(origin, copy)
        digests[relative] = digest.hexdigest()
    return digests


def _copy_database(origin: Path, copy: Path) -> None:
    """A consistent copy of a live SQLite database (its write-ahead log included)."""
    reader = sqlite3.connect(f"file:{origin}?mode=ro", uri=True)
    writer = sqlite3.connect(copy)
    try:
        reader.backup(writer)
        writer.execute("PRAGMA journal_mode=WAL")
    finally:
        writer.close()
        reader.close()
    for suffix in ("-wal", "-shm"):  # WAL mode leaves these once closed on some platforms
        companion = copy.with_name(copy.name + suffix)
        if companion.exists() and companion.stat().st_size == 0:
            companion.unlink()


def _hash_range(path: Path, start: int, length: int, cancel: Cancel) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        handle.seek(start)
        left = length
        while left > 0 and (block := handle.read(min(BLOCK, left))):
            if _stopped(cancel):
                raise MoveCancelled("The move was stopped. Your data is still where it was.")
            digest.update(block)
            left -= len(block)
    return digest.hexdigest()


def _verify_all(source: Path, target: Path, files: list[Path], digests: dict[Path, str], report: _Reporter,
                cancel: Cancel) -> None:
    done = 0
    for relative in files:
        origin, copy = source / relative, target / relative
        report.send("checking", done, f"Checking {relative.as_posix()}", throttle=True)
        if origin.is_symlink():
            if os.readlink(copy) != os.readlink(origin):
                raise _mismatch(relative, "the link points elsewhere")
            continue
        size = origin.stat().st_size
        done += size
        if relative not in digests:  # a database: SQLite checks its own pages
            _check_database(copy, relative)
            continue
        if copy.stat().st_size != size:
            raise _mismatch(relative, f"{copy.stat().st_size} bytes instead of {size}")
        if size <= FULL_CHECK_LIMIT:
            if _hash_range(copy, 0, size, cancel) != digests[relative]:
                raise _mismatch(relative, "its contents differ")
            continue
        for start in (0, size - SAMPLE_BYTES):
            if _hash_range(copy, start, SAMPLE_BYTES, cancel) != _hash_range(origin, start, SAMPLE_BYTES, cancel):
                raise _mismatch(relative, f"the bytes from {start} differ")


def _check_database(copy: Path, relative: Path) -> None:
    connection = sqlite3.connect(f"file:{copy}?mode=ro", uri=True)
    try:
        verdict = connection.execute("PRAGMA integrity_check").fetchone()[0]
    except sqlite3.DatabaseError as exc:
        verdict = str(exc)
    finally:
        connection.close()
    if verdict != "ok":
        raise _mismatch(relative, f"integrity check: {verdict}")


def _mismatch(relative: Path, why: str) -> MoveFailedError:
    return MoveFailedError(f"The copy of {relative.as_posix()} in the new folder is not the same as the original, "
                           "so Hearth did not move your data.", details=why)


def _remove_copy(target: Path, created_target: bool) -> None:
    """Remove what the move wrote (the target was empty or new before)."""
    try:
        if created_target:
            shutil.rmtree(target)
        elif target.is_dir():
            for entry in target.iterdir():
                if entry.is_dir() and not entry.is_symlink():
                    shutil.rmtree(entry)
                else:
                    entry.unlink()
    except OSError as exc:
        log.warning("could not remove the partial copy in %s: %s", target, exc)
