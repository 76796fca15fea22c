"""Settings changed while a chat is open reach it: a new model, engine settings, a moved data folder."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from PySide6.QtCore import Qt, QThreadPool

from app.main_window import RESTART_DELAY_MS
from app.tasks import cancel_all_and_wait
from app.ui.chat.runner import READY, REPLYING
from tests.app.chat.conftest import (
    LONG_REQUEST,
    QUESTION,
    ask,
    engine_children,
    make_profile,
    open_main_window,
    saved_messages,
    wait_ready,
)
from wizard.agent import ConversationStore
from wizard.paths import hearth_paths


def database_file(store: ConversationStore) -> Path:
    return Path(store.connection.execute("PRAGMA database_list").fetchone()[2])


def test_choosing_another_model_restarts_the_open_chat_with_it(qtbot, window, tmp_path: Path,
                                                               tiny_model: Path) -> None:
    from app.ui.settings.models_page import add_model_file

    other = tmp_path / "another-tiny.gguf"
    shutil.copyfile(tiny_model, other)
    installed = add_model_file(other)
    chat = window.chat
    ask(qtbot, chat, QUESTION)
    conversation, first_pid = chat.conversation_id, chat.runner.engine_pid
    assert chat.runner.engine.model_path == tiny_model

    dialog = window.open_settings()
    page = dialog.models
    page.assistant_box.setCurrentIndex(page.assistant_box.findData(chat.setup.profile_id))
    index = page.assistant_model_box.findData(installed.id)
    page.assistant_model_box.setCurrentIndex(index)
    page.assistant_model_box.activated.emit(index)  # as a person's choice does
    assert "from now on" in page.status.text() and "starts it again" in page.status.text()
    dialog.done(0)  # closing Settings restarts it at once

    qtbot.waitUntil(lambda: window.chat is not chat, timeout=10_000)
    wait_ready(qtbot, window.chat)
    assert window.chat.runner.engine.model_path.resolve() == other.resolve()
    assert window.chat.runner.engine_pid != first_pid and len(engine_children()) == 1
    assert window.chat.conversation_id == conversation  # the same conversation, going on
    ask(qtbot, window.chat, "And of Italy?")
    assert [m[0] for m in saved_messages(window.chat)] == ["user", "assistant", "user", "assistant"]


def test_an_engine_setting_changed_during_an_answer_applies_after_it(qtbot, window) -> None:
    chat = window.chat
    shown: list[str] = []
    states: list[str] = []
    chat.runner.text_arrived.connect(shown.append)
    chat.runner.state_changed.connect(states.append)
    chat.composer.set_text(LONG_REQUEST)
    qtbot.keyClick(chat.composer.edit, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: len("".join(shown)) > 10, timeout=60_000)

    dialog = window.open_settings()
    performance = dialog.performance
    performance.advanced.setChecked(True)
    performance.threads.automatic.setChecked(False)
    performance.threads.number.setValue(1)
    performance.threads.number.editingFinished.emit()
    assert dialog.state.settings.threads == 1
    qtbot.waitUntil(lambda: window.chat is not chat, timeout=120_000)
    # The answer ended (ready) before anything else happened to that assistant: not cut off by a restart.
    assert states[states.index(REPLYING) + 1:][:1] == [READY], states
    wait_ready(qtbot, window.chat)
    [_, (role, text, status)] = saved_messages(window.chat)
    assert (role, status) == ("assistant", "complete") and text  # the answer was not cut off
    assert window.chat.runner.engine.plan.n_threads == 1
    dialog.done(0)


def test_a_change_that_does_not_touch_the_engine_keeps_it_running(qtbot, window) -> None:
    chat, pid = window.chat, window.chat.runner.engine_pid
    dialog = window.open_settings()
    dialog.appearance.choose("dark")
    qtbot.wait(RESTART_DELAY_MS + 300)
    dialog.appearance.choose("system")  # the application's palette is shared with later tests
    dialog.done(0)
    assert window.chat is chat and chat.runner.engine_pid == pid and chat.runner.state == READY


@pytest.fixture
def movable_home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """Hearth's OS-default folders under tmp: the data folder can only be moved in this layout."""
    monkeypatch.delenv("HEARTH_HOME")
    for name in ("DATA", "CONFIG", "CACHE", "STATE"):
        monkeypatch.setenv(f"XDG_{name.upper()}_HOME", str(tmp_path / f"xdg-{name.lower()}"))
    return tmp_path


def test_moving_the_data_folder_with_a_chat_open_keeps_chatting_in_the_new_place(
        qtbot, movable_home: Path, tiny_model: Path) -> None:
    make_profile(tiny_model)
    old = hearth_paths().data
    window = open_main_window(qtbot)
    wait_ready(qtbot, window.chat)
    ask(qtbot, window.chat, QUESTION)
    chat, conversation = window.chat, window.chat.conversation_id
    assert database_file(chat.store).is_relative_to(old)

    target = movable_home / "new disk" / "Hearth"
    dialog = window.open_settings()
    progress = dialog.data.move_to(target, confirm=False)
    assert progress is not None
    qtbot.waitUntil(lambda: not progress.isVisible(), timeout=60_000)
    assert progress.error is None and hearth_paths().data == target and not old.exists()

    qtbot.waitUntil(lambda: window.chat is not chat, timeout=10_000)
    moved = window.chat
    assert database_file(moved.store).is_relative_to(target)
    assert moved.conversation_id == conversation
    assert [w.text() for w in moved.messages.messages() if w.message_id is not None][0] == QUESTION
    wait_ready(qtbot, moved)
    ask(qtbot, moved, "And of Italy?")
    dialog.done(0)
    window.close()
    assert QThreadPool.globalInstance().waitForDone(30_000) and cancel_all_and_wait(timeout=30)
    assert engine_children() == []
    with ConversationStore(path=database_file_path(target)) as store:
        texts = [m.content for m in store.messages(conversation)]
    assert texts[0] == QUESTION and texts[2] == "And of Italy?" and len(texts) == 4


def database_file_path(data_folder: Path) -> Path:
    from wizard.agent.database import database_path

    path = database_path()
    assert path.is_relative_to(data_folder)
    return path
