"""The line finder: every key and list item of real TOML maps to the line it is written on."""

from __future__ import annotations

import tomllib

from wizard.recipes.lines import key_lines, line_of

SOURCE = '''# a comment with name = "not a key"
schema_version = 1
id = "x" # trailing comment
prompt = """
name = "inside a multi-line string"
[not.a.table]
"""
literal = \'\'\'a
[[not_tools]]\'\'\'
quoted = "a \\" [b] # c"

[model]
capabilities = [
  "chat",   # first
  "tool_use",
]
"dotted.key".child = 3
site.owner = "x"

[[tools]]
name = "notes"

[[tools]]
name = "read_file"
read_folders = ["~/A", "~/B"]
  [tools.extra]
  inline = {y = 1, z = [1, 2]}
  when = 1979-05-27 07:32:00
  after = 2
'''


def test_every_key_and_item_is_on_its_line() -> None:
    tomllib.loads(SOURCE)  # the sample is valid TOML
    lines = key_lines(SOURCE)
    expected = {
        ("schema_version",): 2, ("id",): 3, ("prompt",): 4, ("literal",): 8, ("quoted",): 10,
        ("model",): 12, ("model", "capabilities"): 13, ("model", "capabilities", 0): 14,
        ("model", "capabilities", 1): 15, ("model", "dotted.key", "child"): 17,
        ("model", "site"): 18, ("model", "site", "owner"): 18,
        ("tools", 0): 20, ("tools", 0, "name"): 21, ("tools", 1): 23, ("tools", 1, "name"): 24,
        ("tools", 1, "read_folders", 1): 25, ("tools", 1, "extra"): 26,
        ("tools", 1, "extra", "inline", "z", 1): 27, ("tools", 1, "extra", "when"): 28,
        ("tools", 1, "extra", "after"): 29,
    }
    assert {path: lines.get(path) for path in expected} == expected
    # nothing inside strings or comments was taken for a key or table
    assert not any(path[0] in ("name", "not", "not_tools") for path in lines)


def test_line_of_falls_back_to_the_nearest_parent() -> None:
    lines = key_lines(SOURCE)
    assert line_of(lines, ("tools", 1, "read_folders", 7)) == 25
    assert line_of(lines, ("tools", 1, "missing_key")) == 23
    assert line_of(lines, ("nowhere",)) is None


def test_crlf_and_broken_text_do_not_raise() -> None:
    crlf = 'a = 1\r\n[t]\r\nb = "x"\r\n'
    assert key_lines(crlf) == {("a",): 1, ("t",): 2, ("t", "b"): 3}
    assert key_lines('a = 1\nb = "unterminated\n') == {("a",): 1, ("b",): 2}
    assert key_lines("[" * 5000) == {}
