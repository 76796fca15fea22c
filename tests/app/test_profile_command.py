"""``hearth profile list | report | export-recipe``, as real processes on real profile files."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from wizard.engine.plan import LoadPlan
from wizard.profiles import narrow_recipe, save_profile
from wizard.recipes import parse_recipe_text
from wizard.recipes.plan import plan_recipe

REPO_ROOT = Path(__file__).resolve().parents[2]
RECIPE = '''schema_version = 1
id = "office-helper"
name = "Office helper"
description = "Helps in the office."
for_whom = "A small office."
[persona]
system_prompt = """Line one.
Line "two" with a \\\\ backslash."""
greeting = "Hello."
[documents]
folders = ["{home}/Work/Invoices", "{home}/Work/Private"]
[[tools]]
name = "documents_search"
[[tools]]
name = "write_file"
write_folders = ["{home}/Work/Out"]
confirm_each_write = true
[[integrations]]
name = "mail"
purpose = "Send drafts."
secrets = ["mail_password"]
'''


@pytest.fixture
def user_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    for sub in ("Invoices", "Private", "Out"):
        (home / "Work" / sub).mkdir(parents=True)
    monkeypatch.setenv("HOME", str(home))
    return home


def hearth(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "app", *args], cwd=REPO_ROOT, env=dict(os.environ),
                          text=True, capture_output=True, timeout=120)


def make(home: Path) -> None:
    recipe = parse_recipe_text(RECIPE.replace("{home}", str(home))).recipe
    refused = str(home / "Work" / "Private")
    save_profile(plan_recipe(narrow_recipe(recipe, {refused: False})), allow=True, person_name="Sam",
                 model_name="Tiny", model_path=None, model_repo=None, model_file=None,
                 load_plan=LoadPlan(), extra={"folders_refused": [refused]})


def test_list_shows_each_assistant_and_marks_the_default(user_home: Path) -> None:
    empty = hearth("profile", "list")
    assert empty.returncode == 0 and "No assistant is set up yet" in empty.stderr
    make(user_home)
    listed = hearth("profile", "list")
    assert listed.returncode == 0
    assert listed.stdout.splitlines() == ["* office-helper\tOffice helper\tTiny"]


def test_export_recipe_round_trips_through_recipe_check(user_home: Path, tmp_path: Path,
                                                        keyring_memory) -> None:
    from wizard.secrets import set_secret

    make(user_home)
    set_secret("office-helper", "mail_password", "hunter2")
    out = tmp_path / "shared" / "office.toml"
    done = hearth("profile", "export-recipe", "office-helper", "--out", str(out))
    assert done.returncode == 0, done.stderr
    text = out.read_text(encoding="utf-8")
    assert "hunter2" not in text and str(user_home) not in text
    data = tomllib.loads(text)
    assert data["documents"]["folders"] == ["~/Work/Invoices"]  # the refused folder is not shared
    assert data["tools"][1]["write_folders"] == ["~/Work/Out"]
    assert data["integrations"][0]["secrets"] == ["mail_password"]
    assert data["persona"]["system_prompt"] == 'Line one.\nLine "two" with a \\ backslash.'
    check = hearth("recipe", "check", str(out))
    assert check.returncode == 0, check.stdout + check.stderr
    printed = hearth("profile", "export-recipe", "office-helper")
    assert printed.returncode == 0 and printed.stdout == text


def test_report_to_a_chosen_file_and_unknown_profiles(user_home: Path, tmp_path: Path) -> None:
    make(user_home)
    out = tmp_path / "report.html"
    done = hearth("profile", "report", "office-helper", "--out", str(out))
    assert done.returncode == 0, done.stderr
    html = out.read_text(encoding="utf-8")
    assert "Office helper" in html and "Work/Private" in html and "mail_password" in html
    missing = hearth("profile", "report", "nobody")
    assert missing.returncode == 1 and "hearth profile list" in missing.stderr
    assert "Traceback" not in missing.stderr
