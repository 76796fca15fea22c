"""Recipes added on this computer on the "What do you want help with?" page, and a pack's recipes after Back.

Real recipe files in this test's HEARTH_HOME, the real wizard offscreen, and a real model pack
(the tiny model and an assistant's recipe) exported from another Hearth folder with Hearth's own code.
"""

from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path

import pytest

from app.ui.setup import SetupWizard
from app.ui.setup.purpose import ADDED_HINT, PurposePage
from tests.app.setup.conftest import RECIPE, click_next, next_enabled, walk_to_model_page
from tests.support.qt_walk import unnamed, wait_idle
from tests.support.tiny_model import FILE_NAME, SHA256
from tests.support.unprivileged import call_without_permission_override
from wizard.engine.plan import LoadPlan
from wizard.models import ModelSource, register_file
from wizard.packs import export_pack
from wizard.paths import hearth_paths
from wizard.profiles import save_profile
from wizard.recipes import AvailableRecipes, Recipe, parse_recipe_text, shipped_recipes, user_recipes_dir
from wizard.recipes.plan import plan_recipe

ADDED = '''schema_version = 1
id = "{id}"
name = "{name}"
description = "Helps with {name}."
for_whom = "Tests."

[persona]
system_prompt = "You are {name}. Answer briefly."
greeting = "Hello."
'''


def add_recipe(name: str, text: str) -> Path:
    path = user_recipes_dir() / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def to_purpose(qtbot, wizard: SetupWizard) -> PurposePage:
    click_next(qtbot, wizard)
    qtbot.waitUntil(wizard.currentPage().isComplete, timeout=10_000)
    click_next(qtbot, wizard)
    page = wizard.currentPage()
    assert page.objectName() == "purpose"
    return page


def card_of(page: PurposePage, recipe_id: str):
    [card] = [card for card, loaded in page.cards if loaded.recipe.id == recipe_id]
    return card


def test_an_added_recipe_is_a_card_after_the_shipped_ones_and_a_broken_one_is_noted(
        qtbot, wizard: SetupWizard) -> None:
    add_recipe("diary-helper.toml", ADDED.format(id="diary-helper", name="Diary helper"))
    add_recipe("broken.toml", ADDED.format(id="broken", name="Broken") + '\n[sampling]\ntemperature = "hot"\n')

    page = to_purpose(qtbot, wizard)

    shipped = [loaded.recipe.id for loaded in shipped_recipes()]
    assert [loaded.recipe.id for _, loaded in page.cards] == [*shipped, "diary-helper"]
    diary = card_of(page, "diary-helper")
    assert diary.radio.text() == "Diary helper" and diary.description.text() == "Helps with Diary helper."
    assert diary.badge.isVisibleTo(page) and diary.badge.text() == ADDED_HINT == "Added on this computer"
    assert diary.badge.accessibleName() == ADDED_HINT and ADDED_HINT in diary.radio.accessibleDescription()
    assert not any(card_of(page, recipe_id).badge.isVisibleTo(page) for recipe_id in shipped)

    note = page.left_out
    assert note.isVisibleTo(page) and note.accessibleName()
    assert note.message.text() == ("One recipe added on this computer (“broken.toml”) cannot be used, "
                                   "so it is not shown.")
    assert "Traceback" not in note.message.text() + note.hint.text()
    assert note.details_button.isVisibleTo(page) and not note.details.isVisibleTo(page)
    assert str(user_recipes_dir() / "broken.toml") in note.details.toPlainText()
    assert 'expected a number from 0 to 2, found "hot"' in note.details.toPlainText()
    assert unnamed(page, "purpose page with an added and a broken recipe") == []

    page.choose("diary-helper")
    assert next_enabled(wizard) and wizard.answers.recipe.recipe.name == "Diary helper"

    (user_recipes_dir() / "broken.toml").unlink()  # fixed: "Look again" reads the folder again
    note.retry_button.click()
    assert note.isHidden() and diary.radio.isChecked()


@pytest.mark.skipif(os.name != "posix", reason="folder permissions are POSIX modes here")
def test_a_folder_hearth_may_not_look_in_is_one_plain_note_and_look_again_reads_it(qtbot, services) -> None:
    add_recipe("diary-helper.toml", ADDED.format(id="diary-helper", name="Diary helper"))
    folder = user_recipes_dir()
    # Each read is the real available_recipes() in a child that file permissions apply to (even as root).
    services.recipes = lambda: call_without_permission_override("wizard.recipes", "available_recipes")
    wizard = SetupWizard(services=services)
    qtbot.addWidget(wizard)
    wizard.show()
    folder.chmod(0)
    try:
        page = to_purpose(qtbot, wizard)
    finally:
        folder.chmod(0o755)

    shipped = [loaded.recipe.id for loaded in shipped_recipes()]
    assert [loaded.recipe.id for _, loaded in page.cards] == shipped
    note = page.left_out
    assert note.isVisibleTo(page) and note.message.text() == (
        "Hearth could not look in the folder of recipes added on this computer, so none of them are shown.")
    assert str(folder) in note.hint.text() and "come with Hearth can still be chosen" in note.hint.text()
    assert "PermissionError" not in note.message.text() + note.hint.text()
    assert "PermissionError" in note.details.toPlainText()
    page.choose(shipped[0])
    assert next_enabled(wizard)

    note.retry_button.click()  # readable again
    assert note.isHidden()
    assert [loaded.recipe.id for _, loaded in page.cards] == [*shipped, "diary-helper"]
    assert page.cards[0][0].radio.isChecked()
    wizard.close()


