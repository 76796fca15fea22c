"""Every control a person can reach has a name a screen reader can say.

One walk over the real windows: the main window chatting with a real assistant, every page
of the setup wizard (driven to the end with the real model), every section of Settings, and
each dialog the chat opens, checked right after it opens. Qt's own parts inside them (scroll
bars, a spin box's text field, a list's pop-up, a dialog's standard buttons) count too: a
screen reader reaches them the same way.
"""

from __future__ import annotations

import threading
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from app.error_dialog import show_error
from app.ui.setup import SetupServices, SetupWizard
from tests.app.chat.conftest import QUESTION, ask, make_profile, open_main_window, wait_ready
from tests.app.setup.conftest import click_next
from tests.support.qt_walk import unnamed
from wizard.errors import HearthError
from wizard.recipes import AvailableRecipes, parse_recipe_text

# A recipe with a documents folder, a tool that writes, and a secret: the personalise page
# then shows every kind of control it has.
FULL_RECIPE = """
schema_version = 1
id = "full-helper"
name = "Full helper"
description = "Uses folders, saves notes and needs a password."
for_whom = "Tests."
[persona]
system_prompt = "You are a helpful assistant."
greeting = "Hello!"
[documents]
folders = ["{documents}"]
[[tools]]
name = "write_file"
write_folders = ["{notes}"]
[[integrations]]
name = "shop-mail"
purpose = "Read the shop's mailbox."
secrets = ["mail_password"]
"""


def check_modal_while_open(qtbot, open_it, where: str) -> list[str]:
    """Run ``open_it`` (which shows a modal dialog and waits); check the dialog once shown, then close it."""
    missing: list[str] = []

    def look() -> None:
        dialog = QApplication.activeModalWidget()
        if dialog is None:
            QTimer.singleShot(20, look)
            return
        missing.extend(unnamed(dialog, where))
        dialog.reject()

    QTimer.singleShot(0, look)
    open_it()
    return missing


def test_every_interactive_widget_has_an_accessible_name(qtbot, tiny_model: Path, tmp_path: Path,
                                                         hub_mirror, keyring_memory) -> None:
    missing: list[str] = []

    # -- the main window with a chat, two assistants (the switcher shows), a message, a memory --
    make_profile(tiny_model)
    make_profile(tiny_model, profile_id="second-helper", name="Sky")
    window = open_main_window(qtbot)
    chat = window.chat
    wait_ready(qtbot, chat)
    ask(qtbot, chat, QUESTION)
    chat.composer.start_edit(chat.messages.messages()[0].message_id, QUESTION)  # the editing row
    chat.memory.memories.add_fact("The person's cat is called Tom.", profile=chat.setup.profile_id)
    chat.memory.refresh()
    missing += unnamed(window, "main window")

    # -- each dialog the chat opens, right after it opens --
    chat.conversations.list.setCurrentRow(0)
    for where, opener, panel in (("rename", chat.conversations.ask_rename, chat.conversations),
                                 ("delete", chat.conversations.ask_delete, chat.conversations),
                                 ("export", chat.conversations.ask_export, chat.conversations)):
        opener()
        assert panel.dialog is not None and panel.dialog.isVisible(), where
        missing += unnamed(panel.dialog, where)
        panel.dialog.reject()
    chat.memory.list.setCurrentRow(0)
    for where, opener in (("memory edit", chat.memory.ask_edit), ("memory delete", chat.memory.ask_delete)):
        opener()
        assert chat.memory.dialog is not None and chat.memory.dialog.isVisible(), where
        missing += unnamed(chat.memory.dialog, where)
        chat.memory.dialog.reject()
    answers: list[bool] = []
    asking = threading.Thread(target=lambda: answers.append(
        chat.runner.confirmer(tmp_path / "notes" / "list.md", "- milk\n- bread\n")))
    asking.start()
    qtbot.waitUntil(lambda: chat.runner.confirmer.dialog is not None, timeout=10_000)
    missing += unnamed(chat.runner.confirmer.dialog, "write confirmation")
    chat.runner.confirmer.dialog.reject()
    asking.join(10)
    assert answers == [False]
    missing += check_modal_while_open(
        qtbot, lambda: show_error(window, HearthError("The model file is damaged.", hint="Download it again.",
                                                      details="bad magic")), "error box")
    missing += unnamed(window.menuBar(), "menu bar")

    # -- every section of Settings --
    settings = window.open_settings()
    for index in range(settings.tabs.count()):
        settings.tabs.setCurrentIndex(index)
        settings.performance.advanced.setChecked(True)
        missing += unnamed(settings, f"settings: {settings.tabs.tabText(index)}")
    settings.done(0)
    window.close()

    # -- every setup wizard page, driven to the end with the real model --
    documents, notes = tmp_path / "documents", tmp_path / "notes"
    documents.mkdir()
    recipe = parse_recipe_text(FULL_RECIPE.format(documents=documents.as_posix(), notes=notes.as_posix()))
    services = SetupServices(recipes=lambda: AvailableRecipes(shipped=(recipe,)), endpoint=hub_mirror.url)
    wizard = SetupWizard(services=services)
    qtbot.addWidget(wizard)
    wizard.show()
    missing += unnamed(wizard, "wizard: welcome")
    click_next(qtbot, wizard)
    qtbot.waitUntil(wizard.currentPage().isComplete, timeout=10_000)
    missing += unnamed(wizard, "wizard: your computer")
    click_next(qtbot, wizard)
    wizard.currentPage().choose("full-helper")
    missing += unnamed(wizard, "wizard: what do you want help with")
    click_next(qtbot, wizard)
    model_page = wizard.currentPage()
    model_page.advanced.setChecked(True)
    missing += unnamed(wizard, "wizard: your model")
    model_page.accept_model_file(tiny_model)
    qtbot.waitUntil(lambda: not model_page.running_tasks() and model_page.local_card.isVisible(), timeout=30_000)
    missing += unnamed(wizard, "wizard: your model, own file")
    click_next(qtbot, wizard)
    personalise = wizard.currentPage()
    assert personalise.objectName() == "personalise" and personalise.folder_checks
    qtbot.keyClicks(personalise.name_edit, "Sam")
    qtbot.keyClicks(personalise.secret_edits["mail_password"], "hunter2")
    missing += unnamed(wizard, "wizard: make it yours")
    click_next(qtbot, wizard)
    check = wizard.currentPage()
    missing += unnamed(wizard, "wizard: check (running)")
    qtbot.waitUntil(lambda: check.isComplete() or check.error.isVisible(), timeout=180_000)
    assert not check.error.isVisible(), check.error.details.toPlainText()
    click_next(qtbot, wizard)
    missing += unnamed(wizard, "wizard: start chatting")
    wizard.close()

    assert missing == [], "\n".join(dict.fromkeys(missing))
