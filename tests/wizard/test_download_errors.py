"""Downloads that must be refused, each with a plain message, and nothing lost.

Against the real local Hub mirror; names, disk space, access, damaged bytes, secrets.
"""

from __future__ import annotations

import logging
import shutil
import threading
from pathlib import Path

import pytest

from tests.support import tiny_model as tiny
from tests.support.hub_mirror import HubMirror
from wizard.download import (
    AccessDeniedError,
    DamagedDownloadError,
    DownloadNetworkError,
    ModelNotFoundError,
    NotEnoughSpaceError,
    RetryPolicy,
    UnsafeNameError,
    download_from_hub,
)
from wizard.download.disk import DiskUsage
from wizard.errors import HearthError
from wizard.logs import setup_logging
from wizard.paths import hearth_paths

REPO = "acme/tiny-GGUF"
FILE = "tiny.Q4_1.gguf"
MB = 1024 * 1024
QUICK = RetryPolicy(backoff=0.05, max_backoff=0.2, stall_timeout=2.0, connect_timeout=5.0)


@pytest.fixture
def mirror(hub_mirror: HubMirror, tiny_model: Path) -> HubMirror:
    hub_mirror.add_repo(REPO, {FILE: tiny_model})
    return hub_mirror


def fetch(mirror: HubMirror, repo: str = REPO, file: str = FILE, **kwargs):
    kwargs.setdefault("policy", QUICK)
    return download_from_hub(repo, file, endpoint=mirror.url, **kwargs)


def assert_plain(error: HearthError) -> None:
    """A sentence for a person: no traceback, no exception names, a hint to act on."""
    for technical in ("Traceback", "Error:", "http", "HfHub", "404", "401", "None"):
        assert technical not in error.user_message, error.user_message
    assert error.hint


@pytest.mark.parametrize("repo, file, revision", [
    ("acme/../etc", FILE, "main"),
    ("acme/tiny-GGUF/extra", FILE, "main"),
    ("/abs/repo", FILE, "main"),
    (REPO, "../../outside.gguf", "main"),
    (REPO, "sub/../../outside.gguf", "main"),
    (REPO, "/etc/passwd", "main"),
    (REPO, "C:/Windows/evil.gguf", "main"),
    (REPO, "c:evil.gguf", "main"),
    (REPO, "folder\\evil.gguf", "main"),
    (REPO, "", "main"),
    (REPO, "a//b.gguf", "main"),
    (REPO, FILE, "../main"),
    (REPO, FILE, "main\\x"),
])
def test_unsafe_names_are_refused_before_any_request(mirror: HubMirror, repo: str, file: str,
                                                      revision: str) -> None:
    with pytest.raises(UnsafeNameError) as caught:
        fetch(mirror, repo, file, revision=revision)
    assert "cannot be used" in caught.value.user_message
    assert mirror.requests == []
    assert not hearth_paths().models.exists() or not any(hearth_paths().models.rglob("*"))


def test_a_file_in_a_sub_folder_is_fine(hub_mirror: HubMirror) -> None:
    hub_mirror.add_repo(REPO, {"Q4/part-1.gguf": b"GGUF" + bytes(1000)})
    result = fetch(hub_mirror, file="Q4/part-1.gguf")
    assert result.path == hearth_paths().models / "acme--tiny-GGUF" / "Q4" / "part-1.gguf"


def test_a_missing_model_says_so(mirror: HubMirror) -> None:
    with pytest.raises(ModelNotFoundError) as caught:
        fetch(mirror, "acme/no-such-model")
    assert caught.value.user_message == "Hearth could not find the model “acme/no-such-model”."
    assert_plain(caught.value)


def test_a_missing_file_says_so(mirror: HubMirror) -> None:
    with pytest.raises(ModelNotFoundError) as caught:
        fetch(mirror, file="tiny.Q8_0.gguf")
    assert "has no file called “tiny.Q8_0.gguf”" in caught.value.user_message
    assert_plain(caught.value)


def test_a_missing_version_says_so(mirror: HubMirror) -> None:
    with pytest.raises(ModelNotFoundError) as caught:
        fetch(mirror, revision="v9")
    assert "has no version called “v9”" in caught.value.user_message
    assert_plain(caught.value)


def test_a_refused_token_says_so(mirror: HubMirror) -> None:
    mirror.trouble.force_status = 401
    with pytest.raises(AccessDeniedError) as caught:
        fetch(mirror, token="hf_expired")
    assert "your access token was not accepted" in caught.value.user_message
    assert_plain(caught.value)


def test_a_server_that_keeps_failing_gives_a_network_message(mirror: HubMirror) -> None:
    mirror.trouble.force_status = 500
    with pytest.raises(DownloadNetworkError) as caught:
        fetch(mirror)
    assert "download server had a problem" in caught.value.user_message
    assert caught.value.hint.endswith("nothing was lost.")


