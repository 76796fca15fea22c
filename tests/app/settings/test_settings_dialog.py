"""The Settings window: every change is saved at once, keys go to the keyring, everything is named."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication, QPalette
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractSpinBox,
    QApplication,
    QComboBox,
    QLabel,
    QLineEdit,
    QListWidget,
    QTabBar,
    QToolButton,
    QWidget,
)

from app.ui.settings import SESSION_SECRETS, SettingsDialog
from app.ui.theme import apply_theme, is_dark
from wizard.secrets import get_secret
from wizard.settings import Settings, load_settings, save_settings
from wizard.settings_secrets import LOCAL_API_TOKEN, REMOTE_ENGINE_KEY

INTERACTIVE = (QAbstractButton, QAbstractSpinBox, QComboBox, QLineEdit, QListWidget, QTabBar)


def _qt_internal(widget: QWidget) -> bool:
    """Parts Qt builds inside a named widget (a spin box's text field, a tab bar's scroll arrows)."""
    return isinstance(widget.parent(), QAbstractSpinBox) or (
        isinstance(widget, QToolButton) and isinstance(widget.parent(), QTabBar))


def saved() -> Settings:
    return load_settings().settings


def test_every_interactive_widget_has_an_accessible_name(dialog: SettingsDialog) -> None:
    dialog.performance.advanced.setChecked(True)
    dialog.local_api.enabled.setChecked(False)
    unnamed = [f"{type(w).__name__} {getattr(w, 'text', lambda: '')()!r}"
               for w in dialog.findChildren(QWidget) if isinstance(w, INTERACTIVE) and not w.accessibleName()
               and not _qt_internal(w)]
    assert unnamed == []
    assert dialog.tabs.count() == 7
    assert [dialog.tabs.widget(i).accessibleName() for i in range(7)] == [
        "Model", "Performance", "Engine", "Downloads", "Local API", "Appearance", "Your data"]


def test_keyboard_reaches_every_section(dialog: SettingsDialog, qtbot) -> None:
    dialog.tabs.setFocus()
    for index in range(1, dialog.tabs.count()):
        qtbot.keyClick(dialog.tabs, Qt.Key.Key_Tab, Qt.KeyboardModifier.ControlModifier)
        assert dialog.tabs.currentIndex() == index


def test_performance_is_automatic_until_changed_and_each_change_is_saved(dialog: SettingsDialog, qtbot) -> None:
    page = dialog.performance
    assert page.details.isHidden() and page.context.automatic.isChecked()
    page.advanced.setChecked(True)
    assert not page.details.isHidden()
    page.context.automatic.setChecked(False)
    assert saved().context_size == page.context.number.value()
    page.context.number.setValue(8192)
    page.context.number.editingFinished.emit()
    assert saved().context_size == 8192
    page.threads.automatic.setChecked(False)
    page.threads.number.setValue(3)
    page.threads.number.editingFinished.emit()
    assert saved().threads == 3
    page.context.automatic.setChecked(True)
    assert saved().context_size is None and saved().threads == 3
    assert not page.context.number.isEnabled()


def test_reopening_shows_what_was_saved(qtbot, boxes) -> None:
    save_settings(Settings(context_size=4096, threads=2, theme="dark", local_api=False))
    window = SettingsDialog()
    qtbot.addWidget(window)
    assert window.performance.advanced.isChecked()
    assert window.performance.context.value() == 4096 and window.performance.threads.value() == 2
    assert window.appearance.buttons["dark"].isChecked()


def test_the_theme_is_applied_live_and_saved(dialog: SettingsDialog, qtbot) -> None:
    app = QApplication.instance()
    try:
        dialog.appearance.buttons["dark"].click()
        assert saved().theme == "dark"
        assert is_dark(app.palette())
        qtbot.waitUntil(lambda: is_dark(dialog.palette()), timeout=3000)  # the open window follows
        dialog.appearance.buttons["light"].click()
        assert saved().theme == "light" and not is_dark(app.palette())
        dialog.appearance.buttons["system"].click()
        assert saved().theme == "system"
    finally:
        apply_theme(app, "system")


def test_theme_switch_changes_the_palette(qtbot) -> None:
    app = QApplication.instance()
    try:
        apply_theme(app, "system")
        system_window = app.palette().color(QPalette.ColorRole.Window)
        apply_theme(app, "dark")
        dark = app.palette()
        assert is_dark(dark) and dark.color(QPalette.ColorRole.Window) != system_window
        assert dark.color(QPalette.ColorRole.WindowText).lightness() > 180  # readable text on dark
        apply_theme(app, "light")
        assert not is_dark(app.palette())
        apply_theme(app, "nonsense")  # treated as "system"
        assert app.palette().color(QPalette.ColorRole.Window) == system_window
    finally:
        apply_theme(app, "system")


def test_a_remote_server_is_saved_with_its_key_in_the_keyring(dialog: SettingsDialog, keyring_memory) -> None:
    page = dialog.engine
    assert page.local.isChecked() and not page.remote_box.isEnabled()
    page.remote.setChecked(True)
    assert page.remote_box.isEnabled()
    page.url.setText("http://192.168.1.20:8080/v1")
    page.key.setText("sk-house-server-key")
    page.use_button.click()
    assert saved().engine == "remote" and saved().remote_url == "http://192.168.1.20:8080/v1"
    assert get_secret(*REMOTE_ENGINE_KEY) == "sk-house-server-key"
    assert "sk-house-server-key" not in load_settings().path.read_text()
    page.local.setChecked(True)
    assert saved().engine == "local" and saved().remote_url == "http://192.168.1.20:8080/v1"


def test_a_bad_address_is_refused_with_a_plain_message(dialog: SettingsDialog, boxes, keyring_memory, qtbot) -> None:
    page = dialog.engine
    page.remote.setChecked(True)
    page.url.setText("192.168.1.20:8080")
    assert page.use_server() is False and saved().engine == "local"
    qtbot.waitUntil(lambda: bool(boxes.seen), timeout=3000)
    assert "http://" in boxes.texts()
    page.start_test()
    assert "http://" in page.result.text()


def test_local_api_is_off_by_default_and_on_shows_address_and_a_token_to_copy(dialog: SettingsDialog,
                                                                             keyring_memory) -> None:
    page = dialog.local_api
    assert not page.enabled.isChecked() and page.details.isHidden()
    page.enabled.setChecked(True)
    assert saved().local_api
    token = get_secret(*LOCAL_API_TOKEN)
    assert token and page.token.text() == token
    assert page.address.text() == "http://127.0.0.1:8731/v1"
    page.copy_token.click()
    assert QGuiApplication.clipboard().text() == token
    page.new_token.click()
    assert get_secret(*LOCAL_API_TOKEN) != token and page.token.text() == get_secret(*LOCAL_API_TOKEN)
    assert token not in load_settings().path.read_text()
    page.enabled.setChecked(False)
    assert not saved().local_api


def test_without_a_keyring_the_token_can_be_kept_for_this_session(dialog: SettingsDialog, boxes, qtbot) -> None:
    boxes.answers.append("Keep it for this session only")
    dialog.local_api.enabled.setChecked(True)
    assert "no secure place" in boxes.texts()
    token = SESSION_SECRETS.get(*LOCAL_API_TOKEN)
    assert token and dialog.local_api.token.text() == token
    assert token not in load_settings().path.read_text()


def test_without_a_keyring_declining_keeps_no_token(dialog: SettingsDialog, boxes) -> None:
    dialog.local_api.enabled.setChecked(True)  # the box is dismissed
    assert SESSION_SECRETS.get(*LOCAL_API_TOKEN) is None
    assert dialog.local_api.token.text() == "" and "no token" in dialog.local_api.note.text()


def test_a_damaged_settings_file_is_shown_as_a_notice(qtbot, boxes) -> None:
    path = load_settings().path
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("this is not = = toml")
    window = SettingsDialog()
    qtbot.addWidget(window)
    assert window.state.notice is not None and window.state.settings == Settings()
    assert any(label.accessibleName() == "Settings notice" and "damaged" in label.text()
               for label in window.findChildren(QLabel))
