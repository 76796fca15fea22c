"""``hearth recipe check|list|apply`` run for real in a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.app.provision_support import in_keyring_session, needs_secret_service
from tests.wizard.test_recipes_folders import as_unprivileged
from wizard.gguf import read_gguf_header
from wizard.paths import hearth_paths

REPO = Path(__file__).resolve().parents[2]
GOOD = '''schema_version = 1
id = "my-helper"
name = "My helper"
description = "A helper for tests."
for_whom = "Tests."

[persona]
system_prompt = "Be brief."
greeting = "Hi."

[documents]
folders = ["{documents}"]

[[tools]]
name = "documents_search"
'''


@pytest.fixture
def user_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    (home / "Documents").mkdir(parents=True)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    return home


def hearth(*args: str, prefix: list[str] | None = None, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*(prefix or []), sys.executable, "-m", "app", "recipe", *args], cwd=REPO,
                          capture_output=True, text=True, timeout=120, env={**os.environ, **env})


def test_check_prints_every_problem_with_line_and_exits_1(tmp_path: Path, user_home: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(GOOD.replace('"Be brief."', '"Be brief."\ncolour = "red"')
                   .replace('["{documents}"]', '["/etc", "~"]') + '\n[sampling]\ntemperature = "hot"\n')
    result = hearth("check", str(bad))
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert lines[:4] == [
        'bad.toml:9: persona.colour: "colour" is not a setting Hearth knows here. Settings '
        'allowed here: greeting, system_prompt',
        'bad.toml:13: documents.folders[1]: "/etc": refused: this is a system folder; a recipe '
        'may not open system folders',
        f'bad.toml:13: documents.folders[2]: "~": refused ({user_home}): this is your whole home '
        'folder; choose a folder inside it, such as {documents}',
        'bad.toml:19: sampling.temperature: expected a number from 0 to 2, found "hot"',
    ]
    assert lines[4] == 'Error: The recipe "bad.toml" has 4 problems, so Hearth did not use it.'
    assert "Traceback" not in result.stdout + result.stderr


def test_check_of_good_recipe_summarises_and_exits_0(tmp_path: Path, user_home: Path) -> None:
    good = tmp_path / "good.toml"
    good.write_text(GOOD)
    result = hearth("check", str(good))
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.splitlines()[:6] == [
        'good.toml: OK — "My helper" (my-helper)', "  A helper for tests.", "  For: Tests.",
        "  It may:", f"    - make the documents in {user_home / 'Documents'} searchable",
        "    - use the documents_search tool"]


def test_check_of_missing_and_hostile_files_is_plain(tmp_path: Path) -> None:
    missing = hearth("check", str(tmp_path / "nope.toml"))
    assert missing.returncode == 1
    assert missing.stderr.startswith("Error: Hearth could not open the recipe")
    binary = tmp_path / "binary.toml"
    binary.write_bytes(bytes(range(256)) * 2000)
    result = hearth("check", str(binary))
    assert result.returncode == 1
    assert result.stdout.startswith("binary.toml: the file is larger than 64 KB")
    assert "Traceback" not in missing.stderr + result.stdout + result.stderr


def test_check_of_unreadable_and_impossible_folders_is_plain(tmp_path: Path, user_home: Path) -> None:
    locked = user_home / "Locked"
    (locked / "Inner").mkdir(parents=True)
    recipe = tmp_path / "odd.toml"
    recipe.write_text(GOOD.replace('["{documents}"]', '["{documents}", "~/Locked/Inner", "~/' + "n" * 280
                                   + '", "~/Work\\u0000"]'), encoding="utf-8")
    locked.chmod(0)
    try:
        result = hearth("check", str(recipe), prefix=as_unprivileged())
    finally:
        locked.chmod(0o755)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    lines = sorted(result.stdout.splitlines()[:3], key=lambda line: line.split(": ")[1])
    assert lines[0] == (f'odd.toml:12: documents.folders[2]: "~/Locked/Inner": Hearth is not allowed to look '
                        f"inside the folder holding {locked / 'Inner'} (permission denied); choose a folder "
                        "you can open, or ask whoever looks after this computer")
    assert lines[1].startswith('odd.toml:12: documents.folders[3]: "~/nnn')
    assert lines[1].endswith("(File name too long); check how the folder is written")
    assert lines[2].startswith("odd.toml:12: documents.folders[4]: ") and "U+0000" in lines[2]
    assert "\x00" not in result.stdout
    assert result.stdout.splitlines()[3] == 'Error: The recipe "odd.toml" has 3 problems, so Hearth did not use it.'


def test_list_shows_the_shipped_recipes() -> None:
    result = hearth("list")
    assert result.returncode == 0
    lines = result.stdout.splitlines()
    assert [line.split()[0] for line in lines] == [
        "everyday-assistant", "private-document-helper", "small-business-back-office",
        "study-buddy", "writing-desk"]
    assert "Study buddy: Explains topics step by step" in result.stdout


def test_apply_dry_run_then_consent_then_idempotent(tmp_path: Path, user_home: Path, tiny_model: Path) -> None:
    recipe = tmp_path / "mine.toml"
    recipe.write_text(GOOD)
    profile = hearth_paths().data / "profiles" / "my-helper"
    model = ("--model", str(tiny_model))

    dry = hearth("apply", str(recipe), "--dry-run", *model)
    assert dry.returncode == 0
    assert dry.stdout.splitlines()[0] == f'Create the assistant "My helper" in {profile}'
    assert f"Model: {read_gguf_header(tiny_model).metadata['general.name']}, the file {tiny_model}" in dry.stdout
    assert dry.stdout.rstrip().endswith("Dry run: nothing was changed.")
    assert not profile.exists()

    refused = hearth("apply", str(recipe), *model)  # no terminal to ask on, and no --yes
    assert refused.returncode == 1
    assert "asks for 2 new permissions, and nothing was changed" in refused.stderr
    assert "--yes" in refused.stderr and not profile.exists() and not hearth_paths().models.exists()

    done = hearth("apply", str(recipe), "--yes", "--name", "Sam", *model)
    assert done.returncode == 0, done.stderr
    assert "Model check passed: The model runs well on this computer." in done.stdout
    assert (profile / "recipe.toml").read_text() == GOOD
    from wizard.profiles import engine_for, load_profile

    loaded = load_profile("my-helper")  # a complete profile: recipe, grants and setup
    assert loaded.person_name == "Sam" and loaded.model_path == tiny_model
    assert loaded.load_plan is not None and loaded.load_plan.n_ctx >= 2048  # what the check measured
    assert loaded.setup["model_reason"] == "the model file given with --model"
    assert engine_for(loaded).model_path == tiny_model

    stamps = {p.name: p.stat().st_mtime_ns for p in profile.iterdir()}
    again = hearth("apply", str(recipe))  # "auto": the model set up before is kept
    assert again.returncode == 0
    assert "Nothing to change." in again.stdout
    assert {p.name: p.stat().st_mtime_ns for p in profile.iterdir()} == stamps

    recipe.write_text(GOOD + '\n[[tools]]\nname = "read_file"\nread_folders = ["~/Documents"]\n')
    changed = hearth("apply", str(recipe), "--dry-run")
    assert f"  + (new) read files in {user_home / 'Documents'}" in changed.stdout
    assert "  - use the documents_search tool" in changed.stdout
    assert f"Model: {loaded.model_name}, kept from the earlier setup with its measured settings" in changed.stdout


def test_apply_finishes_a_profile_an_older_apply_left_without_its_setup(user_home: Path, tiny_model: Path) -> None:
    from wizard.profiles import load_profile
    from wizard.recipes import load_recipe
    from wizard.recipes.plan import apply_plan, plan_recipe

    from app.commands.recipe import _recipe_path

    apply_plan(plan_recipe(load_recipe(_recipe_path("study-buddy")).recipe), allow=True)  # recipe only
    result = hearth("apply", "study-buddy", "--model", str(tiny_model), "--no-check")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith('Finish setting up "Study buddy" in ')
    assert "Model check skipped (--no-check)" in result.stdout
    assert load_profile("study-buddy").model_path == tiny_model


def test_apply_a_shipped_recipe_by_id(user_home: Path, tiny_model: Path) -> None:
    result = hearth("apply", "study-buddy", "--yes", "--model", str(tiny_model), "--no-check")
    assert result.returncode == 0, result.stderr
    assert (hearth_paths().data / "profiles" / "study-buddy" / "profile.json").is_file()
    from wizard.profiles import load_profile

    assert load_profile("study-buddy").recipe.id == "study-buddy"


def test_apply_uses_an_installed_model_that_suits_instead_of_downloading(user_home: Path, tiny_model: Path,
                                                                        hub_mirror) -> None:
    from wizard.models import ModelSource, register_file
    from wizard.profiles import load_profile

    # a model outside Hearth's list, as a model pack installs it on a computer with no internet
    register_file(tiny_model, source=ModelSource(kind="hub", repo="HuggingFaceTB/SmolLM2-135M-Instruct-GGUF",
                                                 filename=tiny_model.name))
    dry = hearth("apply", "study-buddy", "--dry-run", HF_ENDPOINT=hub_mirror.url)
    name = read_gguf_header(tiny_model).metadata["general.name"]
    assert f"Model: {name}, already installed at {tiny_model}" in dry.stdout
    assert "Why this model: already installed (not in Hearth's list) and fits this computer" in dry.stdout
    done = hearth("apply", "study-buddy", "--yes", "--no-check", HF_ENDPOINT=hub_mirror.url)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Downloading" not in done.stdout and hub_mirror.requests == []
    assert load_profile("study-buddy").model_path == tiny_model


def test_apply_says_when_the_model_cannot_be_had_and_makes_nothing(user_home: Path, hub_mirror) -> None:
    # Hearth's pick for this computer, from a Hub that does not have it
    result = hearth("apply", "study-buddy", "--yes", HF_ENDPOINT=hub_mirror.url)
    assert result.returncode == 1
    assert "Model: needs at least 4096 tokens of context" in result.stdout and "setup would pick" in result.stdout
    assert "Traceback" not in result.stderr and result.stderr.count("Error:") == 1
    assert not (hearth_paths().data / "profiles" / "study-buddy").exists()


def on_terminal(*args: str, replies: list[tuple[str, str]], env: dict[str, str] | None = None,
                timeout: float = 240) -> tuple[int, str]:
    """Run ``hearth recipe ARGS`` on a real pseudo-terminal; answer each prompt (text, reply) in turn."""
    import pty
    import select
    import time

    master, slave = pty.openpty()
    process = subprocess.Popen([sys.executable, "-m", "app", "recipe", *args], cwd=REPO, stdin=slave,
                               stdout=slave, stderr=slave, env=env or dict(os.environ), start_new_session=True)
    os.close(slave)
    output, answered_up_to, pending = b"", 0, list(replies)
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.2)
            if not ready:
                if process.poll() is not None:
                    break
                continue
            try:
                chunk = os.read(master, 4096)
            except OSError:  # the program ended and closed the terminal
                break
            if not chunk:
                break
            output += chunk
            if pending and pending[0][0].encode() in output[answered_up_to:]:
                answered_up_to = len(output)
                os.write(master, pending.pop(0)[1].encode() + b"\n")
        else:
            process.kill()
            raise AssertionError(f"still running after {timeout} s: {output.decode(errors='replace')}")
        assert not pending, f"never asked {pending[0][0]!r}: {output.decode(errors='replace')}"
        return process.wait(timeout=30), output.decode(errors="replace").replace("\r\n", "\n")
    finally:
        os.close(master)
        if process.poll() is None:
            process.kill()


def test_reapplying_with_a_new_permission_asks_on_a_terminal(tmp_path: Path, user_home: Path,
                                                             tiny_model: Path) -> None:
    recipe = tmp_path / "mine.toml"
    recipe.write_text(GOOD)
    profile = hearth_paths().data / "profiles" / "my-helper"
    rc, out = on_terminal("apply", str(recipe), "--model", str(tiny_model), "--no-check",
                          replies=[("Allow the 2 new permissions listed above? Type yes to agree: ", "yes")])
    assert rc == 0, out
    assert out.rstrip().endswith(f'Done: the assistant "My helper" is set up in {profile}.')
    before = {p.name: p.read_bytes() for p in profile.iterdir()}

    recipe.write_text(GOOD + '\n[[tools]]\nname = "read_file"\nread_folders = ["~/Documents"]\n')
    asked = "Allow the 2 new permissions listed above? Type yes to agree: "
    rc, out = on_terminal("apply", str(recipe), replies=[(asked, "no")])
    assert rc == 1 and f"  + (new) read files in {user_home / 'Documents'}" in out
    assert "Nothing was changed: the new permissions were not allowed." in out
    assert {p.name: p.read_bytes() for p in profile.iterdir()} == before

    rc, out = on_terminal("apply", str(recipe), replies=[(asked, "yes")])
    assert rc == 0, out
    from wizard.profiles import load_profile

    granted = load_profile("my-helper")
    assert ("read", str(user_home / "Documents")) in granted.permissions and granted.model_path == tiny_model
    assert on_terminal("apply", str(recipe), replies=[])[1].rstrip().endswith("Nothing to change.")


SHOP = GOOD.replace('id = "my-helper"', 'id = "corner-shop"') + \
    '\n[[integrations]]\nname = "mail"\npurpose = "Send approved drafts."\nsecrets = ["mail_password", "mail_user"]\n'


def test_secrets_are_not_asked_without_a_terminal(tmp_path: Path, user_home: Path, tiny_model: Path) -> None:
    recipe = tmp_path / "shop.toml"
    recipe.write_text(SHOP)
    dry = hearth("apply", str(recipe), "--dry-run", "--model", str(tiny_model))
    assert 'keep the secret "mail_password" in this computer\'s keyring (you will be asked for it)' in dry.stdout
    done = hearth("apply", str(recipe), "--yes", "--model", str(tiny_model), "--no-check")
    assert done.returncode == 0, done.stderr
    assert ('This assistant needs the secrets "mail_password", "mail_user". They were not asked for, because this '
            "is not an interactive terminal: enter them in Hearth (Set up again…), or run this command again in a "
            "terminal.") in done.stdout


@needs_secret_service
def test_secrets_are_asked_on_a_terminal_hidden_and_kept_in_the_real_keyring(
        tmp_path: Path, user_home: Path, tiny_model: Path) -> None:
    recipe = tmp_path / "shop.toml"
    recipe.write_text(SHOP)
    result = in_keyring_session(tmp_path, f"""
    import json, os
    from tests.app.test_recipe_command import on_terminal
    from wizard.secrets import get_secret
    args = ("apply", {str(recipe)!r}, "--yes", "--model", {str(tiny_model)!r}, "--no-check")
    rc, out = on_terminal(*args, replies=[("mail_password (for mail: Send approved drafts.): ", "pa55-typed"),
                                          ("mail_user (for mail: Send approved drafts.): ", "")])
    first = {{"rc": rc, "out": out, "password": get_secret("corner-shop", "mail_password"),
             "user": get_secret("corner-shop", "mail_user")}}
    rc, out = on_terminal("apply", {str(recipe)!r}, "--yes", "--name", "Kim", replies=[
        ("[Enter keeps the one already kept]: ", ""), ("mail_user (for mail: Send approved drafts.): ", "kim")])
    print(json.dumps({{"first": first, "second": {{"rc": rc, "out": out}},
                      "password": get_secret("corner-shop", "mail_password"),
                      "user": get_secret("corner-shop", "mail_user")}}))
    """, HOME=str(user_home))
    first = result["first"]
    assert first["rc"] == 0, first["out"]
    assert first["password"] == "pa55-typed" and first["user"] is None
    assert "pa55-typed" not in first["out"]  # typing is not shown
    assert "Each is kept in this computer's keyring (" in first["out"]
    assert '"mail_password": kept in the keyring.' in first["out"]
    assert '"mail_user": skipped; enter it later in Hearth (Set up again…).' in first["out"]
    assert result["second"]["rc"] == 0, result["second"]["out"]
    assert '"mail_password": kept as it was.' in result["second"]["out"]
    assert result["password"] == "pa55-typed" and result["user"] == "kim"
    for path in hearth_paths().data.rglob("*"):
        assert not path.is_file() or b"pa55-typed" not in path.read_bytes(), path
