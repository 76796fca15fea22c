"""Disk space for downloads on a real small disk: a tmpfs mounted for the test.

Mounting needs root (CAP_SYS_ADMIN), which the CI container has; elsewhere these tests
are skipped and tests/wizard/test_download_errors.py covers the same check with an
injected disk-usage function.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.hub_mirror import HubMirror
from wizard.download import NotEnoughSpaceError, RetryPolicy, download_from_hub
from wizard.download.disk import DiskUsage
from wizard.errors import HearthFileError

REPO = "acme/tiny-GGUF"
FILE = "tiny.Q4_1.gguf"
MB = 1024 * 1024


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A real 60 MiB file system."""
    mount_point = tmp_path / "small-disk"
    mount_point.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=60m", "tmpfs", str(mount_point)],
                             capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)


@pytest.fixture
def mirror(hub_mirror: HubMirror, tiny_model: Path) -> HubMirror:
    hub_mirror.add_repo(REPO, {FILE: tiny_model})
    return hub_mirror


def test_a_real_small_disk_is_refused_before_any_byte(mirror: HubMirror, small_disk: Path) -> None:
    with pytest.raises(NotEnoughSpaceError) as caught:
        download_from_hub(REPO, FILE, endpoint=mirror.url, models_dir=small_disk / "models")
    assert caught.value.free <= 60 * MB
    assert "but only 0.1 GB is free on this disk" in caught.value.user_message
    assert mirror.bytes_served == 0


def test_a_disk_that_fills_up_during_the_download_gives_a_plain_error(
        mirror: HubMirror, small_disk: Path) -> None:
    def looks_roomy(path: Path) -> DiskUsage:  # another program fills the disk after the check
        return DiskUsage(total=500_000_000_000, used=100_000_000_000, free=400_000_000_000)

    with pytest.raises(HearthFileError) as caught:
        download_from_hub(REPO, FILE, endpoint=mirror.url, models_dir=small_disk / "models",
                          disk_usage=looks_roomy, policy=RetryPolicy(backoff=0.05))
    assert caught.value.user_message == "Hearth could not write the model file to the disk."
    assert "No space left on device" in caught.value.details
    part = small_disk / "models" / "partial" / "acme--tiny-GGUF" / (FILE + ".part")
    assert part.exists()  # what fitted is kept for when space is freed