def test_a_gated_model_needs_a_token_which_is_never_written_down(
        hub_mirror: HubMirror, tiny_model: Path) -> None:
    secret = "hf_TopSecretToken1234567890"
    hub_mirror.add_repo(REPO, {FILE: tiny_model}, gated=True, token=secret)
    root = logging.getLogger()
    level_before = root.level
    log_file = setup_logging(logging.DEBUG)

    with pytest.raises(AccessDeniedError) as caught:
        fetch(hub_mirror)
    assert "only available after you accept its terms" in caught.value.user_message
    assert_plain(caught.value)

    pause = threading.Event()
    paused = fetch(hub_mirror, token=secret, pause=pause,
                   progress=lambda e: e.bytes_done > 20 * MB and pause.set())
    assert paused.state == "paused"
    written = [p for p in hearth_paths().models.rglob("*") if p.is_file() and p.suffix != ".part"]
    assert any(p.name.endswith(".part.json") for p in written)
    result = fetch(hub_mirror, token=secret)
    assert tiny.sha256_of(result.path) == tiny.SHA256
    assert all(r["authorization"] == f"Bearer {secret}" for r in hub_mirror.requests[2:])

    for handler in root.handlers:
        handler.flush()
    root.setLevel(level_before)
    for path in [*written, log_file]:
        if path.exists():
            assert secret.encode() not in path.read_bytes(), path


def test_not_enough_disk_space_is_refused_before_any_byte(mirror: HubMirror) -> None:
    def nearly_full_disk(path: Path) -> DiskUsage:
        assert path.exists()  # asked about a real folder on the disk that will hold the file
        return DiskUsage(total=256_000_000_000, used=255_950_000_000, free=50_000_000)

    with pytest.raises(NotEnoughSpaceError) as caught:
        fetch(mirror, disk_usage=nearly_full_disk)
    assert caught.value.user_message == (
        "This download needs 0.4 GB of free space, but only 0.1 GB is free on this disk.")
    assert_plain(caught.value)
    assert mirror.bytes_served == 0
    assert not any(r["method"] == "GET" and "/resolve/" in r["path"] for r in mirror.requests)


def test_the_disk_check_counts_only_the_missing_bytes(mirror: HubMirror) -> None:
    pause = threading.Event()
    mirror.trouble.bytes_per_second = 60 * MB
    first = fetch(mirror, pause=pause, progress=lambda e: e.bytes_done > 60 * MB and pause.set())
    assert first.state == "paused"
    mirror.trouble.bytes_per_second = None
    real_free = shutil.disk_usage(hearth_paths().models).free
    asked: list[int] = []

    def just_enough(path: Path) -> DiskUsage:
        # <= 38 MB still to fetch + the 256 MiB (268 MB) margin fit in 350 MB; the whole
        # 98 MB file would not
        asked.append(real_free)
        return DiskUsage(total=real_free * 2, used=real_free * 2 - 350_000_000, free=350_000_000)

    result = fetch(mirror, disk_usage=just_enough)
    assert asked and result.state == "done"
    assert tiny.sha256_of(result.path) == tiny.SHA256


def test_a_flipped_byte_is_quarantined_and_the_installed_model_is_untouched(
        hub_mirror: HubMirror, tiny_model: Path, tmp_path: Path) -> None:
    installed = hearth_paths().models / "acme--tiny-GGUF" / FILE
    installed.parent.mkdir(parents=True)
    shutil.copyfile(tiny_model, installed)  # the working model from an earlier version

    newer = tmp_path / "newer.gguf"  # the Hub now has a newer upload of the same file name
    newer.write_bytes(tiny_model.read_bytes() + b"\0" * MB)
    hub_mirror.add_repo(REPO, {FILE: newer})
    hub_mirror.trouble.corrupt_at = 50 * MB  # one bit-flip on the way (a bad proxy, bad RAM)

    with pytest.raises(DamagedDownloadError) as caught:
        fetch(hub_mirror)
    error = caught.value
    assert error.user_message.startswith("The downloaded file was damaged on the way")
    assert_plain(error)
    assert error.quarantined.parent == hearth_paths().models / "quarantine" / "acme--tiny-GGUF"
    assert error.quarantined.stat().st_size == newer.stat().st_size
    assert tiny.sha256_of(error.quarantined) != tiny.sha256_of(newer)
    assert tiny.sha256_of(installed) == tiny.SHA256  # still the intact, working model
    partial = hearth_paths().models / "partial" / "acme--tiny-GGUF"
    assert not any(partial.glob("*.part*"))

    hub_mirror.trouble.corrupt_at = None  # the next try is clean and replaces the old version
    result = fetch(hub_mirror)
    assert tiny.sha256_of(result.path) == tiny.sha256_of(newer)


def test_the_space_message_never_shows_two_equal_figures() -> None:
    error = NotEnoughSpaceError(needed=306_000_000, free=300_000_000, folder=Path("/models"))
    assert error.user_message == "This download needs 0.31 GB of free space, but only 0.30 GB is free on this disk."
