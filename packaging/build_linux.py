#!/usr/bin/env python3
"""Build Hearth for Linux: a frozen one-folder app in a .tar.gz with a menu entry and icon.

    .venv/bin/python packaging/build_linux.py [--model FILE.gguf] [--strict]

Needs the ``packaging`` extra (PyInstaller) in the Python that runs it. Writes:
- ``build/dist/Hearth/``: the app (run ``build/dist/Hearth/Hearth``); ``build/work``: scratch;
- ``dist/Hearth-<version>-linux-x86_64.tar.gz``: that folder plus ``hearth.desktop``,
  ``hearth.png`` and ``install.sh`` (a per-user install, no administrator needed).

At the end it prints the bundle size (on disk and compressed) and how long the frozen app
takes to answer ``--version`` and ``--self-test`` (with ``--model``, the self-test loads it).
Both folders are in .gitignore. The exit code is 1 when a check fails, the archive is over the
size goal, or (with ``--strict``, what CI and ``dev.py bundle`` run; also when ``CI`` is set)
a check could not run here or the frozen self-test only warned.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SPEC = REPO / "packaging" / "hearth.spec"
LINUX_FILES = REPO / "packaging" / "linux"
ICON = REPO / "assets" / "icons" / "hearth-256.png"
BUILD = REPO / "build"
DIST = REPO / "dist"
SIZE_GOAL_BYTES = 90 * 1024 * 1024  # compressed, without models (issue 8)


def say(message: str) -> None:
    print(f"[build-linux] {message}", flush=True)


def hearth_version() -> str:
    namespace: dict = {}
    init = (REPO / "wizard" / "__init__.py").read_text(encoding="utf-8")
    for line in init.splitlines():
        if line.startswith("__version__"):
            exec(line, namespace)  # noqa: S102 - one assignment line from our own file
            return namespace["__version__"]
    raise RuntimeError("wizard/__init__.py has no __version__")


def release_name(version: str, machine: str | None = None) -> str:
    return f"Hearth-{version}-linux-{machine or platform.machine().lower()}"


def run_pyinstaller(*, build_dir: Path = BUILD) -> Path:
    """Freeze Hearth with packaging/hearth.spec; return the app folder.

    Raises:
        subprocess.CalledProcessError: PyInstaller failed (its output is on the terminal).
    """
    command = [sys.executable, "-m", "PyInstaller", "--noconfirm", "--log-level", "WARN",
               "--distpath", str(build_dir / "dist"), "--workpath", str(build_dir / "work"), str(SPEC)]
    say("$ " + " ".join(command))
    subprocess.run(command, check=True, cwd=REPO)
    return build_dir / "dist" / "Hearth"


def assemble_release(bundle: Path, out_dir: Path, name: str) -> Path:
    """Pack ``bundle`` (the app folder) with the desktop file, icon and install.sh into ``name``.tar.gz.

    Symlinks in the bundle stay symlinks. The archive is written under a temporary name and
    renamed when complete.

    Raises:
        FileNotFoundError: the bundle has no ``Hearth`` executable.
    """
    if not (bundle / "Hearth").is_file():
        raise FileNotFoundError(f"{bundle / 'Hearth'} is missing: build the app first")
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / f"{name}.tar.gz"
    extras = {
        "hearth.desktop": LINUX_FILES / "hearth.desktop",
        "install.sh": LINUX_FILES / "install.sh",
        "hearth.png": ICON,
    }
    handle, partial = tempfile.mkstemp(prefix=f".{name}-", suffix=".tar.gz", dir=out_dir)
    os.close(handle)
    try:
        with tarfile.open(partial, "w:gz", compresslevel=9) as archive:
            archive.add(bundle, arcname=f"{name}/Hearth", filter=_normalise)
            for arcname, source in extras.items():
                archive.add(source, arcname=f"{name}/{arcname}", filter=_normalise)
        os.chmod(partial, 0o644)
        os.replace(partial, target)
    finally:
        Path(partial).unlink(missing_ok=True)
    return target


def _normalise(info: tarfile.TarInfo) -> tarfile.TarInfo:
    """Files owned by nobody in particular (the build ran as root here)."""
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    return info


def folder_size(folder: Path) -> int:
    """Bytes of the regular files under ``folder`` (symlinks counted once, as links)."""
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file() and not p.is_symlink())


def timed_runs(command: list[str], *, env: dict[str, str], runs: int) -> tuple[float, subprocess.CompletedProcess]:
    """Median wall time of ``runs`` runs of ``command``, and the last run's result."""
    times = []
    result = None
    for _ in range(runs):
        started = time.perf_counter()
        result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def self_test_env(home: Path) -> dict[str, str]:
    """Offscreen, with a private HEARTH_HOME: what CI and `dev.py bundle` run the frozen app in."""
    return dict(os.environ, QT_QPA_PLATFORM="offscreen", HEARTH_HOME=str(home))


