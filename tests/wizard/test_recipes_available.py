"""The recipes a person can choose: shipped first, then added ones; a bad added file is left out and said so.

Real files in the real folder Hearth reads added recipes from (under this test's HEARTH_HOME),
and a real model pack exported and imported with Hearth's own code.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.support.unprivileged import call_without_permission_override
from wizard.engine.plan import LoadPlan
from wizard.models import ModelSource, register_file
from wizard.packs import export_pack, import_pack
from wizard.paths import hearth_paths
from wizard.profiles import save_profile
from wizard.recipes import (
    AvailableRecipes,
    available_recipes,
    load_recipe,
    shipped_recipe_files,
    shipped_recipes,
    user_recipes_dir,
)
from wizard.recipes.load import MAX_FILE_BYTES
from wizard.recipes.plan import plan_recipe

RECIPE = '''schema_version = 1
id = "{id}"
name = "{name}"
description = "Helps with {name}."
for_whom = "Tests."

[persona]
system_prompt = "You are {name}. Answer briefly."
greeting = "Hello."
'''


def added(name: str, content: str | bytes) -> Path:
    path = user_recipes_dir() / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    else:
        path.write_bytes(content)
    return path


def ids(recipes) -> list[str]:
    return [loaded.recipe.id for loaded in recipes]


def test_the_shipped_recipes_come_first_then_the_added_ones() -> None:
    diary = added("diary-helper.toml", RECIPE.format(id="diary-helper", name="Diary helper"))
    letters = added("letter-writer.toml", RECIPE.format(id="letter-writer", name="Letter writer"))
    (user_recipes_dir() / "notes.txt").write_text("not a recipe file name", encoding="utf-8")

    found = available_recipes()

    shipped_ids = ids(shipped_recipes())
    assert len(shipped_ids) >= 5
    assert ids(found.shipped) == shipped_ids
    assert ids(found.added) == ["diary-helper", "letter-writer"]
    assert ids(found.all) == [*shipped_ids, "diary-helper", "letter-writer"]
    assert [loaded.recipe.source for loaded in found.added] == [diary, letters]
    assert all(found.is_added(loaded) for loaded in found.added)
    assert not any(found.is_added(loaded) for loaded in found.shipped)
    assert found.unusable == () and found.folder_problem is None


def test_nothing_added_is_just_the_shipped_recipes() -> None:
    assert not user_recipes_dir().exists()
    found = available_recipes()
    assert ids(found.all) == ids(shipped_recipes()) and found.added == () and found.unusable == ()


def test_a_broken_added_recipe_is_left_out_with_a_plain_reason() -> None:
    good = added("diary-helper.toml", RECIPE.format(id="diary-helper", name="Diary helper"))
    broken = added("broken.toml", RECIPE.format(id="broken", name="Broken")
                   + '\n[sampling]\ntemperature = "hot"\n')

    found = available_recipes()

    assert [loaded.recipe.source for loaded in found.added] == [good]
    [left_out] = found.unusable
    assert left_out.path == broken
    assert left_out.reason == 'Line 12, `sampling.temperature`: expected a number from 0 to 2, found "hot"'
    assert "broken.toml:12: sampling.temperature" in left_out.details
    assert "Traceback" not in left_out.reason + left_out.details


def test_every_problem_is_counted_in_the_reason() -> None:
    added("two.toml", 'schema_version = 1\nid = "two"\nname = "Two"\n')
    [left_out] = available_recipes().unusable
    assert left_out.reason == "`description`: this setting is missing; it is required (and 2 more problems)"
    assert left_out.details.count("two.toml: ") == 3


HOSTILE = {
    "huge.toml": RECIPE.format(id="huge", name="Huge").encode() + b"# " + b"x" * (MAX_FILE_BYTES + 10) + b"\n",
    "binary.toml": bytes(range(256)) * 8,
    "not-toml.toml": b'schema_version = 1\nid = "not-toml\nname = [unclosed\n',
    "nested.toml": b"a = " + b"[" * 30_000 + b"]" * 30_000 + b"\n",
    "sneaky.toml": RECIPE.format(id="sneaky", name="Safe\u202eexe.txt").encode(),
    "runs-code.toml": RECIPE.format(id="runs-code", name="Runs code").encode() + b'\n[hooks]\nrun = "rm -rf ~"\n',
    "empty.toml": b"",
}


def test_hostile_added_files_never_stop_the_list() -> None:
    for name, content in HOSTILE.items():
        added(name, content)
    good = added("diary-helper.toml", RECIPE.format(id="diary-helper", name="Diary helper"))
    (user_recipes_dir() / "a-folder.toml").mkdir()  # not a file: not a recipe at all

    found = available_recipes()

    assert ids(found.shipped) == ids(shipped_recipes())
    assert [loaded.recipe.source for loaded in found.added] == [good]
    reasons = {item.path.name: item.reason for item in found.unusable}
    assert sorted(reasons) == sorted(HOSTILE)
    for name, reason in reasons.items():
        assert reason and "\n" not in reason and "Traceback" not in reason, (name, reason)
        assert "\u202e" not in reason, name  # shown escaped, never as an invisible override
    assert "larger than 64 KB" in reasons["huge.toml"]
    assert "not UTF-8 text" in reasons["binary.toml"]
    assert "not written the way recipes are" in reasons["not-toml.toml"]
    assert "nested too deeply" in reasons["nested.toml"]
    assert "hooks" in reasons["runs-code.toml"]


@pytest.mark.skipif(os.name != "posix", reason="folder permissions are POSIX modes here")
def test_a_folder_that_cannot_be_looked_in_is_a_folder_problem_not_a_recipe() -> None:
    added("diary-helper.toml", RECIPE.format(id="diary-helper", name="Diary helper"))
    folder = user_recipes_dir()
    folder.chmod(0)
    try:
        found = call_without_permission_override("wizard.recipes", "available_recipes")
    finally:
        folder.chmod(0o755)

    assert isinstance(found, AvailableRecipes)
    assert ids(found.all) == ids(shipped_recipes())
    assert found.unusable == ()
    problem = found.folder_problem
    assert problem is not None and problem.path == folder
    assert problem.message == ("Hearth could not look in the folder of recipes added on this computer, "
                               "so none of them are shown.")
    assert str(folder) in problem.hint and "look again" in problem.hint
    assert problem.details.startswith("PermissionError: ")
    again = call_without_permission_override("wizard.recipes", "available_recipes")
    assert again.folder_problem is None and ids(again.added) == ["diary-helper"]  # readable again: it is back


def test_an_added_recipe_with_a_shipped_id_but_other_words_is_offered_as_added() -> None:
    [everyday] = [p for p in shipped_recipe_files() if p.stem == "everyday-assistant"]
    text = everyday.read_text(encoding="utf-8").replace('name = "', 'name = "My own ', 1)
    mine = added("everyday-assistant-from-pack.toml", text)

    found = available_recipes()

    [own] = found.added
    assert own.recipe.source == mine and own.recipe.id == "everyday-assistant"
    assert own.recipe.name.startswith("My own ") and found.is_added(own)
    assert ids(found.shipped).count("everyday-assistant") == 1


def test_an_added_copy_of_a_shipped_recipe_is_offered_once() -> None:
    [writing] = [p for p in shipped_recipe_files() if p.stem == "writing-desk"]
    added("writing-desk-from-pack.toml", "# A copy, laid out differently.\n\n" + writing.read_text(encoding="utf-8"))
    found = available_recipes()
    assert found.added == () and found.unusable == ()
    assert ids(found.all).count("writing-desk") == 1


def test_a_pack_made_from_a_shipped_assistant_does_not_add_a_second_card(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The real round trip: set up from a shipped recipe, exported in a pack, imported on another computer."""
    monkeypatch.setenv("HEARTH_HOME", str(tmp_path / "first-computer"))
    model = hearth_paths().models / "acme--packs" / "a.gguf"
    model.parent.mkdir(parents=True)
    model.write_bytes(b"GGUF" + bytes(range(256)) * 40)
    register_file(model, licence="apache-2.0",
                  source=ModelSource(kind="hub", repo="acme/packs", filename="a.gguf", revision="main"))
    [shipped] = [p for p in shipped_recipe_files() if p.stem == "everyday-assistant"]
    save_profile(plan_recipe(load_recipe(shipped).recipe), allow=True, person_name="Sam", model_name="A",
                 model_path=model, model_repo=None, model_file=None, load_plan=LoadPlan(n_ctx=1024, n_threads=1))
    pack = tmp_path / "pack"
    export_pack(pack)

    monkeypatch.setenv("HEARTH_HOME", str(tmp_path / "second-computer"))
    [installed] = import_pack(pack).recipes
    assert installed.path.name == "everyday-assistant-from-pack.toml"

    found = available_recipes()
    assert found.added == () and found.unusable == ()
    assert ids(found.all) == ids(shipped_recipes())

