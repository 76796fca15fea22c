"""The Linux release archive and its per-user install script, on a small real folder."""

from __future__ import annotations

import configparser
import os
import shutil
import socket
import stat
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import pytest

from tests.packaging.support import build_linux
from wizard import __version__

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def small_bundle(tmp_path: Path) -> Path:
    """A folder laid out like PyInstaller's (executable, _internal, a library symlink)."""
    bundle = tmp_path / "bundle" / "Hearth"
    (bundle / "_internal" / "PySide6").mkdir(parents=True)
    executable = bundle / "Hearth"
    executable.write_text("#!/bin/sh\necho 'Hearth test build'\n")
    executable.chmod(0o755)
    (bundle / "_internal" / "PySide6" / "libQt6Core.so.6").write_bytes(b"\x7fELF" + b"\0" * 60)
    (bundle / "_internal" / "libQt6Core.so.6").symlink_to("PySide6/libQt6Core.so.6")
    return bundle


@pytest.fixture
def unpacked(small_bundle: Path, tmp_path: Path) -> Path:
    archive = build_linux.assemble_release(small_bundle, tmp_path / "dist", "Hearth-9.9-linux-x86_64")
    with tarfile.open(archive) as opened:
        opened.extractall(tmp_path / "unpacked", filter="tar")
    return tmp_path / "unpacked" / "Hearth-9.9-linux-x86_64"


def test_the_archive_holds_the_app_desktop_file_icon_and_installer(small_bundle: Path, tmp_path: Path) -> None:
    archive = build_linux.assemble_release(small_bundle, tmp_path / "dist", "Hearth-9.9-linux-x86_64")

    assert archive == tmp_path / "dist" / "Hearth-9.9-linux-x86_64.tar.gz"
    assert [p.name for p in archive.parent.iterdir()] == [archive.name]  # no partial left behind
    with tarfile.open(archive) as opened:
        members = {m.name: m for m in opened.getmembers()}
    top = "Hearth-9.9-linux-x86_64"
    assert {f"{top}/Hearth/Hearth", f"{top}/hearth.desktop", f"{top}/hearth.png", f"{top}/install.sh"} <= set(members)
    assert members[f"{top}/Hearth/Hearth"].mode & stat.S_IXUSR
    assert members[f"{top}/install.sh"].mode & stat.S_IXUSR
    link = members[f"{top}/Hearth/_internal/libQt6Core.so.6"]
    assert link.issym() and link.linkname == "PySide6/libQt6Core.so.6"
    assert {m.uid for m in members.values()} == {0} and {m.uname for m in members.values()} == {""}


def test_a_folder_without_the_app_is_refused(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="build the app first"):
        build_linux.assemble_release(tmp_path, tmp_path / "dist", "Hearth-x")


def run_install(unpacked: Path, home: Path, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, HOME=str(home), XDG_DATA_HOME=str(home / ".local" / "share"))
    return subprocess.run(["sh", str(unpacked / "install.sh"), *args], env=env, capture_output=True, text=True,
                          timeout=60)


