"""The chat window's assistant uses the tools of its profile, and asks before saving a file.

The profile is real (a recipe with write_file, saved by the real ``save_profile``); the model's
replies come from a real HTTP server with scripted replies (only so that the model's choice of
call is deterministic), reached through the real EngineClient.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtWidgets import QMessageBox, QWidget

from app.ui.chat.chat_setup import ChatSetup
from app.ui.chat.runner import READY, AssistantRunner
from tests.wizard.agent_tools.scripted_engine import ScriptedEngine
from wizard.agent import ConversationStore
from wizard.agent.chat import TOOLS_USED_PREFIX
from wizard.engine import EngineClient, LoadPlan

RECIPE = '''schema_version = 1
id = "writer"
name = "Robin"
description = "Saves lists."
for_whom = "Tests."
[persona]
system_prompt = "You are Robin."
greeting = "Hello."
[sampling]
temperature = 0.0
max_tokens = 100
[[tools]]
name = "calculator"
[[tools]]
name = "write_file"
write_folders = ["{folder}"]
'''


class ScriptedLocalEngine:
    """What the runner needs of a LocalEngine, answering through the scripted HTTP server."""

    def __init__(self, base_url: str) -> None:
        self.client = EngineClient(base_url)
        self.model_path = None
        self.ready_info = {"n_ctx": 4096}
        self.alive = False
        self.pid = None

    def start(self) -> None:
        self.alive = True

    def stop(self) -> None:
        self.alive = False

    def stream_chat(self, messages, *, params=None, cancel=None):
        return self.client.stream_chat(messages, params=params, cancel=cancel)


@pytest.fixture
def lists_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "Lists"
    folder.mkdir()
    return folder


@pytest.fixture
def profile(lists_folder: Path):
    from wizard.profiles import load_profile, save_profile
    from wizard.recipes import parse_recipe_text
    from wizard.recipes.plan import plan_recipe

    recipe = parse_recipe_text(RECIPE.format(folder=lists_folder)).recipe
    save_profile(plan_recipe(recipe), allow=True, person_name="Sam", model_name="Scripted", model_path=None,
                 model_repo=None, model_file=None, load_plan=LoadPlan(n_ctx=4096, n_threads=1))
    return load_profile("writer")


@pytest.fixture
def store() -> Iterator[ConversationStore]:
    with ConversationStore() as opened:
        yield opened


@pytest.fixture
def parent(qtbot) -> QWidget:
    widget = QWidget()
    qtbot.addWidget(widget)
    return widget


def start_runner(qtbot, parent: QWidget, profile, engine: ScriptedEngine, store: ConversationStore) -> AssistantRunner:
    setup = ChatSetup.from_profile(profile)
    assert setup.make_tools is not None
    setup = dataclasses.replace(setup, make_engine=lambda: ScriptedLocalEngine(engine.base_url))
    runner = AssistantRunner(setup, store, parent)
    runner.start()
    qtbot.waitUntil(lambda: runner.state == READY, timeout=10_000)
    assert sorted(runner.session.tools) == ["calculator", "write_file"]
    return runner


def press(box: QMessageBox, accessible_name: str) -> None:
    [button] = [b for b in box.buttons() if b.accessibleName() == accessible_name]
    button.click()


def save_list(qtbot, runner: AssistantRunner, target: Path, button: str) -> list:
    done: list = []
    runner.reply_done.connect(done.append)
    runner.reply_failed.connect(done.append)
    runner.send("Save my shopping list.")
    qtbot.waitUntil(lambda: runner.confirmer.dialog is not None and runner.confirmer.dialog.isVisible(),
                    timeout=10_000)
    box = runner.confirmer.dialog
    assert box.text() == f"Robin wants to save a file: {target}. Allow?"
    assert "eggs" in box.detailedText()
    assert not target.exists()  # the reply waits for the person
    press(box, button)
    qtbot.waitUntil(lambda: bool(done), timeout=10_000)
    return done


def test_the_file_is_written_only_after_allow(qtbot, parent, profile, lists_folder: Path, store) -> None:
    target = lists_folder / "shopping.txt"
    script = [json.dumps({"tool": "write_file", "arguments": {"path": "shopping.txt", "content": "eggs\n"}}),
              json.dumps({"answer": "Your list is saved."})]
    with ScriptedEngine(script) as engine:
        runner = start_runner(qtbot, parent, profile, engine, store)
        [result] = save_list(qtbot, runner, target, "Allow saving the file")
        runner.shutdown()
    assert target.read_text() == "eggs\n"
    assert [n.message for n in result.notices if n.kind == "tool"] == ["Saved shopping.txt"]
    assert result.reply.content == f"Your list is saved.\n\n{TOOLS_USED_PREFIX}Saved shopping.txt."
    assert "Saved " in engine.requests[1]["messages"][-1]["content"]


def test_refusing_in_the_dialog_writes_nothing(qtbot, parent, profile, lists_folder: Path, store) -> None:
    target = lists_folder / "shopping.txt"
    script = [json.dumps({"tool": "write_file", "arguments": {"path": "shopping.txt", "content": "eggs\n"}}),
              json.dumps({"answer": "I did not save it."})]
    with ScriptedEngine(script) as engine:
        runner = start_runner(qtbot, parent, profile, engine, store)
        [result] = save_list(qtbot, runner, target, "Do not save the file")
        runner.shutdown()
    assert not target.exists()
    assert "did not allow" in engine.requests[1]["messages"][-1]["content"]
    assert result.reply.content.startswith("I did not save it.")


def test_closing_while_asked_frees_the_reply_and_writes_nothing(qtbot, parent, profile, lists_folder: Path, store) -> None:
    target = lists_folder / "shopping.txt"
    script = [json.dumps({"tool": "write_file", "arguments": {"path": "shopping.txt", "content": "eggs\n"}}),
              json.dumps({"answer": "never"})]
    with ScriptedEngine(script) as engine:
        runner = start_runner(qtbot, parent, profile, engine, store)
        runner.send("Save my shopping list.")
        qtbot.waitUntil(lambda: runner.confirmer.dialog is not None, timeout=10_000)
        runner.shutdown(timeout=10)  # must not hang on the open question
        assert not runner.replying
    assert not target.exists()
