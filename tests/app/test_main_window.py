from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QUrl
from PySide6.QtGui import QDesktopServices, QKeySequence
from PySide6.QtWidgets import QAbstractButton, QComboBox, QLineEdit, QMessageBox, QTextEdit, QWidget

from app.error_dialog import UNEXPECTED_MESSAGE, build_error_box, error_texts
from app.main_window import MainWindow
from app.ui.welcome import WELCOME_TITLE
from wizard.errors import HearthError
from wizard.paths import hearth_paths

INTERACTIVE = (QAbstractButton, QLineEdit, QTextEdit, QComboBox)


@pytest.fixture
def window(qtbot) -> MainWindow:
    window = MainWindow()
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(lambda: window.welcome_page is not None, timeout=10_000)  # built after the first paint
    return window


def test_the_window_welcomes_in_plain_words(window: MainWindow) -> None:
    texts = [label.text() for label in window.findChildren(QWidget) if hasattr(label, "text")]
    assert window.windowTitle() == "Hearth"
    assert WELCOME_TITLE in texts
    assert any("privately, on this computer" in str(text) for text in texts)
    assert any(str(hearth_paths().data) in str(text) for text in texts)


def test_every_interactive_widget_has_an_accessible_name(window: MainWindow) -> None:
    unnamed = [type(w).__name__ for w in window.findChildren(QWidget)
               if isinstance(w, INTERACTIVE) and w.isVisible() and not w.accessibleName()]
    assert unnamed == []


def test_open_my_files_creates_and_opens_the_data_folder(window: MainWindow, qtbot, monkeypatch) -> None:
    opened: list[QUrl] = []
    # No file manager exists here; record what would have been opened.
    monkeypatch.setattr(QDesktopServices, "openUrl", opened.append)
    window.welcome_page.open_folder_button.click()
    assert opened == [QUrl.fromLocalFile(str(hearth_paths().data))]
    assert hearth_paths().data.is_dir()


def test_window_size_is_remembered(qtbot) -> None:
    first = MainWindow()
    qtbot.addWidget(first)
    first.show()
    first.resize(701, 511)
    first.close()
    second = MainWindow()
    qtbot.addWidget(second)
    assert (second.width(), second.height()) == (701, 511)
    assert (hearth_paths().config / "window.ini").exists()


def test_a_hearth_error_is_shown_as_message_hint_and_details(qtbot) -> None:
    error = HearthError("The model file is damaged.", hint="Download it again.", details="bad magic")
    box = build_error_box(None, error)
    qtbot.addWidget(box)
    assert box.text() == "The model file is damaged."
    assert box.informativeText() == "Download it again."
    assert "bad magic" in box.detailedText()
    assert box.icon() == QMessageBox.Icon.Warning


def test_an_unexpected_error_gets_a_calm_message_and_the_log_path(hearth_home: Path) -> None:
    try:
        raise KeyError("frobnicator")
    except KeyError as exc:
        message, hint, details = error_texts(exc)
    assert message == UNEXPECTED_MESSAGE
    assert str(hearth_paths().log_file) in hint
    assert "KeyError" in details and "frobnicator" in details


def test_the_window_is_drawn_first_and_its_content_built_right_after(qtbot) -> None:
    window = MainWindow()
    qtbot.addWidget(window)
    assert window.welcome_page is None and window.placeholder.text() == "Getting ready…"
    with qtbot.waitSignal(window.content_ready, timeout=10_000):
        window.show()
    assert window.welcome_page is window.centralWidget()
    qtbot.waitUntil(window.welcome_page.isVisible, timeout=5000)
    for action, key in ((window.quit_action, QKeySequence.StandardKey.Quit),
                        (window.settings_action, QKeySequence.StandardKey.Preferences)):
        assert action.shortcuts() == QKeySequence.keyBindings(key)  # added with the content