def test_the_recipes_are_read_once_each_time_the_page_is_shown(
        qtbot, wizard: SetupWizard, caplog: pytest.LogCaptureFixture) -> None:
    broken = add_recipe("broken.toml", "this is not a recipe")
    caplog.set_level(logging.WARNING, logger="wizard.recipes.available")

    def reads() -> int:
        return sum(1 for record in caplog.records
                   if record.getMessage().startswith(f"left out the added recipe {broken}"))

    page = to_purpose(qtbot, wizard)
    assert reads() == 1, "arriving with Next read the recipes more than once"
    page.choose(RECIPE)
    click_next(qtbot, wizard)
    assert reads() == 1
    wizard.back()  # from the model page: read again (a pack may have brought recipes), once
    assert wizard.currentPage() is page and reads() == 2
    wizard.back()
    click_next(qtbot, wizard)  # from the computer page: Next again
    assert wizard.currentPage() is page and reads() == 3


def test_an_added_recipe_with_a_shipped_name_says_which_file_it_is(qtbot, wizard: SetupWizard) -> None:
    [writing] = [loaded.recipe for loaded in shipped_recipes() if loaded.recipe.id == "writing-desk"]
    text = writing.source.read_text(encoding="utf-8").replace(writing.description, "The same name, other words.", 1)
    add_recipe("writing-desk-from-pack.toml", text)

    page = to_purpose(qtbot, wizard)

    same = [card for card, loaded in page.cards if loaded.recipe.name == writing.name]
    assert len(same) == 2
    assert not same[0].badge.isVisibleTo(page)
    assert same[1].badge.text() == f"{ADDED_HINT} (writing-desk-from-pack.toml)"
    assert same[1].description.text() == "The same name, other words."


def test_recipes_given_as_shipped_ones_are_cards_without_the_hint(qtbot, services) -> None:
    loaded = parse_recipe_text(ADDED.format(id="shop-mail", name="Shop mail"))
    services.recipes = lambda: AvailableRecipes(shipped=(loaded,))
    wizard = SetupWizard(services=services)
    qtbot.addWidget(wizard)
    wizard.show()
    page = to_purpose(qtbot, wizard)
    [(card, shown)] = page.cards
    assert shown is loaded and not card.badge.isVisibleTo(page) and page.left_out.isHidden()
    wizard.close()


def export_a_pack(tmp_path: Path, tiny_model: Path, hearth_home: Path, monkeypatch: pytest.MonkeyPatch,
                  recipes: list[Recipe]) -> Path:
    """A pack exported on another computer where an assistant was set up from each of ``recipes``."""
    monkeypatch.setenv("HEARTH_HOME", str(tmp_path / "other-computer"))
    target = hearth_paths().models / "HuggingFaceTB--SmolLM2-135M-Instruct-GGUF" / FILE_NAME
    target.parent.mkdir(parents=True)
    shutil.copyfile(tiny_model, target)
    register_file(target, sha256=SHA256, licence="apache-2.0",
                  source=ModelSource(kind="hub", repo="HuggingFaceTB/SmolLM2-135M-Instruct-GGUF",
                                     filename=FILE_NAME, revision="main"))
    for recipe in recipes:
        save_profile(plan_recipe(recipe), allow=True, person_name="Sam", model_name="SmolLM2", model_path=target,
                     model_repo=None, model_file=None, load_plan=LoadPlan(n_ctx=1024, n_threads=1))
    pack = tmp_path / "usb-stick"
    manifest = export_pack(pack)
    assert sorted(entry.path for entry in manifest.recipes) == sorted(f"recipes/{r.id}.toml" for r in recipes)
    monkeypatch.setenv("HEARTH_HOME", str(hearth_home))  # back on this computer
    return pack


DIARY = ADDED.format(id="diary-helper", name="Diary helper")


@pytest.fixture
def pack_with_an_assistant(tmp_path: Path, tiny_model: Path, hearth_home: Path,
                           monkeypatch: pytest.MonkeyPatch) -> Path:
    """A pack exported on another computer where "Diary helper" was set up with the tiny model."""
    return export_a_pack(tmp_path, tiny_model, hearth_home, monkeypatch, [parse_recipe_text(DIARY).recipe])


