"""Settings → Model and Engine against real parts: the tiny model file, the real engine process."""

from __future__ import annotations

import shutil
import socket
from pathlib import Path

import pytest
import shiboken6
from PySide6.QtCore import Qt

from app.ui.settings import SettingsDialog
from wizard.download.partial import FileLock
from wizard.engine import LoadPlan, LocalEngine
from wizard.models import ModelRegistry, ModelSource, register_file
from wizard.paths import hearth_paths, recipes_dir
from wizard.profiles import write_setup
from wizard.recipes.plan import profiles_dir
from wizard.settings import load_settings


@pytest.fixture
def installed_copy(tiny_model: Path) -> Path:
    """The tiny model copied into the models folder and registered, as a download leaves it."""
    target = hearth_paths().models / "owner--tiny" / tiny_model.name
    target.parent.mkdir(parents=True)
    shutil.copyfile(tiny_model, target)
    register_file(target, source=ModelSource(kind="manual"))
    return target


def _settings_window(qtbot) -> SettingsDialog:
    window = SettingsDialog()
    qtbot.addWidget(window)
    window.show()
    return window


def test_remove_asks_then_deletes_the_file_and_shows_the_space_freed(installed_copy: Path, qtbot, boxes) -> None:
    window = _settings_window(qtbot)
    page = window.models
    assert page.model_list.count() == 1 and "98" in page.model_list.item(0).text()
    size = installed_copy.stat().st_size

    assert page.remove_selected() is None  # the question is dismissed: nothing happens
    assert installed_copy.exists() and page.model_list.count() == 1
    assert "98.1 MB" in boxes.texts() or f"{size / 1e6:.1f} MB" in boxes.texts()

    boxes.answers.append("Delete the model")
    handle = page.remove_selected()  # the file is deleted off the UI thread
    qtbot.waitUntil(lambda: not handle.running, timeout=10000)
    assert not installed_copy.exists() and not installed_copy.parent.exists()
    assert ModelRegistry().list() == [] and page.model_list.count() == 0
    assert f"{size / 1e6:.1f} MB freed" in page.status.text()
    assert not page.remove_button.isEnabled()


def test_settings_can_close_while_a_model_is_being_removed(installed_copy: Path, qtbot, boxes,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    from app.ui.settings import models_page

    window = SettingsDialog()  # as the main window opens it: deleted when closed
    window.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    window.show()
    page = window.models
    registry = ModelRegistry()
    busy = FileLock(registry.file.with_name(registry.file.name + ".lock"))  # another Hearth writing the list
    asked = models_page.ask

    def yes_then_busy(*args, **kwargs) -> bool:  # the removal then waits for the list
        answer = asked(*args, **kwargs)
        busy.__enter__()
        return answer

    monkeypatch.setattr(models_page, "ask", yes_then_busy)
    boxes.answers.append("Delete the model")
    try:
        handle = page.remove_selected()
        assert page.status.text().startswith("Removing ") and not page.remove_button.isEnabled()
        page.model_list.setCurrentRow(0)  # choosing again does not offer a second removal meanwhile
        assert not page.remove_button.isEnabled()
        window.close()  # deleted: the removal's outcome has no window to show in
        qtbot.waitUntil(lambda: not shiboken6.isValid(page), timeout=5000)
        assert handle.running
    finally:
        busy.__exit__(None, None, None)
    qtbot.waitUntil(lambda: not handle.running, timeout=15000)
    assert not installed_copy.exists() and registry.list() == []


def test_add_a_model_file_checks_it_lists_it_and_never_deletes_it(tiny_model: Path, qtbot, boxes,
                                                                   tmp_path: Path) -> None:
    window = _settings_window(qtbot)
    page = window.models
    handle = page.add_file(tiny_model)
    qtbot.waitUntil(lambda: not handle.running and page.model_list.count() == 1, timeout=30000)
    [model] = ModelRegistry().list()
    assert Path(model.path) == tiny_model and model.size == tiny_model.stat().st_size
    assert "Added" in page.status.text()

    boxes.answers += ["Delete the model", "Take it off the list, keep the file"]
    handle = page.remove_selected()  # outside Hearth's models folder: Hearth will not delete it
    qtbot.waitUntil(lambda: not handle.running, timeout=10000)
    assert tiny_model.is_file() and ModelRegistry().list() == []
    assert "not in Hearth's models folder" in boxes.texts()

    not_a_model = tmp_path / "notes.gguf"
    not_a_model.write_text("shopping list: bread, milk\n" * 10)
    handle = page.add_file(not_a_model)
    qtbot.waitUntil(lambda: len(boxes.seen) == 3 and not handle.running, timeout=10000)
    assert "GGUF" in boxes.seen[-1][1] or "model file" in boxes.seen[-1][1]
    assert ModelRegistry().list() == [] and page.add_button.isEnabled()


def test_an_assistant_can_be_switched_to_another_installed_model(installed_copy: Path, qtbot, boxes) -> None:
    folder = profiles_dir() / "everyday-assistant"
    folder.mkdir(parents=True)
    shutil.copyfile(recipes_dir() / "everyday-assistant.toml", folder / "recipe.toml")
    (folder / "profile.json").write_text("{}")
    write_setup(folder, person_name="Ann", model_name="tiny", model_path=installed_copy, model_repo=None,
                model_file=None, load_plan=None)
    window = _settings_window(qtbot)
    page = window.models
    assert page.assistant_box.count() == 1 and page.assistant_box.currentData() == "everyday-assistant"
    assert page.assistant_model_box.currentText() == "The assistant's own model"
    index = page.assistant_model_box.findData(ModelRegistry().list()[0].id)
    page.assistant_model_box.setCurrentIndex(index)
    page.assistant_model_box.activated.emit(index)
    assert load_settings().settings.model_for("everyday-assistant") == ModelRegistry().list()[0].id
    page.assistant_model_box.setCurrentIndex(0)
    page.assistant_model_box.activated.emit(0)
    assert load_settings().settings.model_for("everyday-assistant") is None


@pytest.fixture(scope="module")
def engine(tiny_model: Path):
    with LocalEngine(tiny_model, LoadPlan(n_ctx=512, n_threads=2)) as running:
        yield running


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # nothing listens once the socket is closed


def _test(window: SettingsDialog, qtbot, url: str, key: str) -> str:
    page = window.engine
    page.remote.setChecked(True)
    page.url.setText(url)
    page.key.setText(key)
    handle = page.start_test()
    assert handle is not None and not page.test_button.isEnabled()  # the window stays usable meanwhile
    qtbot.waitUntil(lambda: not handle.running and page.test_button.isEnabled(), timeout=30000)
    qtbot.waitUntil(lambda: page.result.text() != "Testing…", timeout=5000)
    return page.result.text()


def test_connection_to_a_real_openai_compatible_server(engine: LocalEngine, qtbot, boxes) -> None:
    window = _settings_window(qtbot)
    assert _test(window, qtbot, engine.base_url, engine.token).startswith("Connected.")
    wrong_key = _test(window, qtbot, engine.base_url, "not-the-token")
    assert wrong_key.startswith("Not connected.") and "key" in wrong_key.lower()
    closed = _test(window, qtbot, f"http://127.0.0.1:{_closed_port()}/v1", "")
    assert closed.startswith("Not connected.") and "Traceback" not in closed
    assert load_settings().settings.engine == "local"  # testing changes nothing
    assert boxes.seen == []
