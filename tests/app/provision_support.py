"""Running ``hearth provision`` in tests: the real command in its own process, what it left, and a
real Secret Service (gnome-keyring in its own D-Bus session) to run it in."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from wizard.paths import hearth_paths

REPO_ROOT = Path(__file__).resolve().parents[2]


def hearth(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "app", *args], cwd=REPO_ROOT, env=dict(os.environ),
                          text=True, capture_output=True, timeout=300)


def profiles() -> list[str]:
    root = hearth_paths().data / "profiles"
    return sorted(p.name for p in root.iterdir()) if root.is_dir() else []


def files_of(folder: Path) -> dict[str, int]:
    return {p.name: p.stat().st_mtime_ns for p in folder.iterdir()}


def answers(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "answers.toml"
    path.write_text(text, encoding="utf-8")
    return path


KEYRING_PASSWORD = "keyring password for tests"
needs_secret_service = pytest.mark.skipif(
    not (shutil.which("dbus-run-session") and shutil.which("gnome-keyring-daemon")),
    reason="needs Debian packages dbus and gnome-keyring (packaging/debian-packages.txt)")


def in_keyring_session(tmp_path: Path, script: str, **env: str) -> dict:
    """Run ``script`` (Python, printing one JSON line last) with a real, unlocked Secret Service.

    gnome-keyring runs in its own D-Bus session with a private home folder, so nothing reaches
    the real keyring; Hearth's folders are the test's own (HEARTH_HOME).
    """
    import json
    import textwrap

    home = tmp_path / "session-home"
    runtime = tmp_path / "session-runtime"
    for folder in (home, runtime):
        folder.mkdir(exist_ok=True)
    runtime.chmod(0o700)
    password = tmp_path / "keyring-password"
    password.write_text(KEYRING_PASSWORD, encoding="utf-8")
    child = {k: v for k, v in os.environ.items()
             if k not in ("DISPLAY", "WAYLAND_DISPLAY", "DBUS_SESSION_BUS_ADDRESS", "PYTHON_KEYRING_BACKEND",
                          "GNOME_KEYRING_CONTROL", "SSH_AUTH_SOCK")}
    child.update(HOME=str(home), XDG_RUNTIME_DIR=str(runtime), XDG_DATA_HOME=str(home / ".local" / "share"),
                 XDG_CONFIG_HOME=str(home / ".config"), PYTHONPATH=str(REPO_ROOT))
    child.update(env)
    driver = tmp_path / "driver.py"
    driver.write_text(textwrap.dedent(script), encoding="utf-8")
    start = f"gnome-keyring-daemon --unlock --components=secrets < '{password}' > /dev/null"
    done = subprocess.run(["dbus-run-session", "--", "sh", "-c", f'{start} && exec "$@"', "sh", sys.executable,
                           str(driver)], capture_output=True, text=True, timeout=300, env=child, cwd=REPO_ROOT)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])
