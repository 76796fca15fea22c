"""Failures in the middle of a download and in its first requests, against the real local Hub mirror.

Giving up after too many failures, a server that ignores Range, a refusal (403) or a
missing file (404) once bytes are flowing, and the metadata requests tried again after a
dropped connection or a 5xx. In each case: a plain error, a "failed" progress event, and
the bytes already fetched kept for the next start.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.support import tiny_model as tiny
from tests.support.hub_mirror import HubMirror
from wizard.download import (
    AccessDeniedError,
    DownloadCancelled,
    DownloadNetworkError,
    DownloadProgress,
    ModelNotFoundError,
    RetryPolicy,
    download_from_hub,
)
from wizard.paths import hearth_paths

REPO = "acme/tiny-GGUF"
FILE = "tiny.Q4_1.gguf"
MB = 1024 * 1024
QUICK = RetryPolicy(attempts=3, backoff=0.05, max_backoff=0.2, stall_timeout=2.0, connect_timeout=5.0)


@pytest.fixture
def mirror(hub_mirror: HubMirror, tiny_model: Path) -> HubMirror:
    hub_mirror.add_repo(REPO, {FILE: tiny_model})
    return hub_mirror


def fetch(mirror: HubMirror, **kwargs):
    kwargs.setdefault("policy", QUICK)
    return download_from_hub(REPO, FILE, endpoint=mirror.url, **kwargs)


def partial_path() -> Path:
    return hearth_paths().models / "partial" / "acme--tiny-GGUF" / (FILE + ".part")


def checkpoint() -> int:
    return json.loads(partial_path().with_name(FILE + ".part.json").read_text())["checkpoint_bytes"]


def file_gets(mirror: HubMirror) -> list[str | None]:
    return [r["range"] for r in mirror.requests if r["method"] == "GET" and "/resolve/" in r["path"]]


def on_first_retry(mirror: HubMirror, action: Callable[[], object]) -> Callable[[DownloadProgress], None]:
    """A progress callback that records events and runs ``action()`` at the first "trying again"."""
    events: list[DownloadProgress] = []

    def watch(event: DownloadProgress) -> None:
        events.append(event)
        if event.state == "waiting" and "trying again" in event.message and not getattr(watch, "done", False):
            watch.done = True  # type: ignore[attr-defined]
            action()

    watch.events = events  # type: ignore[attr-defined]
    return watch


def assert_failed_event(events: list[DownloadProgress], error: Exception) -> None:
    assert events[-1].state == "failed"
    assert events[-1].message == error.user_message  # type: ignore[attr-defined]


def test_too_many_failures_in_a_row_give_up_with_a_plain_message_and_keep_the_bytes(mirror: HubMirror) -> None:
    mirror.trouble.drop_at, mirror.trouble.drop_times = 20 * MB, 100  # every try dies at the same byte
    events: list[DownloadProgress] = []
    with pytest.raises(DownloadNetworkError) as caught:
        fetch(mirror, progress=events.append)

    assert "kept failing" in caught.value.user_message
    assert "continue where it stopped" in caught.value.hint
    assert_failed_event(events, caught.value)
    # failure 1 broke off after 20 MiB; the 3 tries again (QUICK.attempts) brought nothing: give up
    assert file_gets(mirror) == [None] + [f"bytes={20 * MB}-"] * QUICK.attempts
    assert [e.message for e in events if e.state == "waiting" and "trying again" in e.message] == [
        "The connection was interrupted; trying again in 0 s."] * QUICK.attempts
    assert checkpoint() == partial_path().stat().st_size == 20 * MB

    mirror.trouble.drop_at = None
    mirror.reset_counters()
    result = fetch(mirror)
    assert result.resumed_from == 20 * MB
    assert mirror.bytes_served_by_path[FILE] == tiny.SIZE - 20 * MB
    assert tiny.sha256_of(result.path) == tiny.SHA256


def test_a_server_that_ignores_range_makes_hearth_start_the_file_again(mirror: HubMirror) -> None:
    mirror.trouble.drop_at = 30 * MB
    mirror.trouble.ignore_range = True  # a plain web server: every answer is the whole file
    result = fetch(mirror)

    assert file_gets(mirror) == [None, f"bytes={30 * MB}-", None]
    assert result.resumed_from == 0
    assert tiny.sha256_of(result.path) == tiny.SHA256 == result.digest
    # the 200 answer to the Range request was refused after its headers: at most what the
    # socket buffers held was sent for nothing
    assert 30 * MB + tiny.SIZE <= mirror.bytes_served_by_path[FILE] < 30 * MB + tiny.SIZE + 8 * MB
    assert not partial_path().exists()


def test_access_refused_once_bytes_flow_is_plain_and_the_bytes_are_kept(mirror: HubMirror) -> None:
    def refuse() -> None:
        mirror.trouble.force_status = 403  # e.g. the token was revoked mid-way

    mirror.trouble.drop_at = 20 * MB
    watch = on_first_retry(mirror, refuse)
    with pytest.raises(AccessDeniedError) as caught:
        fetch(mirror, token="hf_revoked", progress=watch)

    assert caught.value.user_message == ("The download server refused access to this model: "
                                         "your access token was not accepted.")
    assert "Settings" in caught.value.hint
    assert_failed_event(watch.events, caught.value)
    assert file_gets(mirror) == [None, f"bytes={20 * MB}-"]  # a refusal is not tried again
    assert checkpoint() == 20 * MB

    mirror.trouble.force_status = None
    mirror.reset_counters()
    result = fetch(mirror, token="hf_valid")
    assert result.resumed_from == 20 * MB
    assert mirror.bytes_served_by_path[FILE] == tiny.SIZE - 20 * MB
    assert tiny.sha256_of(result.path) == tiny.SHA256


def test_a_file_removed_from_the_server_mid_way_says_so(mirror: HubMirror) -> None:
    mirror.trouble.drop_at = 20 * MB
    watch = on_first_retry(mirror, lambda: mirror.repos[REPO].files.pop(FILE))
    with pytest.raises(ModelNotFoundError) as caught:
        fetch(mirror, progress=watch)

    assert caught.value.user_message == f"The model “{REPO}” has no file called “{FILE}”."
    assert_failed_event(watch.events, caught.value)
    assert file_gets(mirror) == [None, f"bytes={20 * MB}-"]
    assert checkpoint() == 20 * MB  # kept: the file may come back, or the person may choose another


def test_the_first_requests_are_tried_again_after_a_hang_up_and_a_busy_server(mirror: HubMirror) -> None:
    mirror.trouble.hang_up_times = 2  # the HEAD twice: connection closed, no answer
    events: list[DownloadProgress] = []
    result = fetch(mirror, progress=events.append)
    assert tiny.sha256_of(result.path) == tiny.SHA256
    methods = [r["method"] for r in mirror.requests]
    assert methods == ["HEAD", "HEAD", "HEAD", "POST", "GET"]
    waits = [e.message for e in events if e.state == "waiting" and "did not answer" in e.message]
    assert len(waits) == 2

    hearth_paths().models.joinpath("acme--tiny-GGUF", FILE).unlink()
    mirror.reset_counters()
    mirror.trouble.force_status, mirror.trouble.force_status_times = 503, 3  # HEAD 503 x3
    result = fetch(mirror)
    assert tiny.sha256_of(result.path) == tiny.SHA256
    assert [r["method"] for r in mirror.requests] == ["HEAD"] * 4 + ["POST", "GET"]


def test_a_busy_server_during_the_file_list_request_is_tried_again(mirror: HubMirror) -> None:
    trouble = mirror.trouble
    trouble.force_status, trouble.force_status_times, trouble.force_status_method = 502, 2, "POST"
    result = fetch(mirror)
    assert tiny.sha256_of(result.path) == tiny.SHA256
    assert [r["method"] for r in mirror.requests] == ["HEAD", "POST", "POST", "POST", "GET"]


def test_a_refusal_of_the_first_request_is_not_tried_again(mirror: HubMirror) -> None:
    with pytest.raises(ModelNotFoundError):
        download_from_hub("acme/nothing-here", FILE, endpoint=mirror.url, policy=QUICK)
    assert [r["method"] for r in mirror.requests] == ["HEAD"]


def test_a_server_down_for_good_gives_up_after_the_retries(mirror: HubMirror) -> None:
    mirror.trouble.hang_up_times = 1000
    events: list[DownloadProgress] = []
    with pytest.raises(DownloadNetworkError) as caught:
        fetch(mirror, progress=events.append)
    assert caught.value.user_message == "Hearth could not reach the download server."
    assert [r["method"] for r in mirror.requests] == ["HEAD"] * (QUICK.attempts + 1)
    assert_failed_event(events, caught.value)


def test_cancel_while_waiting_to_ask_again_stops_at_once(mirror: HubMirror) -> None:
    mirror.trouble.force_status = 503
    cancel = threading.Event()
    slow = RetryPolicy(attempts=5, backoff=20.0, max_backoff=20.0)
    stopped_at: list[float] = []

    def watch(event: DownloadProgress) -> None:
        if event.state == "waiting" and "did not answer" in event.message:
            stopped_at.append(time.monotonic())
            cancel.set()

    with pytest.raises(DownloadCancelled):
        fetch(mirror, progress=watch, cancel=cancel, policy=slow)
    assert time.monotonic() - stopped_at[0] < 1.0  # not the 20 s wait
    assert [r["method"] for r in mirror.requests] == ["HEAD"]
