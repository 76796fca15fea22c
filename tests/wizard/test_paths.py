from __future__ import annotations

from pathlib import Path

import pytest

from wizard import paths
from wizard.paths import hearth_paths


def test_hearth_home_relocates_every_folder(hearth_home: Path) -> None:
    found = hearth_paths()
    folders = [found.config, found.data, found.models, found.cache, found.logs]
    assert all(folder.is_relative_to(hearth_home) for folder in folders)
    assert len(set(folders)) == len(folders), "two kinds of data share a folder"
    assert found.log_file.parent == found.logs


def test_ensure_creates_the_folders_and_is_repeatable(hearth_home: Path) -> None:
    found = hearth_paths().ensure()
    found.ensure()
    assert all(folder.is_dir() for folder in (found.config, found.data, found.models, found.cache, found.logs))


def test_without_hearth_home_the_os_conventions_apply(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("HEARTH_HOME")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg-state"))
    found = hearth_paths()
    assert found.data == tmp_path / "xdg-data" / "Hearth"
    assert found.config == tmp_path / "xdg-config" / "Hearth"
    assert found.cache == tmp_path / "xdg-cache" / "Hearth"
    assert found.models == found.data / "models"
    assert "Hearth" in found.logs.parts


def test_a_changed_hearth_home_takes_effect_at_once(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HEARTH_HOME", str(tmp_path / "stick"))
    assert hearth_paths().data == (tmp_path / "stick" / "data").resolve()


def test_shipped_resources_are_found() -> None:
    assert paths.recipes_dir().name == "recipes"
    assert (paths.resources_root() / "pyproject.toml").exists()


@pytest.fixture
def os_default_layout(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.delenv("HEARTH_HOME")
    for name in ("DATA", "CONFIG", "CACHE", "STATE"):
        monkeypatch.setenv(f"XDG_{name}_HOME", str(tmp_path / f"xdg-{name.lower()}"))
    return tmp_path


def test_data_moved_to_another_folder_is_used_from_then_on(os_default_layout: Path) -> None:
    elsewhere = os_default_layout / "big-disk" / "Hearth"
    paths.set_data_location(elsewhere)
    found = hearth_paths()
    assert found.data == elsewhere and found.models == elsewhere / "models"
    assert found.config == os_default_layout / "xdg-config" / "Hearth"  # the pointer itself stays put
    paths.set_data_location(None)
    assert hearth_paths().data == os_default_layout / "xdg-data" / "Hearth"


@pytest.mark.parametrize("content", ["not json", '{"data": "relative/path"}', '["a list"]', '{"data": 5}'])
def test_a_damaged_location_setting_falls_back_to_the_default(os_default_layout: Path, content: str) -> None:
    config = os_default_layout / "xdg-config" / "Hearth"
    config.mkdir(parents=True)
    (config / paths.LOCATION_FILE).write_text(content, encoding="utf-8")
    assert hearth_paths().data == os_default_layout / "xdg-data" / "Hearth"


def test_the_portable_marker_beside_the_program_keeps_everything_beside_it(
        os_default_layout: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    stick = os_default_layout / "usb-stick" / "Hearth"
    stick.mkdir(parents=True)
    monkeypatch.setattr(paths.sys, "frozen", True, raising=False)
    monkeypatch.setattr(paths.sys, "executable", str(stick / "hearth"))
    assert hearth_paths().data == os_default_layout / "xdg-data" / "Hearth"  # no marker yet
    (stick / paths.PORTABLE_MARKER).write_text("", encoding="utf-8")
    found = hearth_paths()
    folders = [found.config, found.data, found.models, found.cache, found.logs]
    assert all(folder.is_relative_to(stick / paths.PORTABLE_FOLDER) for folder in folders)


def test_portable_mode_needs_a_frozen_program(os_default_layout: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    source_tree = Path(paths.__file__).resolve().parents[1]
    assert not (source_tree / paths.PORTABLE_MARKER).exists()
    monkeypatch.setattr(paths.sys, "executable", str(os_default_layout / "python"))
    (os_default_layout / paths.PORTABLE_MARKER).write_text("", encoding="utf-8")
    assert paths.portable_root() is None
