"""Download one model file from the Hub (or a mirror of it): resumable and verified.

    result = download_from_hub("owner/name", "model.gguf", progress=show, cancel=stop_event)

What happens, in order: the names are checked (before any request); the Hub is asked
for the file's commit, size and sha256; a lock is taken; an earlier partial is
continued if it is the same file; free space is checked (before any byte of the file);
the bytes are fetched and hashed; a verified file is moved into the models folder with
``os.replace``; a damaged one goes to the quarantine folder instead.
"""

from __future__ import annotations

import logging
import os
import shutil
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Literal

import httpx2

from wizard.download.disk import DiskUsageFunction, check_free_space
from wizard.download.errors import DamagedDownloadError, DownloadCancelled
from wizard.download.hub_source import RemoteFile, describe_remote_file, hub_headers
from wizard.download.names import check_file_name, check_repo_id, check_revision
from wizard.download.partial import (
    DownloadPaths,
    FileLock,
    Sidecar,
    discard,
    expected_digest,
    fsync_folder,
    hash_prefix,
    new_hasher,
    read_sidecar,
    write_sidecar,
)
from wizard.download.progress import ProgressCallback, ProgressReporter
from wizard.download.retry import RetryPolicy, StopCheck
from wizard.download.transfer import Transfer
from wizard.errors import HearthError, HearthFileError
from wizard.paths import hearth_paths

log = logging.getLogger(__name__)

Flag = threading.Event | Callable[[], bool] | None


@dataclass(frozen=True)
class DownloadResult:
    """How a download ended without an error.

    ``state`` is "done" (``path`` is the verified file) or "paused" (``path`` is the
    partial file; call again to continue). ``bytes_fetched`` counts file bytes received
    over the network by this call; ``resumed_from`` is where it started.
    """

    state: Literal["done", "paused"]
    path: Path
    repo_id: str
    filename: str
    commit: str
    size: int
    digest: str
    bytes_fetched: int
    resumed_from: int


def _is_set(flag: Flag) -> bool:
    if flag is None:
        return False
    if isinstance(flag, threading.Event):
        return flag.is_set()
    return bool(flag())


def _stop_check(cancel: Flag, pause: Flag) -> StopCheck:
    def should_stop() -> str | None:
        if _is_set(cancel):
            return "cancel"
        if _is_set(pause):
            return "pause"
        return None
    return should_stop


def _hash_file(path: Path, remote: RemoteFile, should_stop: StopCheck,
               reporter: ProgressReporter) -> str:
    hasher = new_hasher(remote)
    with path.open("rb") as handle:
        hash_prefix(handle, remote.size, hasher, on_bytes=reporter.bytes_checked, should_stop=should_stop)
    return hasher.hexdigest()


def download_from_hub(
    repo_id: str,
    filename: str,
    *,
    revision: str = "main",
    endpoint: str | None = None,
    token: str | None = None,
    models_dir: Path | None = None,
    progress: ProgressCallback | None = None,
    cancel: Flag = None,
    pause: Flag = None,
    disk_usage: DiskUsageFunction = shutil.disk_usage,
    policy: RetryPolicy = RetryPolicy(),
    client: httpx2.Client | None = None,
) -> DownloadResult:
    """Download ``filename`` of ``repo_id`` into the models folder, continuing any earlier partial.

    Args:
        endpoint: a Hub mirror (``None``: huggingface_hub's default, ``HF_ENDPOINT``).
        token: access token for gated or private models (from the keyring); never written
            anywhere.
        models_dir: the models folder (default: ``hearth_paths().models``). The file ends
            up in ``models_dir/owner--name/filename``.
        progress: receives :class:`DownloadProgress` events (at most ~10 a second).
        cancel, pause: an Event or a callable; both keep the partial file. Pause returns a
            "paused" result, cancel raises :class:`DownloadCancelled`.
        disk_usage: ``shutil.disk_usage`` or a replacement (tests, quotas).

    Raises:
        UnsafeNameError: a name could leave the models folder (no request was made).
        ModelNotFoundError, AccessDeniedError: the Hub refused or does not know the file.
        NotEnoughSpaceError: not enough free disk (no byte of the file was fetched).
        DownloadNetworkError: the connection kept failing (the partial is kept).
        DamagedDownloadError: the checksum did not match (the file was quarantined).
        DownloadBusyError: another process is downloading the same file.
        DownloadCancelled: ``cancel`` was set (the partial is kept).
        HearthFileError: the disk refused a write (full, read-only, unplugged).
    """
    check_repo_id(repo_id)
    check_file_name(filename)
    check_revision(revision)
    paths = DownloadPaths.for_file(models_dir or hearth_paths().models, repo_id, filename)
    reporter = ProgressReporter(progress, 0)
    should_stop = _stop_check(cancel, pause)
    try:
        reporter.state("waiting", "Asking the download server about the file…")
        remote = describe_remote_file(
            repo_id, filename, revision=revision, endpoint=endpoint, token=token, policy=policy,
            should_stop=should_stop, on_wait=lambda wait: reporter.state(
                "waiting", f"The download server did not answer; trying again in {wait:.0f} s."))
        reporter.total = remote.size
        with FileLock(paths.lock):
            return _download_locked(remote, paths, token=token, reporter=reporter, should_stop=should_stop,
                                    disk_usage=disk_usage, policy=policy, client=client)
    except DownloadCancelled:
        reporter.state("paused", "Stopped. What was downloaded so far is kept.")
        raise
    except HearthError as exc:
        reporter.state("failed", exc.user_message)
        raise
    except OSError as exc:  # the disk, not the network: full, read-only, removed USB drive …
        error = HearthFileError(
            "Hearth could not write the model file to the disk.",
            hint="Check that the disk has free space and is still connected, then start the download "
                 "again; what was downloaded so far is kept.",
            details=f"{type(exc).__name__}: {exc}")
        reporter.state("failed", error.user_message)
        raise error from exc


