"""`hearth --self-test` from source, in real subprocesses with the real tiny model."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from app.__main__ import build_parser
from tests.packaging.support import REPO

pytestmark = pytest.mark.slow
STATUSES = ("PASS", "WARN", "FAIL")


def run_hearth(args: list[str], *, home: Path, timeout: float = 300) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env.update(QT_QPA_PLATFORM="offscreen", HEARTH_HOME=str(home))
    return subprocess.run([sys.executable, "-m", "app", *args], cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=timeout)


def report_lines(stdout: str) -> dict[str, tuple[str, str]]:
    """{check name: (status, detail)} from the report's check lines."""
    checks = {}
    for line in stdout.splitlines():
        status, _, rest = line.partition("  ")
        if status in STATUSES:
            name, _, detail = rest.partition(": ")
            checks[name] = (status, detail)
    return checks


def test_self_test_with_the_tiny_model_passes(tiny_model: Path, hearth_home: Path) -> None:
    done = run_hearth(["--self-test", "--model", str(tiny_model)], home=hearth_home)

    assert done.returncode == 0, done.stdout + done.stderr
    checks = report_lines(done.stdout)
    assert list(checks) == ["shipped files", "data folders", "keyring", "modules", "engine", "main window"]
    assert all(status in ("PASS", "WARN") for status, _ in checks.values())
    assert checks["engine"][0] == "PASS"
    assert tiny_model.name in checks["engine"][1]
    assert "JSON reply '{" in checks["engine"][1]
    assert checks["main window"] == ("PASS", checks["main window"][1])
    assert "offscreen" in checks["main window"][1]
    assert str(hearth_home / "data") in checks["data folders"][1]
    assert done.stdout.strip().splitlines()[-1].startswith("Self-test passed: 6 checks")
    assert "Traceback" not in done.stdout + done.stderr
    # the probe files are gone again
    assert not list(hearth_home.rglob(".hearth-self-test-*"))


def test_a_broken_model_fails_the_self_test_in_plain_words(tmp_path: Path, hearth_home: Path) -> None:
    broken = tmp_path / "broken.gguf"
    broken.write_bytes(b"this is not a model file" * 100)

    done = run_hearth(["--self-test", "--model", str(broken)], home=hearth_home)

    assert done.returncode == 1
    checks = report_lines(done.stdout)
    assert checks["engine"][0] == "FAIL"
    assert "model" in checks["engine"][1].lower()
    assert checks["main window"][0] == "PASS"  # the other checks still ran
    assert done.stdout.strip().splitlines()[-1] == "Self-test FAILED: 1 of 6 checks failed."
    assert "Traceback" not in done.stdout + done.stderr


def test_unwritable_data_folders_fail_the_self_test(tmp_path: Path) -> None:
    blocked = tmp_path / "a-file-not-a-folder"
    blocked.write_text("in the way")

    done = run_hearth(["--self-test"], home=blocked)

    assert done.returncode == 1
    checks = report_lines(done.stdout)
    assert checks["data folders"][0] == "FAIL"
    assert "cannot create the data folders" in checks["data folders"][1]
    assert checks["engine"][0] == "WARN"  # no model given: skipped, said so
    assert "Traceback" not in done.stdout + done.stderr


def test_strict_counts_a_warning_as_a_failure(hearth_home: Path) -> None:
    done = run_hearth(["--self-test", "--strict"], home=hearth_home)

    assert done.returncode == 1
    checks = report_lines(done.stdout)
    assert checks["engine"][0] == "WARN"  # no model given: nothing proved about the engine
    assert "FAIL" not in {status for status, _ in checks.values()}
    warned = sum(status == "WARN" for status, _ in checks.values())
    assert done.stdout.splitlines()[0].startswith("Hearth ") and ", strict," in done.stdout.splitlines()[0]
    assert done.stdout.strip().splitlines()[-1] == (
        f"Self-test FAILED: {warned} of 6 checks only warned, and --strict counts a warning as a failure.")
    assert "Traceback" not in done.stdout + done.stderr


KEYRING_PASSWORD = "self-test keyring"


@pytest.mark.skipif(not (shutil.which("dbus-run-session") and shutil.which("gnome-keyring-daemon")),
                    reason="needs Debian packages dbus and gnome-keyring (packaging/debian-packages.txt)")
def test_strict_passes_when_every_check_really_ran(tiny_model: Path, tmp_path: Path) -> None:
    # What CI runs on the bundle: a real Secret Service (gnome-keyring in a private D-Bus session)
    # and the real model, so no check can only warn.
    home, runtime = tmp_path / "home", tmp_path / "runtime"
    home.mkdir()
    runtime.mkdir(mode=0o700)
    env = {k: v for k, v in os.environ.items()
           if k not in ("DISPLAY", "WAYLAND_DISPLAY", "DBUS_SESSION_BUS_ADDRESS", "PYTHON_KEYRING_BACKEND")}
    env.update(QT_QPA_PLATFORM="offscreen", HEARTH_HOME=str(tmp_path / "hearth"), HOME=str(home),
               XDG_RUNTIME_DIR=str(runtime), XDG_DATA_HOME=str(home / ".local" / "share"),
               XDG_CONFIG_HOME=str(home / ".config"))
    start = "gnome-keyring-daemon --unlock --components=secrets >/dev/null"
    done = subprocess.run(["dbus-run-session", "--", "sh", "-c", f'{start} && exec "$@"', "sh", sys.executable,
                           "-m", "app", "--self-test", "--strict", "--model", str(tiny_model)],
                          input=KEYRING_PASSWORD, cwd=REPO, env=env, capture_output=True, text=True, timeout=300)

    assert done.returncode == 0, done.stdout + done.stderr
    checks = report_lines(done.stdout)
    assert {status for status, _ in checks.values()} == {"PASS"}
    assert "SecretService" in checks["keyring"][1]
    assert done.stdout.strip().splitlines()[-1] == "Self-test passed: 6 checks, 0 warnings."


def test_strict_without_self_test_is_refused(hearth_home: Path) -> None:
    done = run_hearth(["--strict"], home=hearth_home, timeout=60)
    assert done.returncode == 2
    assert "--strict goes with --self-test" in done.stderr


def test_model_without_self_test_is_refused(hearth_home: Path) -> None:
    done = run_hearth(["--model", "x.gguf"], home=hearth_home, timeout=60)
    assert done.returncode == 2
    assert "--model goes with --self-test" in done.stderr


def test_the_chat_command_keeps_its_own_model_option() -> None:
    args = build_parser().parse_args(["chat", "--model", "x.gguf"])
    assert args.model == Path("x.gguf")
    assert args.self_test_model is None and not args.self_test


def test_a_windowed_app_without_stdout_writes_the_report_to_the_log(hearth_home: Path) -> None:
    # What a windowed (no console) app sees on Windows and macOS: sys.stdout and sys.stderr are None.
    code = ("import sys; sys.stdout = None; sys.stderr = None\n"
            "from app.__main__ import main\n"
            "raise SystemExit(main(['--self-test']))")
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", HEARTH_HOME=str(hearth_home))
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True,
                          timeout=300)

    assert done.returncode == 0
    assert done.stdout == ""
    log = (hearth_home / "logs" / "hearth.log").read_text(encoding="utf-8")
    assert "hearth.stdout: PASS  main window" in log
    assert "hearth.stdout: Self-test passed: 6 checks" in log
