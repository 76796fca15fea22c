"""The tools on their own: calculator limits, the local clock, notes, file tools, the registry."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from tests.wizard.agent_documents.builders import write_docx
from wizard.agent.tools import FolderPermissions, NotesStore, ToolContext, ToolError, UnknownToolError, build_tools
from wizard.agent.tools.calculator import calculate
from wizard.agent.tools.datetime_tool import describe_now, local_now


@pytest.mark.parametrize("expression,value", [
    ("17*23", 391), ("2**10", 1024), ("7 // 2", 3), ("7 % 3", 1), ("-(3 + 4) * 2", -14), ("1/4", 0.25),
    ("sqrt(16)", 4.0), ("round(pi, 2)", 3.14), ("max(2, 9, 4)", 9), ("12 × 3 ÷ 4", 9.0), ("10**1000 // 10**999", 10),
])
def test_calculator_computes(expression: str, value: float) -> None:
    assert calculate(expression) == value


@pytest.mark.parametrize("expression,reason", [
    ("__import__('os').system('ls')", "allowed"), ("open('/etc/passwd')", "allowed"), ("(1).__class__", "allowed"),
    ("[1, 2]", "allowed"), ("'a' * 3", "numbers"), ("x + 1", "do not know"), ("lambda: 1", "allowed"),
    ("9**9**9", "too large"), ("2**100000", "too large"), ("10**5000", "too large"), ("1/0", "divides by zero"),
    ("sqrt(-1)", "no answer"), ("10.0**400", "no answer"), ("2^10", "\\*\\*"), ("1" * 80, "too long"),
    ("(" * 150 + "1" + ")" * 150, "too long"), ("+".join(["1"] * 99), "too many parts"), ("", "no calculation"),
    ("True + 1", "numbers"), ("1 if 1 else 2", "allowed"), ("sqrt(x=4)", "one or a few"), ("exp(1000)", "no answer"),
])
def test_calculator_refuses(expression: str, reason: str) -> None:
    with pytest.raises(ToolError, match=reason):
        calculate(expression)


def test_datetime_is_local_and_aware() -> None:
    now = local_now()
    assert now.tzinfo is not None and abs((datetime.now(timezone.utc) - now).total_seconds()) < 5
    fixed = datetime(2025, 3, 9, 14, 5, tzinfo=timezone(timedelta(hours=1), "CET"))
    assert describe_now(fixed) == "Sunday 09 March 2025, 14:05 local time (CET, UTC+0100). ISO: 2025-03-09T14:05:00+01:00"
    tools = build_tools(ToolContext(clock=lambda: fixed), ["datetime"])
    assert tools["datetime"].run({}).startswith("Sunday 09 March 2025, 14:05")


def test_notes_are_written_and_searched(tmp_path: Path) -> None:
    store = NotesStore(tmp_path / "profile" / "notes.sqlite")
    tools = build_tools(ToolContext(notes=store), ["notes_write", "notes_search"])
    assert tools["notes_write"].run({"text": "Dentist on Friday at 10"}) == "Saved as note 1."
    tools["notes_write"].run({"text": "Call the plumber about the boiler"})
    found = tools["notes_search"].run({"query": "when is the dentist?"})
    assert "Dentist on Friday at 10" in found and "plumber" not in found
    assert tools["notes_search"].run({"query": "zebra"}) == "No note matches."
    assert "plumber" in tools["notes_search"].run({"query": "?"})  # no words: the latest notes
    with pytest.raises(ToolError):
        tools["notes_write"].run({"text": "   "})
    assert NotesStore(tmp_path / "profile" / "notes.sqlite").search("boiler")  # kept on disk
    assert store.delete(1) and not store.search("dentist")


def test_read_file_reads_documents_and_cites_them(tmp_path: Path) -> None:
    write_docx(tmp_path / "letter.docx", ["Dear landlord,", "The radiator leaks."])
    (tmp_path / "big.txt").write_text("word " * 5000)
    (tmp_path / "image.png").write_bytes(b"\x89PNG")
    tools = build_tools(ToolContext(permissions=FolderPermissions(read=[tmp_path])), ["read_file"])
    output = tools["read_file"].run({"path": "letter.docx"})
    assert "The radiator leaks." in output.text and output.sources == (str((tmp_path / "letter.docx").resolve()),)
    assert "showing the first 6000 of 25000 characters" in tools["read_file"].run({"path": "big.txt"}).text
    with pytest.raises(ToolError, match="can only read"):
        tools["read_file"].run({"path": "image.png"})


def test_write_file_replaces_atomically_and_shows_a_preview(tmp_path: Path) -> None:
    (tmp_path / "list.txt").write_text("old")
    previews = []
    context = ToolContext(permissions=FolderPermissions(write=[tmp_path]),
                          confirm=lambda path, preview: previews.append(preview) or True)
    tools = build_tools(context, ["write_file"])
    tools["write_file"].run({"path": "list.txt", "content": "new"})
    assert (tmp_path / "list.txt").read_text() == "new"
    assert previews == ["(This replaces the existing file.)\nnew"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["list.txt"]  # no temporary file left


def test_registry_refuses_unknown_and_unconfigured_tools(tmp_path: Path) -> None:
    for name in ("shell", "web_fetch", "http", "python"):
        with pytest.raises(UnknownToolError):
            build_tools(ToolContext(), [name])
    with pytest.raises(UnknownToolError, match="read_file"):
        build_tools(ToolContext(), ["read_file"])
    with pytest.raises(UnknownToolError, match="ask you before saving"):
        build_tools(ToolContext(permissions=FolderPermissions(write=[tmp_path])), ["write_file"])
    assert list(build_tools(ToolContext(), ["datetime", "calculator", "calculator"])) == ["calculator", "datetime"]