def _resume_point(remote: RemoteFile, paths: DownloadPaths) -> Sidecar | None:
    """The sidecar of a partial that can be continued, or ``None`` (and any stale partial removed)."""
    sidecar = read_sidecar(paths.sidecar)
    usable = (sidecar is not None and sidecar.matches(remote) and paths.part.exists()
              and paths.part.stat().st_size >= sidecar.checkpoint_bytes)
    if usable:
        return sidecar
    if sidecar is not None or paths.part.exists():
        log.info("discarding partial %s: it is not the file now on the server", paths.part)
        discard(paths)
    return None


def _download_locked(remote: RemoteFile, paths: DownloadPaths, *, token: str | None,
                     reporter: ProgressReporter, should_stop: StopCheck, disk_usage: DiskUsageFunction,
                     policy: RetryPolicy, client: httpx2.Client | None) -> DownloadResult:
    digest_wanted = expected_digest(remote)

    def result(state: Literal["done", "paused"], path: Path, fetched: int, start: int) -> DownloadResult:
        return DownloadResult(state, path, remote.repo_id, remote.filename, remote.commit, remote.size,
                              digest_wanted, fetched, start)

    earlier = _resume_point(remote, paths)
    if earlier is None and paths.final.is_file() and paths.final.stat().st_size == remote.size:
        reporter.state("verifying", "Checking the copy already installed…", done=0)
        if _hash_file(paths.final, remote, should_stop, reporter) == digest_wanted:
            reporter.state("done", "Already installed and intact.", done=remote.size)
            return result("done", paths.final, 0, remote.size)

    offset = earlier.checkpoint_bytes if earlier else 0
    check_free_space(paths.part.parent, remote.size - offset, disk_usage=disk_usage)
    paths.part.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(paths.part, os.O_RDWR | os.O_CREAT | getattr(os, "O_BINARY", 0), 0o644)
    with os.fdopen(fd, "r+b") as handle:
        hasher = new_hasher(remote)
        if earlier is not None and offset:
            offset, hasher = _check_earlier_bytes(handle, offset, earlier, remote, reporter, should_stop)
        handle.truncate(offset)
        handle.seek(offset)
        sidecar = Sidecar.start(remote).at(offset, hasher.copy().hexdigest())
        write_sidecar(paths.sidecar, sidecar)
        transfer = Transfer(remote, paths, sidecar, handle, hasher, offset,
                            headers=hub_headers(token), reporter=reporter, should_stop=should_stop,
                            policy=policy, client=client)
        outcome = transfer.run()
        if outcome == "pause":
            reporter.state("paused", "Paused. What was downloaded so far is kept.", done=transfer.offset)
            return result("paused", paths.part, transfer.fetched, offset)
        if outcome == "cancel":
            raise DownloadCancelled("The download was stopped. What was downloaded so far is kept.")
        reporter.state("verifying", "Checking the downloaded file…", done=transfer.offset)
        digest = transfer.hasher.hexdigest()
        handle.flush()
        os.fsync(handle.fileno())
    if digest != digest_wanted:
        quarantined = _quarantine(paths)
        raise DamagedDownloadError(quarantined=quarantined, expected=digest_wanted, actual=digest)
    paths.final.parent.mkdir(parents=True, exist_ok=True)
    os.replace(paths.part, paths.final)
    fsync_folder(paths.final.parent)
    paths.sidecar.unlink(missing_ok=True)
    log.info("downloaded %s/%s@%s to %s (%d bytes fetched, resumed from %d)", remote.repo_id,
             remote.filename, remote.commit, paths.final, transfer.fetched, offset)
    reporter.state("done", "Downloaded and verified.", done=remote.size)
    return result("done", paths.final, transfer.fetched, offset)


def _check_earlier_bytes(handle: IO[bytes], offset: int, earlier: Sidecar, remote: RemoteFile,
                         reporter: ProgressReporter, should_stop: StopCheck) -> tuple[int, object]:
    """Hash the bytes up to the checkpoint again; start over if they are not what was saved.

    Raises:
        DownloadCancelled: stopped while hashing.
    """
    reporter.state("verifying", "Checking the part downloaded earlier…", done=0)
    hasher = new_hasher(remote)
    try:
        hash_prefix(handle, offset, hasher, should_stop=should_stop,
                    on_bytes=reporter.bytes_checked)
    except OSError:
        log.warning("partial %s is shorter than its checkpoint; starting over", handle)
        return 0, new_hasher(remote)
    if hasher.hexdigest() != earlier.checkpoint_digest:
        log.warning("partial bytes changed on disk since the checkpoint; starting over")
        return 0, new_hasher(remote)
    return offset, hasher


def _quarantine(paths: DownloadPaths) -> Path:
    """Move the damaged partial aside (never over an installed file) and forget its sidecar."""
    paths.quarantine_dir.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    target = paths.quarantine_dir / f"{paths.final.name}.{stamp}.damaged"
    os.replace(paths.part, target)
    paths.sidecar.unlink(missing_ok=True)
    log.warning("checksum mismatch: %s moved to %s", paths.part, target)
    return target
