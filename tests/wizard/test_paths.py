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
