"""The installed-models registry on real files: records, damage recovery, locking, deletion."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.support import tiny_model as tiny
from tests.support.hub_mirror import HubMirror
from wizard.download import download_from_hub
from wizard.download.partial import FileLock
from wizard.errors import HearthFileError, HearthValueError
from wizard.models import (
    InstalledModel,
    ModelNotInstalledError,
    ModelRegistry,
    ModelSource,
    OutsideModelsFolderError,
    RegistryTooNewError,
    register_download,
    register_file,
)
from wizard.models import registry as registry_module
from wizard.models.registry import LOCK_FREE_READS
from wizard.paths import hearth_paths

REPO_ROOT = Path(__file__).resolve().parents[2]
SHA = "ab" * 32


def record(model_id: str, path: str | None = None, size: int = 10) -> InstalledModel:
    return InstalledModel(id=model_id, path=path or model_id, source=ModelSource(kind="manual"), sha256=SHA,
                          size=size)


def test_records_survive_a_new_registry_object_and_are_plain_json() -> None:
    registry = ModelRegistry()
    assert registry.list() == []
    registry.add(record("a--b/one.gguf"))
    registry.add(record("c--d/two.gguf"))
    again = ModelRegistry()
    assert [m.id for m in again.list()] == ["a--b/one.gguf", "c--d/two.gguf"]
    document = json.loads((hearth_paths().data / "installed-models.json").read_text())
    assert document["schema_version"] == 1
    assert document["models"][0] == {"id": "a--b/one.gguf", "path": "a--b/one.gguf", "source": {"kind": "manual"},
                                     "sha256": SHA, "size": 10, "licence": "unknown",
                                     "installed": document["models"][0]["installed"], "fit": {}}
    assert again.problem is None


def test_get_by_id_or_unique_file_name_and_replace_on_re_add() -> None:
    registry = ModelRegistry()
    registry.add(record("a--b/one.gguf"))
    registry.add(record("c--d/one.gguf"))
    registry.add(record("c--d/two.gguf"))
    assert registry.get("two.gguf").id == "c--d/two.gguf"
    with pytest.raises(ModelNotInstalledError):
        registry.get("one.gguf")  # two models have that name
    with pytest.raises(ModelNotInstalledError) as caught:
        registry.get("nothing")
    assert caught.value.user_message == "No installed model is called “nothing”."
    registry.add(record("c--d/two.gguf", size=99))
    assert [(m.id, m.size) for m in registry.list()] == [("a--b/one.gguf", 10), ("c--d/one.gguf", 10),
                                                          ("c--d/two.gguf", 99)]


def test_fit_figures_are_stored_and_must_be_json() -> None:
    registry = ModelRegistry()
    registry.add(record("a--b/one.gguf"))
    registry.set_fit("a--b/one.gguf", {"n_ctx": 4096, "peak_rss_bytes": 170_000_000, "tokens_per_second": 64.2})
    assert ModelRegistry().get("a--b/one.gguf").fit["tokens_per_second"] == 64.2
    with pytest.raises(HearthValueError, match="cannot be saved"):
        registry.set_fit("a--b/one.gguf", {"when": object()})
    assert ModelRegistry().get("a--b/one.gguf").fit["n_ctx"] == 4096


def test_a_garbled_registry_is_copied_aside_and_hearth_carries_on() -> None:
    file = hearth_paths().data / "installed-models.json"
    file.parent.mkdir(parents=True)
    file.write_bytes(b'{"schema_version": 1, "models": [{"id": "x"')  # cut off mid-write by an old tool
    registry = ModelRegistry()
    assert registry.list() == []
    assert registry.problem is not None
    assert registry.problem.user_message.startswith("The list of installed models was damaged.")
    backups = list(file.parent.glob("installed-models.json.damaged-*"))
    assert len(backups) == 1 and backups[0].read_bytes() == b'{"schema_version": 1, "models": [{"id": "x"'
    assert str(backups[0]) in registry.problem.hint
    registry.add(record("a--b/one.gguf"))
    assert [m.id for m in ModelRegistry().list()] == ["a--b/one.gguf"]


def test_good_entries_are_kept_when_one_entry_is_damaged() -> None:
    registry = ModelRegistry()
    registry.add(record("a--b/one.gguf"))
    registry.add(record("c--d/two.gguf"))
    file = registry.file
    document = json.loads(file.read_text())
    document["models"][0]["sha256"] = "not a checksum"
    document["models"].append({"id": "e", "surprise": 1})
    file.write_text(json.dumps(document))
    fresh = ModelRegistry()
    assert [m.id for m in fresh.list()] == ["c--d/two.gguf"]
    assert "(1 model)" in fresh.problem.user_message
    assert "sha256 is not a sha256 checksum" in fresh.problem.details
    assert "surprise is not a known key" in fresh.problem.details


def registry_lock(registry: ModelRegistry) -> FileLock:
    return FileLock(registry.file.with_name(registry.file.name + ".lock"))


@pytest.mark.skipif(not LOCK_FREE_READS, reason="on Windows a read takes the lock")
def test_listing_does_not_wait_while_another_process_writes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(registry_module, "LOCK_WAIT_SECONDS", 0.3)
    registry = ModelRegistry()
    registry.add(record("a--b/one.gguf"))
    with registry_lock(registry):  # a delete of a big file, say, in another window
        assert [m.id for m in ModelRegistry().list()] == ["a--b/one.gguf"]
        with pytest.raises(HearthFileError, match="busy in another Hearth window"):
            registry.add(record("c--d/two.gguf"))  # a write still waits its turn (here, too long)


def test_a_damaged_list_is_mended_only_once_the_writer_is_done() -> None:
    registry = ModelRegistry()
    registry.add(record("a--b/one.gguf"))
    registry.add(record("c--d/two.gguf"))
    document = json.loads(registry.file.read_text())
    document["models"][0]["sha256"] = "not a checksum"
    registry.file.write_text(json.dumps(document))
    lock = registry_lock(registry)
    lock.__enter__()
    released = threading.Timer(0.5, lock.__exit__, (None, None, None))
    started = time.monotonic()
    released.start()
    try:
        fresh = ModelRegistry()
        assert [m.id for m in fresh.list()] == ["c--d/two.gguf"]  # read again under the lock, then mended
        assert time.monotonic() - started >= 0.5  # not before the lock was let go
    finally:
        released.join()
    assert not released.is_alive() and fresh.problem is not None
    assert [m["id"] for m in json.loads(registry.file.read_text())["models"]] == ["c--d/two.gguf"]
    assert len(list(registry.file.parent.glob("installed-models.json.damaged-*"))) == 1


def test_a_registry_from_a_newer_hearth_is_left_alone() -> None:
    file = hearth_paths().data / "installed-models.json"
    file.parent.mkdir(parents=True)
    file.write_text('{"schema_version": 2, "models": []}')
    with pytest.raises(RegistryTooNewError):
        ModelRegistry().list()
    with pytest.raises(RegistryTooNewError):
        ModelRegistry().add(record("a--b/one.gguf"))
    assert file.read_text() == '{"schema_version": 2, "models": []}'


ADD_MANY = """
import sys
from wizard.models import InstalledModel, ModelRegistry, ModelSource
registry = ModelRegistry()
for i in range(25):
    registry.add(InstalledModel(id=f"{sys.argv[1]}/{i}.gguf", path=f"{sys.argv[1]}/{i}.gguf",
                                source=ModelSource(kind="manual"), sha256="ab" * 32, size=i))
