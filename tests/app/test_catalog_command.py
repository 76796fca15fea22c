"""``hearth catalog refresh`` run for real in a subprocess against the local Hub mirror."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.support.hub_mirror import HubMirror
from tests.support.tiny_model import FILE_NAME, SHA256, SIZE
from wizard.catalog import load_catalog
from wizard.gguf import read_gguf_header

REPO_ROOT = Path(__file__).resolve().parents[2]
TINY_REPO = "HuggingFaceTB/SmolLM2-135M-Instruct-GGUF"
ENTRY = """
[[model]]
id = "{id}"
name = "SmolLM2 135M Instruct"
family = "llama"
repo = "{repo}"
file = "{file}"
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


def hearth(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "app", *args], cwd=REPO_ROOT, env=dict(os.environ),
                          text=True, capture_output=True, timeout=300)


def _catalog(tmp_path: Path, *entries: tuple[str, str, str]) -> Path:
    path = tmp_path / "our-models.toml"
    text = "# Our office's models.\n\nschema_version = 1\n"
    text += "".join(ENTRY.format(id=i, repo=r, file=f) for i, r, f in entries)
    path.write_text(text, encoding="utf-8")
    return path


def test_refresh_fills_the_facts_from_the_mirror_and_writes_the_output(
        tmp_path: Path, hub_mirror: HubMirror, tiny_model: Path) -> None:
    repo = hub_mirror.add_repo(TINY_REPO, {FILE_NAME: tiny_model})
    source = _catalog(tmp_path, ("tiny", TINY_REPO, FILE_NAME))
    before = source.read_bytes()
    output = tmp_path / "refreshed.toml"

    done = hearth("catalog", "refresh", "--endpoint", hub_mirror.url, "--catalog", str(source),
                  "--output", str(output))

    assert done.returncode == 0, done.stderr
    assert "Reading tiny (1 of 1)" in done.stderr and "Traceback" not in done.stderr
    assert "tiny: revision: None -> " + repo.sha in done.stdout and f"size_bytes: None -> {SIZE}" in done.stdout
    assert f"Refreshed 1 of 1 models; wrote {output}." in done.stdout
    assert source.read_bytes() == before  # --output: the list that was read is left alone
    entry = load_catalog(output).get("tiny")
    header = read_gguf_header(tiny_model)
    assert (entry.size_bytes, entry.sha256, entry.revision) == (SIZE, SHA256, repo.sha)
    assert entry.header.tensor_bytes == header.total_tensor_bytes and entry.header.vocab_size == 49152
    assert output.read_text(encoding="utf-8").startswith("# Our office's models.\n")
    assert hub_mirror.bytes_served < SIZE // 20  # only the header's first bytes crossed the wire


def test_a_model_that_cannot_be_refreshed_keeps_its_facts_and_the_exit_code_says_so(
        tmp_path: Path, hub_mirror: HubMirror, tiny_model: Path) -> None:
    hub_mirror.add_repo(TINY_REPO, {FILE_NAME: tiny_model})
    source = _catalog(tmp_path, ("tiny", TINY_REPO, FILE_NAME), ("gone", "Nobody/Missing-GGUF", "missing.gguf"))

    done = hearth("catalog", "refresh", "--endpoint", hub_mirror.url, "--catalog", str(source))

    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert 'Could not refresh gone: Hearth could not refresh the model "gone": ' in done.stderr
    assert f"Refreshed 1 of 2 models; wrote {source}." in done.stdout  # written over the list it read
    refreshed = load_catalog(source)
    assert refreshed.get("tiny").sha256 == SHA256
    assert refreshed.get("gone").needs_refresh and refreshed.get("gone").revision is None


def test_nothing_refreshed_or_an_unknown_model_is_a_plain_error_and_changes_nothing(
        tmp_path: Path, hub_mirror: HubMirror) -> None:
    source = _catalog(tmp_path, ("gone", "Nobody/Missing-GGUF", "missing.gguf"))
    before = source.read_bytes()

    none = hearth("catalog", "refresh", "--endpoint", hub_mirror.url, "--catalog", str(source))
    assert none.returncode == 1 and "Traceback" not in none.stderr
    assert "Error: none of the 1 models could be refreshed, so the list was not changed." in none.stderr

    unknown = hearth("catalog", "refresh", "--endpoint", hub_mirror.url, "--catalog", str(source),
                     "--only", "nope")
    assert unknown.returncode == 1 and unknown.stderr.startswith("Error: There is a mistake in Hearth's list "
                                                                 'of models, model "nope"')
    assert "Traceback" not in unknown.stderr and source.read_bytes() == before
