"""Moving the data folder: real files, a real live SQLite database, the OS-default layout in tmp dirs."""

from __future__ import annotations

import hashlib
import os
import threading
from pathlib import Path

import pytest

from wizard import move_data
from wizard.agent import ConversationStore, MemoryStore
from wizard.download.disk import DiskUsage
from wizard.download.errors import NotEnoughSpaceError
from wizard.move_data import MoveCancelled, MoveFailedError, MoveNotAllowedError, check_move, move_data_folder
from wizard.paths import hearth_paths


@pytest.fixture
def os_default_layout(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.delenv("HEARTH_HOME")
    for name in ("DATA", "CONFIG", "CACHE", "STATE"):
        monkeypatch.setenv(f"XDG_{name}_HOME", str(tmp_path / f"xdg-{name.lower()}"))
    return tmp_path


@pytest.fixture
def data(os_default_layout: Path) -> dict:
    """A data folder like a real one: the chat database (open, in WAL mode), profiles, models."""
    folder = hearth_paths().data
    store = ConversationStore()
    conversation = store.create(title="Before the move")
    for number in range(50):
        store.add_message(conversation.id, "user", f"message {number} " + "x" * 500)
    MemoryStore(store).add_fact("My cat is called Tom")
    (folder / "profiles" / "everyday").mkdir(parents=True)
    (folder / "profiles" / "everyday" / "recipe.toml").write_text('id = "everyday"\n')
    (folder / "models" / "owner--name").mkdir(parents=True)
    model = folder / "models" / "owner--name" / "model.gguf"
    model.write_bytes(os.urandom(3 * 1024 * 1024 + 17))
    (folder / "installed-models.json").write_text('{"schema_version": 1, "models": []}')
    yield {"folder": folder, "store": store, "model_sha": hashlib.sha256(model.read_bytes()).hexdigest()}
    store.close()


def _tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def test_a_move_copies_verifies_switches_and_removes_the_old_copy(data: dict, os_default_layout: Path) -> None:
    old = data["folder"]
    data["store"].close()  # what the window does before a move
    target = os_default_layout / "big-disk" / "Hearth data"
    events = []
    result = move_data_folder(target, progress=events.append)
    assert result.new == target and result.old == old.resolve() and not result.left_behind
    assert hearth_paths().data == target and hearth_paths().models == target / "models"
    assert not old.exists()
    moved = target / "models" / "owner--name" / "model.gguf"
    assert hashlib.sha256(moved.read_bytes()).hexdigest() == data["model_sha"]
    assert (target / "profiles" / "everyday" / "recipe.toml").read_text() == 'id = "everyday"\n'
    with ConversationStore() as store:  # the database at the new place, every message there
        [conversation] = store.list()
        assert len(store.messages(conversation.id)) == 50
        assert [m.content for m in MemoryStore(store).list()] == ["My cat is called Tom"]
    stages = [e.stage for e in events]
    assert stages.index("copying") < stages.index("checking") < stages.index("removing") < stages.index("done")
    assert events[-1].bytes_done == events[-1].bytes_total == result.bytes_moved


def test_a_database_still_open_and_being_written_is_copied_whole(data: dict, os_default_layout: Path) -> None:
    store = data["store"]
    [conversation] = store.list()
    store.add_message(conversation.id, "assistant", "written just before the move")  # still in the WAL
    assert (data["folder"] / "hearth.db-wal").stat().st_size > 0
    move_data_folder(os_default_layout / "elsewhere")
    with ConversationStore() as moved:
        assert moved.messages(conversation.id)[-1].content == "written just before the move"


def test_large_files_are_checked_by_samples(data: dict, os_default_layout: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(move_data, "FULL_CHECK_LIMIT", 1024 * 1024)
    monkeypatch.setattr(move_data, "SAMPLE_BYTES", 64 * 1024)
    result = move_data_folder(os_default_layout / "elsewhere")
    moved = result.new / "models" / "owner--name" / "model.gguf"
    assert hashlib.sha256(moved.read_bytes()).hexdigest() == data["model_sha"]


def test_cancel_keeps_the_old_folder_in_force_and_removes_the_copy(data: dict, os_default_layout: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(move_data, "BLOCK", 64 * 1024)  # many blocks, so the cancel lands mid-file
    before = _tree(data["folder"])
    stop = threading.Event()

    def progress(event) -> None:
        if event.stage == "copying" and event.bytes_done > 1024 * 1024:
            stop.set()

    target = os_default_layout / "new-place"
    with pytest.raises(MoveCancelled) as caught:
        move_data_folder(target, progress=progress, cancel=stop)
    assert "still where it was" in caught.value.user_message
    assert not target.exists()
    assert hearth_paths().data == data["folder"]
    after = _tree(data["folder"])
    assert {k: v for k, v in after.items() if "hearth.db" not in k} == {
        k: v for k, v in before.items() if "hearth.db" not in k}
    assert len(data["store"].messages(data["store"].list()[0].id)) == 50


def test_a_copy_damaged_on_the_new_disk_is_caught_and_nothing_changes(data: dict, os_default_layout: Path) -> None:
    target = os_default_layout / "bad-disk"
    existing = target
    existing.mkdir()  # an empty folder the person made: kept, emptied again

    def damage_on_first_check(event) -> None:
        copy = target / "models" / "owner--name" / "model.gguf"
        if event.stage == "checking" and copy.exists():
            with copy.open("r+b") as handle:  # what a failing USB disk does
                handle.seek(1000)
                byte = handle.read(1)
                handle.seek(1000)
                handle.write(bytes([byte[0] ^ 0xFF]))

    with pytest.raises(MoveFailedError) as caught:
        move_data_folder(target, progress=damage_on_first_check)
    assert "model.gguf" in caught.value.user_message and "did not move" in caught.value.user_message
    assert target.is_dir() and not any(target.iterdir())
    assert hearth_paths().data == data["folder"] and data["folder"].is_dir()


def test_not_enough_space_says_how_many_gb_before_copying(data: dict, os_default_layout: Path) -> None:
    target = os_default_layout / "small-stick"
    with pytest.raises(NotEnoughSpaceError) as caught:
        move_data_folder(target, disk_usage=lambda _p: DiskUsage(total=10**9, used=10**9 - 10**6, free=10**6))
    assert "Moving your data needs" in caught.value.user_message and "GB" in caught.value.user_message
    assert not target.exists() and hearth_paths().data == data["folder"]


def test_refuses_a_folder_inside_the_data_folder_or_one_with_files(data: dict, os_default_layout: Path) -> None:
    with pytest.raises(MoveNotAllowedError, match="inside the data folder"):
        check_move(data["folder"] / "profiles" / "sub")
    with pytest.raises(MoveNotAllowedError, match="inside the data folder"):
        check_move(data["folder"])
    busy = os_default_layout / "busy"
    busy.mkdir()
    (busy / "holiday.jpg").write_bytes(b"photo")
    with pytest.raises(MoveNotAllowedError, match="already has files"):
        move_data_folder(busy)
    assert (busy / "holiday.jpg").read_bytes() == b"photo"
    a_file = os_default_layout / "a-file"
    a_file.write_text("x")
    with pytest.raises(MoveNotAllowedError, match="is a file"):
        check_move(a_file)
    assert hearth_paths().data == data["folder"]


def test_with_hearth_home_the_data_cannot_be_moved_from_hearth(tmp_path: Path) -> None:
    with pytest.raises(MoveNotAllowedError) as caught:
        check_move(tmp_path / "elsewhere")
    assert "one chosen folder" in caught.value.user_message