def test_a_pack_s_recipe_is_offered_after_back_and_the_choice_is_kept(
        qtbot, pack_with_an_assistant: Path, wizard: SetupWizard) -> None:
    walk_to_model_page(qtbot, wizard)
    purpose = wizard.setup_page("purpose")
    assert [loaded.recipe.id for _, loaded in purpose.cards] == [r.recipe.id for r in shipped_recipes()]
    model_page = wizard.currentPage()
    assert model_page.pack_note.isHidden()

    model_page.accept_model_pack(pack_with_an_assistant)
    wait_idle(qtbot, model_page)
    assert not model_page.error.isVisible(), model_page.error.details.toPlainText()
    assert model_page.local_card.radio.isChecked()
    assert model_page.pack_note.isVisibleTo(model_page) and model_page.pack_note.accessibleName()
    assert model_page.pack_note.text() == ("This model pack also brought the assistant “Diary helper”. "
                                           "Go back to choose it.")
    assert (user_recipes_dir() / "diary-helper.toml").is_file()

    wizard.back()
    assert wizard.currentPage() is purpose
    diary = card_of(purpose, "diary-helper")
    assert diary.badge.text() == ADDED_HINT and diary.radio.text() == "Diary helper"
    assert card_of(purpose, RECIPE).radio.isChecked(), "the choice made before was lost"
    assert unnamed(wizard, "purpose page after a pack") == []
    assert wizard.answers.recipe.recipe.id == RECIPE and next_enabled(wizard)

    purpose.choose("diary-helper")
    click_next(qtbot, wizard)
    assert wizard.currentPage() is model_page
    assert model_page.pack_note.isHidden()  # the pack's assistant is the one chosen now
    assert model_page.local_card.radio.isChecked() and wizard.answers.model.local_path.is_file()
    click_next(qtbot, wizard)
    assert wizard.currentPage().objectName() == "personalise"
    assert wizard.answers.recipe.recipe.source == user_recipes_dir() / "diary-helper.toml"


def test_the_pack_note_names_only_the_assistants_the_purpose_page_offers(
        qtbot, tmp_path: Path, tiny_model: Path, hearth_home: Path, monkeypatch: pytest.MonkeyPatch,
        wizard: SetupWizard) -> None:
    """The pack also brings back a shipped assistant (offered once, as the shipped card): not named."""
    [writing] = [loaded.recipe for loaded in shipped_recipes() if loaded.recipe.id == "writing-desk"]
    pack = export_a_pack(tmp_path, tiny_model, hearth_home, monkeypatch, [parse_recipe_text(DIARY).recipe, writing])
    walk_to_model_page(qtbot, wizard)
    model_page = wizard.currentPage()

    model_page.accept_model_pack(pack)
    wait_idle(qtbot, model_page)
    assert not model_page.error.isVisible(), model_page.error.details.toPlainText()
    assert (user_recipes_dir() / "writing-desk-from-pack.toml").is_file()
    assert model_page.pack_note.text() == ("This model pack also brought the assistant “Diary helper”. "
                                           "Go back to choose it.")

    (user_recipes_dir() / "diary-helper.toml").write_text("broken now", encoding="utf-8")
    wizard.back()
    purpose = wizard.currentPage()
    assert "diary-helper" not in [loaded.recipe.id for _, loaded in purpose.cards]
    click_next(qtbot, wizard)
    assert wizard.currentPage() is model_page
    assert model_page.pack_note.isHidden(), model_page.pack_note.text()


def test_an_added_recipe_sharing_a_shipped_id_gets_its_own_folders_and_passwords_page(
        qtbot, tiny_model: Path, wizard: SetupWizard) -> None:
    [shipped] = [loaded.recipe for loaded in shipped_recipes() if loaded.recipe.id == RECIPE]
    text = shipped.source.read_text(encoding="utf-8") + (
        '\n[[integrations]]\nname = "shop-mail"\npurpose = "Send mail."\nsecrets = ["mail_password"]\n')
    add_recipe(f"{RECIPE}-from-pack.toml", text)
    walk_to_model_page(qtbot, wizard)  # the shipped one (the first card with that id)
    model_page = wizard.currentPage()
    model_page.accept_model_file(tiny_model)
    wait_idle(qtbot, model_page)
    click_next(qtbot, wizard)
    personalise = wizard.currentPage()
    assert personalise.objectName() == "personalise" and personalise.secret_edits == {}

    wizard.back()
    wizard.back()
    purpose = wizard.currentPage()
    added_file = user_recipes_dir() / f"{RECIPE}-from-pack.toml"
    [added] = [card for card, loaded in purpose.cards if loaded.recipe.source == added_file]
    added.radio.setChecked(True)
    click_next(qtbot, wizard)
    click_next(qtbot, wizard)
    assert wizard.currentPage() is personalise
    assert list(personalise.secret_edits) == ["mail_password"]  # built again for the other recipe
