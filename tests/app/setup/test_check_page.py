"""The Check page measures the real tiny model: memory and speed shown, the measured plan kept."""

from __future__ import annotations

import dataclasses
import os
import re
import shutil
from pathlib import Path

import pytest

from app.ui.setup import SetupWizard
from app.ui.setup.check import ModelDoesNotFitError, check_model, memory_sentence
from app.ui.setup.profile import finish_setup, read_setup
from tests.app.setup.conftest import RECIPE, click_next, engine_children, next_enabled, walk_to_model_page
from tests.support.qt_walk import wait_idle
from wizard.engine import LoadPlan
from wizard.models import ModelRegistry, ModelSource, register_file
from wizard.paths import hearth_paths
from wizard.recipes import load_recipe, shipped_recipe_files
from wizard.verify import verify_model

MiB = 2**20


def installed_tiny_model(tiny_model: Path) -> Path:
    """The tiny model in the models folder and on the installed-models list (as after a download)."""
    target = hearth_paths().models / "HuggingFaceTB--SmolLM2-135M-Instruct-GGUF" / tiny_model.name
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(tiny_model, target)
    except OSError:
        shutil.copyfile(tiny_model, target)
    register_file(target, source=ModelSource(kind="manual"))
    return target


def walk_to_check(qtbot, wizard: SetupWizard, model_file: Path, *, hardware_budget: int | None = None,
                  n_ctx: int | None = None) -> None:
    """Choose ``model_file``; optionally a computer with ``hardware_budget`` bytes free and a plan of ``n_ctx``."""
    walk_to_model_page(qtbot, wizard)
    page = wizard.currentPage()
    page.accept_model_file(model_file)
    wait_idle(qtbot, page)
    assert wizard.answers.model is not None and wizard.answers.model_path == model_file
    answers = wizard.answers
    if hardware_budget is not None:  # a computer with less free memory than this one
        memory = dataclasses.replace(answers.hardware.memory, available_bytes=hardware_budget)
        answers.hardware = dataclasses.replace(answers.hardware, memory=memory)
    if n_ctx is not None:
        answers.model = dataclasses.replace(answers.model, plan=dataclasses.replace(answers.model.plan, n_ctx=n_ctx))
    click_next(qtbot, wizard)
    qtbot.keyClicks(wizard.currentPage().name_edit, "Sam")
    click_next(qtbot, wizard)
    assert wizard.currentPage().objectName() == "check"


def wait_for_check(qtbot, wizard: SetupWizard):
    check = wizard.currentPage()
    qtbot.waitUntil(lambda: (check.isComplete() or check.error.isVisible()) and not check.running_tasks(),
                    timeout=300_000)
    return check


def test_the_check_shows_memory_and_speed_and_keeps_the_measured_plan(qtbot, wizard: SetupWizard,
                                                                      tiny_model: Path) -> None:
    model_file = installed_tiny_model(tiny_model)
    walk_to_check(qtbot, wizard, model_file)
    check = wait_for_check(qtbot, wizard)
    assert not check.error.isVisible(), check.error.details.toPlainText()
    assert re.search(r"It wrote (about \d+ words?|less than one word) a second", check.speed.text())
    assert check.memory.text().startswith("Uses about ") and check.memory.text().endswith(" GB of memory.")
    assert check.stepped_down.isHidden()  # this computer has room for the planned context
    answers = wizard.answers
    assert answers.check_plan == answers.model.plan.engine_plan()
    assert check.memory.text() == memory_sentence(answers.check_peak_ram_bytes)
    assert 90 * MiB < answers.check_peak_ram_bytes < 4096 * MiB  # weights alone map 92 MiB
    [installed] = ModelRegistry().list()
    fit = installed.fit
    assert fit["outcome"] == "ok" and fit["plan"]["n_ctx"] == answers.check_plan.n_ctx
    assert fit["peak_ram_bytes"] == answers.check_peak_ram_bytes and fit["tokens_per_second"] > 0
    assert fit["load_seconds"] > 0
    assert engine_children() == []
    click_next(qtbot, wizard)
    profile_dir = finish_setup(answers)
    setup = read_setup(profile_dir)
    assert LoadPlan(**setup["load_plan"]) == answers.check_plan
    assert setup["checked_peak_ram_bytes"] == answers.check_peak_ram_bytes


def peaks(tiny_model: Path, *contexts: int) -> list[int]:
    return [verify_model(tiny_model, LoadPlan(n_ctx=n, n_threads=2), min_ctx=n).final.peak_ram_bytes
            for n in contexts]


def test_a_computer_with_less_memory_gets_a_shorter_context_said_plainly(qtbot, wizard: SetupWizard,
                                                                          tiny_model: Path) -> None:
    at_4096, at_8192 = peaks(tiny_model, 4096, 8192)  # measured here, as the budget must sit between
    assert at_8192 > at_4096 + 20 * MiB
    walk_to_check(qtbot, wizard, tiny_model, hardware_budget=(at_4096 + at_8192) // 2, n_ctx=8192)
    check = wait_for_check(qtbot, wizard)
    assert not check.error.isVisible(), check.error.details.toPlainText()
    assert check.stepped_down.isVisible()
    assert "remember less of each conversation" in check.stepped_down.text()
    assert "4,096 tokens" in check.stepped_down.text() and "instead of 8,192" in check.stepped_down.text()
    answers = wizard.answers
    assert answers.check_plan.n_ctx == 4096 and answers.model.plan.n_ctx == 8192
    assert answers.check_peak_ram_bytes <= (at_4096 + at_8192) // 2
    assert ModelRegistry().list() == []  # a file the person picked: nothing to record, and no error
    click_next(qtbot, wizard)
    setup = read_setup(finish_setup(answers))
    assert setup["load_plan"]["n_ctx"] == 4096  # the verified plan, not the estimated 8192


def test_a_model_that_never_fits_says_go_back_for_a_smaller_one(qtbot, wizard: SetupWizard,
                                                                 tiny_model: Path) -> None:
    walk_to_check(qtbot, wizard, tiny_model, hardware_budget=64 * MiB)
    check = wait_for_check(qtbot, wizard)
    assert check.error.isVisible() and not check.isComplete() and not next_enabled(wizard)
    assert "smaller model file is needed" in check.error.message.text()
    assert check.error.hint.text() == "Go back and choose a smaller model."
    assert check.status.text() == "This model does not fit on this computer."
    assert wizard.answers.check_plan is None and engine_children() == []


def test_check_model_refuses_a_damaged_file_plainly(tmp_path: Path, tiny_model: Path) -> None:
    import threading

    broken = tmp_path / "broken.gguf"
    broken.write_bytes(tiny_model.read_bytes()[:4096])
    recipe = next(load_recipe(path).recipe for path in shipped_recipe_files() if path.stem == RECIPE)
    states = []
    with pytest.raises(ModelDoesNotFitError) as caught:
        check_model(broken, LoadPlan(n_ctx=4096, n_threads=2), recipe, "Sam", progress=states.append,
                    cancel=threading.Event())
    assert caught.value.user_message.startswith("The model file cannot be used")
    assert caught.value.hint == "Go back and choose a smaller model."
    assert states[0] == ("state", "Measuring how much memory it needs…")
