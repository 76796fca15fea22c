"""What the pages say on the way: download speed and time left, other models' fit badges,
an error when finishing, and a download continued by a new wizard after the last one closed."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

from PySide6.QtCore import QThreadPool

from app.ui.setup import SetupServices, SetupWizard
from app.ui.setup.download import DONE, RUNNING
from tests.app.setup.conftest import TINY_ID, click_next, next_enabled, tiny_catalog, walk_to_model_page
from tests.app.setup.test_check_page import wait_for_check, walk_to_check
from tests.app.setup.test_download_page import SLOW, paths, to_download, wait_for_bytes
from tests.support.hub_mirror import HubMirror
from tests.support.tiny_model import SIZE
from wizard.catalog import Catalog, load_catalog
from wizard.hardware import probe_hardware
from wizard.recipes.plan import profiles_dir

GB = 10**9


def test_the_download_says_how_fast_it_goes_and_how_long_is_left(qtbot, wizard: SetupWizard,
                                                                 mirror: HubMirror) -> None:
    mirror.trouble.bytes_per_second = SLOW  # 8 MiB a second: the 98 MB file takes about 12 s
    page = to_download(qtbot, wizard)
    wait_for_bytes(qtbot, page, 3 * 1024 * 1024)
    qtbot.waitUntil(lambda: "per second" in page.numbers.text(), timeout=10_000)
    text = page.numbers.text()
    found = re.fullmatch(r"([\d.]+) MB of 98\.\d MB · ([\d.]+) MB per second · "
                         r"(less than a minute|about \d+ minutes?) left", text)
    assert found, text
    done, speed = float(found.group(1)), float(found.group(2))
    assert 3 <= done < SIZE / 1e6
    assert 2 <= speed <= 12, f"{speed} MB/s shown for a link held to {SLOW / 1e6:.1f} MB/s"
    assert page.state == RUNNING
    mirror.trouble.bytes_per_second = None
    qtbot.waitUntil(lambda: page.state == DONE, timeout=120_000)
    assert "per second" not in page.numbers.text() and "Saved as" in page.numbers.text()


def _small_computer():
    """This computer as the probe finds it, with 4 GB of memory: big models do not fit."""
    found = probe_hardware()
    memory = dataclasses.replace(found.memory, total_bytes=4 * GB, available_bytes=3 * GB)
    return dataclasses.replace(found, memory=memory)


def test_an_alternative_model_shows_its_fit_badge(qtbot, mirror: HubMirror, tiny_model: Path) -> None:
    biggest = max(load_catalog().entries, key=lambda entry: entry.size_bytes or 0)  # ~9 GB
    catalog = Catalog((tiny_catalog(tiny_model).entries[0], biggest))
    wizard = SetupWizard(services=SetupServices(catalog=lambda: catalog, probe=_small_computer,
                                                endpoint=mirror.url))
    qtbot.addWidget(wizard)
    wizard.show()
    walk_to_model_page(qtbot, wizard)
    page = wizard.currentPage()
    assert set(page.cards) == {TINY_ID, biggest.id}
    tiny_card, _, _ = page.cards[TINY_ID]
    big_card, big_details, big = page.cards[biggest.id]
    assert tiny_card.radio.isChecked() and tiny_card.badge.text().startswith("Recommended · ")
    assert big_card.badge.isVisibleTo(big_card) and big_card.badge.text() == "too big for this computer"
    assert "Recommended" not in big_card.badge.text() and not big_card.radio.isEnabled()
    assert "Expected speed" in big_card.description.text()
    page.advanced.setChecked(True)
    assert biggest.file in big_details.text() and big_details.isVisibleTo(big_card)
    wizard.close()


def test_an_error_when_finishing_says_why_and_keeps_every_answer(qtbot, wizard: SetupWizard,
                                                                 tiny_model: Path) -> None:
    walk_to_check(qtbot, wizard, tiny_model)
    check = wait_for_check(qtbot, wizard)
    assert not check.error.isVisible(), check.error.details.toPlainText()
    click_next(qtbot, wizard)
    finish = wizard.currentPage()
    assert finish.objectName() == "finish"
    blocker = profiles_dir()
    blocker.parent.mkdir(parents=True, exist_ok=True)
    blocker.write_text("a file where the assistants' folder should be")  # the profile cannot be written
    answers = wizard.answers
    before = (answers.person_name, answers.model, answers.model_path, answers.recipe, answers.check_reply)

    assert not finish.validatePage()  # what pressing Start chatting runs
    assert wizard.currentPage() is finish and finish.error.isVisible()
    assert finish.error.message.text() and "Traceback" not in finish.error.message.text()
    assert (answers.person_name, answers.model, answers.model_path, answers.recipe, answers.check_reply) == before
    assert wizard.setup_page("personalise").name_edit.text() == "Sam"

    blocker.unlink()  # the person makes room and presses Start chatting again
    assert finish.validatePage() and not finish.error.isVisible()
    assert answers.profile_dir is not None and answers.profile_dir.parent == profiles_dir()


def test_a_new_wizard_continues_the_download_a_closed_one_left(qtbot, services: SetupServices,
                                                             mirror: HubMirror) -> None:
    mirror.trouble.bytes_per_second = SLOW
    first = SetupWizard(services=services)
    qtbot.addWidget(first)
    first.show()
    wait_for_bytes(qtbot, to_download(qtbot, first), 8 * 1024 * 1024)
    first.close()
    assert QThreadPool.globalInstance().waitForDone(10_000)
    kept = paths().part.stat().st_size
    assert 8 * 1024 * 1024 <= kept < SIZE

    mirror.trouble.bytes_per_second = None
    mirror.reset_counters()
    second = SetupWizard(services=services)
    qtbot.addWidget(second)
    second.show()
    page = to_download(qtbot, second)
    qtbot.waitUntil(lambda: page.state == DONE, timeout=120_000)
    assert paths().final.stat().st_size == SIZE and next_enabled(second)
    fetched = mirror.bytes_served
    assert SIZE - kept <= fetched <= SIZE - kept + 1024 * 1024, (
        f"{fetched:,} bytes fetched for the {SIZE - kept:,} that were missing")
    second.close()
