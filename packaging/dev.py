#!/usr/bin/env python3
"""Set up Hearth in a virtual environment, then run the app or its tests.

    python3 packaging/dev.py run  [hearth arguments]   # set up .venv, open Hearth
    python3 packaging/dev.py test [pytest arguments]   # set up .venv, run every test
    python3 packaging/dev.py system-packages           # Debian/Ubuntu libraries the tests need
    python3 packaging/dev.py bundle                    # build the Linux app, run its self-test

Standard library only: it runs before anything is installed. Every step is skipped
when already done, so both commands are quick the second time.

llama-cpp-python is published as source only, and compiling llama.cpp takes minutes.
It is built once per machine, with GGML_NATIVE=OFF, into a wheel folder outside the
repository (``~/.cache/hearth-dev/wheels`` on Linux; ``HEARTH_DEV_CACHE`` moves it), and
every later setup - any clone, any venv - installs that wheel. A native build is avoided
on purpose: it crashed on CPUs that advertise AMX, and an app we ship must not use
instructions the user's CPU may lack.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
VENV = REPO / ".venv"
STAMP = VENV / "hearth-setup.json"
DEBIAN_PACKAGES_FILE = REPO / "packaging" / "debian-packages.txt"
LLAMA_CMAKE_ARGS = "-DGGML_NATIVE=OFF"
MIN_PYTHON = (3, 11)


def say(message: str) -> None:
    print(f"[hearth-dev] {message}", flush=True)


def fail(message: str) -> None:
    print(f"[hearth-dev] ERROR: {message}", file=sys.stderr, flush=True)
    raise SystemExit(1)


def run(cmd: list[str], **kwargs) -> None:
    say("$ " + " ".join(str(part) for part in cmd))
    result = subprocess.run(cmd, **kwargs)
    if result.returncode != 0:
        fail(f"command failed with exit code {result.returncode}: {cmd[0]} …")


def dev_cache() -> Path:
    override = os.environ.get("HEARTH_DEV_CACHE")
    if override:
        return Path(override).expanduser()
    if sys.platform == "win32":
        return Path(os.environ.get("LOCALAPPDATA", Path.home())) / "hearth-dev"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches" / "hearth-dev"
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "hearth-dev"


def venv_python() -> Path:
    if sys.platform == "win32":
        return VENV / "Scripts" / "python.exe"
    return VENV / "bin" / "python"


def llama_requirement() -> str:
    """The exact llama-cpp-python pin, read from pyproject.toml (the one place it is set)."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    for requirement in project["dependencies"]:
        if requirement.replace(" ", "").lower().startswith("llama-cpp-python=="):
            return requirement.replace(" ", "")
    fail("pyproject.toml must pin llama-cpp-python with '=='")
    raise AssertionError  # unreachable


def ensure_venv() -> Path:
    python = venv_python()
    if python.exists():
        probe = subprocess.run([str(python), "-c", "import sys; print(sys.version_info[:2])"],
                               capture_output=True, text=True)
        if probe.returncode == 0:
            return python
        say("the existing .venv is broken; making a new one")
        shutil.rmtree(VENV)
    say(f"creating {VENV}")
    result = subprocess.run([sys.executable, "-m", "venv", str(VENV)])
    if result.returncode != 0:
        fail("could not create a virtual environment. On Debian or Ubuntu install it with: "
             "sudo apt-get install python3-venv")
    run([str(python), "-m", "pip", "install", "--quiet", "--upgrade", "pip"])
    return python


def llama_wheelhouse(python: Path) -> Path:
    """Build llama-cpp-python once per machine (non-native) and return the folder holding it."""
    requirement = llama_requirement()
    version = requirement.split("==", 1)[1]
    tag = f"py{sys.version_info[0]}{sys.version_info[1]}-{platform.machine().lower()}-nonnative"
    wheelhouse = dev_cache() / "wheels" / f"llama-cpp-python-{version}-{tag}"
    if any(wheelhouse.glob("llama_cpp_python-*.whl")):
        return wheelhouse
    say(f"compiling {requirement} once for this machine (about 5-10 minutes)")
    wheelhouse.parent.mkdir(parents=True, exist_ok=True)
    building = Path(tempfile.mkdtemp(prefix="building-", dir=wheelhouse.parent))
    try:
        env = dict(os.environ, CMAKE_ARGS=LLAMA_CMAKE_ARGS)
        # --no-cache-dir: never pick up a wheel some earlier native build left in pip's cache.
        run([str(python), "-m", "pip", "wheel", "--no-deps", "--no-cache-dir",
             requirement, "-w", str(building)], env=env)
        shutil.rmtree(wheelhouse, ignore_errors=True)
        os.replace(building, wheelhouse)
    finally:
        shutil.rmtree(building, ignore_errors=True)
    return wheelhouse


