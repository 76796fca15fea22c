"""Single pages with real parts: gating Next, Back keeping answers, model files, secrets, the profile."""

from __future__ import annotations

from pathlib import Path

import keyring
import keyring.backends.fail
import pytest

from app.ui.setup import SetupAnswers, SetupWizard
from app.ui.setup.model_choice import plan_model_file
from app.ui.setup.profile import finish_setup, narrow_recipe, read_setup
from app.ui.setup.state import SetupServices
from tests.app.setup.conftest import TINY_ID, click_next, next_enabled, walk_to_model_page
from tests.support.qt_walk import wait_idle
from wizard.hardware import probe_hardware
from wizard.recipes import AvailableRecipes, load_recipe, parse_recipe_text, shipped_recipe_files
from wizard.recipes.plan import read_profile
from wizard.secrets import SessionSecrets, get_secret

SECRET_RECIPE = """
schema_version = 1
id = "shop-mail"
name = "Shop mail"
description = "Drafts replies to the shop's mail."
for_whom = "A small shop."

[persona]
system_prompt = "You draft short, polite replies."
greeting = "Hello! Paste a mail and I will draft a reply."

[[integrations]]
name = "shop-mail"
purpose = "Read the shop's mailbox."
secrets = ["mail_password"]
"""


def test_next_waits_for_each_required_answer(qtbot, wizard: SetupWizard) -> None:
    click_next(qtbot, wizard)
    computer = wizard.currentPage()
    qtbot.waitUntil(computer.isComplete, timeout=10_000)
    click_next(qtbot, wizard)
    assert wizard.currentPage().objectName() == "purpose" and not next_enabled(wizard)
    wizard.currentPage().choose("everyday-assistant")
    assert next_enabled(wizard)


def test_a_damaged_model_file_is_refused_in_plain_words(qtbot, wizard: SetupWizard, tmp_path: Path,
                                                        tiny_model: Path) -> None:
    walk_to_model_page(qtbot, wizard)
    page = wizard.currentPage()
    chosen_before = wizard.answers.model
    assert chosen_before.entry.id == TINY_ID
    for name, content in (("not-a-model.gguf", b"this is a letter, not a model\n" * 100),
                          ("cut-short.gguf", tiny_model.read_bytes()[:200_000])):
        bad = tmp_path / name
        bad.write_bytes(content)
        page.accept_model_file(bad)
        wait_idle(qtbot, page)
        assert page.error.isVisible(), name
        assert page.error.message.text() and "Traceback" not in page.error.message.text()
        assert page.error.details_button.isVisible()  # the technical part is behind "details"
        assert wizard.answers.model is chosen_before, "a refused file replaced the choice"
        assert page.local_card.isHidden() and next_enabled(wizard)


def test_a_model_file_i_already_have_skips_the_download(qtbot, wizard: SetupWizard, tiny_model: Path) -> None:
    walk_to_model_page(qtbot, wizard)
    page = wizard.currentPage()
    page.accept_model_file(tiny_model)
    wait_idle(qtbot, page)
    assert not page.error.isVisible()
    assert wizard.answers.model.local_path == tiny_model and page.local_card.radio.isChecked()
    click_next(qtbot, wizard)
    assert wizard.currentPage().objectName() == "personalise"


def test_back_keeps_what_was_typed_and_chosen(qtbot, wizard: SetupWizard, tiny_model: Path) -> None:
    walk_to_model_page(qtbot, wizard)
    model_page = wizard.currentPage()
    model_page.accept_model_file(tiny_model)
    wait_idle(qtbot, model_page)
    click_next(qtbot, wizard)
    personalise = wizard.currentPage()
    qtbot.keyClicks(personalise.name_edit, "Ada Lovelace")
    wizard.back()  # -> Your model
    assert model_page.local_card.radio.isChecked()
    wizard.back()  # -> What do you want help with?
    purpose = wizard.currentPage()
    assert [card.radio.isChecked() for card, loaded in purpose.cards
            if loaded.recipe.id == "everyday-assistant"] == [True]
    click_next(qtbot, wizard)
    assert model_page.local_card.radio.isChecked() and wizard.answers.model.local_path == tiny_model
    click_next(qtbot, wizard)
    assert personalise.name_edit.text() == "Ada Lovelace" and next_enabled(wizard)


