"""The Windows and macOS scripts cannot run here; check what can be checked of them."""

from __future__ import annotations

import os
import plistlib
import re
import shutil
import struct
import subprocess
from pathlib import Path

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
    for each in (script, PACKAGING / "macos" / "sign_app.sh"):
        assert subprocess.run(["bash", "-n", str(each)], capture_output=True).returncode == 0, each
    text = script.read_text()
    assert "--options runtime" in (PACKAGING / "macos" / "sign_app.sh").read_text()
    assert "packaging/macos/entitlements.plist" in text
    for size in re.findall(r"hearth-(\d+)\.png", text) + ["16", "32", "64", "128", "256", "512"]:
        assert (REPO / "assets" / "icons" / f"hearth-{size}.png").is_file(), size


def test_build_dmg_never_expands_a_possibly_empty_array_bare() -> None:
    # macOS's /bin/bash 3.2 with `set -u` stops at "${a[@]}" when the array is empty.
    text = (PACKAGING / "macos" / "build_dmg.sh").read_text()
    assert 'model_args=()' in text and '${model_args[@]+"${model_args[@]}"}' in text
    for match in re.finditer(r'"\$\{(\w+)\[@\]\}"', text):
        name = match.group(1)
        assert text[:match.start()].endswith("${" + name + "[@]+"), f"bare \"${{{name}[@]}}\" in build_dmg.sh"
    assert "bash packaging/macos/sign_app.sh" in text


MACH_O_TYPES = {"executable": 2, "library": 6, "bundle": 8}  # mach-o/loader.h MH_EXECUTE, MH_DYLIB, MH_BUNDLE


def mach_o(path: Path, kind: str) -> Path:
    """A file with a real 64-bit arm64 Mach-O header (file(1) reads the header, nothing more)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(struct.pack("<IiiIIIII", 0xFEEDFACF, 0x0100000C, 0, MACH_O_TYPES[kind], 0, 0, 0, 0))
    return path


@pytest.fixture
def frozen_app(tmp_path: Path) -> Path:
    """Hearth.app laid out the way PyInstaller 6 builds it on macOS, with Qt framework bundles."""
    app = tmp_path / "Hearth.app"
    contents = app / "Contents"
    mach_o(contents / "MacOS" / "Hearth", "executable")
    mach_o(contents / "Frameworks" / "Python", "library")
    mach_o(contents / "Frameworks" / "llama_cpp" / "lib" / "libllama.dylib", "library")
    mach_o(contents / "Frameworks" / "PySide6" / "QtCore.abi3.so", "bundle")
    mach_o(contents / "Frameworks" / "helpers" / "hearth-helper", "executable")
    for name in ("QtCore", "QtGui"):
        framework = contents / "Frameworks" / "PySide6" / "Qt" / "lib" / f"{name}.framework"
        mach_o(framework / "Versions" / "A" / name, "library")
        (framework / "Versions" / "A" / "Resources").mkdir()
        (framework / "Versions" / "A" / "Resources" / "Info.plist").write_bytes(plistlib.dumps({"CFBundleName": name}))
        (framework / "Versions" / "Current").symlink_to("A")
        (framework / name).symlink_to(f"Versions/Current/{name}")
        (framework / "Resources").symlink_to("Versions/Current/Resources")
    (contents / "Resources" / "recipes").mkdir(parents=True)
    (contents / "Resources" / "recipes" / "writer.toml").write_text('id = "writer"\n')
    (contents / "Info.plist").write_bytes(plistlib.dumps({"CFBundleExecutable": "Hearth"}))
    (contents / "MacOS" / "libQt6Core.dylib").symlink_to("../Frameworks/llama_cpp/lib/libllama.dylib")
    return app


@pytest.mark.skipif(shutil.which("bash") is None or shutil.which("file") is None, reason="needs bash and file(1)")
def test_sign_app_signs_every_mach_o_file_inside_out(frozen_app: Path, tmp_path: Path) -> None:
    # codesign exists only on macOS: a stand-in on PATH writes down each call, in order.
    tools = tmp_path / "tools"
    tools.mkdir()
    calls = tmp_path / "codesign-calls.txt"
    (tools / "codesign").write_text(f'#!/bin/sh\nprintf "%s\\n" "$*" >> "{calls}"\n')
    (tools / "codesign").chmod(0o755)
    entitlements = PACKAGING / "macos" / "entitlements.plist"
    env = dict(os.environ, PATH=f"{tools}{os.pathsep}{os.environ['PATH']}")

    done = subprocess.run(["bash", str(PACKAGING / "macos" / "sign_app.sh"), str(frozen_app), "Developer ID Test",
                           str(entitlements)], env=env, capture_output=True, text=True, timeout=60)

    assert done.returncode == 0, done.stderr
    lines = calls.read_text().splitlines()
    assert lines[-1] == f"--verify --deep --strict --verbose=2 {frozen_app}"
    signs = lines[:-1]
    assert all(line.startswith("--force --timestamp --options runtime --sign Developer ID Test ") for line in signs)
    signed = [line.rsplit(" ", 1)[1] for line in signs]
    contents = frozen_app / "Contents"
    qt_lib = contents / "Frameworks" / "PySide6" / "Qt" / "lib"
    frameworks = [qt_lib / f"{name}.framework" for name in ("QtCore", "QtGui")]
    mach_o_files = {str(p) for p in contents.rglob("*") if p.is_file() and not p.is_symlink()
                    and p.read_bytes()[:4] == b"\xcf\xfa\xed\xfe"}
    assert set(signed) == mach_o_files | {str(f) for f in frameworks} | {str(frozen_app)}
    assert len(signed) == len(set(signed))  # each once
    assert signed[-2:] == [str(contents / "MacOS" / "Hearth"), str(frozen_app)]
    main = signed.index(str(contents / "MacOS" / "Hearth"))
    for framework in frameworks:
        binary = framework / "Versions" / "A" / framework.stem
        assert signed.index(str(binary)) < signed.index(str(framework)) < main  # inside out
    with_entitlements = {line.rsplit(" ", 1)[1] for line in signs if f"--entitlements {entitlements}" in line}
    assert with_entitlements == {str(contents / "Frameworks" / "helpers" / "hearth-helper"),
                                 str(contents / "MacOS" / "Hearth"), str(frozen_app)}


def test_windows_installer_is_per_user_and_asks_before_deleting_user_data() -> None:
    text = (PACKAGING / "windows" / "hearth.iss").read_text()
    settings = dict(re.findall(r"^(\w+)=(.*)$", text, re.MULTILINE))
    assert settings["PrivilegesRequired"] == "lowest"
    assert settings["DefaultDirName"] == "{autopf}\\Hearth"
    assert (REPO / settings["SetupIconFile"].replace("\\", "/")).is_file()
    assert f'build\\dist\\{spec_support.APP_NAME}\\*' in text
    assert "{userprograms}" in text  # Start-menu entry
    assert "MB_DEFBUTTON2" in text and "UninstallSilent" in text  # keeping the data is the default
