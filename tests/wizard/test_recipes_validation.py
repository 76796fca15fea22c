"""Recipe validation: every problem with its line, key and a plain message; hostile files refused."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from wizard.errors import HearthFileError, HearthValueError
from wizard.recipes import RecipeError, load_recipe, parse_recipe_bytes, parse_recipe_text
from wizard.recipes.load import MAX_FILE_BYTES

MINIMAL = '''schema_version = 1
id = "test-recipe"
name = "Test recipe"
description = "A recipe for tests."
for_whom = "Tests."

[persona]
system_prompt = "Be brief."
greeting = "Hi."
'''


@pytest.fixture
def user_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A real home folder with Documents, which {documents} and ~ resolve to."""
    home = tmp_path / "home"
    (home / "Documents").mkdir(parents=True)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    return home


def problems(text: str) -> list[str]:
    with pytest.raises(RecipeError) as caught:
        parse_recipe_text(text, label="r.toml")
    return [str(p) for p in caught.value.problems if not p.warning]


def test_minimal_recipe_gets_safe_defaults() -> None:
    recipe = parse_recipe_text(MINIMAL).recipe
    assert recipe.id == "test-recipe"
    assert recipe.tools == () and recipe.document_folders == () and recipe.integrations == ()
    assert recipe.memory.enabled is False and recipe.local_api_offered is False
    assert recipe.model.capabilities == frozenset({"chat"})
    assert recipe.opening_messages() == [{"role": "system", "content": "Be brief."},
                                         {"role": "assistant", "content": "Hi."}]


def test_wrong_value_names_file_line_key_expectation_and_what_was_found() -> None:
    text = MINIMAL + '\n[sampling]\ntemperature = "hot"\n'
    assert problems(text) == [
        'r.toml:12: sampling.temperature: expected a number from 0 to 2, found "hot"']
    with pytest.raises(RecipeError) as caught:
        parse_recipe_text(text, label="r.toml")
    assert caught.value.problems[0].plain() == (
        'line 12, `sampling.temperature`: expected a number from 0 to 2, found "hot"')
    assert isinstance(caught.value, HearthValueError) and caught.value.hint


def test_all_problems_are_collected_not_just_the_first() -> None:
    text = '''schema_version = 2
id = "Bad Id"
name = "ok"
description = """two
lines"""
for_whom = "x"
colour = "blue"

[persona]
system_promt = "typo"
greeting = "Hi."

[sampling]
top_k = 2.5
max_tokens = 999999
repeat_penalty = true

[[tools]]
name = "shell"

[[tools]]
name = "calculater"

[memory]
enabled = "yes"
remember = ["everything"]

[local_api]
offered = 1
'''
    found = problems(text)
    expected_starts = [
        "r.toml:1: schema_version: expected 1, found 2",
        'r.toml:2: id: expected a short name of lower-case letters',
        "r.toml:4: description: expected one line of text, found several lines",
        'r.toml:7: colour: "colour" is not a setting Hearth knows here.',
        'r.toml:9: persona.system_prompt: this setting is missing',
        'r.toml:10: persona.system_promt: "system_promt" is not a setting Hearth knows here. '
        'Did you mean "system_prompt"?',
        "r.toml:14: sampling.top_k: expected a whole number from 0 to 1000, found 2.5",
        "r.toml:15: sampling.max_tokens: expected a whole number from 16 to 8192, found 999999",
        "r.toml:16: sampling.repeat_penalty: expected a number from 1 to 2, found true",
        'r.toml:19: tools[1].name: "shell" is not a tool Hearth has.',
        'r.toml:22: tools[2].name: "calculater" is not a tool Hearth has. Did you mean "calculator"?',
        'r.toml:25: memory.enabled: expected true or false (without quotes), found "yes"',
        'r.toml:26: memory.remember[1]: "everything" is not one Hearth knows.',
        "r.toml:29: local_api.offered: expected true or false (without quotes), found 1",
    ]
    assert len(found) == len(expected_starts), "\n".join(found)
    for line, start in zip(found, expected_starts, strict=True):
        assert line.startswith(start), (line, start)


def test_toml_syntax_error_points_at_the_line() -> None:
    text = MINIMAL + 'extra = "unterminated\n'
    assert problems(text) == [
        "r.toml:10: this line is not written the way recipes are (Illegal character '\\n'). Check "
        "the quotes around text and that each setting looks like name = value"]


def test_missing_required_settings_and_section() -> None:
    found = problems('schema_version = 1\nid = "abc"\n')
    assert found == ["r.toml: name: this setting is missing; it is required",
                     "r.toml: description: this setting is missing; it is required",
                     "r.toml: for_whom: this setting is missing; it is required",
                     "r.toml: persona: the [persona] section is missing"]


