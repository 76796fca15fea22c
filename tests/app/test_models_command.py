"""`hearth models list/remove` as a person runs them, after a real `hearth download` from the local mirror."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import tiny_model as tiny
from tests.support.hub_mirror import HubMirror
from wizard.paths import hearth_paths

REPO_ROOT = Path(__file__).resolve().parents[2]
REPO, FILE = "acme/tiny-GGUF", "tiny.Q4_1.gguf"
MODEL_ID = f"acme--tiny-GGUF/{FILE}"


def hearth(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "app", *args], cwd=REPO_ROOT, env=dict(os.environ), text=True,
                          capture_output=True, timeout=120)


@pytest.fixture
def downloaded(hub_mirror: HubMirror, tiny_model: Path) -> HubMirror:
    hub_mirror.add_repo(REPO, {FILE: tiny_model})
    done = hearth("download", REPO, FILE, "--endpoint", hub_mirror.url)
    assert done.returncode == 0, done.stderr
    return hub_mirror


def test_list_remove_round_trip(downloaded: HubMirror) -> None:
    listed = hearth("models", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    document = json.loads(listed.stdout)
    assert document["models_folder"] == str(hearth_paths().models)
    [model] = document["models"]
    assert model["id"] == MODEL_ID
    assert model["source"] == {"kind": "mirror", "repo": REPO, "filename": FILE, "revision": "main",
                               "commit": downloaded.repos[REPO].sha, "endpoint": downloaded.url}
    assert (model["sha256"], model["size"], model["licence"]) == (tiny.SHA256, tiny.SIZE, "unknown")
    assert model["file"] == str(hearth_paths().models / "acme--tiny-GGUF" / FILE)

    text = hearth("models", "list")
    assert text.stdout.splitlines()[0] == MODEL_ID
    assert f"98.4 MB, licence unknown, mirror {downloaded.url}: {REPO}, installed " in text.stdout
    assert text.stdout.splitlines()[-1] == f"1 model, 98.4 MB in {hearth_paths().models}"

    removed = hearth("models", "remove", MODEL_ID)
    assert removed.returncode == 0, removed.stderr
    assert removed.stdout.strip() == f"Deleted {MODEL_ID}: 98.4 MB freed."
    assert not Path(model["file"]).exists()
    assert hearth("models", "list").stdout.strip() == "No models are installed yet."


def test_removing_an_unknown_model_is_a_plain_error() -> None:
    done = hearth("models", "remove", "nothing.gguf")
    assert done.returncode == 1
    assert done.stderr.splitlines()[0] == "Error: No installed model is called “nothing.gguf”."
    assert "hearth models list" in done.stderr and "Traceback" not in done.stderr


def test_a_damaged_registry_gives_a_warning_not_a_crash(downloaded: HubMirror) -> None:
    registry_file = hearth_paths().data / "installed-models.json"
    registry_file.write_bytes(b"\x00\x01 not json")
    done = hearth("models", "list")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "No models are installed yet."
    assert done.stderr.startswith("Warning: The list of installed models was damaged.")
    assert "Your model files were not touched." in done.stderr and "Traceback" not in done.stderr
    assert (hearth_paths().models / "acme--tiny-GGUF" / FILE).exists()


def test_keep_file_only_takes_it_off_the_list(downloaded: HubMirror) -> None:
    done = hearth("models", "remove", FILE, "--keep-file")
    assert done.returncode == 0, done.stderr
    path = hearth_paths().models / "acme--tiny-GGUF" / FILE
    assert done.stdout.strip() == f"Took {MODEL_ID} off the list; the file is still at {path}."
    assert path.exists()
