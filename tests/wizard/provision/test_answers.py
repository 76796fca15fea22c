"""Answer files are checked like recipes: file, line, key and what was expected."""

from __future__ import annotations

from pathlib import Path

import pytest

from wizard.errors import HearthFileError
from wizard.provision import AnswersError, load_answers


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "a.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_full_answer_file_is_read_with_paths_beside_it(tmp_path: Path) -> None:
    a = load_answers(write(tmp_path, 'schema_version = 1\nrecipe = "my.toml"\nmodel = "models/x.gguf"\n'
                                     'person_name = " Sam "\nfolders = ["{documents}"]\nlocal_api = true\n'
                                     'catalog = "c.toml"\nverify = false\n'))
    assert a.recipe == str(tmp_path / "my.toml") and a.recipe_path == tmp_path / "my.toml"
    assert a.model_file == tmp_path / "models" / "x.gguf" and a.person_name == "Sam"
    assert a.folders == ("{documents}",) and a.local_api and not a.verify
    assert a.catalog == tmp_path / "c.toml" and a.model_pack is None and a.mirror is None


def test_defaults(tmp_path: Path) -> None:
    a = load_answers(write(tmp_path, 'schema_version = 1\nrecipe = "study-buddy"\n'))
    assert (a.recipe, a.model, a.folders, a.local_api, a.verify) == ("study-buddy", "auto", None, False, True)
    assert a.recipe_path is None


@pytest.mark.parametrize(("text", "problem"), [
    ('recipe = "x-y"\n', "a.toml: schema_version: this setting is missing"),
    ('schema_version = 2\nrecipe = "x-y"\n', "a.toml:1: schema_version: expected 1, found 2"),
    ('schema_version = 1\n', "a.toml: recipe: this setting is missing"),
    ('schema_version = 1\nrecipe = "Bad Name"\n', "a.toml:2: recipe: expected the id of a recipe"),
    ('schema_version = 1\nrecipe = "a-b"\nmodel = "Some Model!"\n', 'a.toml:3: model: expected "auto"'),
    ('schema_version = 1\nrecipe = "a-b"\nmirror = "ftp://x"\n', "a.toml:3: mirror: expected a web address"),
    ('schema_version = 1\nrecipe = "a-b"\nfolders = "~/x"\n', "a.toml:3: folders: expected a list"),
    ('schema_version = 1\nrecipe = "a-b"\nmodel_pack = "p"\nmirror = "https://m"\n',
     "a.toml:4: mirror: give either model_pack"),
    ('schema_version = 1\nrecipe = "a-b"\n[extra]\nx = 1\n', "a.toml:3: extra: Hearth does not know this setting"),
    ('schema_version = 1\nrecipe = "a-b\n', "a.toml:2: this line is not written the way answer files are"),
])
def test_each_problem_names_line_key_and_expectation(tmp_path: Path, text: str, problem: str) -> None:
    with pytest.raises(AnswersError) as caught:
        load_answers(write(tmp_path, text))
    shown = caught.value.for_terminal()
    assert problem in shown, shown
    assert isinstance(caught.value, ValueError)


def test_a_missing_file_is_a_file_error(tmp_path: Path) -> None:
    with pytest.raises(HearthFileError):
        load_answers(tmp_path / "nope.toml")


def test_models_are_auto_a_catalog_id_or_a_file(tmp_path: Path) -> None:
    from wizard.catalog import load_catalog

    for entry in load_catalog().entries:  # every id in Hearth's own list ("…-q4_k_m", "llama-3.2-…")
        a = load_answers(write(tmp_path, f'schema_version = 1\nrecipe = "study-buddy"\nmodel = "{entry.id}"\n'))
        assert a.model == entry.id and a.model_file is None
    a = load_answers(write(tmp_path, 'schema_version = 1\nrecipe = "study-buddy"\nmodel = "Models/Mine.GGUF"\n'))
    assert a.model_file == tmp_path / "Models" / "Mine.GGUF"


def test_secrets_name_environment_variables_never_values(tmp_path: Path) -> None:
    a = load_answers(write(tmp_path, 'schema_version = 1\nrecipe = "shop.toml"\n[secrets]\n'
                                     'mail_password = "env:SHOP_MAIL"\napi_key = "env:_KEY2"\n'))
    assert a.secrets == (("mail_password", "SHOP_MAIL"), ("api_key", "_KEY2"))
    with pytest.raises(AnswersError) as caught:
        load_answers(write(tmp_path, 'schema_version = 1\nrecipe = "shop.toml"\n[secrets]\n'
                                     'mail_password = "hunter2"\nBad = "env:X"\nkey = "env:1X"\n'))
    shown = caught.value.for_terminal()
    assert ('a.toml:4: secrets.mail_password: expected "env:VARIABLE", the name of an environment variable that '
            "holds the secret when hearth provision runs; a secret itself is never written") in shown
    assert "a.toml:5: secrets.Bad: expected the name of a secret" in shown
    assert "a.toml:6: secrets.key: expected \"env:VARIABLE\"" in shown
    assert "hunter2" not in shown