def setup_inputs(extras: str) -> str:
    digest = hashlib.sha256((REPO / "pyproject.toml").read_bytes()).hexdigest()
    return json.dumps({"pyproject": digest, "extras": extras, "python": sys.version}, sort_keys=True)


def ensure_installed(extras: str) -> Path:
    python = ensure_venv()
    wanted = setup_inputs(extras)
    if STAMP.exists() and STAMP.read_text(encoding="utf-8") == wanted:
        return python
    wheelhouse = llama_wheelhouse(python)
    target = f".[{extras}]" if extras else "."
    env = dict(os.environ, CMAKE_ARGS=LLAMA_CMAKE_ARGS)
    run([str(python), "-m", "pip", "install", "--quiet", "--find-links", str(wheelhouse),
         "--editable", target], cwd=REPO, env=env)
    STAMP.write_text(wanted, encoding="utf-8")
    return python


def debian_packages() -> list[str]:
    lines = DEBIAN_PACKAGES_FILE.read_text(encoding="utf-8").splitlines()
    return [line.split("#", 1)[0].strip() for line in lines if line.split("#", 1)[0].strip()]


def missing_debian_packages() -> list[str]:
    if not sys.platform.startswith("linux") or shutil.which("dpkg-query") is None:
        return []
    missing = []
    for package in debian_packages():
        status = subprocess.run(["dpkg-query", "-W", "-f=${Status}", package],
                                capture_output=True, text=True)
        if "install ok installed" not in status.stdout:
            missing.append(package)
    return missing


def ensure_system_packages() -> None:
    missing = missing_debian_packages()
    if not missing:
        return
    if os.geteuid() != 0:
        fail("the tests need these system libraries: " + " ".join(missing) + "\n"
             "Install them with: sudo apt-get install -y " + " ".join(missing))
    say("installing system packages: " + " ".join(missing))
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    run(["apt-get", "update", "-qq"], env=env)
    run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", *missing], env=env)


def command_run(args: list[str]) -> int:
    python = ensure_installed("")
    return subprocess.call([str(python), "-m", "app", *args], cwd=REPO)


def command_test(args: list[str]) -> int:
    ensure_system_packages()
    python = ensure_installed("test")
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    return subprocess.call([str(python), "-m", "pytest", *args], cwd=REPO, env=env)


def tiny_model(python: Path) -> Path:
    """The test model (tests/support/tiny_model.py fetches and verifies it once per machine)."""
    code = "from tests.support.tiny_model import ensure_tiny_model; print(ensure_tiny_model())"
    result = subprocess.run([str(python), "-c", code], cwd=REPO, capture_output=True, text=True)
    if result.returncode != 0:
        fail("could not get the test model:\n" + result.stderr[-2000:])
    return Path(result.stdout.strip().splitlines()[-1])


def command_bundle(args: list[str]) -> int:
    """Freeze Hearth (packaging/build_linux.py), then run the frozen app's --self-test with the test model.

    Strict: every check must really run and pass (a self-test warning, a missing strace or
    Secret Service fails too), as must the size goal, the window showing and no connection
    outside 127.0.0.1 at start.
    """
    if not sys.platform.startswith("linux"):
        fail("`bundle` builds the Linux app; packaging/README.md says how to build on Windows and macOS")
    started = time.monotonic()
    ensure_system_packages()
    python = ensure_installed("packaging")
    model = tiny_model(python)
    code = subprocess.call([str(python), str(REPO / "packaging" / "build_linux.py"), "--strict",
                            "--model", str(model), *args], cwd=REPO)
    say(f"bundle {'built and checked' if code == 0 else 'FAILED'} in {time.monotonic() - started:.0f} s")
    return code


def main(argv: list[str]) -> int:
    if sys.version_info < MIN_PYTHON:
        fail(f"Hearth needs Python {MIN_PYTHON[0]}.{MIN_PYTHON[1]} or newer; "
             f"this is {platform.python_version()}")
    commands = {"run": command_run, "test": command_test, "bundle": command_bundle}
    if argv[:1] == ["system-packages"]:
        ensure_system_packages()
        return 0
    if not argv or argv[0] not in commands:
        print(__doc__)
        return 2
    return commands[argv[0]](argv[1:])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