def test_secret_values_are_refused_wherever_they_appear() -> None:
    text = MINIMAL + '''
[[integrations]]
name = "mail"
purpose = "Send the drafts you approve."
secrets = ["mail_password", "sk-proj-4f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c"]
password = "hunter2"

[extra]
token = "abc"
'''
    found = problems(text)
    assert any(p.startswith("r.toml:15: integrations[1].password: this looks like a secret written")
               for p in found), found
    assert any(p.startswith("r.toml:18: extra.token: this looks like a secret") for p in found)
    assert any(p.startswith("r.toml:14: integrations[1].secrets[2]: this looks like a secret value")
               for p in found)
    assert all("hunter2" not in p and "sk-proj" not in p for p in found)


def test_integrations_name_their_secrets() -> None:
    recipe = parse_recipe_text(MINIMAL + '''
[[integrations]]
name = "mail"
purpose = "Send the drafts you approve."
secrets = ["mail_user", "mail_password"]

[[integrations]]
name = "calendar"
purpose = "Read your calendar."
secrets = ["mail_user", "calendar_key"]
''').recipe
    assert recipe.secret_names == ("mail_user", "mail_password", "calendar_key")


def test_tool_rules(user_home: Path) -> None:
    base = MINIMAL + '\n[documents]\nfolders = ["{documents}"]\n'
    ok = parse_recipe_text(base + '''
[[tools]]
name = "write_file"
write_folders = ["~/Documents"]
confirm_each_write = false

[[tools]]
name = "documents_search"
''').recipe
    writer = ok.tool("write_file")
    assert writer is not None and writer.confirm_each_write is False
    assert ok.writes_without_asking[0].path == user_home / "Documents"

    assert problems(MINIMAL + '\n[[tools]]\nname = "write_file"\n') == [
        'r.toml:11: tools[1]: the tool "write_file" needs at least one folder in write_folders']
    assert problems(MINIMAL + '\n[[tools]]\nname = "calculator"\nread_folders = ["~"]\n'
                    'confirm_each_write = true\n')[1:] == [
        'r.toml:13: tools[1].read_folders: the tool "calculator" does not read folders; remove '
        'this line',
        'r.toml:14: tools[1].confirm_each_write: the tool "calculator" does not write files; '
        'remove this line']
    assert problems(MINIMAL + '\n[[tools]]\nname = "documents_search"\n') == [
        "r.toml:12: tools[1].name: documents_search needs folders to search: add them under "
        "[documents] folders"]
    assert problems(base + '\n[[tools]]\nname = "notes"\n[[tools]]\nname = "notes"\n') == [
        'r.toml:17: tools[2].name: the tool "notes" is listed twice']


def test_unsafe_characters_are_refused_and_never_printed() -> None:
    text = MINIMAL.replace('name = "Test recipe"', 'name = "Invoice\u202egpj.exe"')
    text = text.replace('greeting = "Hi."', 'greeting = "Hi\\u0007"')
    found = problems(text)
    assert found[0] == ('r.toml:3: name: contains the invisible character U+202E, which is not '
                        'allowed here; found "Invoice\\u202egpj.exe"')
    assert found[1].startswith("r.toml:9: persona.greeting: contains the invisible character U+0007")
    assert all("\u202e" not in p and "\x07" not in p for p in found)
    # a line break is fine in the prompt but not in a name
    assert parse_recipe_text(MINIMAL.replace('"Be brief."', '"Be brief.\\nBe kind."')).recipe


def test_huge_file_is_refused_without_reading_it_all(tmp_path: Path) -> None:
    big = tmp_path / "big.toml"
    with big.open("wb") as handle:
        handle.write(MINIMAL.encode())
        handle.truncate(200 * 1024 * 1024)  # 200 MB, sparse
    started = time.monotonic()
    with pytest.raises(RecipeError) as caught:
        load_recipe(big)
    assert time.monotonic() - started < 5  # generous: it reads 64 KB, not 200 MB
    assert str(caught.value.problems[0]) == (
        "big.toml: the file is larger than 64 KB; a recipe is a short text file, so this is not one")


