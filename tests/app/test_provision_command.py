"""``hearth provision`` as a consultant runs it: real processes, the real tiny model, a real pack and mirror."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.hub_mirror import HubMirror
from tests.support.tiny_model import FILE_NAME, SHA256, SIZE
from wizard.paths import hearth_paths

REPO_ROOT = Path(__file__).resolve().parents[2]
TINY_REPO, TINY_ID = "HuggingFaceTB/SmolLM2-135M-Instruct-GGUF", "smollm2-135m-instruct-q4_1"


def hearth(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "app", *args], cwd=REPO_ROOT, env=dict(os.environ),
                          text=True, capture_output=True, timeout=300)


def profiles() -> list[str]:
    root = hearth_paths().data / "profiles"
    return sorted(p.name for p in root.iterdir()) if root.is_dir() else []


def files_of(folder: Path) -> dict[str, int]:
    return {p.name: p.stat().st_mtime_ns for p in folder.iterdir()}


@pytest.fixture
def pack(tmp_path: Path, tiny_model: Path) -> Path:
    """A model pack on a "USB stick", made by `hearth pack export`'s code on another computer's registry."""
    from wizard.models import ModelRegistry, register_file
    from wizard.models.records import ModelSource
    from wizard.packs import export_pack

    other = tmp_path / "consultant-laptop"
    registry = ModelRegistry(file=other / "installed-models.json", models_dir=other / "models")
    copy = other / "models" / "HuggingFaceTB--SmolLM2-135M-Instruct-GGUF" / FILE_NAME
    copy.parent.mkdir(parents=True)
    shutil.copyfile(tiny_model, copy)
    register_file(copy, source=ModelSource(kind="hub", repo=TINY_REPO, filename=FILE_NAME, revision="main"),
                  sha256=SHA256, registry=registry, licence="apache-2.0")
    stick = tmp_path / "usb" / "pack"
    export_pack(stick, registry=registry)
    return stick


def answers(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "answers.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_offline_from_a_model_pack_then_a_rerun_changes_nothing(tmp_path: Path, pack: Path) -> None:
    file = answers(tmp_path, f'schema_version = 1\nrecipe = "everyday-assistant"\nmodel = "auto"\n'
                             f'person_name = "Ada"\nmodel_pack = "{pack}"\n')
    dry = hearth("provision", str(file), "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "to be copied and checked from the model pack" in dry.stderr
    assert 'Create the assistant "Everyday assistant"' in dry.stderr
    assert profiles() == [] and not (hearth_paths().models).exists()  # a dry run writes nothing

    done = hearth("provision", str(file))
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    for words in ("This computer:", "Copying the model pack", "Model check passed", "Created the assistant"):
        assert words in done.stderr
    from wizard.profiles import load_profile

    profile = load_profile("everyday-assistant")
    assert profile.person_name == "Ada" and profile.local_api is False
    assert profile.model_path.is_relative_to(hearth_paths().models) and profile.model_path.stat().st_size == SIZE
    assert profile.load_plan.n_ctx >= 4096
    assert "model pack" in profile.setup["model_reason"]
    report = (profile.folder / "handover-report.html").read_text(encoding="utf-8")
    assert "Ada" in report and "tokens a second" in report and str(pack) in report
    log = hearth_paths().log_file.read_text(encoding="utf-8")
    assert "provision: Model check passed" in log  # every step is in the log too

    before = files_of(profile.folder)
    again = hearth("provision", str(file))
    assert again.returncode == 0, again.stderr
    assert again.stdout.startswith("Nothing to change")
    assert "already installed" in again.stderr and "Model check passed" not in again.stderr
    assert files_of(profile.folder) == before
    assert profiles() == ["everyday-assistant"]


def test_auto_downloads_from_the_mirror(tmp_path: Path, hub_mirror: HubMirror, tiny_model: Path) -> None:
    from tests.app.setup.conftest import tiny_catalog
    from wizard.catalog.write import write_catalog

    hub_mirror.add_repo(TINY_REPO, {FILE_NAME: tiny_model})
    catalog = write_catalog(tiny_catalog(tiny_model), tmp_path / "our-models.toml")
    recipe = tmp_path / "front-desk.toml"
    recipe.write_text('schema_version = 1\nid = "front-desk"\nname = "Front desk"\ndescription = "Greets."\n'
                      'for_whom = "A small office."\n[persona]\nsystem_prompt = "Be kind."\ngreeting = "Hi."\n'
                      '[local_api]\noffered = true\n', encoding="utf-8")
    file = answers(tmp_path, f'schema_version = 1\nrecipe = "front-desk.toml"\nmodel = "auto"\n'
                             f'mirror = "{hub_mirror.url}"\ncatalog = "our-models.toml"\nverify = false\n')
    done = hearth("provision", str(file))
    assert done.returncode == 0, done.stderr
    assert f"Downloading {TINY_REPO}/{FILE_NAME} from {hub_mirror.url}" in done.stderr
    from wizard.profiles import load_profile

    profile = load_profile("front-desk")
    assert profile.local_api is False and profile.setup["catalog_id"] == TINY_ID
    assert profile.setup["model_reason"].startswith("the best model in Hearth's list for this computer")
    assert profile.model_path.read_bytes()[:4] == b"GGUF"
    report = (profile.folder / "handover-report.html").read_text(encoding="utf-8")
    assert "mirror " + hub_mirror.url in report and "Local API for other apps: <b>off</b>" in report
    assert hearth("provision", str(file)).stdout.startswith("Nothing to change")
    assert catalog.is_file()


def test_a_bad_answer_file_lists_every_problem_and_sets_up_nothing(tmp_path: Path) -> None:
    file = answers(tmp_path, 'schema_version = 1\nrecipe = "everyday-assistant"\nmodel = 7\n'
                             'colour = "blue"\nlocal_api = "yes"\n')
    done = hearth("provision", str(file))
    assert done.returncode == 1
    assert "answers.toml:3: model: expected text in quotes, found 7" in done.stderr
    assert "answers.toml:4: colour: Hearth does not know this setting" in done.stderr
    assert "answers.toml:5: local_api: expected true or false" in done.stderr
    assert "Error: The answer file \"answers.toml\" has 3 problems" in done.stderr
    assert "Traceback" not in done.stderr and profiles() == []


def test_a_missing_pack_is_a_plain_error_and_no_profile(tmp_path: Path) -> None:
    file = answers(tmp_path, 'schema_version = 1\nrecipe = "everyday-assistant"\nmodel_pack = "no-such-stick"\n')
    done = hearth("provision", str(file))
    assert done.returncode == 1 and done.stderr.count("Error:") == 1
    assert "Traceback" not in done.stderr and profiles() == []


def test_a_failing_download_leaves_no_profile(tmp_path: Path, hub_mirror: HubMirror, tiny_model: Path) -> None:
    from tests.app.setup.conftest import tiny_catalog
    from wizard.catalog.write import write_catalog

    hub_mirror.add_repo(TINY_REPO, {FILE_NAME: tiny_model})
    write_catalog(tiny_catalog(tiny_model), tmp_path / "our-models.toml")
    hub_mirror.trouble.corrupt_at = 1_000_000  # every response carries one wrong byte
    file = answers(tmp_path, f'schema_version = 1\nrecipe = "everyday-assistant"\nmodel = "{TINY_ID}"\n'
                             f'mirror = "{hub_mirror.url}"\ncatalog = "our-models.toml"\n')
    done = hearth("provision", str(file))
    assert done.returncode == 1, done.stdout
    assert done.stderr.count("Error:") == 1 and "Traceback" not in done.stderr
    assert profiles() == []


def test_a_folder_the_recipe_does_not_ask_for_is_refused(tmp_path: Path, pack: Path) -> None:
    file = answers(tmp_path, f'schema_version = 1\nrecipe = "private-document-helper"\nfolders = ["~/Secret"]\n'
                             f'model_pack = "{pack}"\n')
    done = hearth("provision", str(file), "--dry-run")
    assert done.returncode == 1
    assert 'Error: The folder "~/Secret" in the answer file is not one the recipe' in done.stderr
    assert profiles() == []


PAPERS = '''schema_version = 1
id = "papers"
name = "Papers"
description = "Searches papers."
for_whom = "Tests."
[persona]
system_prompt = "Be brief."
greeting = "Hi."
[documents]
folders = ["~/Papers", "~/Private"]
[[tools]]
name = "documents_search"
[[tools]]
name = "read_file"
read_folders = ["~/Papers"]
'''


@pytest.fixture
def user_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    for name in ("Papers", "Private", "Documents"):
        (home / name).mkdir(parents=True)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    return home


def bare_model(tmp_path: Path, tiny_model: Path) -> Path:
    """A sound GGUF file whose chat template was taken out: the engine refuses it, so its check fails."""
    from tests.wizard.engine.gguf_edit import rewrite_gguf

    bare = tmp_path / "bare.gguf"
    rewrite_gguf(tiny_model, bare, key="tokenizer.chat_template", new_key="tokenizer.removed_template")
    return bare


def test_only_the_folders_in_the_answer_file_are_granted(tmp_path: Path, tiny_model: Path, user_home: Path) -> None:
    (tmp_path / "papers.toml").write_text(PAPERS, encoding="utf-8")
    file = answers(tmp_path, f'schema_version = 1\nrecipe = "papers.toml"\nmodel = "{tiny_model}"\n'
                             'folders = ["~/Papers"]\nverify = false\n')
    done = hearth("provision", str(file))
    assert done.returncode == 0, done.stderr
    private = str(user_home / "Private")
    assert f"Folder not granted (left out of the answer file): {private}" in done.stderr
    from wizard.profiles import load_profile

    profile = load_profile("papers")
    assert profile.setup["folders_refused"] == [private]
    assert [str(f.path) for f in profile.recipe.document_folders] == [str(user_home / "Papers")]
    assert ("documents", private) not in profile.permissions
    assert ("documents", str(user_home / "Papers")) in profile.permissions
    report = (profile.folder / "handover-report.html").read_text(encoding="utf-8")
    assert f"were <b>not</b> granted:</p><ul><li><code>{private}</code>" in report


def test_a_catalog_id_is_downloaded_from_the_mirror(tmp_path: Path, hub_mirror: HubMirror, tiny_model: Path) -> None:
    from tests.app.setup.conftest import tiny_catalog
    from wizard.catalog.write import write_catalog

    hub_mirror.add_repo(TINY_REPO, {FILE_NAME: tiny_model})
    write_catalog(tiny_catalog(tiny_model), tmp_path / "our-models.toml")
    file = answers(tmp_path, f'schema_version = 1\nrecipe = "study-buddy"\nmodel = "{TINY_ID}"\n'
                             f'mirror = "{hub_mirror.url}"\ncatalog = "our-models.toml"\nverify = false\n')
    done = hearth("provision", str(file))
    assert done.returncode == 0, done.stderr
    assert f"Downloaded and verified {FILE_NAME}" in done.stderr
    from wizard.profiles import load_profile

    profile = load_profile("study-buddy")
    assert profile.setup["catalog_id"] == TINY_ID and profile.model_name == "SmolLM2 135M (test model)"
    assert profile.setup["model_reason"].startswith("the answer file names it; it runs")
    assert profile.model_path.is_relative_to(hearth_paths().models) and profile.model_path.stat().st_size == SIZE


def test_a_gguf_file_named_in_the_answer_file_is_used_where_it_is(tmp_path: Path, tiny_model: Path) -> None:
    local = tmp_path / "models" / "mine.gguf"
    local.parent.mkdir()
    shutil.copyfile(tiny_model, local)
    file = answers(tmp_path, 'schema_version = 1\nrecipe = "writing-desk"\nmodel = "models/mine.gguf"\n'
                             'person_name = "Bo"\nverify = false\n')
    done = hearth("provision", str(file))
    assert done.returncode == 0, done.stderr
    assert f"Added the model file {local} to Hearth's installed models" in done.stderr
    from wizard.models import ModelRegistry
    from wizard.profiles import load_profile

    profile = load_profile("writing-desk")
    assert profile.model_path == local and profile.person_name == "Bo"
    assert profile.setup["model_reason"] == "the answer file names this model file"
    assert ModelRegistry().get(profile.setup["model_id"]).file_in(hearth_paths().models) == local


def test_a_failed_model_check_leaves_no_profile(tmp_path: Path, tiny_model: Path) -> None:
    bare = bare_model(tmp_path, tiny_model)
    file = answers(tmp_path, f'schema_version = 1\nrecipe = "study-buddy"\nmodel = "{bare}"\n')
    done = hearth("provision", str(file))
    assert done.returncode == 1, done.stderr
    assert "Error: The model check failed:" in done.stderr and "Traceback" not in done.stderr
    assert "Running " in done.stderr  # it was really run, and refused
    assert profiles() == []


def test_a_failure_while_provisioning_again_keeps_the_old_profile(tmp_path: Path, tiny_model: Path) -> None:
    file = answers(tmp_path, f'schema_version = 1\nrecipe = "study-buddy"\nmodel = "{tiny_model}"\n'
                             'person_name = "Ada"\nverify = false\n')
    assert hearth("provision", str(file)).returncode == 0
    folder = hearth_paths().data / "profiles" / "study-buddy"
    before = {p.name: p.read_bytes() for p in folder.iterdir()}

    bare = bare_model(tmp_path, tiny_model)
    file.write_text(f'schema_version = 1\nrecipe = "study-buddy"\nmodel = "{bare}"\nperson_name = "Eve"\n',
                    encoding="utf-8")
    done = hearth("provision", str(file))
    assert done.returncode == 1 and "Error: The model check failed:" in done.stderr
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before
    from wizard.profiles import load_profile

    profile = load_profile("study-buddy")
    assert profile.person_name == "Ada" and profile.model_path == tiny_model
    assert profiles() == ["study-buddy"]


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
KEYRING_PASSWORD = "keyring password for tests"
needs_secret_service = pytest.mark.skipif(
    not (shutil.which("dbus-run-session") and shutil.which("gnome-keyring-daemon")),
    reason="needs Debian packages dbus and gnome-keyring (packaging/debian-packages.txt)")


def in_keyring_session(tmp_path: Path, script: str, **env: str) -> dict:
    """Run ``script`` (Python, printing one JSON line last) with a real, unlocked Secret Service.

    gnome-keyring runs in its own D-Bus session with a private home folder, so nothing reaches
    the real keyring; Hearth's folders are the test's own (HEARTH_HOME).
    """
    import json
    import textwrap

    home = tmp_path / "session-home"
    runtime = tmp_path / "session-runtime"
    for folder in (home, runtime):
        folder.mkdir(exist_ok=True)
    runtime.chmod(0o700)
    password = tmp_path / "keyring-password"
    password.write_text(KEYRING_PASSWORD, encoding="utf-8")
    child = {k: v for k, v in os.environ.items()
             if k not in ("DISPLAY", "WAYLAND_DISPLAY", "DBUS_SESSION_BUS_ADDRESS", "PYTHON_KEYRING_BACKEND",
                          "GNOME_KEYRING_CONTROL", "SSH_AUTH_SOCK")}
    child.update(HOME=str(home), XDG_RUNTIME_DIR=str(runtime), XDG_DATA_HOME=str(home / ".local" / "share"),
                 XDG_CONFIG_HOME=str(home / ".config"), PYTHONPATH=str(REPO_ROOT))
    child.update(env)
    driver = tmp_path / "driver.py"
    driver.write_text(textwrap.dedent(script), encoding="utf-8")
    start = f"gnome-keyring-daemon --unlock --components=secrets < '{password}' > /dev/null"
    done = subprocess.run(["dbus-run-session", "--", "sh", "-c", f'{start} && exec "$@"', "sh", sys.executable,
                           str(driver)], capture_output=True, text=True, timeout=300, env=child, cwd=REPO_ROOT)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


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
