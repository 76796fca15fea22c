"""The Download page against the real mirror: errors, pause/resume, cancel, leaving mid-way."""

from __future__ import annotations

from PySide6.QtCore import QThreadPool
from PySide6.QtWidgets import QWizard

from app.ui.setup import SetupWizard
from app.ui.setup.download import DONE, FAILED, PAUSED, RUNNING, STOPPED
from tests.app.setup.conftest import TINY_REPO, click_next, next_enabled, walk_to_model_page
from tests.support.hub_mirror import HubMirror
from tests.support.tiny_model import FILE_NAME, SIZE
from wizard.download.partial import DownloadPaths
from wizard.paths import hearth_paths

SLOW = 8 * 1024 * 1024  # bytes a second: the 98 MB file takes ~12 s, long enough to pause


def paths() -> DownloadPaths:
    return DownloadPaths.for_file(hearth_paths().models, TINY_REPO, FILE_NAME)


def to_download(qtbot, wizard: QWizard):
    walk_to_model_page(qtbot, wizard)
    click_next(qtbot, wizard)
    page = wizard.currentPage()
    assert page.objectName() == "download"
    return page


def wait_for_bytes(qtbot, page, at_least: int) -> None:
    qtbot.waitUntil(lambda: page.last_progress is not None and page.last_progress.bytes_done >= at_least,
                    timeout=30_000)


def test_a_download_error_is_plain_and_can_be_retried(qtbot, wizard: SetupWizard, mirror: HubMirror) -> None:
    mirror.trouble.force_status = 404
    page = to_download(qtbot, wizard)
    qtbot.waitUntil(lambda: page.state == FAILED, timeout=30_000)
    assert page.error.isVisible() and page.error.retry_button.isVisible()
    message = page.error.message.text()
    assert message and "Traceback" not in message and "404" not in message
    assert page.error.hint.text()
    assert not next_enabled(wizard)
    mirror.trouble.force_status = None
    page.error.retry_button.click()
    qtbot.waitUntil(lambda: page.state == DONE, timeout=120_000)
    assert not page.error.isVisible() and next_enabled(wizard)
    assert paths().final.stat().st_size == SIZE


def test_pause_keeps_the_partial_and_resume_finishes_it(qtbot, wizard: SetupWizard, mirror: HubMirror) -> None:
    mirror.trouble.bytes_per_second = SLOW
    page = to_download(qtbot, wizard)
    wait_for_bytes(qtbot, page, 2 * 1024 * 1024)
    assert page.pause_button.text() == "Pause"
    page.pause_button.click()
    qtbot.waitUntil(lambda: page.state == PAUSED, timeout=30_000)
    kept = paths().part.stat().st_size
    assert 0 < kept < SIZE and page.pause_button.text() == "Resume" and not next_enabled(wizard)
    assert "kept" in page.status.text()
    mirror.trouble.bytes_per_second = None
    mirror.reset_counters()
    page.pause_button.click()
    qtbot.waitUntil(lambda: page.state == DONE, timeout=120_000)
    assert mirror.bytes_served <= SIZE - kept + 1024 * 1024, "resume fetched the whole file again"
    assert paths().final.stat().st_size == SIZE and next_enabled(wizard)


def test_cancel_keeps_the_partial_and_the_download_continues_later(qtbot, wizard: SetupWizard,
                                                                    mirror: HubMirror) -> None:
    mirror.trouble.bytes_per_second = SLOW
    page = to_download(qtbot, wizard)
    wait_for_bytes(qtbot, page, 2 * 1024 * 1024)
    page.cancel_button.click()
    qtbot.waitUntil(lambda: page.state == STOPPED, timeout=30_000)
    kept = paths().part.stat().st_size
    assert kept > 0 and not paths().final.exists()
    assert "kept" in page.status.text() and page.pause_button.text() == "Resume"
    mirror.trouble.bytes_per_second = None
    mirror.reset_counters()
    page.pause_button.click()
    qtbot.waitUntil(lambda: page.state == DONE, timeout=120_000)
    assert mirror.bytes_served <= SIZE - kept + 1024 * 1024


def test_back_stops_the_download_and_next_continues_it(qtbot, wizard: SetupWizard, mirror: HubMirror) -> None:
    mirror.trouble.bytes_per_second = SLOW
    page = to_download(qtbot, wizard)
    wait_for_bytes(qtbot, page, 2 * 1024 * 1024)
    wizard.back()
    assert wizard.currentPage().objectName() == "model"
    qtbot.waitUntil(lambda: not page.running_tasks(), timeout=30_000)
    assert paths().part.stat().st_size > 0
    mirror.trouble.bytes_per_second = None
    click_next(qtbot, wizard)
    qtbot.waitUntil(lambda: page.state == DONE, timeout=120_000)
    assert paths().final.stat().st_size == SIZE


def test_closing_the_wizard_mid_download_keeps_the_partial_and_stops_cleanly(
        qtbot, wizard: SetupWizard, mirror: HubMirror) -> None:
    mirror.trouble.bytes_per_second = SLOW
    page = to_download(qtbot, wizard)
    wait_for_bytes(qtbot, page, 2 * 1024 * 1024)
    assert page.state == RUNNING
    wizard.close()
    assert not page.running_tasks(), "the download was still running after the wizard closed"
    assert QThreadPool.globalInstance().waitForDone(10_000)
    assert 0 < paths().part.stat().st_size < SIZE and not paths().final.exists()
