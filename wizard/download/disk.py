"""Is there room for the download? Asked before the first byte is fetched."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

from wizard.download.errors import NotEnoughSpaceError


class DiskUsage(NamedTuple):
    total: int
    used: int
    free: int


DiskUsageFunction = Callable[[Path], "DiskUsage | shutil._ntuple_diskusage"]

MARGIN_MIN = 256 * 1024 * 1024  # room for the log, the sidecar, and the system itself
MARGIN_FRACTION = 0.02


def safety_margin(size: int) -> int:
    """Bytes kept free on top of the download: 2% of it, at least 256 MiB."""
    return max(MARGIN_MIN, int(size * MARGIN_FRACTION))


def existing_folder(path: Path) -> Path:
    """The nearest folder of ``path`` that exists (disk usage needs a real path)."""
    for candidate in (path, *path.parents):
        if candidate.is_dir():
            return candidate
    return Path(path.anchor or ".")


def check_free_space(folder: Path, remaining: int, *, disk_usage: DiskUsageFunction = shutil.disk_usage,
                     what: str = "This download") -> int:
    """Return the free bytes if ``remaining`` bytes plus a margin fit on ``folder``'s disk.

    ``what`` begins the error message ("This download", "This model pack" …).

    Raises:
        NotEnoughSpaceError: with how much is needed and how much is free, in GB.
    """
    free = int(disk_usage(existing_folder(folder)).free)
    needed = remaining + safety_margin(remaining)
    if needed > free:
        raise NotEnoughSpaceError(needed=needed, free=free, folder=folder, what=what)
    return free
