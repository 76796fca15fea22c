"""Settings → Downloads: the mirror and the Hugging Face access token, and that the setup window uses them.

Real widgets offscreen, the real settings file, an in-memory keyring (or keyring's own
"fail" backend for a computer without one), and the real local Hub mirror serving the
real tiny model as a gated model.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QThreadPool
from PySide6.QtWidgets import QLineEdit

from app.ui.settings import SESSION_SECRETS, SettingsDialog
from app.ui.setup import SetupServices, SetupWizard
from app.ui.setup.download import DONE, FAILED
from app.ui.setup.state import ENDPOINT_VARIABLE, default_endpoint
from tests.app.setup.conftest import TINY_REPO, click_next, tiny_catalog, walk_to_model_page
from tests.support.hub_mirror import HubMirror
from tests.support.keyring_memory import MemoryKeyring
from tests.support.tiny_model import FILE_NAME, SHA256, sha256_of
from wizard.secrets import HUB_TOKEN, get_secret, hub_token
from wizard.settings import load_settings

TOKEN = "hf_GatedAccess-7s3cr3t"


def files_containing(root: Path, needle: str) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file() and needle.encode() in p.read_bytes()]


def settings_window(qtbot) -> SettingsDialog:
    window = SettingsDialog()
    qtbot.addWidget(window)
    window.show()
    return window


def test_the_mirror_is_saved_and_an_empty_one_means_hugging_face(dialog: SettingsDialog) -> None:
    page = dialog.downloads
    assert page.mirror.text() == "" and "Hugging Face (huggingface.co)" in page.mirror_note.text()
    page.mirror.setText("  https://hf-mirror.example.org/  ")
    page.use_mirror.click()
    assert load_settings().settings.hub_mirror == "https://hf-mirror.example.org"
    assert page.mirror.text() == "https://hf-mirror.example.org"
    assert page.mirror_note.text() == "Models are downloaded from the mirror https://hf-mirror.example.org."
    page.mirror.clear()
    page.use_mirror.click()
    assert load_settings().settings.hub_mirror == ""
    assert "Hugging Face" in page.mirror_note.text()


def test_a_bad_mirror_is_refused_with_a_plain_message(dialog: SettingsDialog, boxes, qtbot) -> None:
    page = dialog.downloads
    page.mirror.setText("hf-mirror.example.org")
    assert page.apply_mirror() is False
    qtbot.waitUntil(lambda: bool(boxes.seen), timeout=3000)
    assert "must start with https://" in boxes.texts() and "Traceback" not in boxes.texts()
    assert load_settings().settings.hub_mirror == ""


def test_the_token_goes_to_the_keyring_is_shown_masked_and_can_be_removed(keyring_memory: MemoryKeyring,
                                                                          qtbot, boxes, hearth_home: Path) -> None:
    window = settings_window(qtbot)
    page = window.downloads
    assert "No access token is saved" in page.token_note.text() and not page.remove_token.isEnabled()
    page.token.setText(f" {TOKEN} ")
    page.save_token.click()
    assert get_secret(*HUB_TOKEN) == TOKEN
    assert "keyring" in page.token_note.text() and page.remove_token.isEnabled()
    assert files_containing(hearth_home, TOKEN) == []
    window.done(0)

    reopened = settings_window(qtbot)
    again = reopened.downloads
    assert again.token.text() == TOKEN and again.token.echoMode() == QLineEdit.EchoMode.Password
    assert again.token.displayText() != TOKEN  # masked on screen
    again.remove_token.click()
    assert get_secret(*HUB_TOKEN) is None and again.token.text() == ""
    assert again.token_note.text() == "The access token was removed."
    assert boxes.seen == []
    reopened.done(0)


def test_an_empty_token_is_refused_plainly(keyring_memory: MemoryKeyring, dialog: SettingsDialog, boxes,
                                           qtbot) -> None:
    assert dialog.downloads.store_token() is False
    qtbot.waitUntil(lambda: bool(boxes.seen), timeout=3000)
    assert "Paste the access token first." in boxes.texts()
    assert keyring_memory.secrets == {}


def test_without_a_keyring_it_says_so_and_the_token_can_be_kept_for_this_session(dialog: SettingsDialog,
                                                                                 boxes, hearth_home: Path) -> None:
    page = dialog.downloads  # no keyring fixture: keyring's "fail" backend, as on a headless Linux
    assert "no secure place" in page.token_note.text() and "this session only" in page.token_note.text()
    boxes.answers.append("Keep it for this session only")
    page.token.setText(TOKEN)
    assert page.store_token() is True
    assert "no secure place" in boxes.texts()
    assert SESSION_SECRETS.get(*HUB_TOKEN) == TOKEN and hub_token(session=SESSION_SECRETS) == TOKEN
    assert "for this session only" in page.token_note.text()
    assert files_containing(hearth_home, TOKEN) == []
    assert page.forget_token() is True and SESSION_SECRETS.get(*HUB_TOKEN) is None


def test_without_a_keyring_declining_keeps_no_token(dialog: SettingsDialog, boxes) -> None:
    dialog.downloads.token.setText(TOKEN)
    assert dialog.downloads.store_token() is False  # the box is dismissed
    assert SESSION_SECRETS.get(*HUB_TOKEN) is None
    assert "no secure place" in dialog.downloads.token_note.text()


def test_the_setup_window_uses_the_mirror_setting_unless_the_variable_overrides_it(
        dialog: SettingsDialog, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENDPOINT_VARIABLE, raising=False)
    assert default_endpoint() is None
    dialog.downloads.mirror.setText("https://hf-mirror.example.org")
    dialog.downloads.apply_mirror()
    assert default_endpoint() == "https://hf-mirror.example.org" == SetupServices().endpoint
    monkeypatch.setenv(ENDPOINT_VARIABLE, "http://127.0.0.1:8000")
    assert default_endpoint() == "http://127.0.0.1:8000"


@pytest.fixture
def gated_mirror(hub_mirror: HubMirror, tiny_model: Path) -> HubMirror:
    hub_mirror.add_repo(TINY_REPO, {FILE_NAME: tiny_model}, gated=True, token=TOKEN)
    return hub_mirror


def test_a_gated_model_downloads_in_setup_once_the_token_is_added_in_settings(
        gated_mirror: HubMirror, tiny_model: Path, keyring_memory: MemoryKeyring, qtbot, boxes,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENDPOINT_VARIABLE, raising=False)
    settings = settings_window(qtbot)
    settings.downloads.mirror.setText(gated_mirror.url)  # the mirror comes from Settings, not a test seam
    assert settings.downloads.apply_mirror()

    catalog = tiny_catalog(tiny_model)
    wizard = SetupWizard(services=SetupServices(catalog=lambda: catalog))
    qtbot.addWidget(wizard)
    wizard.show()
    try:
        walk_to_model_page(qtbot, wizard)
        click_next(qtbot, wizard)
        page = wizard.currentPage()
        assert page.objectName() == "download"
        qtbot.waitUntil(lambda: page.state == FAILED, timeout=30_000)
        assert "accept its terms" in page.error.message.text()
        assert "add your access token in Settings" in page.error.hint.text()

        settings.downloads.token.setText(TOKEN)
        assert settings.downloads.store_token()
        page.error.retry_button.click()
        qtbot.waitUntil(lambda: page.state == DONE, timeout=120_000)
        assert sha256_of(wizard.answers.model_path) == SHA256
        assert [r["authorization"] for r in gated_mirror.requests][-3:] == [f"Bearer {TOKEN}"] * 3
    finally:
        assert wizard.stop_all(timeout=30)
        assert QThreadPool.globalInstance().waitForDone(30_000)
        settings.done(0)
