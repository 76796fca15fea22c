"""Offline model packs on real files: round trip with the real tiny model, and every way a pack can be bad."""

from __future__ import annotations

import hashlib
import shutil
import threading
import tomllib
from pathlib import Path

import pytest

from tests.support import tiny_model as tiny
from wizard.download.disk import DiskUsage
from wizard.download.errors import NotEnoughSpaceError
from wizard.download.progress import DownloadProgress
from wizard.models import ModelRegistry, ModelSource, register_file
from wizard.packs import (
    MANIFEST_NAME,
    PackCancelled,
    PackFileDamagedError,
    PackFileMissingError,
    PackFolderNotEmptyError,
    PackManifestError,
    export_pack,
    import_pack,
)
from wizard.paths import hearth_paths

REPO, FILE = "acme/tiny-GGUF", "tiny.Q4_1.gguf"
COMMIT = "0123456789abcdef0123456789abcdef01234567"
SMALL = b"GGUF" + bytes(range(256)) * 40


def install_tiny(tiny_model: Path) -> None:
    target = hearth_paths().models / "acme--tiny-GGUF" / FILE
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(tiny_model, target)
    register_file(target, sha256=tiny.SHA256, licence="apache-2.0",
                  source=ModelSource(kind="hub", repo=REPO, filename=FILE, revision="main", commit=COMMIT))


def use_fresh_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str) -> Path:
    home = tmp_path / name
    monkeypatch.setenv("HEARTH_HOME", str(home))
    return home


