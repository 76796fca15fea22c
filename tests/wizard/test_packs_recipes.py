"""Model packs carry recipes: export writes those of the assistants using the models, import installs them.

Real profiles (saved with the real recipe code), real files, the real ``hearth recipe``
command in this process. Model files are small stand-ins: packs copy bytes, they never
load a model.
"""

from __future__ import annotations

import hashlib
import shutil
import tomllib
from pathlib import Path

import pytest

from app.__main__ import main
from wizard.engine.plan import LoadPlan
from wizard.models import ModelRegistry, ModelSource, register_file
from wizard.packs import MANIFEST_NAME, PackFileDamagedError, PackManifestError, export_pack, import_pack
from wizard.paths import hearth_paths
from wizard.profiles import save_profile
from wizard.recipes import load_recipe, parse_recipe_text, user_recipe_files, user_recipes_dir
from wizard.recipes.plan import plan_recipe
from wizard.settings import Settings, save_settings

MODEL_A = b"GGUF" + bytes(range(256)) * 40
MODEL_B = b"GGUF" + bytes(reversed(range(256))) * 40
RECIPE = '''schema_version = 1
id = "{id}"
name = "{name}"
description = "Helps with {name}."
for_whom = "Tests."

[persona]
system_prompt = "You are {name}. Answer briefly."
greeting = "Hello."

[sampling]
temperature = 0.25
max_tokens = 48

[[integrations]]
name = "calendar"
purpose = "Reads the diary."
secrets = ["calendar_password"]
'''


@pytest.fixture
def user_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    return home


def install(name: str, content: bytes) -> Path:
    target = hearth_paths().models / "acme--packs" / name
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(content)
    register_file(target, licence="apache-2.0",
                  source=ModelSource(kind="hub", repo="acme/packs", filename=name, revision="main"))
    return target


def assistant(recipe_id: str, name: str, model: Path | None) -> None:
    recipe = parse_recipe_text(RECIPE.format(id=recipe_id, name=name)).recipe
    save_profile(plan_recipe(recipe), allow=True, person_name="Sam", model_name=name, model_path=model,
                 model_repo=None, model_file=None, load_plan=LoadPlan(n_ctx=1024, n_threads=1))


def fresh_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    monkeypatch.setenv("HEARTH_HOME", str(tmp_path / name))