WINDOW_SHOWN = "Main window shown"  # app/gui.py logs it once the window is up


def time_to_window(executable: Path, *, runs: int = 3, timeout: float = 60.0) -> float | None:
    """Median seconds from starting the bare app (first run, offscreen) to its window being shown.

    Measured by watching the app's log for the line app/gui.py writes; None if it never came.
    """
    times = []
    for _ in range(runs):
        with tempfile.TemporaryDirectory(prefix="hearth-start-") as home:
            log_file = Path(home) / "logs" / "hearth.log"
            started = time.perf_counter()
            process = subprocess.Popen([str(executable)], env=self_test_env(Path(home)),
                                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            try:
                while time.perf_counter() - started < timeout and process.poll() is None:
                    if log_file.exists() and WINDOW_SHOWN in log_file.read_text(encoding="utf-8", errors="replace"):
                        times.append(time.perf_counter() - started)
                        break
                    time.sleep(0.005)
            finally:
                process.terminate()
                process.wait(timeout=30)
    return statistics.median(times) if len(times) == runs else None


_ADDRESS = re.compile(r'inet_addr\("([^"]+)"\)|inet_pton\(AF_INET6,\s*"([^"]+)"')


def outside_connections(strace_log: str) -> list[str]:
    """Addresses outside this computer that the traced process tried to connect or send to."""
    found = []
    for line in strace_log.splitlines():
        if "connect(" not in line and "sendto(" not in line:
            continue
        for address in (v4 or v6 for v4, v6 in _ADDRESS.findall(line)):
            try:
                if not ipaddress.ip_address(address).is_loopback:
                    found.append(address)
            except ValueError:
                continue
    return sorted(set(found))


def _stop_group(process: subprocess.Popen) -> None:
    """SIGTERM the process group ``process`` leads, then SIGKILL what is left after 10 s."""
    for sig, grace in ((signal.SIGTERM, 10), (signal.SIGKILL, 30)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            pass
        try:
            process.wait(timeout=grace)
            return
        except subprocess.TimeoutExpired:
            continue


class CheckNotPossible(Exception):
    """A build check that cannot run on this machine; the message says why."""


def network_at_start(executable: Path, *, seconds: float = 6.0) -> list[str]:
    """Start the bare app under strace for a few seconds; the non-loopback addresses it reached for.

    Raises:
        CheckNotPossible: strace is not installed, or may not trace processes here.
    """
    if shutil.which("strace") is None:
        raise CheckNotPossible("strace is not installed (Debian package strace)")
    with tempfile.TemporaryDirectory(prefix="hearth-net-") as home:
        trace = Path(home) / "strace.txt"
        # Its own process group: strace passes no signal on, so the app is stopped by group.
        process = subprocess.Popen(["strace", "-f", "-qq", "-e", "trace=connect,sendto", "-o", str(trace),
                                    str(executable)], env=self_test_env(Path(home) / "home"),
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        try:
            process.wait(timeout=seconds)
        except subprocess.TimeoutExpired:
            _stop_group(process)
        if not trace.exists() or process.returncode not in (0, -signal.SIGTERM, -signal.SIGKILL):
            raise CheckNotPossible(f"strace could not trace the app here (exit code {process.returncode}; "
                                   "is ptrace permitted?)")
        return outside_connections(trace.read_text(encoding="utf-8", errors="replace"))


KEYRING_PASSWORD = "hearth-build-check"  # a throwaway keyring made for this one check


def self_test_command(executable: Path, model: Path | None, *, strict: bool) -> list[str]:
    return ([str(executable), "--self-test"] + (["--strict"] if strict else [])
            + (["--model", str(model)] if model else []))


def self_test_with_secret_service(command: list[str]) -> subprocess.CompletedProcess | None:
    """Run the frozen self-test ``command`` inside a private D-Bus session with an unlocked GNOME Keyring.

    Proves the Secret Service backend (secretstorage, jeepney, cryptography) works frozen, and
    lets a strict self-test pass its keyring check. None when dbus-run-session or
    gnome-keyring-daemon is not installed.
    """
    if not (shutil.which("dbus-run-session") and shutil.which("gnome-keyring-daemon")):
        return None
    with tempfile.TemporaryDirectory(prefix="hearth-keyring-") as root:
        home, runtime = Path(root) / "home", Path(root) / "runtime"
        home.mkdir()
        runtime.mkdir(mode=0o700)
        env = {k: v for k, v in self_test_env(Path(root) / "hearth").items()
               if k not in ("DISPLAY", "WAYLAND_DISPLAY", "DBUS_SESSION_BUS_ADDRESS", "PYTHON_KEYRING_BACKEND")}
        env.update(HOME=str(home), XDG_RUNTIME_DIR=str(runtime), XDG_DATA_HOME=str(home / ".local" / "share"),
                   XDG_CONFIG_HOME=str(home / ".config"))
        start = "gnome-keyring-daemon --unlock --components=secrets >/dev/null"
        return subprocess.run(["dbus-run-session", "--", "sh", "-c", f'{start} && exec "$@"', "sh", *command],
                              input=KEYRING_PASSWORD, env=env, capture_output=True, text=True, timeout=300)


def keyring_line(done: subprocess.CompletedProcess) -> str:
    lines = [line for line in done.stdout.splitlines() if "  keyring:" in line]
    return lines[0] if lines else f"FAIL  keyring: no report (exit {done.returncode}) {done.stderr[-300:]}"


def measure(bundle: Path, archive: Path, model: Path | None, *, strict: bool = False) -> dict:
    """Sizes and start times of the frozen app, as a dict (also printed by :func:`report`).

    The timed self-test runs inside a private Secret Service session when one can be made (and
    with ``--strict`` when ``strict``); without one its keyring check can only warn.
    """
    executable = bundle / "Hearth"
    command = self_test_command(executable, model, strict=strict)
    with tempfile.TemporaryDirectory(prefix="hearth-measure-") as home:
        env = self_test_env(Path(home))
        version_s, version = timed_runs([str(executable), "--version"], env=env, runs=5)
        started = time.perf_counter()
        in_session = self_test_with_secret_service(command)
        if in_session is not None:
            self_test_s, self_test = time.perf_counter() - started, in_session
        else:
            self_test_s, self_test = timed_runs(command, env=env, runs=1)
    window_s = time_to_window(executable)
    try:
        outside, network_not_checked = network_at_start(executable), None
    except CheckNotPossible as exc:
        outside, network_not_checked = None, str(exc)
    return {
        "bundle_bytes": folder_size(bundle),
        "archive_bytes": archive.stat().st_size,
        "archive": str(archive),
        "version_seconds": round(version_s, 3),
        "version_output": version.stdout.strip(),
        "self_test_seconds": round(self_test_s, 3),
        "self_test_with_model": model is not None,
        "self_test_exit_code": self_test.returncode,
        "self_test_report": self_test.stdout,
        "window_seconds": None if window_s is None else round(window_s, 3),
        "network_at_start": outside,
        "network_not_checked": network_not_checked,
        "secret_service_keyring": None if in_session is None else keyring_line(in_session),
        "strict": strict,
    }


def report(numbers: dict) -> str:
    """The numbers in plain lines, then one ``FAIL`` line per broken promise (see :func:`failures`)."""
    mib = 1024 * 1024
    goal = "within" if numbers["archive_bytes"] <= SIZE_GOAL_BYTES else "OVER"
    network = numbers["network_at_start"]
    return "\n".join([
        f"archive:        {numbers['archive']}",
        f"bundle on disk: {numbers['bundle_bytes'] / mib:.1f} MiB",
        f"compressed:     {numbers['archive_bytes'] / mib:.1f} MiB ({goal} the {SIZE_GOAL_BYTES // mib} MiB goal)",
        f"--version:      {numbers['version_seconds']:.2f} s (median of 5; {numbers['version_output']})",
        f"--self-test:    {numbers['self_test_seconds']:.2f} s "
        f"({'with' if numbers['self_test_with_model'] else 'without'} a model"
        f"{', strict' if numbers.get('strict') else ''}; exit code {numbers['self_test_exit_code']})",
        "window shown:   " + ("never (see the log)" if numbers["window_seconds"] is None
                              else f"{numbers['window_seconds']:.2f} s after start (median of 3, first run)"),
        "network:        " + (f"not checked: {numbers.get('network_not_checked') or 'no strace'}" if network is None
                              else "no connection outside this computer at start" if not network
                              else "REACHED OUT to " + ", ".join(network)),
        "Secret Service: " + (numbers["secret_service_keyring"] or "not checked (no dbus-run-session "
                                                                    "or gnome-keyring-daemon)"),
        *(f"FAIL  {failure}" for failure in failures(numbers)),
    ])


def failures(numbers: dict) -> list[str]:
    """Every promise the bundle broke, in plain words; empty when it may ship.

    With ``strict`` (CI, ``dev.py bundle``) a check that could not run here is a failure too:
    a build that skipped it proved nothing.
    """
    found = []
    if numbers["self_test_exit_code"] != 0:
        found.append(f"the frozen self-test failed (exit code {numbers['self_test_exit_code']}; report above)")
    if numbers["archive_bytes"] > SIZE_GOAL_BYTES:
        found.append(f"the archive is {numbers['archive_bytes'] / 1024 / 1024:.1f} MiB, over the "
                     f"{SIZE_GOAL_BYTES // 1024 // 1024} MiB goal")
    if numbers["window_seconds"] is None:
        found.append("the main window never showed")
    if numbers["network_at_start"]:
        found.append("the app reached outside this computer at start: " + ", ".join(numbers["network_at_start"]))
    elif numbers["network_at_start"] is None and numbers.get("strict"):
        found.append(f"no network at start was not checked ({numbers.get('network_not_checked') or 'no strace'}), "
                     "and --strict needs every check")
    keyring = numbers["secret_service_keyring"]
    if keyring is not None and not keyring.startswith("PASS"):
        found.append("the Secret Service keyring round trip failed")
    elif keyring is None and numbers.get("strict"):
        found.append("the Secret Service keyring was not checked (no dbus-run-session or gnome-keyring-daemon), "
                     "and --strict needs every check")
    return found


def exit_code(numbers: dict) -> int:
    """The self-test's code when it failed, else 1 when :func:`failures` found anything, else 0."""
    if numbers["self_test_exit_code"] != 0:
        return numbers["self_test_exit_code"]
    return 1 if failures(numbers) else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, help="a small GGUF model for the timed --self-test")
    parser.add_argument("--skip-build", action="store_true", help="package and measure an existing build")
    parser.add_argument("--strict", action="store_true",
                        help="a check that cannot run here, or a self-test warning, fails the build "
                        "(what CI and `dev.py bundle` run; on by default when CI is set)")
    args = parser.parse_args(argv)
    strict = args.strict or os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")
    if not sys.platform.startswith("linux"):
        say("this script builds the Linux bundle; see packaging/README.md for Windows and macOS")
        return 2
    bundle = BUILD / "dist" / "Hearth" if args.skip_build else run_pyinstaller()
    archive = assemble_release(bundle, DIST, release_name(hearth_version()))
    numbers = measure(bundle, archive, args.model, strict=strict)
    (BUILD / "bundle-report.json").write_text(json.dumps(numbers, indent=2), encoding="utf-8")
    print(numbers["self_test_report"], end="")
    for line in report(numbers).splitlines():
        say(line)
    return exit_code(numbers)


if __name__ == "__main__":
    sys.exit(main())
