"""Moving the bytes: one HTTP stream at a time, resumable, hashed on the way.

huggingface_hub's own downloader deletes a partial file on failure and does not hash,
so Hearth streams the file itself with the HTTP client huggingface_hub already uses
(``get_session()``: httpx2 with ``trust_env``, so it honours the system proxy variables
HTTP_PROXY/HTTPS_PROXY/NO_PROXY, and any client factory the app sets). Every
``CHECKPOINT_BYTES`` the partial is flushed to disk and the sidecar records how far it
is safe (see ``partial.py``).

What a kill can cost: the fsync runs in the background while bytes keep arriving, so
at most two intervals are unsaved at any moment (one being saved, one arriving). When
the disk is slower than that, the transfer waits for it: never more than
``MAX_UNSAVED_BYTES`` (8 MiB) of the file has to be fetched again after a crash.

A stall is a read that times out (``stall_timeout``); it, a dropped connection and a
5xx answer are retried with exponential backoff, each retry asking only for the
missing bytes (``Range: bytes=N-``). Cancel and pause take effect within ~0.1 s even
while a read is blocked: a watcher thread shuts the socket down.
"""

from __future__ import annotations

import logging
import os
import re
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, Any

import httpcore2
import httpx2
from huggingface_hub import get_session, hf_raise_for_status

from wizard.download.errors import DownloadNetworkError
from wizard.download.hub_source import RemoteFile, plain_error
from wizard.download.partial import DownloadPaths, Sidecar, new_hasher, write_sidecar
from wizard.download.progress import ProgressReporter
from wizard.download.retry import RETRY_STATUSES, RetryPolicy, StopCheck, sleep_unless_stopped

log = logging.getLogger(__name__)

CHECKPOINT_BYTES = 4 * 1024 * 1024
# The most a kill or power cut can lose from the file. Half of issue 4's "one 16 MiB chunk":
# the server also counts what sat unread in socket buffers (measured up to ~5 MiB here).
MAX_UNSAVED_BYTES = 2 * CHECKPOINT_BYTES
_CONTENT_RANGE = re.compile(r"^bytes (\d+)-(\d+)/(\d+|\*)$")

# The HTTP client reads a response 64 KiB at a time, and each read costs ~30 us of Python
# on the downloading thread; with 1 MiB reads a local 98 MB transfer took ~175 ms of CPU
# instead of ~215 ms (tests/bench/README.md). The setting is the HTTP client's, for every
# connection in the process; a read returns what has arrived, so small answers are unchanged.
READ_BYTES = 1024 * 1024
if getattr(httpcore2.HTTP11Connection, "READ_NUM_BYTES", READ_BYTES) < READ_BYTES:
    httpcore2.HTTP11Connection.READ_NUM_BYTES = READ_BYTES


class _Retry(Exception):
    """This attempt failed in a way worth trying again."""


class _RangeIgnored(Exception):
    """The server answered a Range request with something other than the asked-for bytes."""


@contextmanager
def _interrupt_on_stop(response: httpx2.Response, should_stop: StopCheck) -> Iterator[None]:
    """Shut the response's socket down as soon as ``should_stop()`` says so.

    A blocked ``recv`` does not notice a flag; shutting the socket down makes it return
    at once, on every OS, which closing it from another thread does not guarantee.
    """
    finished = threading.Event()
    stream = response.extensions.get("network_stream")
    sock = stream.get_extra_info("socket") if stream is not None else None

    def watch() -> None:
        while not finished.wait(0.05):
            if should_stop():
                try:
                    if isinstance(sock, socket.socket):
                        sock.shutdown(socket.SHUT_RDWR)
                    else:
                        response.close()
                except OSError:
                    pass
                return

    watcher = threading.Thread(target=watch, name="download-stop-watcher", daemon=True)
    watcher.start()
    try:
        yield
    finally:
        finished.set()
        watcher.join()


