"""When the engine dies mid-answer, or cannot start: plain words, nothing lost, a way on."""

from __future__ import annotations

import os
import shutil
import signal

from PySide6.QtCore import Qt

from app.ui.chat.runner import BROKEN, READY, RESTARTING
from tests.app.chat.conftest import (
    LONG_REQUEST,
    engine_children,
    make_profile,
    open_main_window,
    saved_messages,
    wait_ready,
)


def test_engine_killed_mid_answer_keeps_the_text_restarts_and_can_regenerate(qtbot, chat) -> None:
    shown: list[str] = []
    states: list[str] = []
    chat.runner.text_arrived.connect(shown.append)
    chat.runner.state_changed.connect(states.append)
    first_pid = chat.runner.engine_pid
    chat.composer.set_text(LONG_REQUEST)
    qtbot.keyClick(chat.composer.edit, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: len("".join(shown)) > 40, timeout=60_000)
    os.kill(first_pid, signal.SIGKILL)

    qtbot.waitUntil(lambda: any("stopped unexpectedly" in n.text() for n in chat.messages.notices()),
                    timeout=30_000)
    [(_, question, _), (role, kept, status)] = saved_messages(chat)
    assert question == LONG_REQUEST and role == "assistant" and status == "partial"
    assert kept.startswith("".join(shown)[:40])  # what was written stays
    assert chat.messages.messages()[-1].text() == kept
    assert not chat.error.isVisible()  # a notice in the conversation, not an alarming error

    wait_ready(qtbot, chat)
    assert RESTARTING in states and states[-1] == READY
    assert chat.runner.engine_pid not in (None, first_pid)
    assert any("ready again" in n.text() for n in chat.messages.notices())
    assert chat.composer.regenerate_button.isEnabled()
    chat.runner.session.params = type(chat.runner.session.params)(temperature=0.0, max_tokens=24)
    qtbot.mouseClick(chat.composer.regenerate_button, Qt.MouseButton.LeftButton)
    wait_ready(qtbot, chat)
    [(_, _, _), (role, text, status)] = saved_messages(chat)
    assert role == "assistant" and status in ("complete", "partial") and text
    assert chat.runner.last_result.summary.finish_reason == "length"  # a real, whole new answer


def test_a_missing_model_file_is_explained_with_try_again(qtbot, tiny_model, tmp_path) -> None:
    copy = tmp_path / "model.gguf"
    shutil.copyfile(tiny_model, copy)
    make_profile(copy)
    copy.unlink()
    window = open_main_window(qtbot)
    chat = window.chat
    qtbot.waitUntil(lambda: chat.runner.state == BROKEN, timeout=30_000)
    assert chat.error.isVisible() and "is not where it was" in chat.error.message.text()
    assert chat.error.retry_button.isVisible()
    assert not chat.composer.send_button.isEnabled()
    assert "could not start" in chat.status.state.text()

    shutil.copyfile(tiny_model, copy)  # the person puts the file back and presses Try again
    qtbot.mouseClick(chat.error.retry_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: chat.runner.state == READY, timeout=90_000)
    assert not chat.error.isVisible() and chat.composer.send_button.isEnabled()
    window.close()
    assert engine_children() == []
