"""The chat window as a whole: accessible names, keyboard, remembered layout, profiles, documents."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt, QThreadPool
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QComboBox,
    QLineEdit,
    QPlainTextEdit,
    QTabBar,
    QTextEdit,
    QWidget,
)

from app.main_window import MainWindow, window_settings
from app.ui.chat.markdown_view import MarkdownView
from app.ui.chat.runner import READY
from tests.app.chat.conftest import (
    QUESTION,
    RECIPE,
    ask,
    engine_children,
    make_profile,
    open_main_window,
    wait_ready,
)

INTERACTIVE = (QAbstractButton, QLineEdit, QTextEdit, QPlainTextEdit, QComboBox, QAbstractItemView, QTabBar)


def unnamed_widgets(root: QWidget) -> list[str]:
    """Every interactive widget under ``root`` (shown or not) without an accessible name."""
    found = []
    for widget in root.findChildren(QWidget):
        if isinstance(widget, INTERACTIVE) and not widget.accessibleName():
            chain, parent = [], widget
            while parent is not None and parent is not root:
                chain.append(type(parent).__name__ + (f"({parent.objectName()})" if parent.objectName() else ""))
                parent = parent.parentWidget()
            found.append(" < ".join(chain))
    return found


def documents_profile(model: Path, folder: Path, profile_id: str = "doc-helper"):
    from wizard.engine import LoadPlan
    from wizard.profiles import load_profile, save_profile
    from wizard.recipes import parse_recipe_text
    from wizard.recipes.plan import plan_recipe

    text = RECIPE.format(id=profile_id, name="Archivist") + f'[documents]\nfolders = ["{folder.as_posix()}"]\n'
    save_profile(plan_recipe(parse_recipe_text(text).recipe), allow=True, person_name="Sam",
                 model_name="SmolLM2 tiny", model_path=model, model_repo=None, model_file=None,
                 load_plan=LoadPlan(n_ctx=2048, n_threads=2))
    return load_profile(profile_id)


@pytest.fixture
def two_assistants(qtbot, tiny_model: Path, tmp_path: Path):
    folder = tmp_path / "letters"
    folder.mkdir()
    for n in range(3):
        (folder / f"letter-{n}.txt").write_text(f"Dear Sam, this is letter number {n} about the garden.\n")
    make_profile(tiny_model)
    documents_profile(tiny_model, folder)
    window = open_main_window(qtbot)
    qtbot.waitUntil(lambda: window.chat.runner.state == READY, timeout=90_000)
    yield window
    window.close()
    assert QThreadPool.globalInstance().waitForDone(30_000)
    assert engine_children() == []


def test_every_interactive_widget_has_an_accessible_name(qtbot, two_assistants: MainWindow) -> None:
    window = two_assistants
    chat = window.chat
    ask(qtbot, chat, QUESTION)  # messages with their Copy and Edit buttons
    chat.composer.start_edit(chat.messages.messages()[0].message_id, QUESTION)  # the editing row too
    assert window.profile_switcher is not None and window.profile_switcher.isVisible()
    missing = unnamed_widgets(window)
    assert missing == [], "\n".join(missing)
    for dialog_opener in (chat.conversations.ask_rename, chat.conversations.ask_delete,
                          chat.memory.ask_edit):
        chat.conversations.list.setCurrentRow(0)
        dialog_opener()
    for panel in (chat.conversations, chat.memory):
        if panel.dialog is not None:
            assert unnamed_widgets(panel.dialog) == [], type(panel.dialog).__name__
            panel.dialog.reject()


def test_profiles_switch_and_documents_are_read(qtbot, two_assistants: MainWindow) -> None:
    window = two_assistants
    switcher = window.profile_switcher
    assert sorted(switcher.itemText(i) for i in range(switcher.count())) == ["Archivist", "Robin"]
    first_pid = window.chat.runner.engine_pid
    first = window.chat.setup.assistant
    other = "Archivist" if first == "Robin" else "Robin"

    def switch_to(name: str):
        index = window.profile_switcher.findText(name)
        window.profile_switcher.setCurrentIndex(index)
        window.profile_switcher.activated.emit(index)
        qtbot.waitUntil(lambda: window.chat.setup.assistant == name, timeout=10_000)
        wait_ready(qtbot, window.chat)
        return window.chat

    chat = switch_to(other)
    assert window.profile_switcher.currentText() == other
    assert chat.runner.engine_pid != first_pid and len(engine_children()) == 1  # the other one stopped
    if chat.setup.assistant == "Robin":  # back to the one with documents
        chat = switch_to("Archivist")
    assert chat.documents is not None
    qtbot.waitUntil(lambda: chat.documents.report is not None, timeout=30_000)
    assert chat.documents.label.text() == "Your documents are ready: 3 files read."
    assert chat.documents.again_button.isVisible() and not chat.documents.cancel_button.isVisible()
    from wizard.profiles import default_profile

    assert default_profile().name == "Archivist"  # the one used last opens next time


def test_tab_order_reaches_the_message_box_and_escape_is_harmless_when_idle(qtbot, chat) -> None:
    chat.conversations.search.setFocus()
    seen = []
    for _ in range(40):
        seen.append(chat.focusWidget())
        qtbot.keyClick(chat.focusWidget(), Qt.Key.Key_Tab)
        if chat.focusWidget() is chat.composer.edit:
            break
    assert chat.focusWidget() is chat.composer.edit
    assert chat.conversations.list in seen and chat.side.tabBar() in seen
    qtbot.keyClick(chat.composer.edit, Qt.Key.Key_Tab)
    assert chat.focusWidget() is chat.composer.send_button
    qtbot.keyClick(chat.composer.edit, Qt.Key.Key_Escape)
    assert chat.runner.state == READY


def test_getting_ready_again_leaves_the_keyboard_focus_where_the_person_is(qtbot, chat) -> None:
    assert chat.window().focusWidget() is chat.composer.edit  # the first time: ready to type
    chat.side.setCurrentWidget(chat.memory)
    chat.side.setCurrentWidget(chat.conversations)
    for place in (chat.conversations.search, chat.conversations.list):
        place.setFocus()
        chat.runner.restart()  # what happens after the engine stopped unexpectedly
        wait_ready(qtbot, chat)
        assert chat.window().focusWidget() is place
    chat.messages.setFocus()  # in the chat itself: the text box is where to go next
    chat.runner.restart()
    wait_ready(qtbot, chat)
    assert chat.window().focusWidget() is chat.composer.edit


def test_window_size_and_splitter_are_remembered(qtbot, profile, window) -> None:
    window.resize(720, 540)
    window.chat.splitter.setSizes([200, 480])
    sizes = window.chat.splitter.sizes()
    window.close()
    assert window_settings().value("chat/splitter") is not None
    again = open_main_window(qtbot)
    assert (again.width(), again.height()) == (720, 540)
    assert again.chat.splitter.sizes() == sizes
    again.close()


def test_model_output_cannot_inject_html_or_load_images(qtbot, tmp_path: Path) -> None:
    picture = tmp_path / "secret.png"
    picture.write_bytes(b"not really a picture")
    view = MarkdownView()
    qtbot.addWidget(view)
    view.set_markdown("**bold** <b>raw</b> <img src='http://198.51.100.1/x.png'>\n\n"
                      f"![local]({picture.as_uri()}) [link](http://198.51.100.1/)\n\n```\ncode  block\n```")
    view.show()
    text = view.toPlainText()
    assert "<b>raw</b>" in text and "<img src=" in text  # shown as the characters they are
    assert "code  block" in text
    html = view.toHtml()
    assert "font-weight:700" in html or "font-weight:600" in html  # Markdown itself works
    assert view.openLinks() is False and view.openExternalLinks() is False
    for address in (picture.as_uri(), "http://198.51.100.1/x.png"):  # 2 = ImageResource
        image = view.document().resource(2, address)
        assert image is not None and image.size().width() <= 1  # a blank dot, not the file's bytes
