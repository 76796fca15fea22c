"""Portable mode in the macOS app: the marker sits beside Hearth.app, never inside the signed bundle."""

from __future__ import annotations

from pathlib import Path

import pytest

from wizard import paths
from wizard.paths import hearth_paths


@pytest.fixture
def usb_stick(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """A stick holding Hearth.app, with Hearth running from it as the frozen macOS app."""
    monkeypatch.delenv("HEARTH_HOME")
    for name in ("DATA", "CONFIG", "CACHE", "STATE"):
        monkeypatch.setenv(f"XDG_{name}_HOME", str(tmp_path / f"xdg-{name.lower()}"))
    stick = tmp_path / "usb-stick"
    executable = stick / "Hearth.app" / "Contents" / "MacOS" / "Hearth"
    executable.parent.mkdir(parents=True)
    executable.write_bytes(b"\xcf\xfa\xed\xfe")  # a Mach-O header is all the path logic looks at
    monkeypatch.setattr(paths.sys, "platform", "darwin")
    monkeypatch.setattr(paths.sys, "frozen", True, raising=False)
    monkeypatch.setattr(paths.sys, "executable", str(executable))
    return stick


def test_the_marker_beside_the_app_keeps_everything_on_the_stick(usb_stick: Path) -> None:
    assert paths.program_folder() == usb_stick
    assert paths.portable_root() is None  # no marker yet
    (usb_stick / paths.PORTABLE_MARKER).write_text("", encoding="utf-8")

    found = hearth_paths()

    assert paths.portable_root() == usb_stick / paths.PORTABLE_FOLDER
    folders = [found.config, found.data, found.models, found.cache, found.logs]
    assert all(folder.is_relative_to(usb_stick / paths.PORTABLE_FOLDER) for folder in folders)
    assert not (usb_stick / "Hearth.app" / "Contents" / "MacOS" / paths.PORTABLE_FOLDER).exists()


def test_a_marker_inside_the_signed_app_is_not_looked_for(usb_stick: Path) -> None:
    (usb_stick / "Hearth.app" / "Contents" / "MacOS" / paths.PORTABLE_MARKER).write_text("", encoding="utf-8")
    assert paths.portable_root() is None


def test_a_renamed_app_on_the_stick_still_finds_its_marker(usb_stick: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    renamed = usb_stick / "Hearth for Anna.app"
    (usb_stick / "Hearth.app").rename(renamed)
    monkeypatch.setattr(paths.sys, "executable", str(renamed / "Contents" / "MacOS" / "Hearth"))
    (usb_stick / paths.PORTABLE_MARKER).write_text("", encoding="utf-8")
    assert paths.portable_root() == usb_stick / paths.PORTABLE_FOLDER


def test_outside_an_app_bundle_the_marker_goes_beside_the_executable(
        usb_stick: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A one-folder build run straight from build/dist on a Mac (no .app around it).
    folder = usb_stick / "Hearth"
    folder.mkdir()
    monkeypatch.setattr(paths.sys, "executable", str(folder / "Hearth"))
    assert paths.program_folder() == folder


def test_on_linux_the_same_layout_keeps_the_marker_beside_the_executable(
        usb_stick: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(paths.sys, "platform", "linux")
    assert paths.program_folder() == usb_stick / "Hearth.app" / "Contents" / "MacOS"