def files_under(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


def make_pack(folder: Path, files: dict[str, bytes], *, extra: str = "", table: dict[str, str] | None = None) -> Path:
    """A hand-made pack: each file with its true size and sha256 unless ``table`` overrides lines."""
    folder.mkdir(parents=True, exist_ok=True)
    blocks = ["schema_version = 1"]
    for index, (path, content) in enumerate(files.items()):
        target = folder / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
        lines = {"path": f'"{path}"', "size": str(len(content)),
                 "sha256": f'"{hashlib.sha256(content).hexdigest()}"', "licence": '"apache-2.0"',
                 "source": f'{{ repo = "acme/pack-{index}", file = "{Path(path).name}" }}'}
        lines.update(table or {})
        blocks.append("[[files]]\n" + "\n".join(f"{k} = {v}" for k, v in lines.items()) + extra)
    (folder / MANIFEST_NAME).write_text("\n\n".join(blocks) + "\n", encoding="utf-8")
    return folder


def assert_nothing_installed() -> None:
    assert files_under(hearth_paths().models) == []
    assert ModelRegistry().list() == []


def test_round_trip_export_then_import_into_a_fresh_home(tiny_model: Path, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    install_tiny(tiny_model)
    pack = tmp_path / "usb-stick" / "hearth-pack"
    events: list[DownloadProgress] = []
    manifest = export_pack(pack, model_ids=[FILE, f"acme--tiny-GGUF/{FILE}"], progress=events.append)
    assert events[-1].state == "done" and events[-1].bytes_done == tiny.SIZE
    assert any(e.state == "verifying" for e in events)
    document = tomllib.loads((pack / MANIFEST_NAME).read_text())
    assert document["files"] == [{"path": f"models/acme--tiny-GGUF/{FILE}", "size": tiny.SIZE,
                                  "sha256": tiny.SHA256, "licence": "apache-2.0",
                                  "source": {"repo": REPO, "file": FILE, "revision": COMMIT}}]
    assert manifest.total_bytes == tiny.SIZE
    assert sorted(p.relative_to(pack).as_posix() for p in files_under(pack)) == [
        MANIFEST_NAME, f"models/acme--tiny-GGUF/{FILE}"]

    use_fresh_home(tmp_path, monkeypatch, "other-laptop")
    events.clear()
    result = import_pack(pack, progress=events.append)
    installed = hearth_paths().models / "acme--tiny-GGUF" / FILE
    assert tiny.sha256_of(installed) == tiny.SHA256
    [model] = ModelRegistry().list()
    assert model == result.installed[0]
    assert (model.id, model.sha256, model.size, model.licence) == (f"acme--tiny-GGUF/{FILE}", tiny.SHA256,
                                                                    tiny.SIZE, "apache-2.0")
    assert model.source == ModelSource(kind="pack", repo=REPO, filename=FILE, revision=COMMIT, pack=str(pack))
    assert events[-1].state == "done" and events[-1].bytes_done == tiny.SIZE
    assert files_under(hearth_paths().models) == [installed]  # no temp copies left behind


@pytest.mark.parametrize("path,expected", [
    ("../outside.gguf", "points outside the pack"),
    ("/etc/passwd", "points outside the pack"),
    ("models\\\\evil.gguf", "points outside the pack"),
    ("C:/Windows/evil.gguf", "points outside the pack"),
    ("models/../../evil.gguf", "points outside the pack"),
])
def test_unsafe_paths_in_the_manifest_are_refused_before_anything_is_written(tmp_path: Path, path: str,
                                                                              expected: str) -> None:
    pack = make_pack(tmp_path / "pack", {"models/good.gguf": SMALL}, table={"path": f'"{path}"'})
    with pytest.raises(PackManifestError) as caught:
        import_pack(pack)
    assert expected in caught.value.user_message
    assert caught.value.user_message.startswith("The model pack cannot be used: in hearth-pack.toml, files[1] ")
    assert not hearth_paths().models.exists()
    assert_nothing_installed()


def test_a_symlink_leaving_the_pack_is_refused(tmp_path: Path) -> None:
    secret = tmp_path / "home" / ".ssh" / "id_ed25519"
    secret.parent.mkdir(parents=True)
    secret.write_bytes(SMALL)  # same bytes and size as the manifest says: only the link gives it away
    pack = make_pack(tmp_path / "pack", {"models/key.gguf": SMALL})
    (pack / "models" / "key.gguf").unlink()
    (pack / "models" / "key.gguf").symlink_to(secret)
    with pytest.raises(PackManifestError, match="points outside the pack"):
        import_pack(pack)
    assert not hearth_paths().models.exists()


@pytest.mark.parametrize("table,extra,expected", [
    ({}, "\nrun_after = \"rm -rf ~\"", "has a key Hearth does not know: run_after"),
    ({"sha256": '"abc"'}, "", "malformed “sha256”"),
    ({"size": '"big"'}, "", "malformed “size”"),
    ({"source": '{ repo = "../..", file = "x.gguf" }'}, "", "unsafe name"),
    ({"source": '{ repo = "a/b", file = "x.gguf", url = "http://evil" }'}, "", "does not know: url"),
])
def test_malformed_entries_are_refused_naming_the_key(tmp_path: Path, table: dict[str, str], extra: str,
                                                      expected: str) -> None:
    pack = make_pack(tmp_path / "pack", {"models/good.gguf": SMALL}, table=table, extra=extra)
    with pytest.raises(PackManifestError) as caught:
        import_pack(pack)
    assert expected in caught.value.user_message
    assert not hearth_paths().models.exists()


def test_no_manifest_a_newer_schema_or_two_files_for_one_place_are_refused(tmp_path: Path) -> None:
    with pytest.raises(PackManifestError, match="has no hearth-pack.toml"):
        import_pack(tmp_path)
    pack = make_pack(tmp_path / "pack", {"models/good.gguf": SMALL})
    text = (pack / MANIFEST_NAME).read_text()
    (pack / MANIFEST_NAME).write_text(text.replace("schema_version = 1", "schema_version = 2"))
    with pytest.raises(PackManifestError, match="schema_version 2"):
        import_pack(pack)
    twice = make_pack(tmp_path / "twice", {"a/x.gguf": SMALL, "b/x.gguf": SMALL},
                      table={"source": '{ repo = "acme/same", file = "x.gguf" }'})
    with pytest.raises(PackManifestError, match="same place"):
        import_pack(twice)
    assert not hearth_paths().models.exists()


def test_a_flipped_byte_installs_nothing_and_names_the_file(tiny_model: Path, tmp_path: Path) -> None:
    pack = make_pack(tmp_path / "pack", {"models/a-first.gguf": SMALL, "models/b-second.gguf": SMALL[::-1]})
    damaged = pack / "models" / "b-second.gguf"
    content = bytearray(damaged.read_bytes())
    content[len(content) // 2] ^= 0x01
    damaged.write_bytes(bytes(content))
    with pytest.raises(PackFileDamagedError) as caught:
        import_pack(pack)
    assert caught.value.user_message == ("The model pack is damaged: “models/b-second.gguf” is not the file the "
                                         "pack lists. Nothing was installed.")
    assert_nothing_installed()  # the first file was good, but a pack installs whole or not at all
    assert not (hearth_paths().models / "partial" / "pack-import").exists()


def test_a_truncated_file_is_refused_before_copying(tmp_path: Path) -> None:
    pack = make_pack(tmp_path / "pack", {"models/cut.gguf": SMALL})
    (pack / "models" / "cut.gguf").write_bytes(SMALL[:1000])
    with pytest.raises(PackManifestError) as caught:
        import_pack(pack)
    assert caught.value.user_message == (f"The model pack is damaged: “models/cut.gguf” has 1,000 bytes, but the "
                                         f"pack says {len(SMALL):,}. Nothing was installed.")
    assert not hearth_paths().models.exists()


def test_a_missing_file_is_refused_before_copying(tmp_path: Path) -> None:
    pack = make_pack(tmp_path / "pack", {"models/here.gguf": SMALL, "models/gone.gguf": SMALL[::-1]})
    (pack / "models" / "gone.gguf").unlink()
    with pytest.raises(PackFileMissingError) as caught:
        import_pack(pack)
    assert caught.value.user_message == "The model pack is incomplete: “models/gone.gguf” is missing."
    assert not hearth_paths().models.exists()


def test_not_enough_disk_is_refused_before_copying(tmp_path: Path) -> None:
    pack = make_pack(tmp_path / "pack", {"models/a.gguf": SMALL})
    asked: list[Path] = []

    def small_disk(path: Path) -> DiskUsage:
        asked.append(path)
        return DiskUsage(total=10**9, used=10**9 - 100 * 1024 * 1024, free=100 * 1024 * 1024)

    with pytest.raises(NotEnoughSpaceError) as caught:
        import_pack(pack, disk_usage=small_disk)
    assert caught.value.user_message == ("Installing this model pack needs 0.3 GB of free space, but only 0.1 GB is free "
                                         "on this disk.")
    assert asked and not hearth_paths().models.exists()


def test_cancel_while_copying_installs_nothing(tiny_model: Path, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    install_tiny(tiny_model)
    pack = tmp_path / "pack"
    export_pack(pack)
    use_fresh_home(tmp_path, monkeypatch, "other")
    cancel = threading.Event()

    def stop_half_way(event: DownloadProgress) -> None:
        if event.state == "downloading" and event.bytes_done > tiny.SIZE // 2:
            cancel.set()

    with pytest.raises(PackCancelled):
        import_pack(pack, progress=stop_half_way, cancel=cancel)
    assert_nothing_installed()


def test_export_refuses_a_folder_holding_a_pack_and_a_damaged_installed_model(tiny_model: Path,
                                                                              tmp_path: Path) -> None:
    install_tiny(tiny_model)
    existing = make_pack(tmp_path / "existing", {"models/a.gguf": SMALL})
    with pytest.raises(PackFolderNotEmptyError):
        export_pack(existing)
    installed = hearth_paths().models / "acme--tiny-GGUF" / FILE
    with installed.open("r+b") as handle:  # bit rot in the installed copy
        handle.seek(5_000_000)
        byte = handle.read(1)
        handle.seek(5_000_000)
        handle.write(bytes([byte[0] ^ 0xFF]))
    pack = tmp_path / "new-pack"
    with pytest.raises(PackFileDamagedError, match="is damaged"):
        export_pack(pack)
    assert files_under(pack) == []  # no manifest, no half copy
