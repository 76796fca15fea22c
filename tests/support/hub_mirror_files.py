"""What the test Hub holds: repositories, their files (with the Hub's checksums), and the
switches that make its network misbehave. Served by :mod:`tests.support.hub_mirror`."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

CHUNK = 64 * 1024
LFS_THRESHOLD = 10 * 1024 * 1024  # the Hub stores big files and all model weights in LFS


def hash_file(path: Path) -> tuple[str, str]:
    sha256, size = hashlib.sha256(), 0
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            sha256.update(block)
            size += len(block)
    return sha256.hexdigest(), size


def git_blob_sha1(content: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(content) + content).hexdigest()


@dataclass
class MirrorFile:
    path: str
    size: int
    sha256: str
    lfs: bool
    data: bytes | None = None
    source: Path | None = None

    @property
    def git_oid(self) -> str:
        """The git blob id: of the LFS pointer for LFS files, as on the Hub."""
        if self.lfs:
            return git_blob_sha1(self.lfs_pointer)
        return git_blob_sha1(self.data or b"")

    @property
    def lfs_pointer(self) -> bytes:
        return (
            "version https://git-lfs.github.com/spec/v1\n"
            f"oid sha256:{self.sha256}\nsize {self.size}\n"
        ).encode()

    @property
    def etag(self) -> str:
        return self.sha256 if self.lfs else self.git_oid

    def read(self, start: int, length: int) -> bytes:
        if self.data is not None:
            return self.data[start : start + length]
        assert self.source is not None
        with self.source.open("rb") as handle:
            handle.seek(start)
            return handle.read(length)


@dataclass
class MirrorRepo:
    repo_id: str
    files: dict[str, MirrorFile]
    sha: str
    gated: bool = False
    token: str | None = None
    branches: dict[str, str] = field(default_factory=dict)

    def resolve_revision(self, revision: str) -> str | None:
        if revision == self.sha:
            return self.sha
        return self.branches.get(revision)


@dataclass
class NetworkTrouble:
    """Switches for the next transfers. Offsets are positions in the file, not the response."""

    drop_at: int | None = None  # close the connection once the file byte at this offset is due
    drop_times: int = 1  # how many responses get dropped before transfers run clean again
    corrupt_at: int | None = None  # flip this byte of the file in every response
    bytes_per_second: float | None = None  # a slow link
    stall_at: int | None = None  # stop sending (connection open) at this offset …
    stall_seconds: float = 0.0  # … for this long
    force_status: int | None = None  # answer every request with this status …
    force_status_times: int | None = None  # … this many times (None: until cleared) …
    force_status_method: str | None = None  # … only for this method, e.g. "POST" (None: every request)
    hang_up_times: int = 0  # close this many connections, each when a request arrives, with no answer
    ignore_range: bool = False  # answer Range requests with 200 and the whole file (no Range support)