"""


def test_two_processes_adding_at_once_lose_nothing() -> None:
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT))
    workers = [subprocess.Popen([sys.executable, "-c", ADD_MANY, name], env=env) for name in ("left", "right")]
    assert [w.wait(timeout=60) for w in workers] == [0, 0]
    ids = {m.id for m in ModelRegistry().list()}
    assert len(ids) == 50 and {f"left/{i}.gguf" for i in range(25)} <= ids


def test_delete_removes_the_file_and_the_record_and_reports_the_space(tiny_model: Path) -> None:
    target = hearth_paths().models / "acme--tiny-GGUF" / tiny.FILE_NAME
    target.parent.mkdir(parents=True)
    shutil.copyfile(tiny_model, target)
    registry = ModelRegistry()
    model = register_file(target, source=ModelSource(kind="manual"), registry=registry)
    assert (model.id, model.path, model.sha256, model.size) == (
        f"acme--tiny-GGUF/{tiny.FILE_NAME}", f"acme--tiny-GGUF/{tiny.FILE_NAME}", tiny.SHA256, tiny.SIZE)
    removal = registry.delete(tiny.FILE_NAME)
    assert removal.bytes_freed == tiny.SIZE and not removal.file_was_missing
    assert not target.exists() and not target.parent.exists()  # the emptied repo folder goes too
    assert hearth_paths().models.is_dir()
    assert registry.list() == []


def test_deleting_a_model_whose_file_is_gone_just_forgets_it() -> None:
    registry = ModelRegistry()
    registry.add(record("a--b/one.gguf"))
    removal = registry.delete("a--b/one.gguf")
    assert removal.file_was_missing and removal.bytes_freed == 0
    assert registry.list() == []


@pytest.mark.parametrize("how", ["absolute elsewhere", "sibling with the same prefix", "dot-dot", "symlink out"])
def test_delete_refuses_files_outside_the_models_folder(tmp_path: Path, how: str) -> None:
    models = hearth_paths().models
    models.mkdir(parents=True)
    if how == "absolute elsewhere":
        victim = tmp_path / "documents" / "thesis.gguf"
        stored = str(victim)
    elif how == "sibling with the same prefix":
        victim = models.parent / "models-evil" / "x.gguf"  # /…/models-evil starts with /…/models
        stored = str(victim)
    elif how == "dot-dot":
        victim = models.parent / "precious.gguf"
        stored = "../precious.gguf"
    else:
        victim = tmp_path / "documents" / "linked.gguf"
        (models / "link.gguf").symlink_to(victim)
        stored = "link.gguf"
    victim.parent.mkdir(parents=True, exist_ok=True)
    victim.write_bytes(b"the person's own file")
    registry = ModelRegistry()
    registry.add(record("victim", path=stored))
    with pytest.raises(OutsideModelsFolderError) as caught:
        registry.delete("victim")
    assert caught.value.user_message == "“victim” is not in Hearth's models folder, so Hearth will not delete it."
    assert victim.read_bytes() == b"the person's own file"
    assert [m.id for m in registry.list()] == ["victim"]
    assert registry.forget("victim").id == "victim" and registry.list() == []
    assert victim.exists()


def test_a_finished_download_is_registered_with_its_source(hub_mirror: HubMirror) -> None:
    content = b"GGUF" + bytes(range(256)) * 16
    repo, name = "bartowski/Llama-3.2-1B-Instruct-GGUF", "Llama-3.2-1B-Instruct-Q4_K_M.gguf"  # in the catalog
    hub_mirror.add_repo(repo, {name: content})
    result = download_from_hub(repo, name, endpoint=hub_mirror.url)
    model = register_download(result, revision="main", endpoint=hub_mirror.url)
    assert model.id == f"bartowski--Llama-3.2-1B-Instruct-GGUF/{name}"
    assert model.source == ModelSource(kind="mirror", repo=repo, filename=name, revision="main",
                                       commit=result.commit, endpoint=hub_mirror.url)
    assert (model.size, model.licence) == (len(content), "llama3.2")
    assert model.sha256 == result.digest
    assert model.source.describe() == f"mirror {hub_mirror.url}: {repo}"
