"""Profiles on disk: complete or not at all, read back exactly, the right error for each broken file."""

from __future__ import annotations

import dataclasses

import json
import os
from pathlib import Path

import pytest

from wizard.engine.plan import LoadPlan
from wizard.errors import HearthFileError
from wizard.paths import hearth_paths
from wizard.profiles import (
    Profile,
    ProfileDamagedError,
    ProfileModelMissingError,
    ProfileNotFoundError,
    chat_settings,
    default_profile,
    engine_for,
    list_profiles,
    load_profile,
    mark_used,
    narrow_recipe,
    read_setup,
    save_profile,
)
from wizard.recipes import parse_recipe_text
from wizard.recipes.plan import ConsentNeeded, apply_plan, plan_recipe

RECIPE = '''schema_version = 1
id = "{id}"
name = "{name}"
description = "A helper for tests."
for_whom = "Tests."
[persona]
system_prompt = "You are {name}. Answer briefly."
greeting = "Hello."
[sampling]
temperature = 0.25
top_k = 12
max_tokens = 48
[documents]
folders = ["~/Papers", "~/Private"]
[[tools]]
name = "documents_search"
[local_api]
offered = true
'''


@pytest.fixture
def user_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    (home / "Papers").mkdir(parents=True)
    (home / "Private").mkdir()
    monkeypatch.setenv("HOME", str(home))
    return home


def make(recipe_id: str = "helper", name: str = "Helper", *, model: Path | None = None,
         refused: list[str] | None = None, local_api: bool = False) -> Path:
    recipe = parse_recipe_text(RECIPE.format(id=recipe_id, name=name)).recipe
    plan = plan_recipe(narrow_recipe(recipe, {path: False for path in refused or []}))
    return save_profile(plan, allow=True, person_name="Sam", model_name="Tiny",
                        model_path=model, model_repo="owner/tiny", model_file="tiny.gguf",
                        load_plan=LoadPlan(n_ctx=1024, n_threads=1),
                        extra={"folders_refused": refused or [], "local_api": local_api})


def test_a_saved_profile_reads_back_with_every_field(user_home: Path, tiny_model: Path) -> None:
    folder = make(model=tiny_model, refused=[str(user_home / "Private")], local_api=True)
    assert folder == hearth_paths().data / "profiles" / "helper"
    assert sorted(p.name for p in folder.iterdir()) == ["profile.json", "recipe.toml", "setup.json"]
    profile = load_profile("helper")
    assert isinstance(profile, Profile)
    assert (profile.id, profile.name, profile.person_name, profile.model_name) == ("helper", "Helper", "Sam", "Tiny")
    assert profile.folder == folder and profile.model_path == tiny_model
    assert profile.load_plan == LoadPlan(n_ctx=1024, n_threads=1)
    assert [str(f.path) for f in profile.recipe.document_folders] == [str(user_home / "Papers")]  # refused one out
    assert profile.settings["document_folders"] == [str(user_home / "Papers")]
    assert profile.local_api is True
    assert load_profile(folder) == profile  # by folder too
    system, params = chat_settings(profile)
    assert system == "You are Helper. Answer briefly."
    assert (params.temperature, params.top_k, params.max_tokens) == (0.25, 12, 48)


def test_local_api_needs_the_recipe_offer_and_the_switch(user_home: Path) -> None:
    make(local_api=False)
    assert load_profile("helper").local_api is False


def test_saving_twice_changes_nothing(user_home: Path) -> None:
    folder = make()
    stamps = {p.name: p.stat().st_mtime_ns for p in folder.iterdir()}
    make()
    assert {p.name: p.stat().st_mtime_ns for p in folder.iterdir()} == stamps


def test_list_is_sorted_by_name_and_skips_half_made_and_damaged(user_home: Path) -> None:
    make("zed", "alpha helper")
    make("abc", "Zulu helper")
    make("mid", "Mike")
    # `hearth recipe apply` alone makes no setup.json: not a complete profile
    apply_plan(plan_recipe(parse_recipe_text(RECIPE.format(id="bare", name="Bare")).recipe), allow=True)
    (hearth_paths().data / "profiles" / ".creating-x-123").mkdir()
    broken = make("broken", "Broken")
    (broken / "profile.json").write_text("{not json", encoding="utf-8")
    assert [p.id for p in list_profiles()] == ["zed", "mid", "abc"]


