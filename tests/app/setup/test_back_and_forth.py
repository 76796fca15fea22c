"""Download and Check pages while a stopped task is still winding down, and a resumed bar.

Back then Next (or Pause, Cancel) arrive before the stopped task has reported back: what
the person asked for last is what happens, and the bar never runs backwards on a resume.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QThreadPool

from app.ui.setup import SetupWizard
from app.ui.setup.download import DONE, PAUSED, RUNNING, STOPPED
from tests.app.setup.conftest import click_next, engine_children, next_enabled
from tests.app.setup.test_check_page import wait_for_check, walk_to_check
from tests.app.setup.test_download_page import SLOW, paths, to_download, wait_for_bytes
from tests.support.hub_mirror import HubMirror
from tests.support.qt_walk import wait_idle
from tests.support.tiny_model import SIZE

MiB = 1024 * 1024


def back_and_next(qtbot, wizard: SetupWizard, page) -> None:
    """Leave ``page`` and come back at once: the task Back stopped has not reported back yet."""
    assert page.running_tasks()
    wizard.back()
    click_next(qtbot, wizard)
    assert wizard.currentPage() is page


def test_back_and_next_during_the_check_checks_again(qtbot, wizard: SetupWizard, tiny_model: Path) -> None:
    walk_to_check(qtbot, wizard, tiny_model)
    check = wizard.currentPage()
    back_and_next(qtbot, wizard, check)
    wait_for_check(qtbot, wizard)
    assert not check.error.isVisible(), check.error.message.text()
    assert check.isComplete() and next_enabled(wizard) and wizard.answers.check_reply

    wizard.back()  # another name: checked again, and this time Stop before the new check could begin
    qtbot.keyClicks(wizard.currentPage().name_edit, "my")
    click_next(qtbot, wizard)
    back_and_next(qtbot, wizard, check)
    check.stop_button.click()
    wait_idle(qtbot, check)
    assert check.error.isVisible() and check.error.message.text() == "The check was stopped."
    assert check.error.retry_button.isVisible() and not next_enabled(wizard)

    check.error.retry_button.click()
    back_and_next(qtbot, wizard, check)
    wizard.close()  # closing then starts nothing either
    assert QThreadPool.globalInstance().waitForDone(30_000)
    qtbot.wait(500)
    assert not check.running_tasks() and engine_children() == []


def test_the_bar_does_not_run_backwards_when_a_paused_download_resumes(qtbot, wizard: SetupWizard,
                                                                       mirror: HubMirror) -> None:
    mirror.trouble.bytes_per_second = SLOW
    page = to_download(qtbot, wizard)
    wait_for_bytes(qtbot, page, 6 * MiB)
    page.pause_button.click()
    qtbot.waitUntil(lambda: page.state == PAUSED, timeout=30_000)
    paused_at = page.bar.value()
    assert paused_at > 0
    shown: list[int] = []
    texts: list[str] = []  # a QLabel has no signal for its text: sampled while waiting
    page.bar.valueChanged.connect(shown.append)
    mirror.trouble.bytes_per_second = None
    page.pause_button.click()
    qtbot.waitUntil(lambda: texts.append(page.numbers.text()) or page.state == DONE, timeout=120_000)
    assert shown and min(shown) >= paused_at, f"the bar went from {paused_at} back to {min(shown)}"
    lost = [text for text in texts if text.startswith("0 bytes of") and not text.endswith(" checked")]
    assert not lost, f"the page said nothing was downloaded: {lost}"
    assert paths().final.stat().st_size == SIZE


@pytest.mark.parametrize("button", ["pause_button", "cancel_button"])
def test_pause_or_cancel_right_after_coming_back_is_not_undone(qtbot, wizard: SetupWizard, mirror: HubMirror,
                                                               button: str) -> None:
    mirror.trouble.bytes_per_second = SLOW
    page = to_download(qtbot, wizard)
    wait_for_bytes(qtbot, page, 2 * MiB)
    back_and_next(qtbot, wizard, page)  # the download continues once the stopped one lets go of the file
    assert page.state == RUNNING
    getattr(page, button).click()  # … but the person stops it before that
    qtbot.waitUntil(lambda: not page.running_tasks() and page.state in (PAUSED, STOPPED), timeout=30_000)
    qtbot.wait(1500)
    assert not page.running_tasks() and page.state in (PAUSED, STOPPED), page.state
    assert page.pause_button.text() == "Resume" and page.pause_button.isEnabled()
    assert 0 < paths().part.stat().st_size < SIZE
