"""Refreshing catalog entries from a real local Hub by HTTP Range, and writing the catalog back."""

from __future__ import annotations

import hashlib
import time
from dataclasses import replace
from pathlib import Path

import pytest

from tests.support.hub_mirror import HubMirror
from tests.support.tiny_model import SHA256 as TINY_SHA256
from tests.support.tiny_model import SIZE as TINY_SIZE
from tests.wizard.gguf_builder import llama_like
from wizard.catalog import CatalogEntry, default_catalog_path, load_catalog
from wizard.catalog.refresh import CatalogRefreshError, refresh_catalog, refresh_entry
from wizard.catalog.write import catalog_toml, leading_comments, write_catalog
from wizard.gguf import read_gguf_header

TINY_REPO = "HuggingFaceTB/SmolLM2-135M-Instruct-GGUF"
TINY_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
MiB = 1 << 20

ENTRY = f"""
[[model]]
id = "smollm2-135m-instruct-q4_1"
name = "SmolLM2 135M Instruct"
family = "llama"
repo = "{TINY_REPO}"
file = "{TINY_FILE}"
licence = "apache-2.0"
parameters = 134515008
languages = ["en"]
capabilities = ["chat"]
quality = 5
quantization = "Q4_1"
[model.header]
architecture = "llama"
block_count = 30
context_length = 8192
embedding_length = 576
head_count = 9
head_count_kv = 3
"""


def _catalog_file(tmp_path: Path, *entries: str) -> Path:
    path = tmp_path / "catalog.toml"
    path.write_text("# my comment stays\n\nschema_version = 1\n" + "".join(entries), encoding="utf-8")
    return path


def _tiny_entry(tmp_path: Path) -> CatalogEntry:
    return load_catalog(_catalog_file(tmp_path, ENTRY)).entries[0]


def test_refresh_reads_only_the_header_and_fills_every_number(
        hub_mirror: HubMirror, tiny_model: Path, tmp_path: Path) -> None:
    repo = hub_mirror.add_repo(TINY_REPO, {TINY_FILE: tiny_model})
    entry = _tiny_entry(tmp_path)
    assert entry.needs_refresh and entry.header.vocab_size is None and entry.header.tensor_bytes is None
    local = read_gguf_header(tiny_model)

    result = refresh_entry(entry, endpoint=hub_mirror.url, first_bytes=1 * MiB)

    new = result.entry
    assert (new.size_bytes, new.sha256, new.revision) == (TINY_SIZE, TINY_SHA256, repo.sha)
    assert new.header.vocab_size == 49152 and new.header.feed_forward_length == 1536
    assert new.header.tensor_bytes == local.total_tensor_bytes == 96_576_768
    assert new.header.head_count_kv == (3,) * 30 and new.header.context_length == 8192
    assert new.header.key_length is None and new.header.sliding_window is None
    assert not new.needs_refresh
    # Everything the catalog did not know is reported; the facts it had were right.
    assert {c.split(":")[0] for c in result.changes} == {
        "revision", "size_bytes", "sha256", "header.vocab_size", "header.tensor_bytes",
        "header.feed_forward_length"}

    # Only a prefix crossed the wire: the 1.7 MB header needed a second, larger Range.
    assert result.header_bytes == local.data_offset
    assert local.data_offset <= result.bytes_fetched <= 2 * MiB
    assert hub_mirror.bytes_served_by_path[TINY_FILE] == result.bytes_fetched
    assert hub_mirror.bytes_served < TINY_SIZE // 40
    ranges = [r["range"] for r in hub_mirror.requests if r["method"] == "GET" and "/resolve/" in r["path"]]
    assert ranges == [f"bytes=0-{MiB - 1}", f"bytes={MiB}-{2 * MiB - 1}"]
    # The Range requests asked for the pinned commit, not a moving branch.
    assert all(f"/resolve/{repo.sha}/" in r["path"] for r in hub_mirror.requests if r["range"])


