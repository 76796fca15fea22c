"""Export everything: a real chat database, real profile files, real keyring values, a real zip."""

from __future__ import annotations

import json
import threading
import zipfile
from pathlib import Path

import pytest

from wizard.agent import ConversationStore, MemoryStore
from wizard.agent.export import parse_markdown_export
from wizard.export_all import ExportAllError, ExportCancelled, export_everything
from wizard.paths import hearth_paths
from wizard.recipes.plan import profiles_dir
from wizard.secrets import HUB_TOKEN, set_secret
from wizard.settings import Settings, save_settings
from wizard.settings_secrets import local_api_token, set_remote_engine_key

REMOTE_KEY = "sk-remote-0123456789-secret"
HUB_VALUE = "hf_abcdefghijklmnopqrstuvwxyz012345"


@pytest.fixture
def hearth_with_records(keyring_memory) -> dict:
    """Two conversations, a memory, a profile, settings and three secrets, made the real way."""
    with ConversationStore() as store:
        first = store.create(title="Garden plans", profile="everyday", model="SmolLM2")
        store.add_message(first.id, "user", "What should I plant in **May**?\n```\ncode & <tags>\n```")
        store.add_message(first.id, "assistant", "Tomatoes and beans.", model="SmolLM2")
        second = store.create(title="Letter / to the council?", profile="everyday")
        store.add_message(second.id, "user", "Help me write a letter.")
        MemoryStore(store).add_fact("My garden faces south", profile="everyday")
    folder = profiles_dir() / "everyday"
    folder.mkdir(parents=True)
    (folder / "recipe.toml").write_text('id = "everyday"\nname = "Everyday"\n', encoding="utf-8")
    (folder / "profile.json").write_text('{"schema_version": 1}\n', encoding="utf-8")
    (folder / "setup.json").write_text(
        # a secret that slipped into a file by mistake must still never reach the export
        json.dumps({"person_name": "Ann", "note": f"token {HUB_VALUE}"}), encoding="utf-8")
    (folder / "big-index.bin").write_bytes(b"\0" * 1000)  # not a record: stays out
    save_settings(Settings(theme="dark", engine="remote", remote_url="http://box:8080/v1", local_api=True))
    set_remote_engine_key(REMOTE_KEY)
    set_secret(*HUB_TOKEN, HUB_VALUE)
    return {"ids": (first.id, second.id), "token": local_api_token()}


def test_the_zip_holds_every_record_in_open_formats(hearth_with_records: dict, tmp_path: Path) -> None:
    seen = []
    summary = export_everything(tmp_path / "out" / "Hearth export.zip", progress=seen.append)
    assert summary.path.is_file() and summary.conversations == 2 and summary.memories == 1 and summary.profiles == 1
    with zipfile.ZipFile(summary.path) as archive:
        names = set(archive.namelist())
        first, second = hearth_with_records["ids"]
        assert {f"conversations/{first:04d}-garden-plans.md", f"conversations/{first:04d}-garden-plans.json",
                f"conversations/{second:04d}-letter-to-the-council.md", "memories.json", "settings.toml",
                "README.txt", "profiles/everyday/recipe.toml", "profiles/everyday/profile.json",
                "profiles/everyday/setup.json"} <= names
        assert not any("big-index" in n for n in names)
        markdown = archive.read(f"conversations/{first:04d}-garden-plans.md").decode()
        assert [m["content"] for m in parse_markdown_export(markdown)] == [
            "What should I plant in **May**?\n```\ncode & <tags>\n```", "Tomatoes and beans."]
        as_json = json.loads(archive.read(f"conversations/{first:04d}-garden-plans.json"))
        assert as_json["ai_generated"] and as_json["messages"][1]["content"] == "Tomatoes and beans."
        memories = json.loads(archive.read("memories.json"))["memories"]
        assert [m["content"] for m in memories] == ["My garden faces south"]
        assert 'theme = "dark"' in archive.read("settings.toml").decode()
        assert "keyring" in archive.read("README.txt").decode()
    assert seen[-1].done == seen[-1].total and [e.done for e in seen] == sorted(e.done for e in seen)


def test_no_secret_value_is_anywhere_in_the_zip(hearth_with_records: dict, tmp_path: Path) -> None:
    path = export_everything(tmp_path / "export.zip").path
    raw = path.read_bytes()
    with zipfile.ZipFile(path) as archive:
        contents = b"".join(archive.read(name) for name in archive.namelist())
    for secret in (REMOTE_KEY, HUB_VALUE, hearth_with_records["token"]):
        assert secret.encode() not in contents and secret.encode() not in raw
    assert b"[secret removed]" in contents  # the one that slipped into setup.json


def test_secrets_kept_for_this_session_only_are_kept_out_too(hearth_with_records: dict, tmp_path: Path) -> None:
    with ConversationStore() as store:
        conversation = store.create(title="pasted by mistake")
        store.add_message(conversation.id, "user", "my key is session-only-key-987654")
    path = export_everything(tmp_path / "export.zip", also_hide=["session-only-key-987654"]).path
    with zipfile.ZipFile(path) as archive:
        contents = b"".join(archive.read(name) for name in archive.namelist())
    assert b"session-only-key-987654" not in contents and b"my key is [secret removed]" in contents


def test_cancel_leaves_nothing_at_the_target_and_keeps_an_older_file(hearth_with_records: dict,
                                                                     tmp_path: Path) -> None:
    target = tmp_path / "export.zip"
    target.write_bytes(b"an older export")
    stop = threading.Event()
    calls = []

    def progress(event) -> None:
        calls.append(event)
        if len(calls) == 2:
            stop.set()

    with pytest.raises(ExportCancelled) as caught:
        export_everything(target, progress=progress, cancel=stop)
    assert "stopped" in caught.value.user_message
    assert target.read_bytes() == b"an older export"
    assert sorted(p.name for p in tmp_path.iterdir() if p.name != "hearth-home") == ["export.zip"]


def test_an_unwritable_place_is_a_plain_error(hearth_with_records: dict, tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    with pytest.raises(ExportAllError) as caught:
        export_everything(blocker / "export.zip")
    assert "could not create" in caught.value.user_message


def test_an_empty_hearth_exports_a_readme_and_settings(tmp_path: Path) -> None:
    summary = export_everything(tmp_path / "empty.zip")
    with zipfile.ZipFile(summary.path) as archive:
        assert {"README.txt", "settings.toml", "memories.json"} <= set(archive.namelist())
    assert summary.conversations == 0
    assert not (hearth_paths().data / "hearth.db").exists()  # exporting created no database