def files_under(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


def test_export_writes_the_recipes_of_the_assistants_that_use_the_exported_models(
        user_home: Path, tmp_path: Path) -> None:
    a, b = install("a.gguf", MODEL_A), install("b.gguf", MODEL_B)
    assistant("diary-helper", "Diary helper", a)
    assistant("letter-writer", "Letter writer", b)
    assistant("no-model-yet", "No model yet", None)
    assistant("switched", "Switched", b)
    save_settings(Settings().with_model_for("switched", "acme--packs/a.gguf"))  # chosen in Settings

    pack = tmp_path / "pack"
    manifest = export_pack(pack, model_ids=["acme--packs/a.gguf"])

    assert sorted(r.path for r in manifest.recipes) == ["recipes/diary-helper.toml", "recipes/switched.toml"]
    document = tomllib.loads((pack / MANIFEST_NAME).read_text())
    for table in document["recipes"]:
        raw = (pack / table["path"]).read_bytes()
        assert table == {"path": table["path"], "size": len(raw), "sha256": hashlib.sha256(raw).hexdigest()}
    shared = load_recipe(pack / "recipes" / "diary-helper.toml").recipe
    assert (shared.id, shared.name) == ("diary-helper", "Diary helper")
    assert shared.integrations[0].secrets == ("calendar_password",)  # named, never a value
    assert manifest.total_bytes == len(MODEL_A)

    again = export_pack(tmp_path / "no-recipes", with_recipes=False)
    assert again.recipes == () and not (tmp_path / "no-recipes" / "recipes").exists()


def test_import_installs_the_recipes_where_hearth_recipe_list_finds_them(
        user_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    a = install("a.gguf", MODEL_A)
    assistant("diary-helper", "Diary helper", a)
    pack = tmp_path / "pack"
    export_pack(pack)
    shipped_text = (pack / "recipes" / "diary-helper.toml").read_text()

    fresh_home(tmp_path, monkeypatch, "offline-laptop")
    result = import_pack(pack)
    [recipe] = result.recipes
    assert recipe.path == user_recipes_dir() / "diary-helper.toml" == user_recipe_files()[0]
    assert (recipe.id, recipe.name) == ("diary-helper", "Diary helper")
    assert recipe.path.read_text() == shipped_text
    assert [m.id for m in ModelRegistry().list()] == ["acme--packs/a.gguf"]

    assert main(["recipe", "list"]) == 0
    listed = capsys.readouterr().out
    assert "Added on this computer (from a model pack):" in listed
    assert f"diary-helper                 Diary helper: Helps with Diary helper. ({recipe.path})" in listed
    assert main(["recipe", "apply", "diary-helper", "--dry-run"]) == 0
    assert "Dry run: nothing was changed." in capsys.readouterr().out

    assert import_pack(pack).recipes == result.recipes  # the same recipe again: reused, not copied twice
    assert user_recipe_files() == [recipe.path]


def test_a_different_recipe_with_the_same_name_is_never_overwritten(user_home: Path, tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    assistant("diary-helper", "Diary helper", install("a.gguf", MODEL_A))
    pack = tmp_path / "pack"
    export_pack(pack)
    fresh_home(tmp_path, monkeypatch, "other")
    mine = user_recipes_dir() / "diary-helper.toml"
    mine.parent.mkdir(parents=True)
    mine.write_text(RECIPE.format(id="diary-helper", name="My own diary helper"))

    [recipe] = import_pack(pack).recipes
    assert recipe.path == user_recipes_dir() / "diary-helper-2.toml"
    assert load_recipe(mine).recipe.name == "My own diary helper"
    assert load_recipe(recipe.path).recipe.name == "Diary helper"


def test_a_recipe_with_a_shipped_recipes_id_gets_its_own_name(user_home: Path, tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    assistant("everyday-assistant", "My everyday assistant", install("a.gguf", MODEL_A))
    pack = tmp_path / "pack"
    export_pack(pack)
    fresh_home(tmp_path, monkeypatch, "other")
    [recipe] = import_pack(pack).recipes
    assert recipe.path.name == "everyday-assistant-from-pack.toml"  # "apply everyday-assistant" stays shipped


def make_pack_with_recipe(folder: Path, recipe: bytes, *, sha256: str | None = None) -> Path:
    (folder / "models").mkdir(parents=True)
    (folder / "recipes").mkdir()
    (folder / "models" / "a.gguf").write_bytes(MODEL_A)
    (folder / "recipes" / "r.toml").write_bytes(recipe)
    (folder / MANIFEST_NAME).write_text(
        'schema_version = 1\n\n[[files]]\npath = "models/a.gguf"\n'
        f'size = {len(MODEL_A)}\nsha256 = "{hashlib.sha256(MODEL_A).hexdigest()}"\nlicence = "mit"\n\n'
        f'[[recipes]]\npath = "recipes/r.toml"\nsize = {len(recipe)}\n'
        f'sha256 = "{sha256 or hashlib.sha256(recipe).hexdigest()}"\n', encoding="utf-8")
    return folder


def assert_nothing_installed() -> None:
    assert files_under(hearth_paths().models) == []
    assert ModelRegistry().list() == []
    assert user_recipe_files() == []


def test_a_pack_recipe_that_is_not_a_recipe_installs_nothing(tmp_path: Path) -> None:
    pack = make_pack_with_recipe(tmp_path / "pack", b'schema_version = 1\nid = "x"\nrun = "rm -rf ~"\n')
    with pytest.raises(PackManifestError) as caught:
        import_pack(pack)
    assert caught.value.user_message == (
        f"The model pack cannot be used: in {MANIFEST_NAME}, “recipes/r.toml” is listed as a recipe but is "
        "not a recipe Hearth can use. Nothing was installed.")
    assert_nothing_installed()


def test_a_pack_recipe_with_a_wrong_checksum_installs_nothing(tmp_path: Path) -> None:
    text = RECIPE.format(id="diary-helper", name="Diary helper").encode()
    pack = make_pack_with_recipe(tmp_path / "pack", text, sha256="0" * 64)
    with pytest.raises(PackFileDamagedError) as caught:
        import_pack(pack)
    assert "“recipes/r.toml” is not the file the pack lists" in caught.value.user_message
    assert_nothing_installed()


def test_a_good_hand_made_pack_installs_model_and_recipe(tmp_path: Path) -> None:
    text = RECIPE.format(id="diary-helper", name="Diary helper").encode()
    pack = make_pack_with_recipe(tmp_path / "pack", text)
    result = import_pack(pack)
    assert [r.path.name for r in result.recipes] == ["diary-helper.toml"]
    assert result.recipes[0].path.read_bytes() == text
    shutil.rmtree(pack)  # the stick is unplugged: what was installed stays
    assert load_recipe(result.recipes[0].path).recipe.id == "diary-helper"
