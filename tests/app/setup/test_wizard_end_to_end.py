"""The whole setup wizard, driven like a person would: real probe, real download from the
local Hub mirror, the real engine's first streamed reply, and a profile on disk."""

from __future__ import annotations

import re
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QAbstractSlider,
    QAbstractSpinBox,
    QComboBox,
    QLineEdit,
    QPlainTextEdit,
    QScrollBar,
    QTextEdit,
    QWidget,
    QWizard,
)

from app.ui.setup import SetupWizard, has_completed_profile
from app.ui.setup.download import DONE
from app.ui.setup.profile import read_setup
from tests.app.setup.conftest import RECIPE, TINY_ID, TINY_REPO, click_next, engine_children, next_enabled
from tests.support.hub_mirror import HubMirror
from tests.support.tiny_model import FILE_NAME, SIZE
from wizard.models import ModelRegistry
from wizard.paths import hearth_paths
from wizard.recipes.plan import read_profile

INTERACTIVE = (QAbstractButton, QLineEdit, QTextEdit, QPlainTextEdit, QComboBox, QAbstractSlider,
               QAbstractSpinBox, QAbstractItemView)


def unnamed_widgets(wizard: QWizard) -> list[str]:
    """Every interactive widget of the wizard (shown or not) without an accessible name.

    Scroll bars are parts of a named scroll area or text box, not controls of their own.
    """
    return [f"{type(w).__name__} {getattr(w, 'text', lambda: '')()!r} in {w.parent().objectName()}"
            for w in wizard.findChildren(QWidget)
            if isinstance(w, INTERACTIVE) and not isinstance(w, QScrollBar) and not w.accessibleName()]


def test_the_whole_wizard_from_welcome_to_a_profile(qtbot, wizard: SetupWizard, mirror: HubMirror) -> None:
    assert has_completed_profile() is False
    assert wizard.currentPage().objectName() == "welcome"
    assert unnamed_widgets(wizard) == []

    # Enter activates Next.
    qtbot.keyClick(wizard, Qt.Key.Key_Return)
    computer = wizard.currentPage()
    assert computer.objectName() == "computer"
    qtbot.waitUntil(computer.isComplete, timeout=10_000)
    assert "GB memory" in computer.headline.text() and computer.meaning.text()
    click_next(qtbot, wizard)

    purpose = wizard.currentPage()
    assert purpose.objectName() == "purpose" and not next_enabled(wizard)
    assert len(purpose.cards) >= 5 and all(card.description.text() for card, _ in purpose.cards)
    [card] = [card for card, loaded in purpose.cards if loaded.recipe.id == RECIPE]
    qtbot.mouseClick(card.radio, Qt.MouseButton.LeftButton)
    assert next_enabled(wizard)
    click_next(qtbot, wizard)

    model = wizard.currentPage()
    assert model.objectName() == "model"
    tiny_card, details, rec = model.cards[TINY_ID]
    assert tiny_card.radio.isChecked(), "the recommendation is not chosen already"
    assert "Recommended" in tiny_card.badge.text() and "runs comfortably" in tiny_card.badge.text()
    assert "Expected speed" in tiny_card.description.text()
    assert details.isHidden()
    model.advanced.click()
    assert not details.isHidden() and FILE_NAME in details.text() and "Q4_1" in details.text()
    assert unnamed_widgets(wizard) == []
    click_next(qtbot, wizard)

    download = wizard.currentPage()
    assert download.objectName() == "download"
    values: list[int] = []
    download.bar.valueChanged.connect(values.append)
    qtbot.waitUntil(lambda: download.state == DONE, timeout=120_000)
    assert len(values) >= 2 and values[-1] == 1000, "the progress bar did not move"
    final = hearth_paths().models / TINY_REPO.replace("/", "--") / FILE_NAME
    assert wizard.answers.model_path == final and final.stat().st_size == SIZE
    assert mirror.bytes_served_by_path  # it really came over HTTP
    click_next(qtbot, wizard)

    personalise = wizard.currentPage()
    assert personalise.objectName() == "personalise" and not next_enabled(wizard)
    qtbot.keyClicks(personalise.name_edit, "Sam")
    assert next_enabled(wizard)
    assert unnamed_widgets(wizard) == []
    check = wizard.setup_page("check")
    shown: list[str] = []  # the reply box's text each time it changes while the reply streams in
    check.reply.textChanged.connect(lambda: shown.append(check.reply.toPlainText()))
    click_next(qtbot, wizard)

    assert wizard.currentPage() is check
    qtbot.waitUntil(lambda: check.isComplete() or check.error.isVisible(), timeout=180_000)
    assert not check.error.isVisible(), check.error.details.toPlainText()
    reply = check.reply.toPlainText()
    assert reply.strip() == wizard.answers.check_reply.strip() != ""
    growing = [text for text in dict.fromkeys(shown) if text and text != reply]
    assert len(growing) >= 2, f"the reply arrived in one piece: {shown!r}"  # streamed, not all at once
    assert all(reply.startswith(text) for text in growing)  # each a longer beginning of the answer
    assert re.search(r"It wrote (about \d+ words?|less than one word) a second", check.speed.text())
    assert engine_children() == [], "the check left its engine running"
    click_next(qtbot, wizard)

    finish = wizard.currentPage()
    assert finish.objectName() == "finish"
    finish_button = wizard.button(QWizard.WizardButton.FinishButton)
    assert finish_button.text() == "Start chatting" and finish_button.isEnabled()
    assert "It may:" in finish.permissions.toPlainText()
    assert unnamed_widgets(wizard) == []
    qtbot.mouseClick(finish_button, Qt.MouseButton.LeftButton)

    assert wizard.result() == QWizard.DialogCode.Accepted and not wizard.isVisible()
    profile_dir = hearth_paths().data / "profiles" / RECIPE
    assert read_profile(profile_dir)["settings"]["recipe_id"] == RECIPE
    setup = read_setup(profile_dir)
    assert setup["person_name"] == "Sam"
    assert Path(setup["model"]["path"]) == final and setup["model"]["repo"] == TINY_REPO
    assert setup["load_plan"]["n_ctx"] >= 4096
    assert has_completed_profile()
    [installed] = ModelRegistry().list()  # the download is on the installed-models list
    assert installed.file_in(hearth_paths().models) == final
