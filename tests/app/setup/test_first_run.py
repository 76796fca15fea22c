"""The main window opens the setup wizard on the first run, and from "Set up again…"."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, QThreadPool
from PySide6.QtWidgets import QWizard

from app.main_window import MainWindow
from app.ui.chat import ChatView
from app.ui.chat.runner import READY
from app.ui.setup import SetupWizard, has_completed_profile
from tests.app.setup.conftest import RECIPE, engine_children
from tests.app.setup.test_check_page import wait_for_check, walk_to_check
from wizard.recipes import load_recipe, shipped_recipe_files
from wizard.profiles import save_profile
from wizard.recipes.plan import plan_recipe


def _window(qtbot) -> MainWindow:
    window = MainWindow()
    qtbot.addWidget(window)
    window.show()
    return window


def _close(qtbot, window: MainWindow) -> None:
    if window.setup_wizard is not None:
        window.setup_wizard.close()
    qtbot.waitUntil(lambda: window.setup_wizard is None, timeout=5000)
    assert QThreadPool.globalInstance().waitForDone(10_000)


def test_the_first_run_opens_the_wizard(qtbot) -> None:
    window = _window(qtbot)
    assert window.open_setup_if_first_run()
    assert isinstance(window.setup_wizard, SetupWizard) and window.setup_wizard.isVisible()
    _close(qtbot, window)


def test_with_a_profile_the_wizard_waits_for_the_menu(qtbot) -> None:
    save_profile(plan_recipe(load_recipe(shipped_recipe_files()[0]).recipe), allow=True, person_name="Sam",
                 model_name="", model_path=None, model_repo=None, model_file=None, load_plan=None)
    assert has_completed_profile()
    window = _window(qtbot)
    assert not window.open_setup_if_first_run()
    assert getattr(window, "setup_wizard", None) is None
    assert window.setup_action.text() == "&Set up again…"
    window.setup_action.trigger()
    assert window.setup_wizard.isVisible()
    window.setup_action.trigger()  # a second click brings the same wizard forward
    assert len(window.findChildren(SetupWizard)) == 1
    _close(qtbot, window)


def test_start_chatting_opens_the_new_assistant_in_the_main_window(qtbot, tiny_model: Path) -> None:
    window = _window(qtbot)
    qtbot.waitUntil(lambda: window.welcome_page is not None, timeout=10_000)
    assert window.open_setup_if_first_run()
    wizard = window.setup_wizard
    walk_to_check(qtbot, wizard, tiny_model)  # a model file already here: no download needed
    check = wait_for_check(qtbot, wizard)
    assert not check.error.isVisible(), check.error.details.toPlainText()
    wizard.next()
    assert wizard.currentPage().objectName() == "finish"
    qtbot.mouseClick(wizard.button(QWizard.WizardButton.FinishButton), Qt.MouseButton.LeftButton)

    assert isinstance(window.chat, ChatView) and window.chat.setup.profile_id == RECIPE
    assert window.centralWidget().isAncestorOf(window.chat) and window.welcome_page is None
    assert window.windowTitle().endswith("— Hearth")
    qtbot.waitUntil(lambda: window.chat.runner.state == READY, timeout=90_000)
    assert window.chat.setup.person_name == "Sam"
    window.close()
    qtbot.waitUntil(lambda: window.setup_wizard is None, timeout=5000)
    assert QThreadPool.globalInstance().waitForDone(30_000) and engine_children() == []