def _wizard_with_secret_recipe(qtbot, services: SetupServices, tiny_model: Path) -> SetupWizard:
    loaded = parse_recipe_text(SECRET_RECIPE)
    services.recipes = lambda: AvailableRecipes(shipped=(loaded,))
    wizard = SetupWizard(services=services)
    qtbot.addWidget(wizard)
    wizard.show()
    walk_to_model_page(qtbot, wizard, recipe="shop-mail")
    wizard.currentPage().accept_model_file(tiny_model)
    wait_idle(qtbot, wizard.currentPage())
    click_next(qtbot, wizard)
    assert wizard.currentPage().objectName() == "personalise"
    return wizard


def test_secrets_need_a_value_and_say_where_they_go(qtbot, services: SetupServices, tiny_model: Path,
                                                    keyring_memory) -> None:
    wizard = _wizard_with_secret_recipe(qtbot, services, tiny_model)
    page = wizard.currentPage()
    qtbot.keyClicks(page.name_edit, "Sam")
    assert not next_enabled(wizard), "Next before the password was given"
    edit = page.secret_edits["mail_password"]
    assert edit.echoMode() == edit.EchoMode.Password
    qtbot.keyClicks(edit, "hunter2")
    assert next_enabled(wizard) and page.session_only.isHidden()
    assert "never in a file" in page.no_storage.text()


def test_without_a_keyring_it_says_so_and_offers_this_session_only(qtbot, services: SetupServices,
                                                                   tiny_model: Path) -> None:
    previous = keyring.get_keyring()
    keyring.set_keyring(keyring.backends.fail.Keyring())
    try:
        wizard = _wizard_with_secret_recipe(qtbot, services, tiny_model)
        page = wizard.currentPage()
        qtbot.keyClicks(page.name_edit, "Sam")
        qtbot.keyClicks(page.secret_edits["mail_password"], "hunter2")
        assert not page.session_only.isHidden() and not next_enabled(wizard)
        assert "session only" in page.no_storage.text()
        page.session_only.click()
        assert next_enabled(wizard) and wizard.answers.session_only_secrets
    finally:
        keyring.set_keyring(previous)


def _answers_for(recipe_path_or_text, tiny_model: Path) -> SetupAnswers:
    loaded = (parse_recipe_text(recipe_path_or_text) if isinstance(recipe_path_or_text, str)
              else load_recipe(recipe_path_or_text))
    hardware = probe_hardware()
    answers = SetupAnswers(hardware=hardware, recipe=loaded, person_name="Sam")
    answers.model = plan_model_file(tiny_model, hardware, loaded.recipe.model)
    answers.model_path = tiny_model
    return answers


def test_finishing_stores_secrets_in_the_keyring_and_never_in_the_profile(tiny_model: Path,
                                                                          keyring_memory) -> None:
    answers = _answers_for(SECRET_RECIPE, tiny_model)
    answers.secret_values["mail_password"] = "hunter2"
    profile_dir = finish_setup(answers)
    assert get_secret("shop-mail", "mail_password") == "hunter2"
    for file in profile_dir.iterdir():
        assert "hunter2" not in file.read_text(encoding="utf-8"), file.name
    assert read_setup(profile_dir)["person_name"] == "Sam"


def test_session_only_secrets_stay_in_memory(tiny_model: Path) -> None:
    answers = _answers_for(SECRET_RECIPE, tiny_model)
    answers.secret_values["mail_password"] = "hunter2"
    answers.session_only_secrets = True
    answers.session_secrets = SessionSecrets()
    profile_dir = finish_setup(answers)
    assert answers.session_secrets.get("shop-mail", "mail_password") == "hunter2"
    assert read_setup(profile_dir)["secrets_kept_for_session_only"] is True


def test_a_folder_the_person_refuses_is_not_granted(tiny_model: Path) -> None:
    [path] = [p for p in shipped_recipe_files() if p.stem == "small-business-back-office"]
    answers = _answers_for(path, tiny_model)
    recipe = answers.recipe.recipe
    documents = str(recipe.document_folders[0].path)
    answers.folders_allowed[documents] = False
    profile = read_profile(finish_setup(answers))
    targets = {(p["kind"], p["target"]) for p in profile["permissions"]}
    assert not any(target == documents for _, target in targets)
    assert ("tool", "write_file") not in targets and ("tool", "documents_search") not in targets
    assert ("tool", "calculator") in targets
    assert narrow_recipe(recipe, {})  == recipe  # nothing refused: the recipe as written