@pytest.mark.parametrize(("file", "damage", "words"), [
    ("setup.json", "delete", "setup was not finished"),
    ("profile.json", "delete", "is missing"),
    ("recipe.toml", "delete", "is missing"),
    ("setup.json", "{broken", "cannot be read"),
    ("profile.json", "[1, 2]", "is not what Hearth wrote"),
    ("recipe.toml", "id = 3", "not a valid recipe"),
    ("setup.json", '{"load_plan": {"n_ctx": 1}}', "impossible way to load"),
])
def test_each_damaged_file_is_named(user_home: Path, file: str, damage: str, words: str) -> None:
    folder = make()
    if damage == "delete":
        (folder / file).unlink()
    else:
        (folder / file).write_text(damage, encoding="utf-8")
    with pytest.raises(ProfileDamagedError) as caught:
        load_profile("helper")
    assert caught.value.file == file
    assert file in caught.value.user_message and words in caught.value.user_message
    assert isinstance(caught.value, ValueError)


@pytest.mark.parametrize("which", ["nobody", "../../etc", "Not An Id!"])
def test_unknown_profiles_are_not_found(which: str) -> None:
    with pytest.raises(ProfileNotFoundError) as caught:
        load_profile(which)
    assert "hearth profile list" in caught.value.hint
    assert isinstance(caught.value, LookupError)


def test_default_is_the_last_used_else_the_first(user_home: Path) -> None:
    assert default_profile() is None
    make("b-one", "Bravo")
    make("a-one", "Alpha")
    assert default_profile().id == "a-one"  # first by name
    mark_used(load_profile("b-one"))
    assert json.loads((hearth_paths().data / "last-profile.json").read_text()) == {"profile": "b-one"}
    assert default_profile().id == "b-one"
    (hearth_paths().data / "profiles" / "b-one" / "setup.json").unlink()
    assert default_profile().id == "a-one"  # the last used one broke: fall back


def test_consent_is_checked_before_anything_is_written(user_home: Path) -> None:
    plan = plan_recipe(parse_recipe_text(RECIPE.format(id="helper", name="Helper")).recipe)
    with pytest.raises(ConsentNeeded):
        save_profile(plan, allow=False, person_name="", model_name="", model_path=None,
                     model_repo=None, model_file=None, load_plan=None)
    assert list((hearth_paths().data / "profiles").glob("*")) == []


def test_a_failed_write_leaves_no_profile_folder(user_home: Path) -> None:
    plan = plan_recipe(parse_recipe_text(RECIPE.format(id="helper", name="Helper")).recipe)
    with pytest.raises(ValueError):  # a clash in setup.json's keys fails after apply_plan ran
        save_profile(plan, allow=True, person_name="", model_name="", model_path=None, model_repo=None,
                     model_file=None, load_plan=None, extra={"model": "clash"})
    assert os.listdir(hearth_paths().data / "profiles") == []


def test_an_update_that_fails_puts_the_old_setup_back(user_home: Path) -> None:
    folder = make()
    before = (folder / "setup.json").read_bytes()
    changed = RECIPE.format(id="helper", name="Helper") + '[[tools]]\nname = "calculator"\n'
    plan = plan_recipe(parse_recipe_text(changed).recipe)
    (folder / "profile.json").unlink()
    (folder / "profile.json").mkdir()  # apply_plan cannot replace a folder
    (folder / "profile.json" / "x").write_text("x")
    with pytest.raises(HearthFileError):
        save_profile(plan, allow=True, person_name="Changed", model_name="", model_path=None,
                     model_repo=None, model_file=None, load_plan=None)
    assert (folder / "setup.json").read_bytes() == before
    assert read_setup(folder)["person_name"] == "Sam"


def test_engine_for_refuses_a_profile_without_its_model(user_home: Path, tmp_path: Path) -> None:
    make()
    with pytest.raises(ProfileModelMissingError, match="has no model yet"):
        engine_for(load_profile("helper"))
    make(model=tmp_path / "gone.gguf")
    with pytest.raises(ProfileModelMissingError, match="not where it was"):
        engine_for(load_profile("helper"))


def test_engine_for_runs_the_profile_model_with_its_plan(user_home: Path, tiny_model: Path) -> None:
    make(model=tiny_model)
    profile = load_profile("helper")
    engine = engine_for(profile, n_ctx=512)
    assert engine.plan == LoadPlan(n_ctx=512, n_threads=1) and not engine.alive
    system, params = chat_settings(profile)
    assert params.temperature == profile.recipe.sampling.temperature
    params = dataclasses.replace(params, temperature=0.0)  # the tiny model is only reliable when greedy
    with engine:
        assert int(engine.ready_info.get("n_ctx") or 0) == 512
        summary = engine.client().chat([{"role": "system", "content": system},
                                        {"role": "user", "content": "Name the capital city of France."}],
                                       params=params)
    assert "paris" in summary.text.lower()
