"""A real assistant profile on the real tiny model, and the main window chatting with it.

The profile is written by the real ``save_profile`` from a recipe with temperature 0 (the
same words every time), so the window goes the whole real way: profile -> engine child
process -> ChatSession -> SQLite.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
from PySide6.QtCore import QThreadPool

from app.main_window import MainWindow
from app.ui.chat import ChatView
from app.ui.chat.runner import READY

QUESTION = "Name the capital city of France."
LONG_REQUEST = "Write a long story about a dragon who loves tea, with many chapters."

RECIPE = '''schema_version = 1
id = "{id}"
name = "{name}"
description = "Answers plainly."
for_whom = "Tests."
[persona]
system_prompt = "You are a helpful assistant."
greeting = "Hello! What can I do for you?"
[sampling]
temperature = 0.0
max_tokens = 160
[memory]
enabled = true
remember = ["facts", "preferences"]
'''


def make_profile(model: Path, *, profile_id: str = "test-helper", name: str = "Robin"):
    from wizard.engine import LoadPlan
    from wizard.profiles import load_profile, save_profile
    from wizard.recipes import parse_recipe_text
    from wizard.recipes.plan import plan_recipe

    recipe = parse_recipe_text(RECIPE.format(id=profile_id, name=name)).recipe
    save_profile(plan_recipe(recipe), allow=True, person_name="Sam", model_name="SmolLM2 tiny",
                 model_path=model, model_repo=None, model_file=None,
                 load_plan=LoadPlan(n_ctx=2048, n_threads=2))
    return load_profile(profile_id)


def engine_children() -> list[psutil.Process]:
    found = []
    for child in psutil.Process(os.getpid()).children(recursive=True):
        try:
            if "wizard.engine.server" in " ".join(child.cmdline()) and child.status() != psutil.STATUS_ZOMBIE:
                found.append(child)
        except psutil.NoSuchProcess:
            continue
    return found


@pytest.fixture
def profile(tiny_model: Path):
    return make_profile(tiny_model)


def open_main_window(qtbot) -> MainWindow:
    """The main window as ``hearth`` shows it: drawn first, its chat built right after the first paint."""
    window = MainWindow()
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(lambda: window.chat is not None, timeout=10_000)
    return window


@pytest.fixture
def window(qtbot, profile) -> Iterator[MainWindow]:
    window = open_main_window(qtbot)
    qtbot.waitUntil(lambda: window.chat.runner.state == READY, timeout=90_000)
    yield window
    window.close()
    assert QThreadPool.globalInstance().waitForDone(30_000), "a task was still running"
    assert engine_children() == [], "an engine process was left running"


@pytest.fixture
def chat(window: MainWindow) -> ChatView:
    return window.chat


def wait_ready(qtbot, chat: ChatView, timeout: int = 180_000) -> None:
    qtbot.waitUntil(lambda: chat.runner.state == READY and not chat.runner.replying, timeout=timeout)


def ask(qtbot, chat: ChatView, text: str) -> None:
    """Type ``text`` and press Enter, then wait for the answer to be finished."""
    from PySide6.QtCore import Qt

    chat.composer.edit.setFocus()
    chat.composer.set_text(text)
    qtbot.keyClick(chat.composer.edit, Qt.Key.Key_Return)
    assert chat.runner.replying or chat.runner.state != READY
    wait_ready(qtbot, chat)


def saved_messages(chat: ChatView) -> list[tuple[str, str, str]]:
    return [(m.role, m.content, m.status) for m in chat.store.messages(chat.conversation_id)]