def test_hostile_structures_are_refused_plainly() -> None:
    deep_array = ("x = " + "[" * 20000 + "]" * 20000).encode()
    assert len(deep_array) <= MAX_FILE_BYTES
    deep_tables = (MINIMAL + "[" + ".".join(["a"] * 200) + "]\nb = 1\n").encode()
    long_list = (MINIMAL + "[model]\npreferred_families = [" + ",".join(['"q"'] * 12000) + "]\n"
                 ).encode()
    wide = (MINIMAL + "[model]\ncapabilities = [" + "1," * 100_000 + "]\n").encode()
    messages = {}
    for name, raw in (("deep_array", deep_array), ("deep_tables", deep_tables),
                      ("long_list", long_list), ("wide", wide)):
        with pytest.raises(RecipeError) as caught:
            parse_recipe_bytes(raw, label="h.toml")
        messages[name] = str(caught.value.problems[0])
    assert messages["deep_array"] == ("h.toml: lists or tables are nested too deeply; a recipe "
                                      "never needs that")
    assert messages["deep_tables"].startswith("h.toml:10: a.a.a.a.a.a: tables or lists are nested "
                                              "too deeply")
    assert messages["long_list"] == ("h.toml:11: model.preferred_families: a list may have at "
                                     "most 64 items, this one has 12000")
    assert messages["wide"].startswith("h.toml: the file is larger than 64 KB")


def test_not_utf8_and_byte_order_mark() -> None:
    with pytest.raises(RecipeError) as caught:
        parse_recipe_bytes(MINIMAL.encode() + b'extra = "\xff"\n', label="l.toml")
    assert str(caught.value.problems[0]).startswith("l.toml:10: this line has characters that are "
                                                    "not UTF-8")
    assert parse_recipe_bytes(b"\xef\xbb\xbf" + MINIMAL.encode()).recipe.id == "test-recipe"


def test_missing_file_and_folder_are_file_errors(tmp_path: Path) -> None:
    with pytest.raises(HearthFileError):
        load_recipe(tmp_path / "nope.toml")
    with pytest.raises(HearthFileError) as caught:
        load_recipe(tmp_path)
    assert "is a folder" in caught.value.user_message


def test_model_needs_against_the_real_catalog() -> None:
    from wizard.catalog import load_catalog

    recipe = parse_recipe_text(MINIMAL + '''
[model]
min_context = 16384
capabilities = ["tool_use"]
preferred_families = ["qwen", "llama"]
min_size = "small"
''').recipe
    needs = recipe.model
    accepted = [e for e in load_catalog().entries if needs.accepts(e)]
    assert accepted, "the shipped catalog has tool-use models of small size or larger"
    for entry in load_catalog().entries:
        expected = (entry.header.context_length >= 16384 and "tool_use" in entry.capabilities
                    and entry.size_band != "tiny")
        assert needs.accepts(entry) == expected, entry.id
    assert needs.preference(accepted[0]) <= 2

    with pytest.raises(RecipeError) as caught:
        parse_recipe_text(MINIMAL + '[model]\nmin_size = "huge"\ncapabilities = ["telepathy"]\n'
                          'min_context = 100\n', label="m.toml")
    assert [str(p) for p in caught.value.problems] == [
        'm.toml:11: model.min_size: expected one of tiny, small, medium, large, extra-large, '
        'found "huge"',
        'm.toml:12: model.capabilities[1]: "telepathy" is not one Hearth knows. Expected one of: '
        'chat, coding, long_context, multilingual, reasoning, tool_use',
        "m.toml:13: model.min_context: expected a whole number from 512 to 131072, found 100",
    ]


def test_notes_for_unknown_family_and_impossible_needs() -> None:
    loaded = parse_recipe_text(MINIMAL + '[model]\npreferred_families = ["nonesuch"]\n'
                               'min_context = 131072\ncapabilities = ["coding"]\n', label="n.toml")
    notes = [str(n) for n in loaded.notes]
    assert notes[0].startswith('n.toml:11: model.preferred_families[1]: note: no model in '
                               'Hearth\'s list is of the "nonesuch" family')
    assert notes[1].startswith("n.toml:10: model: note: no model in Hearth's list meets all")


def test_the_documented_example_is_a_valid_recipe(user_home: Path) -> None:
    from wizard.paths import recipes_dir
    from wizard.recipes.folders import PLACEHOLDERS
    from wizard.recipes.schema import MEMORY_KINDS, TOOL_NAMES

    readme = (recipes_dir() / "README.md").read_text(encoding="utf-8")
    example = readme.split("```toml\n", 1)[1].split("```", 1)[0]
    loaded = parse_recipe_text(example, label="example.toml")
    recipe = loaded.recipe
    assert recipe.id == "corner-shop" and len(recipe.tools) == 4
    assert recipe.secret_names == ("mail_user", "mail_password")
    assert all(n.warning and "does not exist" in n.message for n in loaded.notes)
    for word in (*TOOL_NAMES, *MEMORY_KINDS, *(f"{{{name}}}" for name in PLACEHOLDERS)):
        assert f"`{word}`" in readme or f"{word}" in example, word