@pytest.mark.parametrize("refused", [False, True])
def test_the_folder_boxes_show_plain_paths(qtbot, wizard: SetupWizard, tiny_model: Path, refused: bool) -> None:
    walk_to_model_page(qtbot, wizard, recipe="small-business-back-office")
    wizard.currentPage().accept_model_file(tiny_model)
    wait_idle(qtbot, wizard.currentPage())
    click_next(qtbot, wizard)
    page = wizard.currentPage()
    [(path, box)] = page.folder_checks.items()
    assert box.isChecked() and path in box.text() and "search your documents" in box.text()
    if refused:
        box.click()
    assert wizard.answers.folders_allowed[path] is (not refused)


def _make_pack(tmp_path: Path, tiny_model: Path) -> Path:
    """A real model pack (hearth-pack.toml + the tiny model), exported from another Hearth folder."""
    import shutil

    from wizard.models import ModelRegistry, ModelSource, register_file
    from wizard.packs import export_pack
    from tests.support.tiny_model import FILE_NAME, SHA256

    other = ModelRegistry(file=tmp_path / "other" / "installed-models.json", models_dir=tmp_path / "other" / "models")
    target = other.models_dir / "HuggingFaceTB--SmolLM2-135M-Instruct-GGUF" / FILE_NAME
    target.parent.mkdir(parents=True)
    shutil.copyfile(tiny_model, target)
    register_file(target, sha256=SHA256, licence="apache-2.0", registry=other,
                  source=ModelSource(kind="hub", repo="HuggingFaceTB/SmolLM2-135M-Instruct-GGUF",
                                     filename=FILE_NAME, revision="main"))
    pack = tmp_path / "usb-stick"
    export_pack(pack, registry=other)
    return pack


def test_a_model_pack_is_installed_and_used_without_a_download(qtbot, wizard: SetupWizard, tmp_path: Path,
                                                               tiny_model: Path) -> None:
    from wizard.models import ModelRegistry
    from wizard.paths import hearth_paths

    pack = _make_pack(tmp_path, tiny_model)
    walk_to_model_page(qtbot, wizard)
    page = wizard.currentPage()
    page.accept_model_pack(pack)
    assert not page.busy.isHidden() and not page.busy_cancel.isHidden()
    wait_idle(qtbot, page)
    assert not page.error.isVisible(), page.error.details.toPlainText()
    chosen = wizard.answers.model.local_path
    assert chosen.is_relative_to(hearth_paths().models) and chosen.stat().st_size == tiny_model.stat().st_size
    assert [m.file_in(hearth_paths().models) for m in ModelRegistry().list()] == [chosen]
    click_next(qtbot, wizard)
    assert wizard.currentPage().objectName() == "personalise"


def test_a_damaged_model_pack_is_refused(qtbot, wizard: SetupWizard, tmp_path: Path, tiny_model: Path) -> None:
    pack = _make_pack(tmp_path, tiny_model)
    [model_file] = [p for p in pack.rglob("*.gguf")]
    with model_file.open("r+b") as handle:  # one flipped byte in the middle of the weights
        handle.seek(50_000_000)
        byte = handle.read(1)
        handle.seek(50_000_000)
        handle.write(bytes([byte[0] ^ 0xFF]))
    walk_to_model_page(qtbot, wizard)
    page = wizard.currentPage()
    before = wizard.answers.model
    page.accept_model_pack(pack)
    wait_idle(qtbot, page)
    assert page.error.isVisible() and page.error.message.text()
    assert wizard.answers.model is before and page.local_card.isHidden()


def test_the_check_can_be_stopped_and_tried_again(qtbot, wizard: SetupWizard, tiny_model: Path) -> None:
    from tests.app.setup.conftest import engine_children

    walk_to_model_page(qtbot, wizard)
    wizard.currentPage().accept_model_file(tiny_model)
    wait_idle(qtbot, wizard.currentPage())
    click_next(qtbot, wizard)
    qtbot.keyClicks(wizard.currentPage().name_edit, "Sam")
    click_next(qtbot, wizard)
    check = wizard.currentPage()
    assert check.objectName() == "check" and not check.stop_button.isHidden() and not next_enabled(wizard)
    check.stop_button.click()
    wait_idle(qtbot, check)
    assert check.error.isVisible() and check.error.message.text() == "The check was stopped."
    assert engine_children() == [] and not next_enabled(wizard)
    check.error.retry_button.click()
    qtbot.waitUntil(lambda: check.isComplete() or check.error.isVisible(), timeout=180_000)
    assert check.isComplete() and next_enabled(wizard), check.error.details.toPlainText()
