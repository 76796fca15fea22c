"""Chat turns that use tools: the real tiny model through LocalEngine, and scripted replies from a
real HTTP server (only for the deterministic agent logic: which call, refused or allowed)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.wizard.agent_tools.scripted_engine import ScriptedEngine
from wizard.agent.chat import TOOLS_USED_PREFIX, ChatSession
from wizard.agent.store import ConversationStore
from wizard.agent.tokens import EstimatingTokenCounter, ModelTokenCounter
from wizard.agent.tools import FolderPermissions, ToolContext, build_tools
from wizard.engine import EngineClient, EngineError, GenerationParams, LoadPlan, LocalEngine

GREEDY = GenerationParams(temperature=0.0, max_tokens=120)


def call(tool: str, **arguments: str) -> str:
    return json.dumps({"tool": tool, "arguments": arguments})


def answer(text: str) -> str:
    return json.dumps({"answer": text})


@pytest.fixture
def store() -> Iterator[ConversationStore]:
    with ConversationStore() as opened:
        yield opened


@pytest.fixture
def granted(tmp_path: Path) -> Path:
    (tmp_path / "granted").mkdir()
    (tmp_path / "outside").mkdir()
    return tmp_path


class Confirm:
    """Records every question; answers with ``allow``."""

    def __init__(self, allow: bool) -> None:
        self.allow = allow
        self.asked: list[tuple[Path, str]] = []

    def __call__(self, path: Path, preview: str) -> bool:
        self.asked.append((path, preview))
        return self.allow


def scripted_session(store: ConversationStore, engine: ScriptedEngine, granted: Path, confirm=None,
                     **kwargs) -> ChatSession:
    context = ToolContext(permissions=FolderPermissions(write=[granted / "granted"]), confirm=confirm or Confirm(True))
    tools = build_tools(context, ["calculator", "write_file"])
    return ChatSession(store, EngineClient(engine.base_url), counter=EstimatingTokenCounter(), n_ctx=4096,
                       model="scripted", tools=tools, params=GREEDY, **kwargs)


def test_a_calculator_result_reaches_the_answer_and_the_step_is_kept(store, granted) -> None:
    pieces: list[str] = []
    with ScriptedEngine([call("calculator", expression="17*23"), answer("17 × 23 is 391.")]) as engine:
        session = scripted_session(store, engine, granted)
        result = session.send("What is 17 times 23?", on_text=pieces.append)
    second = engine.requests[1]["messages"]
    assert second[-1]["role"] == "tool" and "17*23 = 391" in second[-1]["content"]
    assert second[-3] == {"role": "user", "content": "What is 17 times 23?"}
    assert [n.message for n in result.notices if n.kind == "tool"] == ["Used the calculator: 17*23 = 391"]
    saved = store.messages(session.conversation_id)
    assert [(m.role, m.status) for m in saved] == [("user", "complete"), ("assistant", "complete")]
    assert saved[1].content == f"17 × 23 is 391.\n\n{TOOLS_USED_PREFIX}Used the calculator: 17*23 = 391."
    assert "".join(pieces) == saved[1].content == result.reply.content
    assert not result.stopped


def test_a_refused_write_writes_nothing_and_the_model_is_told(store, granted) -> None:
    confirm = Confirm(False)
    target = granted / "granted" / "list.txt"
    script = [call("write_file", path=str(target), content="milk\n"), answer("I did not save it.")]
    with ScriptedEngine(script) as engine:
        result = scripted_session(store, engine, granted, confirm).send("Save my shopping list.")
    assert [path for path, _ in confirm.asked] == [target] and "milk" in confirm.asked[0][1]
    assert not target.exists()
    assert "did not allow saving list.txt" in engine.requests[1]["messages"][-1]["content"]
    assert [n.message for n in result.notices if n.kind == "tool"] == ["Did not save " + str(target) +
                                                                       ": you did not allow it"]
    assert result.reply.content.startswith("I did not save it.") and "Did not save" in result.reply.content


def test_an_allowed_write_inside_the_granted_folder_is_saved(store, granted) -> None:
    target = granted / "granted" / "list.txt"
    script = [call("write_file", path=str(target), content="milk\n"), answer("Saved.")]
    with ScriptedEngine(script) as engine:
        result = scripted_session(store, engine, granted, Confirm(True)).send("Save my shopping list.")
    assert target.read_text() == "milk\n"
    assert [n.message for n in result.notices if n.kind == "tool"] == [f"Saved {target}"]


def test_a_write_outside_the_granted_folder_is_refused_without_asking(store, granted) -> None:
    confirm = Confirm(True)
    target = granted / "outside" / "evil.txt"
    script = [call("write_file", path=str(target), content="x"), answer("I may not save there.")]
    with ScriptedEngine(script) as engine:
        result = scripted_session(store, engine, granted, confirm).send("Save it next to my secrets.")
    assert confirm.asked == [] and not target.exists()
    told = engine.requests[1]["messages"][-1]["content"]
    assert told.startswith("Result of write_file:") and "allowed" in told
    assert [n.message for n in result.notices if n.kind == "tool"] == [f"Not allowed: saved {target}"]


def test_an_engine_failure_after_a_tool_step_keeps_the_question_and_the_step(store, granted) -> None:
    with ScriptedEngine([call("calculator", expression="2+2")]) as engine:  # then the server fails
        session = scripted_session(store, engine, granted)
        with pytest.raises(EngineError):
            session.send("What is 2+2?")
    saved = store.messages(session.conversation_id)
    assert [(m.role, m.content, m.status) for m in saved] == [
        ("user", "What is 2+2?", "complete"),
        ("assistant", f"{TOOLS_USED_PREFIX}Used the calculator: 2+2 = 4.", "partial")]


def test_stopping_during_the_tool_steps_keeps_what_was_done(store, granted) -> None:
    stop = threading.Event()

    def confirm_then_stop(path: Path, preview: str) -> bool:
        stop.set()  # the person presses Stop while the question is open
        return False

    script = [call("write_file", path=str(granted / "granted" / "a.txt"), content="a"), answer("never sent")]
    with ScriptedEngine(script) as engine:
        session = scripted_session(store, engine, granted, confirm_then_stop)
        result = session.send("Save a.", cancel=stop)
    assert result.stopped and len(engine.requests) == 1
    assert result.reply.status == "partial" and result.reply.content.startswith(TOOLS_USED_PREFIX + "Did not save")
    assert [m.role for m in store.messages(session.conversation_id)] == ["user", "assistant"]


def test_the_tool_line_of_an_earlier_turn_goes_back_to_the_model(store, granted) -> None:
    script = [call("calculator", expression="6*7"), answer("42."), answer("You asked about 6*7.")]
    with ScriptedEngine(script) as engine:
        session = scripted_session(store, engine, granted)
        session.send("What is 6 times 7?")
        session.send("What did I ask?")
    history = engine.requests[2]["messages"]
    assert {"role": "assistant", "content": f"42.\n\n{TOOLS_USED_PREFIX}Used the calculator: 6*7 = 42."} in history


def test_an_answer_from_the_documents_names_the_files_it_used(store, tmp_path) -> None:
    from wizard.agent.documents.index import DocumentIndex

    folder = tmp_path / "Documents"
    (folder / "Insurance").mkdir(parents=True)
    policy = folder / "Insurance" / "home-policy.txt"
    policy.write_text("Home insurance policy.\n\nThe deductible for water damage is 500 euros.\n")
    (folder / "recipes.md").write_text("# Bread\n\nFlour, water, salt and yeast.\n")
    index = DocumentIndex(tmp_path / "index.sqlite")
    index.update([folder])
    tools = build_tools(ToolContext(permissions=FolderPermissions(read=[folder]), documents=index),
                        ["documents_search", "read_file"])
    script = [call("documents_search", query="deductible"),
              call("read_file", path=str(policy)),
              answer("The deductible for water damage is 500 euros (home-policy.txt).")]
    with ScriptedEngine(script) as engine:
        session = ChatSession(store, EngineClient(engine.base_url), counter=EstimatingTokenCounter(), n_ctx=4096,
                              model="scripted", tools=tools, params=GREEDY)
        result = session.send("What is my deductible for water damage?")

    found = engine.requests[1]["messages"][-1]["content"]
    assert str(policy.resolve()) in found and "500 euros" in found  # the model saw where it came from
    assert result.sources == [str(policy.resolve())]
    steps = [n.message for n in result.notices if n.kind == "tool"]
    assert steps[0] == "Searched your documents for \u201cdeductible\u201d: found home-policy.txt"
    assert len(steps) == 2 and steps[1].startswith("Read ") and steps[1].endswith("/Insurance/home-policy.txt")
    saved = store.messages(session.conversation_id)[-1]
    assert saved.content == ("The deductible for water damage is 500 euros (home-policy.txt).\n\n"
                             f"{TOOLS_USED_PREFIX}{steps[0]}; {steps[1]}.")
    assert saved.status == "complete"


def test_a_search_that_finds_nothing_says_so_and_cites_nothing(store, tmp_path) -> None:
    from wizard.agent.documents.index import DocumentIndex

    folder = tmp_path / "Documents"
    folder.mkdir()
    (folder / "recipes.md").write_text("# Bread\n\nFlour, water, salt and yeast.\n")
    index = DocumentIndex(tmp_path / "index.sqlite")
    index.update([folder])
    tools = build_tools(ToolContext(documents=index), ["documents_search"])
    with ScriptedEngine([call("documents_search", query="insurance"), answer("I found nothing about it.")]) as engine:
        session = ChatSession(store, EngineClient(engine.base_url), counter=EstimatingTokenCounter(), n_ctx=4096,
                              model="scripted", tools=tools, params=GREEDY)
        result = session.send("What does my insurance cover?")
    assert result.sources == []
    assert result.reply.content.endswith(
        f"{TOOLS_USED_PREFIX}Searched your documents for \u201cinsurance\u201d: nothing matched.")


def test_many_files_found_are_named_in_short() -> None:
    from wizard.agent.chat import describe_step, file_names
    from wizard.agent.tools.loop import LoopStep

    paths = [f"/home/sam/Documents/{name}" for name in ("a.txt", "b.md", "c.pdf", "d.docx", "e.odt")]
    assert file_names(paths) == "a.txt, b.md, c.pdf and 2 more"
    assert file_names(paths[:2] + ["/elsewhere/a.txt"]) == "a.txt, b.md"
    step = LoopStep("documents_search", {"query": "tax"}, "…", "ok", tuple(paths))
    assert describe_step(step) == "Searched your documents for \u201ctax\u201d: found a.txt, b.md, c.pdf and 2 more"


@pytest.fixture(scope="module")
def engine(tiny_model: Path) -> Iterator[LocalEngine]:
    with LocalEngine(tiny_model, LoadPlan(n_ctx=2048, n_threads=2), busy_wait=0.5) as running:
        yield running


def test_the_real_model_ends_within_its_steps_and_the_reply_is_saved(store, engine, tiny_model, granted) -> None:
    tools = build_tools(ToolContext(), ["calculator", "datetime"])
    session = ChatSession(store, engine, counter=ModelTokenCounter(tiny_model), n_ctx=2048, model="tiny",
                          tools=tools, params=GenerationParams(temperature=0.0, max_tokens=60), max_tool_steps=2)
    pieces: list[str] = []
    result = session.send("What is 12 times 7? Use the calculator.", on_text=pieces.append)
    tool_notices = [n for n in result.notices if n.kind == "tool"]
    assert len(tool_notices) <= 2
    saved = store.messages(session.conversation_id)
    assert [(m.role, m.status) for m in saved] == [("user", "complete"), ("assistant", "complete")]
    assert saved[1].content.strip() and saved[1].content == "".join(pieces) == result.reply.content
    if tool_notices:
        assert TOOLS_USED_PREFIX in saved[1].content
    assert not saved[1].content.lstrip().startswith("{")  # the answer, not the model's raw JSON
