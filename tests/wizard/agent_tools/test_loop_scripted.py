"""Deterministic agent-logic cases of the tool loop, against a real HTTP server playing the model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.wizard.agent_tools.scripted_engine import ScriptedEngine
from wizard.agent.tools import FolderPermissions, NotesStore, ToolContext, build_tools, run_tool_loop
from wizard.agent.documents import DocumentIndex
from wizard.engine import EngineClient

QUESTION = [{"role": "system", "content": "You are Hearth."}, {"role": "user", "content": "Help me."}]


def call(tool: str, **arguments: str) -> str:
    return json.dumps({"tool": tool, "arguments": arguments})


def answer(text: str) -> str:
    return json.dumps({"answer": text})


@pytest.fixture
def folders(tmp_path: Path) -> Path:
    (tmp_path / "granted" / "out").mkdir(parents=True)
    (tmp_path / "granted" / "todo.txt").write_text("Buy lightbulbs.")
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "secret.txt").write_text("the safe code is 1234")
    return tmp_path


def make_tools(folders: Path, confirm=lambda path, preview: True, enabled=None) -> dict:
    context = ToolContext(permissions=FolderPermissions(read=[folders / "granted"], write=[folders / "granted" / "out"]),
                          notes=NotesStore(folders / "notes.sqlite"),
                          documents=DocumentIndex(folders / "docs.sqlite"), confirm=confirm)
    return build_tools(context, enabled or ["calculator", "datetime", "read_file", "write_file", "notes_write",
                                            "notes_search", "documents_search"])


def test_calls_a_tool_then_answers_with_its_result(folders: Path) -> None:
    with ScriptedEngine([call("calculator", expression="17*23"), answer("17 × 23 is 391.")]) as engine:
        result = run_tool_loop(EngineClient(engine.base_url), QUESTION, make_tools(folders))
    assert result.stopped == "answered" and result.answer == "17 × 23 is 391."
    assert [(s.tool, s.outcome, s.result) for s in result.steps] == [("calculator", "ok", "17*23 = 391")]
    first, second = engine.requests
    schema = first["response_format"]["json_schema"]["schema"]
    assert {c["properties"].get("tool", {}).get("const") for c in schema["anyOf"]} >= {"calculator", "write_file"}
    assert "calculator" in first["messages"][0]["content"] and first["messages"][0]["content"].startswith("You are Hearth.")
    assert second["messages"][-2] == {"role": "assistant", "content": call("calculator", expression="17*23")}
    assert second["messages"][-1]["role"] == "tool" and "17*23 = 391" in second["messages"][-1]["content"]
    assert QUESTION[0]["content"] == "You are Hearth."  # the caller's messages are untouched
    assert [m["role"] for m in result.new_messages] == ["assistant", "tool", "assistant"]


def test_a_model_that_calls_tools_forever_is_stopped(folders: Path) -> None:
    steps = []
    with ScriptedEngine([call("datetime")], repeat_last=True) as engine:
        result = run_tool_loop(EngineClient(engine.base_url), QUESTION, make_tools(folders), max_steps=4,
                               on_step=steps.append)
    assert result.stopped == "step_limit"
    assert "stopped after using my tools 4 times" in result.answer
    assert len(result.steps) == 4 == len(steps)
    assert len(engine.requests) == 5  # four calls run, the fifth request's call is not


def test_reading_outside_the_granted_folder_is_refused_and_told(folders: Path) -> None:
    script = [call("read_file", path="../outside/secret.txt"), call("read_file", path=str(folders / "outside/secret.txt")),
              call("read_file", path="todo.txt"), answer("You need lightbulbs (todo.txt).")]
    with ScriptedEngine(script) as engine:
        result = run_tool_loop(EngineClient(engine.base_url), QUESTION, make_tools(folders))
    assert [s.outcome for s in result.steps] == ["refused", "refused", "ok"]
    assert all("1234" not in json.dumps(request) for request in engine.requests)
    assert "outside the folders you allowed" in engine.requests[1]["messages"][-1]["content"]
    assert result.sources == [str((folders / "granted" / "todo.txt").resolve())]


def test_writing_outside_the_write_folder_is_refused_without_asking(folders: Path) -> None:
    asked = []
    tools = make_tools(folders, confirm=lambda path, preview: asked.append(path) or True)
    script = [call("write_file", path="../../outside/evil.txt", content="x"),
              call("write_file", path="../todo.txt", content="overwritten"), answer("I could not.")]
    with ScriptedEngine(script) as engine:
        result = run_tool_loop(EngineClient(engine.base_url), QUESTION, tools)
    assert [s.outcome for s in result.steps] == ["refused", "refused"]
    assert asked == []
    assert not (folders / "outside" / "evil.txt").exists()
    assert (folders / "granted" / "todo.txt").read_text() == "Buy lightbulbs."


def test_a_declined_confirmation_writes_nothing(folders: Path) -> None:
    asked = []
    tools = make_tools(folders, confirm=lambda path, preview: asked.append((path, preview)) and False)
    script = [call("write_file", path="letter.txt", content="Dear Sir"), answer("Not saved.")]
    with ScriptedEngine(script) as engine:
        result = run_tool_loop(EngineClient(engine.base_url), QUESTION, tools)
    assert asked == [((folders / "granted" / "out" / "letter.txt").resolve(), "Dear Sir")]
    assert not (folders / "granted" / "out" / "letter.txt").exists()
    assert list((folders / "granted" / "out").iterdir()) == []
    assert "did not allow" in result.steps[0].result


def test_a_confirmed_write_is_saved(folders: Path) -> None:
    script = [call("write_file", path="letter.txt", content="Dear Sir"), answer("Saved letter.txt.")]
    with ScriptedEngine(script) as engine:
        result = run_tool_loop(EngineClient(engine.base_url), QUESTION, make_tools(folders))
    assert (folders / "granted" / "out" / "letter.txt").read_text() == "Dear Sir"
    assert result.steps[0].outcome == "ok"


def test_tool_errors_and_bad_calls_become_results_not_crashes(folders: Path) -> None:
    script = [call("calculator", expression="1/0"), call("shell", command="rm -rf /"),
              json.dumps({"tool": "calculator", "arguments": {"expr": "1"}}),
              json.dumps({"tool": "calculator", "arguments": {"expression": 5}}),
              call("read_file", path="missing.txt"), '{"tool": "calc', answer("Done.")]
    with ScriptedEngine(script) as engine:
        result = run_tool_loop(EngineClient(engine.base_url), QUESTION, make_tools(folders), max_steps=10)
    assert result.stopped == "answered"
    assert [s.outcome for s in result.steps] == ["error", "invalid", "invalid", "invalid", "error", "invalid"]
    assert "divides by zero" in result.steps[0].result
    assert "no tool called 'shell'" in result.steps[1].result
    assert "needs 'expression'" in result.steps[2].result
    assert "must be text" in result.steps[3].result
    assert "no such file" in result.steps[4].result


def test_only_enabled_tools_are_offered_or_run(folders: Path) -> None:
    tools = make_tools(folders, enabled=["calculator"])
    with ScriptedEngine([call("read_file", path="todo.txt"), answer("ok")]) as engine:
        result = run_tool_loop(EngineClient(engine.base_url), QUESTION, tools)
    assert result.steps[0].outcome == "invalid"
    schema = engine.requests[0]["response_format"]["json_schema"]["schema"]
    assert [c["properties"].get("tool", {}).get("const") for c in schema["anyOf"]] == [None, "calculator"]


def test_plain_text_and_cut_off_answers(folders: Path) -> None:
    with ScriptedEngine(["Just plain words."]) as engine:
        assert run_tool_loop(EngineClient(engine.base_url), QUESTION, {}).answer == "Just plain words."
    with ScriptedEngine(['{"answer": "The first half of a long \\"quoted\\" answ']) as engine:
        assert run_tool_loop(EngineClient(engine.base_url), QUESTION, {}).answer == \
            'The first half of a long "quoted" answ …'


def test_documents_search_results_cite_their_files(folders: Path) -> None:
    (folders / "granted" / "policy.txt").write_text("The deductible is 250 euros.")
    DocumentIndex(folders / "docs.sqlite").update([folders / "granted"])
    script = [call("documents_search", query="deductible"), answer("250 euros, says policy.txt.")]
    with ScriptedEngine(script) as engine:
        result = run_tool_loop(EngineClient(engine.base_url), QUESTION, make_tools(folders))
    assert result.sources == [str((folders / "granted" / "policy.txt").resolve())]
    assert "policy.txt (part 1): The deductible is 250 euros." in engine.requests[1]["messages"][-1]["content"]


def test_cancel_before_a_step_ends_the_loop(folders: Path) -> None:
    with ScriptedEngine([answer("never")]) as engine:
        result = run_tool_loop(EngineClient(engine.base_url), QUESTION, {}, cancel=lambda: True)
    assert result.stopped == "cancelled" and engine.requests == []
