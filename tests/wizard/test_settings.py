"""Hearth-wide settings: real files in the test's Hearth home, the real keyring API in memory."""

from __future__ import annotations

import os
import tomllib

import pytest

from wizard import settings as settings_module
from wizard.errors import HearthFileError
from wizard.paths import hearth_paths
from wizard.secrets import NoSecureStorageError, SessionSecrets
from wizard.settings import Settings, SettingsError, load_settings, save_settings
from wizard.settings_secrets import (
    LOCAL_API_TOKEN,
    REMOTE_ENGINE_KEY,
    local_api_token,
    new_local_api_token,
    remote_engine_key,
    set_remote_engine_key,
)


def test_no_file_gives_the_defaults_without_a_notice() -> None:
    loaded = load_settings()
    assert loaded.settings == Settings()
    assert loaded.notice is None
    assert loaded.path == hearth_paths().config / "settings.toml"
    assert Settings().context_size is None and Settings().threads is None  # automatic
    assert Settings().engine == "local" and not Settings().local_api and Settings().theme == "system"


def test_every_setting_survives_a_save_and_load() -> None:
    chosen = Settings(context_size=8192, threads=3, engine="remote", remote_url="http://192.168.1.20:8080/v1",
                      local_api=True, local_api_port=9000, theme="dark").with_model_for("everyday", "a--b/m.gguf")
    path = save_settings(chosen)
    assert path.is_file()
    assert load_settings() == load_settings()  # reading changes nothing
    loaded = load_settings()
    assert loaded.notice is None
    assert loaded.settings == chosen
    assert loaded.settings.model_for("everyday") == "a--b/m.gguf"
    assert loaded.settings.model_for("other") is None
    document = tomllib.loads(path.read_text(encoding="utf-8"))
    assert document["context_size"] == 8192 and document["profile_models"] == {"everyday": "a--b/m.gguf"}


def test_automatic_is_written_as_a_word_a_person_can_read() -> None:
    save_settings(Settings(context_size=None, threads=None))
    document = tomllib.loads(settings_module.settings_path().read_text(encoding="utf-8"))
    assert document["context_size"] == "automatic" and document["threads"] == "automatic"


def test_odd_text_in_names_and_addresses_round_trips() -> None:
    odd = 'quote " back\\slash ünïcode 🙂 tab\t'
    chosen = Settings().with_model_for(odd, odd)
    save_settings(chosen)
    assert load_settings().settings.model_for(odd) == odd


@pytest.mark.parametrize(("changes", "words"), [
    ({"context_size": 100}, "context size"),
    ({"context_size": True}, "context size"),
    ({"threads": 0}, "threads"),
    ({"threads": 2.5}, "threads"),
    ({"theme": "purple"}, "theme"),
    ({"engine": "cloud"}, "engine"),
    ({"engine": "remote"}, "address"),
    ({"remote_url": "ftp://host/v1"}, "http://"),
    ({"remote_url": "http://user:pw@host/v1"}, "password"),
    ({"remote_url": "http://host:port/v1"}, "port"),
    ({"local_api_port": 80}, "port"),
])
def test_unusable_values_are_refused_with_a_plain_message(changes: dict, words: str) -> None:
    with pytest.raises(SettingsError) as caught:
        Settings().changed(**changes)
    assert words in caught.value.user_message.lower()
    assert isinstance(caught.value, ValueError)


def test_a_damaged_file_gives_defaults_a_notice_and_a_kept_copy() -> None:
    path = settings_module.settings_path()
    path.parent.mkdir(parents=True)
    path.write_text("theme = [unclosed\n\x00", encoding="utf-8")
    loaded = load_settings()
    assert loaded.settings == Settings()
    assert isinstance(loaded.notice, HearthFileError)
    assert "damaged" in loaded.notice.user_message
    copies = list(path.parent.glob("settings.toml.damaged-*"))
    assert len(copies) == 1 and copies[0].read_text(encoding="utf-8").startswith("theme = [unclosed")


def test_a_file_that_is_not_text_is_handled() -> None:
    path = settings_module.settings_path()
    path.parent.mkdir(parents=True)
    path.write_bytes(b"\xff\xfe\x00garbage")
    loaded = load_settings()
    assert loaded.settings == Settings() and loaded.notice is not None


