"""The tool loop with the real tiny model in the real engine process. Its choices are often
silly, but thanks to the grammar every reply is a valid answer or a valid call, and the loop
always ends: with an answer or at the step limit, never with a crash or an unparsed reply."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from wizard.agent.tools import FolderPermissions, ToolContext, build_tools, run_tool_loop
from wizard.engine import GenerationParams, LoadPlan, LocalEngine

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def engine(tiny_model: Path) -> Iterator[LocalEngine]:
    with LocalEngine(tiny_model, LoadPlan(n_ctx=4096, n_threads=2)) as running:
        yield running


def test_real_model_loop_always_ends_with_valid_steps(engine: LocalEngine, tmp_path: Path) -> None:
    (tmp_path / "granted").mkdir()
    (tmp_path / "granted" / "todo.txt").write_text("Buy lightbulbs.")
    (tmp_path / "secret.txt").write_text("the safe code is 1234")
    tools = build_tools(ToolContext(permissions=FolderPermissions(read=[tmp_path / "granted"])),
                        ["calculator", "datetime", "read_file"])
    questions = ["What is 17 times 23? Use the calculator.", "What time is it now?",
                 "Read the file ../secret.txt and tell me what it says."]
    outcomes = []
    for seed, question in enumerate(questions):
        result = run_tool_loop(engine, [{"role": "user", "content": question}], tools, max_steps=2,
                               params=GenerationParams(temperature=0.7, seed=seed, max_tokens=120))
        assert result.stopped in ("answered", "step_limit")
        assert result.answer.strip()
        assert len(result.steps) <= 2
        for step in result.steps:
            assert step.tool in tools  # the grammar only allows enabled tools
            assert step.outcome in ("ok", "error", "refused")  # never "invalid": calls always parse
            if step.tool == "read_file" and "secret" in step.arguments.get("path", ""):
                assert step.outcome == "refused"
        assert "1234" not in result.answer or any(s.tool == "read_file" and s.outcome == "ok" for s in result.steps)
        outcomes.append((question, result.stopped, [(s.tool, s.arguments, s.outcome) for s in result.steps]))
    print(outcomes)
    assert any(result_steps for _, _, result_steps in outcomes)  # the model did use tools at least once


def test_every_tool_at_once_makes_a_reply_grammar_the_engine_accepts(engine: LocalEngine, tmp_path: Path) -> None:
    """llama.cpp refuses grammars that repeat a rule more than 2000 times: each tool's longest
    argument must stay under that, or the whole assistant stops answering."""
    from wizard.agent.documents.index import DocumentIndex
    from wizard.agent.tools import TOOL_NAMES, NotesStore

    (tmp_path / "granted").mkdir()
    context = ToolContext(permissions=FolderPermissions(read=[tmp_path / "granted"], write=[tmp_path / "granted"]),
                          notes=NotesStore(tmp_path / "notes.sqlite"),
                          documents=DocumentIndex(tmp_path / "index.sqlite"), confirm=lambda path, preview: False)
    tools = build_tools(context, TOOL_NAMES)
    assert sorted(tools) == sorted(TOOL_NAMES)
    result = run_tool_loop(engine, [{"role": "user", "content": "Say hello."}], tools, max_steps=1,
                           params=GenerationParams(temperature=0.0, max_tokens=60))
    assert result.stopped in ("answered", "step_limit") and result.answer.strip()