class Transfer:
    """Fetch the rest of ``remote`` into the open partial file ``handle``.

    ``hasher`` already holds the hash of the first ``offset`` bytes of the file.
    """

    def __init__(self, remote: RemoteFile, paths: DownloadPaths, sidecar: Sidecar, handle: IO[bytes],
                 hasher: Any, offset: int, *, headers: dict[str, str], reporter: ProgressReporter,
                 should_stop: StopCheck, policy: RetryPolicy, client: httpx2.Client | None = None) -> None:
        self.remote, self.paths, self.sidecar = remote, paths, sidecar
        self.handle, self.hasher, self.offset = handle, hasher, offset
        self.headers, self.reporter, self.should_stop, self.policy = headers, reporter, should_stop, policy
        self.client = client or get_session()
        self.fetched = 0  # file bytes received over the network by this transfer
        self._checkpointed = offset  # the offset of the latest checkpoint started
        self._durable = offset  # the offset of the latest checkpoint finished (fsync'd, in the sidecar)
        self._background: threading.Thread | None = None
        self._background_error: OSError | None = None

    # ---- public ----------------------------------------------------------------------
    def run(self) -> str:
        """Fetch until the file is complete or someone stops it.

        Returns:
            "done", "pause" or "cancel" (the partial is checkpointed for the last two).
        Raises:
            DownloadNetworkError: too many failures in a row, or an unexpected answer.
            ModelNotFoundError, AccessDeniedError: the server refused the file itself.
            OSError: the partial file or its sidecar could not be written (e.g. disk full).
        """
        try:
            outcome = self._run()
        except BaseException:
            if self._background is not None:  # never leave a sidecar write running behind us
                self._background.join()
            raise
        self._wait_for_background_checkpoint()
        return outcome

    def _run(self) -> str:
        failures = 0
        while self.offset < self.remote.size:
            if reason := self.should_stop():
                self.checkpoint()
                return reason
            before = self.offset
            try:
                self._one_request()
                continue
            except _RangeIgnored as exc:
                log.warning("server did not honour Range (%s); starting this file over", exc)
                self._restart()
                continue
            except (_Retry, httpx2.TransportError, httpx2.StreamError) as exc:
                if reason := self.should_stop():
                    self.checkpoint()
                    return reason
                failures = 1 if self.offset > before else failures + 1
                log.info("download attempt failed at byte %d (%s: %s)", self.offset, type(exc).__name__, exc)
                if failures > self.policy.attempts:
                    self.checkpoint()
                    raise DownloadNetworkError(
                        "The connection to the download server kept failing, so Hearth stopped trying for now.",
                        hint="Check your internet connection and start the download again; "
                             "it will continue where it stopped.",
                        details=f"{type(exc).__name__}: {exc}") from exc
                self.checkpoint()
                wait = self.policy.wait_after(failures)
                self.reporter.state("waiting", f"The connection was interrupted; trying again in {wait:.0f} s.")
                if reason := self._sleep(wait):
                    return reason
        return "done"

    def checkpoint(self) -> None:
        """Make the bytes so far durable and record them in the sidecar (waits for it)."""
        self._wait_for_background_checkpoint()
        if self.offset == self._checkpointed and self.sidecar.checkpoint_bytes == self.offset:
            return
        self.handle.flush()
        self._persist(self.offset, self.hasher.copy().hexdigest())
        self._checkpointed = self.offset

    def _checkpoint_in_background(self) -> None:
        """Start a checkpoint without waiting for the disk (fsync took ~35% of a fast transfer).

        fsync covers everything written to the file so far, so it covers ``offset`` even
        while new bytes keep arriving; one checkpoint at a time keeps the sidecars in order.
        """
        if self._background is not None:
            if self._background.is_alive():
                return  # the disk is still busy with the previous one; try after the next chunk
            self._wait_for_background_checkpoint()
        self.handle.flush()
        offset, digest = self.offset, self.hasher.copy().hexdigest()
        self._checkpointed = offset
        self._background = threading.Thread(target=self._persist_catching, args=(offset, digest),
                                            name="download-checkpoint", daemon=True)
        self._background.start()

    def _persist(self, offset: int, digest: str) -> None:
        os.fsync(self.handle.fileno())
        self.sidecar = self.sidecar.at(offset, digest)
        write_sidecar(self.paths.sidecar, self.sidecar)
        self._durable = offset

    def _persist_catching(self, offset: int, digest: str) -> None:
        try:
            self._persist(offset, digest)
        except OSError as exc:  # re-raised on the downloading thread
            self._background_error = exc

    def _wait_for_background_checkpoint(self) -> None:
        if self._background is not None:
            self._background.join()
            self._background = None
        if (error := self._background_error) is not None:
            self._background_error = None
            raise error

    # ---- one HTTP request ------------------------------------------------------------
    def _one_request(self) -> None:
        headers = dict(self.headers)
        if self.offset:
            headers["Range"] = f"bytes={self.offset}-"
        timeout = httpx2.Timeout(self.policy.stall_timeout, connect=self.policy.connect_timeout)
        with self.client.stream("GET", self.remote.url, headers=headers, timeout=timeout) as response:
            self._check_response(response)
            self.reporter.state("downloading", done=self.offset)
            self.reporter.start_counting(self.offset)
            with _interrupt_on_stop(response, self.should_stop):
                for chunk in response.iter_raw():
                    if self.should_stop():
                        break
                    self._write(chunk)
        if self.offset < self.remote.size and not self.should_stop():
            raise _Retry(f"the response ended at byte {self.offset} of {self.remote.size}")

    def _check_response(self, response: httpx2.Response) -> None:
        status = response.status_code
        if status in RETRY_STATUSES:
            raise _Retry(f"HTTP {status}")
        if status == 416 or (status == 200 and self.offset):
            raise _RangeIgnored(f"HTTP {status} for bytes={self.offset}-")
        if status == 206:
            match = _CONTENT_RANGE.match(response.headers.get("Content-Range", ""))
            if (match is None or int(match[1]) != self.offset
                    or (match[3] != "*" and int(match[3]) != self.remote.size)):
                raise _RangeIgnored(f"Content-Range {response.headers.get('Content-Range')!r}")
        elif status != 200:
            response.read()
            try:
                hf_raise_for_status(response)
            except Exception as exc:
                context = dict(repo_id=self.remote.repo_id, filename=self.remote.filename,
                               revision=self.remote.revision, token_given="authorization" in
                               {k.lower() for k in self.headers})
                raise plain_error(exc, **context) from exc
            raise DownloadNetworkError(f"The download server gave an unexpected answer ({status}).",
                                       details=f"HTTP {status} for {self.remote.url}")

    def _write(self, chunk: bytes) -> None:
        if self.offset + len(chunk) > self.remote.size:
            raise _Retry(f"the server sent more than {self.remote.size} bytes")
        if self.offset + len(chunk) - self._durable > MAX_UNSAVED_BYTES:
            self._wait_for_background_checkpoint()  # the disk is behind: keep the loss bound
            if self.offset + len(chunk) - self._durable > MAX_UNSAVED_BYTES:
                self.checkpoint()
        self.handle.write(chunk)
        self.hasher.update(chunk)
        self.offset += len(chunk)
        self.fetched += len(chunk)
        if self.offset - self._checkpointed >= CHECKPOINT_BYTES:
            self._checkpoint_in_background()
        self.reporter.bytes(self.offset)

    # ---- helpers ---------------------------------------------------------------------
    def _restart(self) -> None:
        self._wait_for_background_checkpoint()  # no older checkpoint may land after this one
        self.handle.seek(0)
        self.handle.truncate()
        self.hasher = new_hasher(self.remote)
        self.offset = 0
        self._checkpointed = self._durable = -1
        self.checkpoint()

    def _sleep(self, seconds: float) -> str | None:
        """Wait ``seconds`` unless stopped; return the stop reason, if any."""
        return sleep_unless_stopped(seconds, self.should_stop)