def test_install_upgrade_and_uninstall_for_one_user(unpacked: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"
    share = home / ".local" / "share"
    user_data = share / "Hearth" / "models" / "my-model.gguf"  # what the person's Hearth keeps
    user_data.parent.mkdir(parents=True)
    user_data.write_bytes(b"weights")

    first = run_install(unpacked, home)
    assert first.returncode == 0, first.stderr
    app = share / "Hearth-app" / "Hearth"
    assert subprocess.run([str(app)], capture_output=True, text=True).stdout == "Hearth test build\n"
    assert (share / "Hearth-app" / "_internal" / "libQt6Core.so.6").is_symlink()
    entry = configparser.ConfigParser(interpolation=None)
    entry.optionxform = str
    entry.read(share / "applications" / "hearth.desktop")
    desktop = entry["Desktop Entry"]
    assert desktop["Exec"] == f'"{app}"' and desktop["TryExec"] == str(app)
    assert desktop["Icon"] == "hearth" and desktop["Terminal"] == "false" and desktop["Type"] == "Application"
    assert (share / "icons" / "hicolor" / "256x256" / "apps" / "hearth.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    (unpacked / "Hearth" / "Hearth").write_text("#!/bin/sh\necho 'Hearth newer build'\n")
    again = run_install(unpacked, home)
    assert again.returncode == 0, again.stderr
    assert subprocess.run([str(app)], capture_output=True, text=True).stdout == "Hearth newer build\n"
    assert sorted(p.name for p in share.iterdir()) == ["Hearth", "Hearth-app", "applications", "icons"]

    gone = run_install(unpacked, home, "--uninstall")
    assert gone.returncode == 0
    assert not (share / "Hearth-app").exists() and not (share / "applications" / "hearth.desktop").exists()
    assert user_data.read_bytes() == b"weights"  # models and chats are never touched
    assert "still in" in gone.stdout


def test_install_from_an_incomplete_folder_explains_itself(unpacked: Path, tmp_path: Path) -> None:
    (unpacked / "Hearth" / "Hearth").unlink()
    done = run_install(unpacked, tmp_path / "home")
    assert done.returncode == 1
    assert "Unpack the whole archive" in done.stderr
    assert not (tmp_path / "home" / ".local" / "share" / "Hearth-app").exists()


def test_connections_outside_this_computer_are_found_in_a_real_strace_log() -> None:
    log = (FIXTURES / "strace-connect.txt").read_text()
    assert build_linux.outside_connections(log) == ["192.0.2.7", "198.51.100.9", "2001:db8::5"]
    loopback_only = "\n".join(line for line in log.splitlines() if "127.0.0.1" in line or '"::1"' in line)
    assert build_linux.outside_connections(loopback_only) == []


def test_release_name_carries_the_app_version() -> None:
    assert build_linux.hearth_version() == __version__
    assert build_linux.release_name(__version__, "x86_64") == f"Hearth-{__version__}-linux-x86_64"


GOOD = {"self_test_exit_code": 0, "window_seconds": 0.3, "network_at_start": [], "network_not_checked": None,
        "secret_service_keyring": "PASS  keyring: ...", "archive_bytes": 55 * 1024 * 1024, "strict": False}


def test_the_exit_code_fails_on_any_broken_promise() -> None:
    good = GOOD
    assert build_linux.exit_code(good) == 0
    assert build_linux.exit_code({**good, "self_test_exit_code": 1}) == 1
    assert build_linux.exit_code({**good, "window_seconds": None}) == 1
    assert build_linux.exit_code({**good, "network_at_start": ["192.0.2.7"]}) == 1
    assert build_linux.exit_code({**good, "secret_service_keyring": "FAIL  keyring: refused"}) == 1
    assert build_linux.exit_code({**good, "archive_bytes": build_linux.SIZE_GOAL_BYTES + 1}) == 1
    assert build_linux.exit_code({**good, "archive_bytes": build_linux.SIZE_GOAL_BYTES}) == 0
    assert build_linux.exit_code({**good, "network_at_start": None, "secret_service_keyring": None}) == 0


def test_strict_fails_on_a_check_that_could_not_run() -> None:
    strict = {**GOOD, "strict": True}
    assert build_linux.exit_code(strict) == 0
    assert build_linux.exit_code({**strict, "network_at_start": None,
                                  "network_not_checked": "strace is not installed"}) == 1
    assert build_linux.exit_code({**strict, "secret_service_keyring": None}) == 1


def numbers_for(archive: Path, **changes: object) -> dict:
    return {**GOOD, "archive": str(archive), "archive_bytes": archive.stat().st_size, "bundle_bytes": 1,
            "version_seconds": 0.2, "version_output": "Hearth 9.9", "self_test_seconds": 1.5,
            "self_test_with_model": True, **changes}


def test_an_archive_over_the_size_goal_fails_the_build(small_bundle: Path, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    # Incompressible bytes, so the real archive's size is known to be over a goal set just below it.
    (small_bundle / "_internal" / "weights.bin").write_bytes(os.urandom(256 * 1024))
    archive = build_linux.assemble_release(small_bundle, tmp_path / "dist", "Hearth-9.9-linux-x86_64")
    size = archive.stat().st_size
    numbers = numbers_for(archive)

    monkeypatch.setattr(build_linux, "SIZE_GOAL_BYTES", size)
    assert build_linux.exit_code(numbers) == 0
    assert "FAIL" not in build_linux.report(numbers)

    monkeypatch.setattr(build_linux, "SIZE_GOAL_BYTES", size - 1)
    assert build_linux.exit_code(numbers) == 1
    lines = build_linux.report(numbers).splitlines()
    assert any("OVER the" in line for line in lines)
    assert lines[-1].startswith("FAIL  the archive is ") and "over the" in lines[-1]


def test_without_strace_the_network_check_says_it_did_not_run(small_bundle: Path, tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    no_tools = tmp_path / "empty-path"
    no_tools.mkdir()
    monkeypatch.setenv("PATH", str(no_tools))
    with pytest.raises(build_linux.CheckNotPossible, match="strace is not installed") as raised:
        build_linux.network_at_start(small_bundle / "Hearth")

    archive = build_linux.assemble_release(small_bundle, tmp_path / "dist", "Hearth-9.9-linux-x86_64")
    skipped = numbers_for(archive, network_at_start=None, network_not_checked=str(raised.value))
    relaxed = build_linux.report(skipped).splitlines()
    assert "network:        not checked: strace is not installed (Debian package strace)" in relaxed
    assert build_linux.exit_code(skipped) == 0  # a developer's machine: said, not failed
    strict = build_linux.report({**skipped, "strict": True}).splitlines()
    assert strict[-1] == ("FAIL  no network at start was not checked (strace is not installed (Debian package "
                          "strace)), and --strict needs every check")
    assert build_linux.exit_code({**skipped, "strict": True}) == 1


@pytest.mark.skipif(shutil.which("strace") is None, reason="needs strace (packaging/debian-packages.txt)")
def test_a_program_that_only_talks_to_itself_passes_the_real_strace_check(tmp_path: Path) -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        program = tmp_path / "Hearth"
        program.write_text(f"#!/bin/sh\nexec {sys.executable} -c \"import socket; "
                           f"socket.create_connection(('127.0.0.1', {port})).close()\"\n")
        program.chmod(0o755)
        started = time.monotonic()
        assert build_linux.network_at_start(program, seconds=30) == []
    assert time.monotonic() - started < 30  # it ran to its end, not into the timeout