def test_a_large_vocabulary_header_is_read_by_growing_the_prefix(hub_mirror: HubMirror, tmp_path: Path) -> None:
    tokens = [f"token-{i:06d}" for i in range(150_000)]  # 150k strings: a 2.6 MB header
    built = llama_like(n_layer=4, n_embd=64, n_head=8, n_head_kv=2, n_ff=128, n_vocab=150_016,
                       tied_output=True, extra={"tokenizer.ggml.tokens": tokens})
    content = built.header + bytes(built.file_size - len(built.header))
    hub_mirror.add_repo("Owner/Big-Vocab-GGUF", {"big-Q8_0.gguf": content})
    entry = replace(_tiny_entry(tmp_path), id="big", repo="Owner/Big-Vocab-GGUF", file="big-Q8_0.gguf")

    result = refresh_entry(entry, endpoint=hub_mirror.url, first_bytes=256 * 1024)

    assert len(built.header) > 2 * MiB
    assert result.entry.header.vocab_size == 150_000  # the token list, as llama.cpp counts it
    assert result.entry.header.block_count == 4 and result.entry.header.head_count_kv == (2,) * 4
    assert result.entry.sha256 == hashlib.sha256(content).hexdigest()
    assert result.entry.size_bytes == len(content)
    requests = [r for r in hub_mirror.requests if r["range"]]
    assert len(requests) >= 4  # 256 KiB, then at least doubling
    assert len(built.header) - 32 <= result.bytes_fetched < len(content)
    assert hub_mirror.bytes_served == result.bytes_fetched


def test_a_header_longer_than_the_limit_is_refused(hub_mirror: HubMirror, tiny_model: Path, tmp_path: Path) -> None:
    hub_mirror.add_repo(TINY_REPO, {TINY_FILE: tiny_model})
    with pytest.raises(CatalogRefreshError) as caught:
        refresh_entry(_tiny_entry(tmp_path), endpoint=hub_mirror.url, first_bytes=256 * 1024, max_bytes=1 * MiB)
    assert "longer than the 1 MB" in caught.value.user_message
    # the mirror counts a piece once its write returned, which can be just after the client read it
    deadline = time.monotonic() + 5
    while hub_mirror.bytes_served < 1 * MiB and time.monotonic() < deadline:
        time.sleep(0.01)
    assert hub_mirror.bytes_served == 1 * MiB


@pytest.mark.parametrize("what", ["repo", "file", "revision"])
def test_missing_repo_file_or_revision_is_a_plain_error(
        hub_mirror: HubMirror, tiny_model: Path, tmp_path: Path, what: str) -> None:
    hub_mirror.add_repo(TINY_REPO, {TINY_FILE: tiny_model})
    entry = _tiny_entry(tmp_path)
    entry = {"repo": replace(entry, repo="Nobody/Missing-GGUF"),
             "file": replace(entry, file="missing-Q4_1.gguf"),
             "revision": replace(entry, revision="0" * 40)}[what]
    with pytest.raises(CatalogRefreshError) as caught:
        refresh_entry(entry, endpoint=hub_mirror.url)
    error = caught.value
    assert error.entry_id == "smollm2-135m-instruct-q4_1"
    assert error.user_message.startswith('Hearth could not refresh the model "smollm2-135m-instruct-q4_1": ')
    assert {"repo": "could not find", "file": "no file called", "revision": "no version"}[what] in error.user_message
    assert "Traceback" not in error.for_terminal()
    assert hub_mirror.bytes_served == 0


def test_a_truncated_file_on_the_hub_is_refused_naming_the_entry(
        hub_mirror: HubMirror, tiny_model: Path, tmp_path: Path) -> None:
    # The header is complete but the file stops 10 MB later: tensors would end past it.
    truncated = tiny_model.read_bytes()[:12 * MiB]
    hub_mirror.add_repo(TINY_REPO, {TINY_FILE: truncated})
    with pytest.raises(CatalogRefreshError) as caught:
        refresh_entry(_tiny_entry(tmp_path), endpoint=hub_mirror.url)
    assert "smollm2-135m-instruct-q4_1" in caught.value.user_message
    assert caught.value.user_message.endswith("the file on the Hub is damaged.")
    assert "past the end" in caught.value.details
    assert hub_mirror.bytes_served < 4 * MiB + 1


