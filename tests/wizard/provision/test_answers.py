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
