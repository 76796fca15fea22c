"""wizard.secrets against a real Secret Service (gnome-keyring under its own D-Bus session), and headless.

Each test runs a small script in a child process whose HOME, XDG folders and HEARTH_HOME
are private temp folders and which has no display. The keyring daemon is started by
``dbus-run-session`` and unlocked with a password given on stdin; it exits with the
session, so nothing outlives the test.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.support.hub_mirror import HubMirror

REPO_ROOT = Path(__file__).resolve().parents[2]
SECRET = "hf_RealKeyringSecret-42xyz"
PASSWORD = "keyring password for tests"

needs_secret_service = pytest.mark.skipif(
    not (shutil.which("dbus-run-session") and shutil.which("gnome-keyring-daemon")),
    reason="needs Debian packages dbus and gnome-keyring (packaging/debian-packages.txt)",
)


def child_env(root: Path) -> dict[str, str]:
    """No display, no session bus, no user keyring config: only what the test sets up."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("DISPLAY", "WAYLAND_DISPLAY", "DBUS_SESSION_BUS_ADDRESS", "PYTHON_KEYRING_BACKEND",
                        "GNOME_KEYRING_CONTROL", "SSH_AUTH_SOCK")}
    home = root / "home"
    runtime = root / "runtime"
    for folder in (home, runtime):
        folder.mkdir(parents=True, exist_ok=True)
    runtime.chmod(0o700)
    env.update(HOME=str(home), XDG_RUNTIME_DIR=str(runtime), XDG_CONFIG_HOME=str(home / ".config"),
               XDG_DATA_HOME=str(home / ".local" / "share"), XDG_CACHE_HOME=str(home / ".cache"),
               HEARTH_HOME=str(root / "hearth-home"), PYTHONPATH=str(REPO_ROOT),
               TEST_SECRET=SECRET)  # the scripts read it from here, so no file of the test holds it
    return env


def run_script(root: Path, script: str, *, keyring_daemon: str | None) -> dict:
    """Run ``script`` (which prints one JSON line last) and return that JSON.

    ``keyring_daemon``: None = no D-Bus session at all; "unlock" = a fresh D-Bus session
    with gnome-keyring unlocked by the password on stdin; "locked" = the daemon started
    but never unlocked.
    """
    script_file = root / "script.py"
    script_file.write_text(textwrap.dedent(script), encoding="utf-8")
    python = [sys.executable, str(script_file)]
    if keyring_daemon is None:
        cmd, stdin = python, ""
    else:
        start = ("gnome-keyring-daemon --unlock --components=secrets" if keyring_daemon == "unlock"
                 else "gnome-keyring-daemon --start --components=secrets")
        cmd = ["dbus-run-session", "--", "sh", "-c", f'{start} >/dev/null && exec "$@"', "sh", *python]
        stdin = PASSWORD if keyring_daemon == "unlock" else ""
    done = subprocess.run(cmd, input=stdin, capture_output=True, text=True, timeout=90, env=child_env(root),
                          cwd=root)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def files_containing(root: Path, needle: str) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file() and not p.is_symlink() and needle.encode() in p.read_bytes()]


ATTEMPT = """
    import json, os, keyring
    from wizard import secrets
    SECRET = os.environ["TEST_SECRET"]
    out = {"backend": type(keyring.get_keyring()).__module__}
    try:
        %s
    except secrets.NoSecureStorageError as exc:
        out["error"] = exc.user_message
        out["hint"] = exc.hint
    print(json.dumps(out))
"""


def attempt(body: str) -> str:
    return ATTEMPT % textwrap.indent(textwrap.dedent(body), " " * 8).strip()


