"""wizard.download against the real local Hub mirror with the real tiny model (98 MB).

Each test downloads real bytes over real HTTP on 127.0.0.1 and checks the file on disk
by sha256 and the mirror's own byte counters.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from pathlib import Path

import pytest

from tests.support import tiny_model as tiny
from tests.support.hub_mirror import HubMirror
from wizard.download import (
    DownloadProgress,
    RetryPolicy,
    download_from_hub,
)
from wizard.paths import hearth_paths

REPO = "acme/tiny-GGUF"
FILE = "tiny.Q4_1.gguf"
MB = 1024 * 1024
QUICK = RetryPolicy(backoff=0.05, max_backoff=0.2, stall_timeout=2.0, connect_timeout=5.0)


@pytest.fixture
def mirror(hub_mirror: HubMirror, tiny_model: Path) -> HubMirror:
    hub_mirror.add_repo(REPO, {FILE: tiny_model, "README.md": b"# tiny\n"})
    return hub_mirror


def fetch(mirror: HubMirror, **kwargs):
    kwargs.setdefault("policy", QUICK)
    return download_from_hub(REPO, FILE, endpoint=mirror.url, **kwargs)


def installed_path() -> Path:
    return hearth_paths().models / "acme--tiny-GGUF" / FILE


def partial_path() -> Path:
    return hearth_paths().models / "partial" / "acme--tiny-GGUF" / (FILE + ".part")


def sidecar() -> dict:
    return json.loads(partial_path().with_name(FILE + ".part.json").read_text())


def test_full_download_lands_verified_in_the_models_folder(mirror: HubMirror) -> None:
    events: list[DownloadProgress] = []
    result = fetch(mirror, progress=events.append)

    assert result.state == "done"
    assert result.path == installed_path()
    assert tiny.sha256_of(result.path) == tiny.SHA256 == result.digest
    assert result.bytes_fetched == tiny.SIZE == mirror.bytes_served_by_path[FILE]
    assert not partial_path().exists() and not partial_path().with_name(FILE + ".part.json").exists()
    states = [e.state for e in events]
    assert states[0] == "waiting" and states[-2:] == ["verifying", "done"]
    assert "downloading" in states
    done_bytes = [e.bytes_done for e in events if e.state == "downloading"]
    assert done_bytes == sorted(done_bytes)
    assert events[-1].bytes_done == events[-1].bytes_total == tiny.SIZE


def test_a_small_non_lfs_file_is_verified_by_its_git_blob_id(mirror: HubMirror) -> None:
    result = download_from_hub(REPO, "README.md", endpoint=mirror.url, policy=QUICK)
    assert result.path.read_bytes() == b"# tiny\n"
    assert result.digest == mirror.repos[REPO].files["README.md"].git_oid


def test_a_dropped_connection_is_resumed_with_a_range_request(mirror: HubMirror) -> None:
    mirror.trouble.drop_at = 40 * MB + 123
    events: list[DownloadProgress] = []
    result = fetch(mirror, progress=events.append)

    assert tiny.sha256_of(result.path) == tiny.SHA256
    assert mirror.bytes_served_by_path[FILE] == tiny.SIZE  # nothing fetched twice
    gets = [r for r in mirror.requests if r["method"] == "GET" and "/resolve/" in r["path"]]
    assert [r["range"] for r in gets] == [None, f"bytes={40 * MB + 123}-"]
    assert any(e.state == "waiting" and "trying again" in e.message for e in events)


def test_server_errors_while_downloading_are_retried(mirror: HubMirror) -> None:
    mirror.trouble.drop_at = 20 * MB

    def after_the_drop_answer_503_twice(event: DownloadProgress) -> None:
        if event.state == "waiting" and "trying again" in event.message and mirror.trouble.drop_at is None:
            if not hasattr(after_the_drop_answer_503_twice, "armed"):
                after_the_drop_answer_503_twice.armed = True  # type: ignore[attr-defined]
                mirror.trouble.force_status, mirror.trouble.force_status_times = 503, 2

    result = fetch(mirror, progress=after_the_drop_answer_503_twice)
    assert tiny.sha256_of(result.path) == tiny.SHA256
    assert mirror.bytes_served_by_path[FILE] == tiny.SIZE
    gets = [r["range"] for r in mirror.requests if r["method"] == "GET" and "/resolve/" in r["path"]]
    assert gets == [None] + [f"bytes={20 * MB}-"] * 3


def test_a_stall_is_detected_by_the_read_timeout_and_retried(mirror: HubMirror) -> None:
    mirror.trouble.stall_at, mirror.trouble.stall_seconds = 10 * MB, 30.0

    def clear_stall_on_retry(event: DownloadProgress) -> None:
        if event.state == "waiting" and "trying again" in event.message:
            mirror.trouble.stall_at = None  # the next connection is healthy

    started = time.monotonic()
    result = fetch(mirror, progress=clear_stall_on_retry,
                   policy=RetryPolicy(backoff=0.05, stall_timeout=1.0))
    assert time.monotonic() - started < 20  # far less than the 30 s stall: it was not waited out
    assert tiny.sha256_of(result.path) == tiny.SHA256
    assert mirror.bytes_served_by_path[FILE] == tiny.SIZE
    gets = [r["range"] for r in mirror.requests if r["method"] == "GET" and "/resolve/" in r["path"]]
    assert gets == [None, f"bytes={10 * MB}-"]


def test_cancel_during_a_stall_stops_at_once_and_keeps_the_partial(mirror: HubMirror) -> None:
    from wizard.download import DownloadCancelled

    mirror.trouble.stall_at, mirror.trouble.stall_seconds = 24 * MB, 20.0
    cancel = threading.Event()
    outcome: dict[str, object] = {}

    def run() -> None:
        try:
            outcome["result"] = fetch(mirror, cancel=cancel, policy=RetryPolicy(stall_timeout=60.0))
        except BaseException as exc:  # noqa: BLE001 - handed to the test thread
            outcome["error"] = exc
        outcome["ended"] = time.monotonic()

    worker = threading.Thread(target=run)
    worker.start()
    deadline = time.monotonic() + 30
    while mirror.bytes_served_by_path[FILE] < 24 * MB and time.monotonic() < deadline:
        time.sleep(0.02)
    time.sleep(0.5)  # well inside the stall now
    asked = time.monotonic()
    cancel.set()
    worker.join(timeout=10)
    assert not worker.is_alive()
    assert isinstance(outcome.get("error"), DownloadCancelled), outcome
    assert outcome["ended"] - asked < 1.5  # type: ignore[operator]
    assert partial_path().stat().st_size == 24 * MB
    assert sidecar()["checkpoint_bytes"] == 24 * MB  # all received bytes were kept

    mirror.trouble.stall_at = None
    mirror.reset_counters()
    result = fetch(mirror)
    assert result.resumed_from == 24 * MB
    assert mirror.bytes_served_by_path[FILE] == tiny.SIZE - 24 * MB
    assert tiny.sha256_of(result.path) == tiny.SHA256


def test_pause_returns_a_paused_state_and_the_next_call_continues(mirror: HubMirror) -> None:
    pause = threading.Event()
    events: list[DownloadProgress] = []

    def watch(event: DownloadProgress) -> None:
        events.append(event)
        if event.bytes_done > 30 * MB:
            pause.set()

    mirror.trouble.bytes_per_second = 60 * MB
    paused = fetch(mirror, progress=watch, pause=pause)
    assert paused.state == "paused" and paused.path == partial_path()
    assert events[-1].state == "paused"
    kept = partial_path().stat().st_size
    assert kept > 30 * MB and sidecar()["checkpoint_bytes"] == kept
    assert not installed_path().exists()

    mirror.trouble.bytes_per_second = None
    result = fetch(mirror)
    assert result.state == "done" and result.resumed_from == kept
    assert paused.bytes_fetched + result.bytes_fetched == tiny.SIZE
    # the mirror also counts what was still in the socket buffers when the pause came
    assert tiny.SIZE <= mirror.bytes_served_by_path[FILE] < tiny.SIZE + 2 * MB
    assert tiny.sha256_of(result.path) == tiny.SHA256


def test_progress_events_are_throttled_and_carry_speed_and_eta(mirror: HubMirror) -> None:
    mirror.trouble.bytes_per_second = 40 * MB  # ~2.5 s
    events: list[DownloadProgress] = []
    started = time.monotonic()
    fetch(mirror, progress=events.append)
    took = time.monotonic() - started
    downloading = [e for e in events if e.state == "downloading"]
    assert len(downloading) <= 10 * took + 3
    assert len(downloading) >= 10  # still a live bar, not one event at the end
    late = downloading[len(downloading) // 2:]
    assert all(20 * MB < e.speed < 80 * MB for e in late), [e.speed for e in late]
    assert all(e.eta is not None and 0 <= e.eta < 5 for e in late)
    with pytest.raises(AttributeError):
        events[0].state = "done"  # type: ignore[misc]  # frozen: safe to hand to another thread


def test_a_second_call_for_an_installed_file_fetches_nothing(mirror: HubMirror) -> None:
    fetch(mirror)
    mirror.reset_counters()
    again = fetch(mirror)
    assert again.state == "done" and again.bytes_fetched == 0
    assert mirror.bytes_served == 0


def test_a_changed_remote_file_restarts_the_partial_cleanly(mirror: HubMirror, tmp_path: Path,
                                                           tiny_model: Path) -> None:
    pause = threading.Event()
    fetch(mirror, pause=pause, progress=lambda e: e.bytes_done > 20 * MB and pause.set())
    old_checkpoint = sidecar()["checkpoint_bytes"]
    assert old_checkpoint > 20 * MB

    changed = tmp_path / "changed.gguf"
    data = bytearray(tiny_model.read_bytes())
    data[1000] ^= 0x55  # same size, different content: a new upload of the file
    changed.write_bytes(bytes(data))
    mirror.add_repo(REPO, {FILE: changed})
    mirror.reset_counters()

    result = fetch(mirror)
    assert result.resumed_from == 0
    assert mirror.bytes_served_by_path[FILE] == tiny.SIZE
    assert tiny.sha256_of(result.path) == tiny.sha256_of(changed)


def test_a_partial_damaged_on_disk_is_detected_and_fetched_again(mirror: HubMirror) -> None:
    pause = threading.Event()
    fetch(mirror, pause=pause, progress=lambda e: e.bytes_done > 20 * MB and pause.set())
    with partial_path().open("r+b") as handle:  # e.g. a bad sector, or a sync tool
        handle.seek(5 * MB)
        byte = handle.read(1)
        handle.seek(5 * MB)
        handle.write(bytes([byte[0] ^ 0xFF]))
    result = fetch(mirror)
    assert result.resumed_from == 0
    assert tiny.sha256_of(result.path) == tiny.SHA256


def test_a_second_process_on_the_same_file_is_refused(mirror: HubMirror) -> None:
    from wizard.download import DownloadBusyError
    from wizard.download.partial import DownloadPaths, FileLock

    paths = DownloadPaths.for_file(hearth_paths().models, REPO, FILE)
    with FileLock(paths.lock), pytest.raises(DownloadBusyError) as caught:
        fetch(mirror)
    assert "already being downloaded" in caught.value.user_message
    assert mirror.bytes_served == 0


def test_every_checkpoint_matches_the_file_and_the_bytes_past_it_stay_within_the_bound(
        mirror: HubMirror) -> None:
    """What a kill could cost, watched during a real download: at most 8 MiB of the file; and each
    sidecar, written while bytes keep arriving, holds the sha256 of the file up to its checkpoint."""
    from wizard.download.transfer import MAX_UNSAVED_BYTES

    mirror.trouble.bytes_per_second = 40 * MB  # ~2.5 s: some 25 progress events
    unsaved: list[int] = []
    digest_matches: dict[int, bool] = {}  # checkpoint -> its digest is the sha256 of the file's first bytes

    def watch(event: DownloadProgress) -> None:
        if event.state != "downloading" or not partial_path().with_name(FILE + ".part.json").exists():
            return
        record = sidecar()  # the sidecar on disk
        unsaved.append(event.bytes_done - record["checkpoint_bytes"])
        checkpoint = record["checkpoint_bytes"]
        if checkpoint and checkpoint not in digest_matches and len(digest_matches) < 6:
            with partial_path().open("rb") as handle:
                prefix = handle.read(checkpoint)
            digest_matches[checkpoint] = (len(prefix) == checkpoint and
                                          hashlib.sha256(prefix).hexdigest() == record["checkpoint_digest"])

    result = fetch(mirror, progress=watch)
    assert tiny.sha256_of(result.path) == tiny.SHA256
    assert len(unsaved) >= 10
    assert 0 <= min(unsaved) and max(unsaved) <= MAX_UNSAVED_BYTES == 8 * MB
    assert len(digest_matches) >= 4 and all(digest_matches.values()), digest_matches
