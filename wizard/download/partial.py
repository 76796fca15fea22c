"""The partial file of an unfinished download and its small JSON sidecar.

Layout inside the models folder (``M``)::

    M/owner--name/model.gguf                       the verified, finished file
    M/partial/owner--name/model.gguf.part          bytes fetched so far
    M/partial/owner--name/model.gguf.part.json     what they are (never the token)
    M/partial/owner--name/model.gguf.lock          held while a process downloads it
    M/quarantine/owner--name/model.gguf.<time>.damaged

hashlib's running state cannot be saved, so the sidecar records a *checkpoint*: a byte
count that was flushed to disk (fsync) and the sha256 of the file up to there. On the
next start the partial is cut back to the checkpoint, those bytes are hashed again
(~1 GB/s here, local) and compared with the recorded digest, and the transfer continues
from there. A kill or power cut therefore costs at most what came after the last
finished checkpoint: ``transfer.MAX_UNSAVED_BYTES`` (8 MiB).
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import IO, Any

from wizard.download.errors import DownloadBusyError, DownloadCancelled
from wizard.download.hub_source import RemoteFile
from wizard.download.names import inside, repo_folder_name

SIDECAR_VERSION = 1
READ_BLOCK = 4 * 1024 * 1024


@dataclass(frozen=True)
class DownloadPaths:
    final: Path
    part: Path
    sidecar: Path
    lock: Path
    quarantine_dir: Path

    @classmethod
    def for_file(cls, models_dir: Path, repo_id: str, filename: str) -> DownloadPaths:
        """Where everything for ``repo_id``/``filename`` lives.

        Raises:
            UnsafeNameError: the names would leave the models folder.
        """
        folder = repo_folder_name(repo_id)
        part = inside(models_dir / "partial" / folder, filename + ".part")
        return cls(
            final=inside(models_dir / folder, filename),
            part=part,
            sidecar=part.with_name(part.name + ".json"),
            lock=part.with_name(part.name[: -len(".part")] + ".lock"),
            quarantine_dir=inside(models_dir / "quarantine" / folder, filename).parent,
        )


@dataclass(frozen=True)
class Sidecar:
    """What the partial bytes are. Written atomically; contains no secret."""

    repo_id: str
    filename: str
    commit: str
    url: str
    size: int
    sha256: str | None
    git_sha1: str | None
    checkpoint_bytes: int  # flushed to disk and hashed to ``checkpoint_digest``
    checkpoint_digest: str
    updated: float
    version: int = SIDECAR_VERSION

    @classmethod
    def start(cls, remote: RemoteFile) -> Sidecar:
        return cls(remote.repo_id, remote.filename, remote.commit, remote.url, remote.size,
                   remote.sha256, remote.git_sha1, 0, new_hasher(remote).hexdigest(), time.time())

    def matches(self, remote: RemoteFile) -> bool:
        """Same file content (commits may differ when only other files changed)."""
        if remote.sha256 or self.sha256:
            return self.sha256 == remote.sha256 and self.size == remote.size
        return self.git_sha1 == remote.git_sha1 and self.size == remote.size

    def at(self, checkpoint_bytes: int, digest: str) -> Sidecar:
        values = asdict(self) | {"checkpoint_bytes": checkpoint_bytes, "checkpoint_digest": digest,
                                 "updated": time.time()}
        return Sidecar(**values)


def new_hasher(remote: RemoteFile) -> Any:
    """sha256 for LFS files; for small non-LFS files the git blob sha1 (header included)."""
    if remote.sha256:
        return hashlib.sha256()
    hasher = hashlib.sha1()
    hasher.update(b"blob %d\0" % remote.size)
    return hasher


def expected_digest(remote: RemoteFile) -> str:
    return (remote.sha256 or remote.git_sha1 or "").lower()


def read_sidecar(path: Path) -> Sidecar | None:
    """The sidecar, or ``None`` if it is missing, unreadable or from another version."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("version") != SIDECAR_VERSION:
            return None
        return Sidecar(**data)
    except (OSError, ValueError, TypeError):
        return None


def write_sidecar(path: Path, sidecar: Sidecar) -> None:
    """Atomic and durable: a temp file, fsync, ``os.replace``."""
    write_json_atomic(path, asdict(sidecar))


def write_json_atomic(path: Path, data: Any) -> None:
    """Write ``data`` as JSON so that ``path`` is always the old or the new file, never half of one.

    Raises:
        OSError: the disk refused (the old file, if any, is untouched).
    """
    write_text_atomic(path, json.dumps(data, indent=1))


def write_text_atomic(path: Path, text: str) -> None:
    """Write ``text`` (UTF-8) through a temp file, fsync and ``os.replace``.

    Raises:
        OSError: the disk refused (the old file, if any, is untouched).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(path.name + ".tmp")
    with temp.open("w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temp, path)


def fsync_folder(folder: Path) -> None:
    """Make a rename inside ``folder`` durable (a power cut cannot undo it)."""
    if os.name == "nt":
        return  # Windows cannot open a folder for fsync; NTFS journals the rename
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def discard(paths: DownloadPaths) -> None:
    """Remove the partial file and its sidecar (not the lock: its holder removes it)."""
    for path in (paths.part, paths.sidecar):
        path.unlink(missing_ok=True)


def hash_prefix(handle: IO[bytes], length: int, hasher: Any, *,
                on_bytes: Callable[[int], None], should_stop: Callable[[], str | None]) -> None:
    """Feed the first ``length`` bytes of ``handle`` to ``hasher``.

    Raises:
        DownloadCancelled: ``should_stop`` said so (the partial stays as it is).
        OSError: the partial file is shorter than ``length``.
    """
    handle.seek(0)
    done = 0
    while done < length:
        if should_stop():
            raise DownloadCancelled("The download was stopped while Hearth checked the part already fetched.")
        block = handle.read(min(READ_BLOCK, length - done))
        if not block:
            raise OSError(f"partial file ends at {done}, expected {length}")
        hasher.update(block)
        done += len(block)
        on_bytes(done)


class FileLock:
    """An exclusive lock on a file, released by the OS if the process dies (even SIGKILL)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._handle: IO[bytes] | None = None

    def __enter__(self) -> FileLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = self.path.open("a+b")
        try:
            if os.name == "nt":
                import msvcrt

                msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)
            else:
                import fcntl

                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            handle.close()
            raise DownloadBusyError("This file is already being downloaded by another Hearth window or command.",
                                    details=str(exc)) from exc
        self._handle = handle
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._handle is not None:
            self._handle.close()  # closing releases the lock; the empty file may stay
            self._handle = None
