"""Plan, apply and re-apply: atomic, idempotent, and no new permission without consent."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.wizard.test_download_disk import small_disk  # noqa: F401 - a real 60 MiB disk (fixture)
from wizard.paths import hearth_paths
from wizard.recipes import parse_recipe_text
from wizard.recipes.plan import ConsentNeeded, Permission, apply_plan, plan_recipe, read_profile

BASE = '''schema_version = 1
id = "office"
name = "Office"
description = "Office helper."
for_whom = "Tests."
[persona]
system_prompt = "Be brief."
greeting = "Hi."
[sampling]
temperature = 0.5
[documents]
folders = ["{documents}"]
[[tools]]
name = "documents_search"
[[integrations]]
name = "mail"
purpose = "Send approved drafts."
secrets = ["mail_password"]
'''
WRITER = '''[[tools]]
name = "write_file"
write_folders = ["~/Out"]
confirm_each_write = false
'''


@pytest.fixture
def user_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    (home / "Documents").mkdir(parents=True)
    (home / "Out").mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    return home


def plan_of(text: str):
    return plan_recipe(parse_recipe_text(text).recipe)


def test_first_plan_lists_every_change_and_writes_nothing(user_home: Path) -> None:
    plan = plan_of(BASE)
    profile_dir = hearth_paths().data / "profiles" / "office"
    assert plan.profile_dir == profile_dir and not plan.exists and not plan.unchanged
    docs = str(user_home / "Documents")
    assert set(plan.permissions) == {Permission("documents", docs),
                                     Permission("tool", "documents_search"),
                                     Permission("secret", "mail_password")}
    assert plan.new_permissions == plan.permissions and plan.secrets_to_ask == ("mail_password",)
    text = "\n".join(plan.lines())
    assert f"Create the assistant \"Office\" in {profile_dir}" in text
    assert f"make the documents in {docs} searchable" in text
    assert "keep the secret \"mail_password\"" in text and "Model: needs at least 2048" in text
    assert not profile_dir.exists()


def test_apply_needs_consent_then_writes_then_is_idempotent(user_home: Path) -> None:
    plan = plan_of(BASE)
    with pytest.raises(ConsentNeeded) as caught:
        apply_plan(plan)
    assert set(caught.value.permissions) == set(plan.permissions)
    assert not plan.profile_dir.exists()
    with pytest.raises(ConsentNeeded):  # agreeing to only some is not enough
        apply_plan(plan, allow=plan.new_permissions[:1])

    folder = apply_plan(plan, allow=plan.new_permissions)
    assert (folder / "recipe.toml").read_text() == BASE
    stored = read_profile(folder)
    assert stored is not None and stored["settings"]["sampling"]["temperature"] == 0.5
    assert {(p["kind"], p["target"]) for p in stored["permissions"]} == {
        (p.kind, p.target) for p in plan.permissions}
    assert "mail_password" in json.dumps(stored) and "hunter" not in json.dumps(stored)
    assert [p.name for p in folder.parent.iterdir()] == ["office"]  # no temp folder left

    again = plan_of(BASE)
    assert again.unchanged and again.new_permissions == ()
    mtime = (folder / "profile.json").stat().st_mtime_ns
    assert apply_plan(again) == folder  # nothing new: no consent needed, nothing rewritten
    assert (folder / "profile.json").stat().st_mtime_ns == mtime
    assert "Nothing to change." in again.lines()


def test_reapplying_a_changed_recipe_shows_the_difference(user_home: Path) -> None:
    first = plan_of(BASE)
    folder = apply_plan(first, allow=True)
    (folder / "conversations.sqlite").write_bytes(b"keep me")  # other files are never touched

    changed = BASE.replace("temperature = 0.5", "temperature = 0.3") + WRITER
    plan = plan_of(changed)
    out = str(user_home / "Out")
    assert plan.exists and not plan.unchanged
    assert set(plan.new_permissions) == {Permission("tool", "write_file"),
                                         Permission("write_without_asking", out)}
    assert plan.removed_permissions == ()
    assert "sampling.temperature: 0.5 -> 0.3" in plan.changed_settings
    lines = plan.lines()
    assert lines[0].startswith("Update the assistant")
    assert lines[1] == (f"!! WARNING: it may WRITE FILES IN {out} WITHOUT ASKING YOU FIRST: "
                        "confirm_each_write = false.")
    assert f"  + (new) WRITE FILES IN {out} WITHOUT ASKING YOU FIRST" in lines
    assert "  - use the documents_search tool" in lines

    with pytest.raises(ConsentNeeded):
        apply_plan(plan)
    assert (folder / "recipe.toml").read_text() == BASE  # refused: the old profile stands
    apply_plan(plan, allow=True)
    assert (folder / "recipe.toml").read_text() == changed
    assert (folder / "conversations.sqlite").read_bytes() == b"keep me"

    # going back removes permissions: no consent needed, and the plan says what goes
    back = plan_of(BASE)
    assert back.new_permissions == ()
    assert set(back.removed_permissions) == set(plan.new_permissions)
    assert any(line.startswith("  x (no longer) WRITE FILES IN") for line in back.lines())
    apply_plan(back)
    assert (folder / "recipe.toml").read_text() == BASE


def test_write_failure_is_a_plain_error_and_leaves_no_temp_folder(user_home: Path) -> None:
    from wizard.errors import HearthFileError

    profiles = hearth_paths().data / "profiles"
    profiles.parent.mkdir(parents=True)
    profiles.write_text("a file where the profiles folder belongs")
    with pytest.raises(HearthFileError) as caught:
        apply_plan(plan_of(BASE), allow=True)
    assert caught.value.user_message == "Hearth could not save the assistant \"Office\"."
    profiles.unlink()

    folder = apply_plan(plan_of(BASE), allow=True)
    (folder / "profile.json").unlink()
    (folder / "profile.json").mkdir()  # cannot be replaced, even by an administrator
    (folder / "profile.json" / "x").write_text("x")
    with pytest.raises(HearthFileError):
        apply_plan(plan_of(BASE.replace("0.5", "0.9")), allow=True)
    assert sorted(p.name for p in profiles.iterdir()) == ["office"]  # scratch folder removed


def test_the_model_line_names_the_model_for_this_computer_and_the_disk_it_needs(user_home: Path) -> None:
    from wizard.catalog import load_catalog
    from wizard.download.errors import format_gb
    from wizard.hardware import probe_hardware
    from wizard.recommend import recommend

    recipe = parse_recipe_text(BASE.replace("[sampling]", "[model]\nmin_context = 8192\n[sampling]")).recipe
    best = recommend(probe_hardware(), load_catalog(), recipe.model).best
    assert best is not None  # this computer runs at least one model in the list
    line = plan_recipe(recipe).lines()[-1]
    models = hearth_paths().models
    assert line.startswith("Model: needs at least 8192 tokens of context, chat, size tiny or larger; "
                           f"for this computer setup would pick {best.entry.name} (it {best.verdict}")
    assert f"downloads {format_gb(best.entry.size_bytes)} into {models} (" in line
    assert line.endswith(" free there, enough)") and "NOT ENOUGH" not in line
    assert plan_recipe(recipe).lines(with_model=False)[-1] != line and not models.exists()


def test_the_model_line_says_how_much_space_is_missing_on_a_small_disk(
        small_disk: Path, monkeypatch: pytest.MonkeyPatch, user_home: Path) -> None:
    import shutil

    from wizard.catalog import load_catalog
    from wizard.download.disk import safety_margin
    from wizard.download.errors import format_gb
    from wizard.hardware import probe_hardware
    from wizard.recommend import recommend

    monkeypatch.setenv("HEARTH_HOME", str(small_disk / "hearth"))  # Hearth's folders on a 60 MiB disk
    recipe = parse_recipe_text(BASE).recipe
    entry = recommend(probe_hardware(), load_catalog(), recipe.model).best.entry
    line = plan_recipe(recipe).lines()[-1]
    needed = entry.size_bytes + safety_margin(entry.size_bytes)
    free = shutil.disk_usage(small_disk).free
    assert line.endswith(f"downloads {format_gb(entry.size_bytes)} into {small_disk / 'hearth' / 'models'}, "
                         f"but there is NOT ENOUGH DISK SPACE: it needs {format_gb(needed)} with room to spare "
                         f"and only {format_gb(free)} is free there; free at least {format_gb(needed - free)} "
                         "first"), line
