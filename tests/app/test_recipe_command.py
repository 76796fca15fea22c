"""``hearth recipe check|list|apply`` run for real in a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

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


def hearth(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "app", "recipe", *args], cwd=REPO,
                          capture_output=True, text=True, timeout=120, env=dict(os.environ))


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


def test_list_shows_the_shipped_recipes() -> None:
    result = hearth("list")
    assert result.returncode == 0
    lines = result.stdout.splitlines()
    assert [line.split()[0] for line in lines] == [
        "everyday-assistant", "private-document-helper", "small-business-back-office",
        "study-buddy", "writing-desk"]
    assert "Study buddy: Explains topics step by step" in result.stdout


def test_apply_dry_run_then_consent_then_idempotent(tmp_path: Path, user_home: Path) -> None:
    recipe = tmp_path / "mine.toml"
    recipe.write_text(GOOD)
    profile = hearth_paths().data / "profiles" / "my-helper"

    dry = hearth("apply", str(recipe), "--dry-run")
    assert dry.returncode == 0
    assert dry.stdout.splitlines()[0] == f'Create the assistant "My helper" in {profile}'
    assert dry.stdout.rstrip().endswith("Dry run: nothing was changed.")
    assert not profile.exists()

    refused = hearth("apply", str(recipe))
    assert refused.returncode == 1
    assert "asks for 2 new permissions, and nothing was changed" in refused.stderr
    assert "--yes" in refused.stderr and not profile.exists()

    done = hearth("apply", str(recipe), "--yes")
    assert done.returncode == 0, done.stderr
    assert (profile / "recipe.toml").read_text() == GOOD

    again = hearth("apply", str(recipe))
    assert again.returncode == 0
    assert "Nothing to change." in again.stdout

    recipe.write_text(GOOD + '\n[[tools]]\nname = "read_file"\nread_folders = ["~/Documents"]\n')
    changed = hearth("apply", str(recipe), "--dry-run")
    assert f"  + (new) read files in {user_home / 'Documents'}" in changed.stdout
    assert "  - use the documents_search tool" in changed.stdout


def test_apply_a_shipped_recipe_by_id(user_home: Path) -> None:
    result = hearth("apply", "study-buddy", "--yes")
    assert result.returncode == 0, result.stderr
    assert (hearth_paths().data / "profiles" / "study-buddy" / "profile.json").is_file()
