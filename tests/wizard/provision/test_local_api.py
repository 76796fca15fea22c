"""``local_api = true`` in an answer file takes effect: the provisioned assistant's engine serves the local API."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from wizard.engine import EngineAuthError, EngineClient, LocalEngine
from wizard.profiles import engine_for, load_profile
from wizard.provision import ProvisionError, load_answers, provision
from wizard.settings import Settings, load_settings, save_settings
from wizard.settings_secrets import local_api_token

FRONT_DESK = '''schema_version = 1
id = "front-desk"
name = "Front desk"
description = "Greets."
for_whom = "A small office."
[persona]
system_prompt = "Be kind."
greeting = "Hi."
[local_api]
offered = true
'''


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def answers_file(tmp_path: Path, tiny_model: Path, *, local_api: bool) -> Path:
    (tmp_path / "front-desk.toml").write_text(FRONT_DESK, encoding="utf-8")
    path = tmp_path / "answers.toml"
    path.write_text(f'schema_version = 1\nrecipe = "front-desk.toml"\nmodel = "{tiny_model}"\n'
                    f'local_api = {str(local_api).lower()}\nverify = false\n', encoding="utf-8")
    return path


def test_the_provisioned_engine_serves_the_local_api_with_its_token(tmp_path: Path, tiny_model: Path,
                                                                    keyring_memory) -> None:
    port = free_port()
    save_settings(Settings(local_api_port=port))  # the person's other settings are kept
    assert local_api_token(create=False) is None
    result = provision(load_answers(answers_file(tmp_path, tiny_model, local_api=True)))
    assert (f"Turned the local API on in Hearth's settings: http://127.0.0.1:{port}/v1, with the token kept in "
            "this computer's keyring") in result.lines
    assert load_settings().settings == Settings(local_api=True, local_api_port=port)
    token = local_api_token(create=False)
    assert token  # made while provisioning, kept in the keyring

    profile = load_profile("front-desk")
    assert profile.local_api
    engine = engine_for(profile)  # the saved settings, as the window and `hearth chat` use them
    assert isinstance(engine, LocalEngine)
    with engine:
        assert engine.base_url == f"http://127.0.0.1:{port}/v1" and engine.token == token
        other_app = EngineClient(f"http://127.0.0.1:{port}/v1", api_key=token)
        assert other_app.list_models() == [tiny_model.stem]
        with pytest.raises(EngineAuthError):
            EngineClient(f"http://127.0.0.1:{port}/v1", api_key="a-guess").list_models()
    html = result.report.read_text(encoding="utf-8")
    assert "Local API for other apps: <b>on</b>" in html and f"http://127.0.0.1:{port}/v1" in html

    again = provision(load_answers(answers_file(tmp_path, tiny_model, local_api=True)))
    assert not again.changed and local_api_token(create=False) == token  # the same token, nothing new

    off = provision(load_answers(answers_file(tmp_path, tiny_model, local_api=False)))
    assert off.changed and "Turned the local API off in Hearth's settings" in off.lines
    assert load_settings().settings.local_api is False and not load_profile("front-desk").local_api


def test_local_api_off_leaves_a_setting_the_person_chose(tmp_path: Path, tiny_model: Path, keyring_memory) -> None:
    save_settings(Settings(local_api=True, local_api_port=free_port()))
    provision(load_answers(answers_file(tmp_path, tiny_model, local_api=False)))
    assert load_settings().settings.local_api is True  # these answers never turned it on, so never off


def test_without_a_keyring_the_local_api_is_refused_before_anything_is_set_up(tmp_path: Path,
                                                                               tiny_model: Path) -> None:
    import keyring
    import keyring.backends.fail

    previous = keyring.get_keyring()
    keyring.set_keyring(keyring.backends.fail.Keyring())  # what a headless Linux computer has
    try:
        with pytest.raises(ProvisionError) as caught:
            provision(load_answers(answers_file(tmp_path, tiny_model, local_api=True)))
    finally:
        keyring.set_keyring(previous)
    assert caught.value.user_message.startswith("The local API cannot be turned on: its token must be kept in "
                                                "this computer's keyring, and this computer has no secure place")
    assert "local_api = false" in caught.value.hint
    assert not (load_settings().path.exists()) and not (tmp_path / "hearth-home" / "data" / "profiles").exists()