def test_a_file_cut_inside_its_header_and_a_non_gguf_file(
        hub_mirror: HubMirror, tiny_model: Path, tmp_path: Path) -> None:
    hub_mirror.add_repo(TINY_REPO, {TINY_FILE: tiny_model.read_bytes()[:1_000_000],
                                    "notes-Q4_1.gguf": b"<html>not a model</html>" * 1000})
    with pytest.raises(CatalogRefreshError, match="damaged") as cut:
        refresh_entry(_tiny_entry(tmp_path), endpoint=hub_mirror.url)
    assert "more than the 39805 bytes left in the file" in cut.value.details
    with pytest.raises(CatalogRefreshError, match="not in the GGUF format") as html:
        refresh_entry(replace(_tiny_entry(tmp_path), file="notes-Q4_1.gguf"), endpoint=hub_mirror.url)
    assert html.value.entry_id == "smollm2-135m-instruct-q4_1"


def test_server_errors_during_the_range_read(hub_mirror: HubMirror, tiny_model: Path, tmp_path: Path) -> None:
    hub_mirror.add_repo(TINY_REPO, {TINY_FILE: tiny_model})
    hub_mirror.trouble.drop_at = 500_000  # the connection drops inside the first prefix
    with pytest.raises(CatalogRefreshError) as caught:
        refresh_entry(_tiny_entry(tmp_path), endpoint=hub_mirror.url)
    assert "stopped sending" in caught.value.user_message or "connection" in caught.value.user_message


def test_refresh_catalog_keeps_failed_entries_and_writes_atomically(
        hub_mirror: HubMirror, tiny_model: Path, tmp_path: Path) -> None:
    hub_mirror.add_repo(TINY_REPO, {TINY_FILE: tiny_model})
    broken = ENTRY.replace('id = "smollm2-135m-instruct-q4_1"', 'id = "gone"').replace(TINY_REPO, "Nobody/Gone-GGUF")
    path = _catalog_file(tmp_path, ENTRY, broken)
    seen: list[tuple[str, int, int]] = []

    result = refresh_catalog(load_catalog(path), endpoint=hub_mirror.url,
                             progress=lambda *event: seen.append(event))

    assert seen == [("smollm2-135m-instruct-q4_1", 0, 2), ("gone", 1, 2)]
    assert [r.entry.id for r in result.refreshed] == ["smollm2-135m-instruct-q4_1"]
    assert [f.entry_id for f in result.failed] == ["gone"]
    assert result.catalog.get("gone") == load_catalog(path).get("gone")  # untouched

    write_catalog(result.catalog, path)
    text = path.read_text(encoding="utf-8")
    assert text.startswith("# my comment stays\n\nschema_version = 1\n")
    again = load_catalog(path)
    assert again.get("smollm2-135m-instruct-q4_1") == result.catalog.get("smollm2-135m-instruct-q4_1")
    assert f'sha256 = "{TINY_SHA256}"' in text and "tensor_bytes = 96576768" in text
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_writing_the_shipped_catalog_back_gives_the_same_bytes(tmp_path: Path) -> None:
    shipped = default_catalog_path().read_text(encoding="utf-8")
    assert catalog_toml(load_catalog(), comments=leading_comments(shipped)) == shipped
    copy = tmp_path / "catalog.toml"
    copy.write_text(shipped, encoding="utf-8")
    write_catalog(load_catalog(copy), copy)
    assert copy.read_text(encoding="utf-8") == shipped


def test_a_failed_write_leaves_nothing_behind(tmp_path: Path) -> None:
    from wizard.errors import HearthFileError

    catalog = load_catalog()
    with pytest.raises(HearthFileError, match="could not save") as missing:
        write_catalog(catalog, tmp_path / "no-such-folder" / "catalog.toml")
    assert "old list is unchanged" in missing.value.hint
    # A folder where the file should be: os.replace fails after the temp file was written.
    blocker = tmp_path / "catalog.toml"
    (blocker / "inside").mkdir(parents=True)
    with pytest.raises(HearthFileError):
        write_catalog(catalog, blocker)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["catalog.toml"]
    assert [p.name for p in blocker.iterdir()] == ["inside"]
