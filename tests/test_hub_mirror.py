"""The local Hub mirror speaks enough of the Hub for huggingface_hub, and its switches work."""

from __future__ import annotations

import hashlib
import http.client
import random
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from huggingface_hub import HfApi, hf_hub_download
from huggingface_hub.errors import (
    GatedRepoError,
    HfHubHTTPError,
    RemoteEntryNotFoundError,
    RepositoryNotFoundError,
    RevisionNotFoundError,
)

from tests.support import tiny_model as tiny
from tests.support.hub_mirror import HubMirror

REPO_ID = "acme/pocket-GGUF"
PAYLOAD = random.Random(42).randbytes(300_000)
PAYLOAD_SHA256 = hashlib.sha256(PAYLOAD).hexdigest()


@pytest.fixture
def mirror(hub_mirror: HubMirror) -> HubMirror:
    hub_mirror.add_repo(REPO_ID, {"pocket.Q4_0.gguf": PAYLOAD, "README.md": b"# Pocket\n",
                                  "extra/notes.txt": b"notes"})
    return hub_mirror


def _sha256(path: str | Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _get(mirror: HubMirror, path: str, headers: dict[str, str] | None = None,
         timeout: float = 10) -> tuple[http.client.HTTPResponse, http.client.HTTPConnection]:
    address = urlsplit(mirror.url)
    connection = http.client.HTTPConnection(address.hostname, address.port, timeout=timeout)
    connection.request("GET", path, headers=headers or {})
    return connection.getresponse(), connection


@pytest.mark.slow
def test_hf_hub_download_fetches_the_tiny_model_from_the_mirror(hub_mirror: HubMirror, tiny_model: Path,
                                                               tmp_path: Path) -> None:
    hub_mirror.add_repo("HuggingFaceTB/SmolLM2-135M-Instruct-GGUF", {tiny.FILE_NAME: tiny_model})
    downloaded = hf_hub_download("HuggingFaceTB/SmolLM2-135M-Instruct-GGUF", tiny.FILE_NAME,
                                 endpoint=hub_mirror.url, cache_dir=tmp_path / "hub")
    assert _sha256(downloaded) == tiny.SHA256
    assert hub_mirror.bytes_served == tiny.SIZE
    assert [r["method"] for r in hub_mirror.requests] == ["HEAD", "GET"]


def test_model_info_lists_files_with_their_lfs_sha256(mirror: HubMirror) -> None:
    info = HfApi(endpoint=mirror.url).model_info(REPO_ID, files_metadata=True)
    files = {s.rfilename: s for s in info.siblings}
    assert set(files) == {"pocket.Q4_0.gguf", "README.md", "extra/notes.txt"}
    assert files["pocket.Q4_0.gguf"].lfs.sha256 == PAYLOAD_SHA256
    assert files["pocket.Q4_0.gguf"].size == len(PAYLOAD)
    assert files["README.md"].lfs is None
    assert info.sha == mirror.repos[REPO_ID].sha


def test_tree_and_paths_info(mirror: HubMirror) -> None:
    api = HfApi(endpoint=mirror.url)
    top = {entry.path: type(entry).__name__ for entry in api.list_repo_tree(REPO_ID)}
    assert top == {"extra": "RepoFolder", "README.md": "RepoFile", "pocket.Q4_0.gguf": "RepoFile"}
    everything = {entry.path for entry in api.list_repo_tree(REPO_ID, recursive=True)}
    assert "extra/notes.txt" in everything
    [info] = api.get_paths_info(REPO_ID, ["pocket.Q4_0.gguf", "missing.gguf"])
    assert info.lfs.sha256 == PAYLOAD_SHA256


def test_head_gives_commit_etag_sha256_and_size(mirror: HubMirror) -> None:
    address = urlsplit(mirror.url)
    connection = http.client.HTTPConnection(address.hostname, address.port, timeout=10)
    connection.request("HEAD", f"/{REPO_ID}/resolve/main/pocket.Q4_0.gguf")
    response = connection.getresponse()
    assert response.status == 200
    assert response.getheader("X-Repo-Commit") == mirror.repos[REPO_ID].sha
    assert response.getheader("ETag") == f'"{PAYLOAD_SHA256}"'
    assert response.getheader("X-Linked-Size") == str(len(PAYLOAD))
    connection.close()
    assert mirror.bytes_served == 0


def test_a_range_request_gets_206_and_only_the_missing_bytes(mirror: HubMirror) -> None:
    response, connection = _get(mirror, f"/{REPO_ID}/resolve/main/pocket.Q4_0.gguf",
                                {"Range": "bytes=250000-"})
    body = response.read()
    connection.close()
    assert response.status == 206
    assert response.getheader("Content-Range") == f"bytes 250000-{len(PAYLOAD) - 1}/{len(PAYLOAD)}"
    assert body == PAYLOAD[250000:]
    assert mirror.bytes_served == 50_000


def test_a_range_past_the_end_is_416(mirror: HubMirror) -> None:
    response, connection = _get(mirror, f"/{REPO_ID}/resolve/main/pocket.Q4_0.gguf",
                                {"Range": f"bytes={len(PAYLOAD)}-"})
    response.read()
    connection.close()
    assert response.status == 416


def test_a_dropped_connection_cuts_the_body_at_byte_n_once(mirror: HubMirror) -> None:
    mirror.trouble.drop_at = 123_456
    response, connection = _get(mirror, f"/{REPO_ID}/resolve/main/pocket.Q4_0.gguf")
    with pytest.raises(http.client.IncompleteRead) as cut:
        response.read()
    connection.close()
    assert len(cut.value.partial) == 123_456
    assert cut.value.partial == PAYLOAD[:123_456]
    # One drop only: the next transfer runs clean.
    response, connection = _get(mirror, f"/{REPO_ID}/resolve/main/pocket.Q4_0.gguf")
    assert response.read() == PAYLOAD
    connection.close()


def test_hf_hub_download_survives_one_dropped_connection(mirror: HubMirror, tmp_path: Path) -> None:
    mirror.trouble.drop_at = 100_000
    downloaded = hf_hub_download(REPO_ID, "pocket.Q4_0.gguf", endpoint=mirror.url, cache_dir=tmp_path)
    assert _sha256(downloaded) == PAYLOAD_SHA256
    assert [r["method"] for r in mirror.requests].count("GET") == 2
    assert mirror.bytes_served >= len(PAYLOAD)


def test_a_corrupted_byte_gets_past_hf_hub_download(mirror: HubMirror, tmp_path: Path) -> None:
    """huggingface_hub checks only the size; verifying the sha256 is Hearth's job."""
    mirror.trouble.corrupt_at = 5
    downloaded = Path(hf_hub_download(REPO_ID, "pocket.Q4_0.gguf", endpoint=mirror.url, cache_dir=tmp_path))
    data = downloaded.read_bytes()
    assert len(data) == len(PAYLOAD)
    assert hashlib.sha256(data).hexdigest() != PAYLOAD_SHA256
    assert [i for i, (a, b) in enumerate(zip(data, PAYLOAD)) if a != b] == [5]


def test_a_slow_link_is_slow(mirror: HubMirror) -> None:
    mirror.trouble.bytes_per_second = 400_000
    started = time.monotonic()
    response, connection = _get(mirror, f"/{REPO_ID}/resolve/main/pocket.Q4_0.gguf")
    assert response.read() == PAYLOAD
    connection.close()
    assert time.monotonic() - started >= 0.7  # 300 kB at 400 kB/s: 0.75 s at the least


def test_a_stall_holds_the_connection_open_without_data(mirror: HubMirror) -> None:
    mirror.trouble.stall_at = 1_000
    mirror.trouble.stall_seconds = 2.0
    response, connection = _get(mirror, f"/{REPO_ID}/resolve/main/pocket.Q4_0.gguf", timeout=0.5)
    assert response.read(1_000) == PAYLOAD[:1_000]
    with pytest.raises(TimeoutError):
        response.read(1)
    connection.close()


@pytest.mark.parametrize(
    ("repo_id", "filename", "revision", "error"),
    [
        ("acme/missing", "pocket.Q4_0.gguf", "main", RepositoryNotFoundError),
        (REPO_ID, "missing.gguf", "main", RemoteEntryNotFoundError),
        (REPO_ID, "pocket.Q4_0.gguf", "v9", RevisionNotFoundError),
    ],
)
def test_not_found_errors_have_the_hubs_error_codes(mirror: HubMirror, tmp_path: Path, repo_id: str,
                                                    filename: str, revision: str, error: type) -> None:
    with pytest.raises(error):
        hf_hub_download(repo_id, filename, revision=revision, endpoint=mirror.url, cache_dir=tmp_path)


def test_a_gated_repo_needs_its_token(mirror: HubMirror, tmp_path: Path) -> None:
    mirror.add_repo("acme/gated-GGUF", {"gated.gguf": PAYLOAD}, gated=True, token="hf_test_token")
    with pytest.raises(GatedRepoError):
        hf_hub_download("acme/gated-GGUF", "gated.gguf", endpoint=mirror.url, cache_dir=tmp_path)
    downloaded = hf_hub_download("acme/gated-GGUF", "gated.gguf", endpoint=mirror.url,
                                 cache_dir=tmp_path, token="hf_test_token")
    assert _sha256(downloaded) == PAYLOAD_SHA256
    assert mirror.requests[-1]["authorization"] == "Bearer hf_test_token"


def test_a_forced_401_is_answered_then_cleared(mirror: HubMirror, tmp_path: Path) -> None:
    mirror.trouble.force_status, mirror.trouble.force_status_times = 401, 1
    with pytest.raises(HfHubHTTPError) as caught:
        hf_hub_download(REPO_ID, "pocket.Q4_0.gguf", endpoint=mirror.url, cache_dir=tmp_path)
    assert caught.value.response.status_code == 401
    downloaded = hf_hub_download(REPO_ID, "pocket.Q4_0.gguf", endpoint=mirror.url, cache_dir=tmp_path)
    assert _sha256(downloaded) == PAYLOAD_SHA256


def test_a_forced_404_on_every_request(mirror: HubMirror) -> None:
    mirror.trouble.force_status = 404
    for _ in range(3):
        response, connection = _get(mirror, f"/{REPO_ID}/resolve/main/pocket.Q4_0.gguf")
        response.read()
        connection.close()
        assert response.status == 404
    assert mirror.bytes_served == 0
