"""``hearth provision`` with secrets and the local API: a real Secret Service (gnome-keyring in its
own D-Bus session), the real tiny model, real processes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.app.provision_support import REPO_ROOT, answers, hearth, in_keyring_session, needs_secret_service, profiles
from wizard.paths import hearth_paths

SHOP = '''schema_version = 1
id = "corner-shop"
name = "Corner shop"
description = "Drafts emails."
for_whom = "A shop."
[persona]
system_prompt = "Be brief."
greeting = "Hi."
[[integrations]]
name = "mail"
purpose = "Send approved drafts."
secrets = ["mail_password", "mail_user"]
[local_api]
offered = true
'''
RUN_HEARTH = """
    import json, subprocess, sys
    def hearth(*args):
        done = subprocess.run([sys.executable, "-m", "app", *args], capture_output=True, text=True, timeout=240)
        return {"rc": done.returncode, "stdout": done.stdout, "stderr": done.stderr}
"""


@needs_secret_service
def test_secrets_from_the_environment_go_to_the_real_keyring_and_the_rest_are_named(
        tmp_path: Path, tiny_model: Path) -> None:
    (tmp_path / "shop.toml").write_text(SHOP, encoding="utf-8")
    file = answers(tmp_path, f'schema_version = 1\nrecipe = "shop.toml"\nmodel = "{tiny_model}"\nverify = false\n'
                             '[secrets]\nmail_password = "env:SHOP_MAIL_PASSWORD"\n')
    result = in_keyring_session(tmp_path, RUN_HEARTH + f"""
    done = hearth("provision", {str(file)!r})
    from wizard.secrets import get_secret
    print(json.dumps({{**done, "kept": get_secret("corner-shop", "mail_password"),
                      "user": get_secret("corner-shop", "mail_user")}}))
    """, SHOP_MAIL_PASSWORD="s3cret-from-env")
    assert result["rc"] == 0, result["stderr"]
    assert result["kept"] == "s3cret-from-env" and result["user"] is None
    err = result["stderr"]
    assert ('Secret "mail_password" for mail: from the environment variable SHOP_MAIL_PASSWORD, to be kept in '
            "this computer's keyring") in err
    assert ('Secret "mail_user" for mail: not in the answer file, so it is not set up; until the person enters '
            "it (open Hearth and choose Set up again… to enter it), mail cannot be used") in err
    assert "Kept the secret \"mail_password\" in this computer's keyring" in err
    assert "s3cret-from-env" not in err + result["stdout"] + hearth_paths().log_file.read_text(encoding="utf-8")
    for path in hearth_paths().data.rglob("*"):
        assert not path.is_file() or b"s3cret-from-env" not in path.read_bytes(), path


def test_a_secret_whose_variable_is_not_set_stops_before_anything_is_done(tmp_path: Path, tiny_model: Path) -> None:
    (tmp_path / "shop.toml").write_text(SHOP, encoding="utf-8")
    file = answers(tmp_path, f'schema_version = 1\nrecipe = "shop.toml"\nmodel = "{tiny_model}"\nverify = false\n'
                             '[secrets]\nmail_password = "env:HEARTH_TEST_NOT_SET"\n')
    done = hearth("provision", str(file))
    assert done.returncode == 1
    assert ('Error: The secret "mail_password" should come from the environment variable HEARTH_TEST_NOT_SET, '
            "which is not set (or empty).") in done.stderr
    assert profiles() == [] and not hearth_paths().models.exists()


@needs_secret_service
def test_local_api_on_is_served_by_the_provisioned_engine_with_a_real_keyring(tmp_path: Path,
                                                                              tiny_model: Path) -> None:
    from tests.wizard.provision.test_local_api import free_port
    from wizard.settings import Settings, load_settings, save_settings

    port = free_port()
    save_settings(Settings(local_api_port=port))
    (tmp_path / "shop.toml").write_text(SHOP, encoding="utf-8")
    file = answers(tmp_path, f'schema_version = 1\nrecipe = "shop.toml"\nmodel = "{tiny_model}"\nverify = false\n'
                             'local_api = true\n')
    result = in_keyring_session(tmp_path, RUN_HEARTH + f"""
    first, again = hearth("provision", {str(file)!r}), hearth("provision", {str(file)!r})
    from wizard.engine import EngineAuthError, EngineClient
    from wizard.profiles import engine_for, load_profile
    from wizard.settings_secrets import local_api_token

    token = local_api_token(create=False)
    with engine_for(load_profile("corner-shop")) as engine:
        models = EngineClient("http://127.0.0.1:{port}/v1", api_key=token).list_models()
        try:
            EngineClient("http://127.0.0.1:{port}/v1", api_key="a-guess").list_models()
            refused = False
        except EngineAuthError:
            refused = True
        where = engine.base_url
    print(json.dumps({{"first": first, "again": again, "models": models, "refused": refused, "where": where,
                      "token": bool(token)}}))
    """)
    assert result["first"]["rc"] == 0, result["first"]["stderr"]
    assert (f"Turned the local API on in Hearth's settings: http://127.0.0.1:{port}/v1, with the token kept in "
            "this computer's keyring") in result["first"]["stderr"]
    assert result["again"]["stdout"].startswith("Nothing to change")
    assert result["token"] and result["models"] == [tiny_model.stem] and result["refused"]
    assert result["where"] == f"http://127.0.0.1:{port}/v1"
    assert load_settings().settings.local_api is True


def test_local_api_without_any_keyring_is_a_plain_error_and_sets_up_nothing(tmp_path: Path, tiny_model: Path) -> None:
    (tmp_path / "shop.toml").write_text(SHOP, encoding="utf-8")
    file = answers(tmp_path, f'schema_version = 1\nrecipe = "shop.toml"\nmodel = "{tiny_model}"\nlocal_api = true\n')
    env = {k: v for k, v in os.environ.items() if k not in ("DBUS_SESSION_BUS_ADDRESS", "PYTHON_KEYRING_BACKEND")}
    done = subprocess.run([sys.executable, "-m", "app", "provision", str(file)], cwd=REPO_ROOT, env=env, text=True,
                          capture_output=True, timeout=120)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert "Error: The local API cannot be turned on: its token must be kept in this computer's keyring" in done.stderr
    assert profiles() == [] and not hearth_paths().models.exists()