@needs_secret_service
def test_secret_is_kept_by_the_real_secret_service_across_sessions(tmp_path: Path) -> None:
    saved = run_script(tmp_path, attempt("""
        secrets.set_secret("huggingface", "token", SECRET)
        out["read back"] = secrets.get_secret("huggingface", "token")
        out["storage"] = secrets.storage_name()
    """), keyring_daemon="unlock")
    assert saved == {"backend": "keyring.backends.SecretService", "read back": SECRET,
                     "storage": "Secret Service Keyring"}

    # A new D-Bus session and a new daemon: the value comes back from the keyring file.
    again = run_script(tmp_path, attempt("""
        out["read back"] = secrets.get_secret("huggingface", "token")
        out["deleted"] = secrets.delete_secret("huggingface", "token")
        out["after delete"] = secrets.get_secret("huggingface", "token")
    """), keyring_daemon="unlock")
    assert again["read back"] == SECRET and again["deleted"] is True and again["after delete"] is None

    keyring_files = list((tmp_path / "home" / ".local" / "share" / "keyrings").glob("*.keyring"))
    assert keyring_files, "gnome-keyring wrote no keyring file: the secret was not stored by it"
    assert files_containing(tmp_path, SECRET) == []  # encrypted, nowhere in the clear


@needs_secret_service
def test_a_locked_real_keyring_is_reported_and_nothing_is_stored(tmp_path: Path) -> None:
    run_script(tmp_path, attempt('secrets.set_secret("setup", "first", "make the login keyring exist")'),
               keyring_daemon="unlock")
    locked = run_script(tmp_path, attempt('secrets.set_secret("huggingface", "token", SECRET)'),
                        keyring_daemon="locked")
    assert locked["error"] == ("This computer has no secure place to keep passwords and keys: the keyring is "
                               "locked and could not be unlocked. Hearth did not save it anywhere.")
    assert "session only" in locked["hint"]
    check = run_script(tmp_path, attempt('out["value"] = secrets.get_secret("huggingface", "token")'),
                       keyring_daemon="unlock")
    assert check["value"] is None


def test_headless_without_a_session_bus_refuses_and_writes_nothing(tmp_path: Path) -> None:
    result = run_script(tmp_path, attempt("""
        secrets.set_secret("huggingface", "token", SECRET)
        out["stored"] = True
    """) + """
    session = secrets.SessionSecrets()
    session.set("huggingface", "token", SECRET)
    assert session.get("huggingface", "token") == SECRET
    """, keyring_daemon=None)
    assert result == {
        "backend": "keyring.backends.fail",
        "error": "This computer has no secure place to keep passwords and keys: no keyring service is running. "
                 "Hearth did not save it anywhere.",
        "hint": "You can keep it for this session only: Hearth will forget it when it closes. To have it "
                "remembered, install and unlock a keyring (for example GNOME Keyring or KWallet) and try again.",
    }
    # Nothing anywhere in the child's HOME, XDG folders or HEARTH_HOME holds the secret.
    assert files_containing(tmp_path, SECRET) == []


@needs_secret_service
def test_hearth_download_uses_the_hub_token_saved_in_the_real_keyring(tmp_path: Path,
                                                                       hub_mirror: HubMirror) -> None:
    content = b"GGUF" + bytes(range(256)) * 64
    hub_mirror.add_repo("acme/gated-GGUF", {"gated.gguf": content}, gated=True, token=SECRET)
    dest = tmp_path / "models"
    result = run_script(tmp_path, attempt(f"""
        import subprocess, sys
        def download(dest):
            done = subprocess.run([sys.executable, "-m", "app", "download", "acme/gated-GGUF", "gated.gguf",
                                   "--endpoint", {hub_mirror.url!r}, "--dest", dest],
                                  capture_output=True, text=True, cwd={str(REPO_ROOT)!r})
            return done.returncode, done.stderr[-2000:]
        out["without token"] = download({str(tmp_path / "first")!r})
        secrets.set_secret("huggingface", "token", SECRET)
        out["code"], out["stderr"] = download({str(dest)!r})
    """), keyring_daemon="unlock")
    code, stderr = result["without token"]
    assert code == 1 and "Error: " in stderr and "Traceback" not in stderr
    assert not (tmp_path / "first" / "acme--gated-GGUF" / "gated.gguf").exists()
    assert result["code"] == 0, result["stderr"]
    assert (dest / "acme--gated-GGUF" / "gated.gguf").read_bytes() == content
    assert {r["authorization"] for r in hub_mirror.requests} == {None, f"Bearer {SECRET}"}
    assert files_containing(tmp_path, SECRET) == []  # not in a log, sidecar or config
