"""The Windows and macOS scripts cannot run here; check what can be checked of them."""

from __future__ import annotations

import plistlib
import re
import shutil
import subprocess

import pytest

from tests.packaging.support import REPO, spec_support

PACKAGING = REPO / "packaging"
# Each entitlement weakens the hardened runtime; a new one needs its reason in the plist's comment.
ALLOWED_ENTITLEMENTS = {"com.apple.security.cs.allow-unsigned-executable-memory"}


def test_macos_entitlements_are_only_the_documented_ones() -> None:
    raw = (PACKAGING / "macos" / "entitlements.plist").read_bytes()
    entitlements = plistlib.loads(raw)
    assert set(entitlements) == ALLOWED_ENTITLEMENTS
    assert all(value is True for value in entitlements.values())
    comment = raw.decode().split("<!--", 1)[1].split("-->", 1)[0]
    for key in entitlements:
        assert key in comment  # each one explained


def test_build_dmg_script_is_valid_bash_and_uses_the_entitlements() -> None:
    script = PACKAGING / "macos" / "build_dmg.sh"
    if shutil.which("bash") is None:
        pytest.skip("no bash")
    assert subprocess.run(["bash", "-n", str(script)], capture_output=True).returncode == 0
    text = script.read_text()
    assert "--options runtime" in text and "packaging/macos/entitlements.plist" in text
    for size in re.findall(r"hearth-(\d+)\.png", text) + ["16", "32", "64", "128", "256", "512"]:
        assert (REPO / "assets" / "icons" / f"hearth-{size}.png").is_file(), size


def test_windows_installer_is_per_user_and_asks_before_deleting_user_data() -> None:
    text = (PACKAGING / "windows" / "hearth.iss").read_text()
    settings = dict(re.findall(r"^(\w+)=(.*)$", text, re.MULTILINE))
    assert settings["PrivilegesRequired"] == "lowest"
    assert settings["DefaultDirName"] == "{autopf}\\Hearth"
    assert (REPO / settings["SetupIconFile"].replace("\\", "/")).is_file()
    assert f'build\\dist\\{spec_support.APP_NAME}\\*' in text
    assert "{userprograms}" in text  # Start-menu entry
    assert "MB_DEFBUTTON2" in text and "UninstallSilent" in text  # keeping the data is the default