def test_a_newer_file_is_not_trusted() -> None:
    path = settings_module.settings_path()
    path.parent.mkdir(parents=True)
    path.write_text("schema_version = 99\ntheme = \"dark\"\n", encoding="utf-8")
    loaded = load_settings()
    assert loaded.settings == Settings() and loaded.notice is not None


def test_bad_values_fall_back_one_by_one_and_the_good_ones_are_kept() -> None:
    path = settings_module.settings_path()
    path.parent.mkdir(parents=True)
    path.write_text('theme = "dark"\nthreads = -4\ncontext_size = "lots"\ncolour = "blue"\n'
                    'remote_url = "http://box:8080/v1"\n', encoding="utf-8")
    loaded = load_settings()
    assert loaded.settings == Settings(theme="dark", remote_url="http://box:8080/v1")
    assert loaded.notice is not None
    for word in ("threads", "context_size", "colour"):
        assert word in loaded.notice.details


def test_saving_is_atomic_and_leaves_no_temp_files() -> None:
    save_settings(Settings(theme="light"))
    save_settings(Settings(theme="dark"))
    folder = settings_module.settings_path().parent
    assert sorted(p.name for p in folder.iterdir()) == ["settings.toml"]


def test_a_failed_save_keeps_the_old_file() -> None:
    save_settings(Settings(theme="light"))
    path = settings_module.settings_path()
    (path.parent / f".settings.toml.{os.getpid()}.tmp").mkdir()  # the temp file cannot be created
    with pytest.raises(HearthFileError) as caught:
        save_settings(Settings(theme="dark"))
    assert "could not save" in caught.value.user_message
    assert load_settings().settings.theme == "light"


def test_an_engine_on_another_computer_needs_its_address() -> None:
    path = settings_module.settings_path()
    path.parent.mkdir(parents=True)
    path.write_text('engine = "remote"\nthreads = 4\n', encoding="utf-8")
    loaded = load_settings()
    assert loaded.settings == Settings(threads=4)  # back to this computer, the rest kept
    assert "engine" in loaded.notice.details


def test_models_for_assistants_must_be_names() -> None:
    path = settings_module.settings_path()
    path.parent.mkdir(parents=True)
    path.write_text('[profile_models]\neveryday = 5\n', encoding="utf-8")
    loaded = load_settings()
    assert loaded.settings.profile_models == () and loaded.notice is not None


def test_keys_and_tokens_go_to_the_keyring_never_the_file(keyring_memory) -> None:
    set_remote_engine_key("sk-remote-secret-123")
    token = local_api_token()
    save_settings(Settings(engine="remote", remote_url="http://box:8080/v1", local_api=True))
    assert remote_engine_key() == "sk-remote-secret-123"
    assert token and len(token) >= 40 and local_api_token() == token  # made once, then kept
    assert keyring_memory.secrets[("Hearth/" + LOCAL_API_TOKEN[0], LOCAL_API_TOKEN[1])] == token
    assert keyring_memory.secrets[("Hearth/" + REMOTE_ENGINE_KEY[0], REMOTE_ENGINE_KEY[1])] == "sk-remote-secret-123"
    everything = "".join(p.read_text(encoding="utf-8", errors="replace")
                         for p in hearth_paths().config.rglob("*") if p.is_file())
    assert "sk-remote-secret-123" not in everything and token not in everything
    fresh = new_local_api_token()
    assert fresh != token and local_api_token() == fresh
    set_remote_engine_key("")
    assert remote_engine_key() is None


def test_without_a_secure_keyring_it_says_so_and_a_session_can_hold_them() -> None:
    # conftest leaves the real (headless: "fail") keyring in force unless keyring_memory is used
    with pytest.raises(NoSecureStorageError) as caught:
        set_remote_engine_key("sk-abc")
    assert "no secure place" in caught.value.user_message
    session = SessionSecrets()
    set_remote_engine_key("sk-abc", session=session)
    token = local_api_token(session=session)
    assert remote_engine_key(session=session) == "sk-abc"
    assert local_api_token(session=session) == token
    assert "sk-abc" not in repr(session)
