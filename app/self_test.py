"""``hearth --self-test [--model FILE.gguf] [--strict]``: prove that this installation of Hearth works.

Runs the same code paths the app uses, from source or from the frozen bundle, and prints one
line per check (``PASS`` / ``WARN`` / ``FAIL``) and a last line with the verdict. The exit code
is 0 only when no check failed; a warning (no secure keyring on this computer, no model given)
is something to know, not a broken installation. With ``--strict`` (what CI runs on the
bundle) a warning fails too: a check that was skipped proved nothing.

Checks, in order: the files shipped with Hearth (recipes, catalog, icons); the data folders
are writable; the keyring backends load and which one is in force; the modules the app needs
import; the given model loads in a real engine process and answers (a free reply and one
constrained to JSON); the main window opens and closes (offscreen when there is no display).
Nothing here touches the network beyond 127.0.0.1.
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

log = logging.getLogger(__name__)

PASS, WARN, FAIL = "PASS", "WARN", "FAIL"
REPLY_TOKENS = 8
# Modules a frozen bundle could miss (imported lazily or through plugins): the self-test
# imports each, so a missing hidden import shows up here and not in front of a user.
APP_MODULES = (
    "wizard.engine.server", "wizard.engine.http_api", "wizard.engine.template",
    "wizard.download.hub_download", "wizard.catalog.refresh", "wizard.hardware",
    "wizard.recipes", "huggingface_hub", "jinja2.sandbox", "pypdf", "psutil", "platformdirs",
    "keyring",
)
KEYRING_PROBE = ("hearth-self-test", "probe")  # a throwaway entry, deleted again at once
JSON_SCHEMA = {"type": "object", "properties": {"ok": {"type": "boolean"}}, "required": ["ok"]}


@dataclass(frozen=True)
class CheckResult:
    name: str
    status: str  # PASS, WARN or FAIL
    detail: str

    def line(self) -> str:
        return f"{self.status}  {self.name}: {self.detail}"


class CheckFailed(Exception):
    """A check found something wrong; the message is the report line's detail."""


class CheckWarning(Exception):
    """A check found something worth knowing that does not break Hearth."""


def check_shipped_files() -> str:
    """Raises CheckFailed: recipes, the model catalog or the icons are missing or unreadable."""
    from wizard.catalog.parse import load_catalog
    from wizard.errors import HearthError
    from wizard.paths import assets_dir, recipes_dir

    try:
        catalog = load_catalog()
    except HearthError as exc:
        raise CheckFailed(f"the model catalog cannot be read: {exc.user_message} {exc.details}") from exc
    recipes = [p for p in recipes_dir().glob("*.toml") if catalog.source is None or p != catalog.source]
    if not recipes:
        raise CheckFailed(f"no recipes in {recipes_dir()}")
    icon = assets_dir() / "icons" / "hearth-256.png"
    if not icon.is_file():
        raise CheckFailed(f"the icon is missing ({icon})")
    return f"{len(recipes)} recipes, {len(catalog.entries)} catalog models, icons (in {recipes_dir().parent})"


def check_data_folders() -> str:
    """Raises CheckFailed: a folder cannot be created, written, read back or cleaned up."""
    from wizard.paths import hearth_paths

    paths = hearth_paths()
    try:
        paths.ensure()
    except OSError as exc:
        raise CheckFailed(f"cannot create the data folders: {exc}") from exc
    for folder in (paths.config, paths.data, paths.models, paths.cache, paths.logs):
        probe = folder / f".hearth-self-test-{uuid.uuid4().hex}"
        content = b"hearth self-test\n"
        try:
            probe.write_bytes(content)
            if probe.read_bytes() != content:
                raise CheckFailed(f"{folder} gave back different bytes than were written")
        except OSError as exc:
            raise CheckFailed(f"{folder} is not writable: {exc}") from exc
        finally:
            probe.unlink(missing_ok=True)
    return f"5 folders writable (data in {paths.data})"


def check_keyring() -> str:
    """Load every keyring backend; round-trip a throwaway entry through the secure one in force.

    Raises:
        CheckFailed: a backend shipped with Hearth does not load, or the keyring fails the round trip.
        CheckWarning: no secure keyring serves this computer (headless Linux, no Secret Service).
    """
    from importlib.metadata import entry_points

    from wizard.errors import HearthError
    from wizard.secrets import NoSecureStorageError, delete_secret, get_secret, secure_backend, set_secret

    found = entry_points(group="keyring.backends")
    if not found:
        raise CheckFailed("no keyring backends are registered (keyring's package metadata is missing)")
    broken = []
    for entry in found:
        try:
            entry.load()
        except Exception as exc:  # noqa: BLE001 - any failure here is what the check reports
            broken.append(f"{entry.name} ({type(exc).__name__}: {exc})")
    if broken:
        raise CheckFailed("keyring backends that do not load: " + ", ".join(broken))
    try:
        backend = secure_backend()
    except NoSecureStorageError as exc:
        raise CheckWarning(f"no secure keyring on this computer; secrets can be kept for one session "
                           f"only ({exc.details})") from exc
    probe = uuid.uuid4().hex
    try:
        set_secret(*KEYRING_PROBE, probe)
        read_back = get_secret(*KEYRING_PROBE)
    except HearthError as exc:
        raise CheckFailed(f"{type(backend).__name__} refused a test entry: {exc.user_message} {exc.details}") from exc
    finally:
        try:
            delete_secret(*KEYRING_PROBE)
        except HearthError:
            log.warning("self-test could not remove its keyring test entry", exc_info=True)
    if read_back != probe:
        raise CheckFailed(f"{type(backend).__name__} gave back a different value than was stored")
    return f"{type(backend).__module__}.{type(backend).__name__} stores, returns and deletes a test entry"


def check_modules() -> str:
    """Raises CheckFailed: a module Hearth needs does not import."""
    missing = []
    for name in APP_MODULES:
        try:
            importlib.import_module(name)
        except Exception as exc:  # noqa: BLE001 - reported, with the reason
            missing.append(f"{name} ({type(exc).__name__}: {exc})")
    if missing:
        raise CheckFailed("cannot import " + ", ".join(missing))
    return f"{len(APP_MODULES)} modules import"


def check_model(model: Path | None) -> str:
    """Load ``model`` in a real engine process, stream a short reply and a JSON-constrained one.

    Raises CheckFailed: the engine did not start or did not answer. CheckWarning: no model given.
    """
    if model is None:
        raise CheckWarning("skipped: give a small model with --model FILE.gguf to test the engine")
    from wizard.engine import GenerationParams, LoadPlan, LocalEngine
    from wizard.errors import HearthError

    plan = LoadPlan(n_ctx=512, n_threads=max(1, min(4, os.cpu_count() or 1)), n_batch=256)
    started = time.perf_counter()
    try:
        with LocalEngine(Path(model), plan, start_timeout=120) as engine:
            loaded = time.perf_counter() - started
            stream = engine.stream_chat([{"role": "user", "content": "Say hello in one word."}],
                                        params=GenerationParams(temperature=0, max_tokens=REPLY_TOKENS, seed=1))
            pieces = [piece for piece in stream if piece]
            summary = stream.summary
            constrained = engine.client().chat(
                [{"role": "user", "content": "Is water wet? Answer in JSON."}],
                params=GenerationParams(temperature=0, max_tokens=32, seed=1,
                                        json_schema=json.dumps(JSON_SCHEMA)))
    except HearthError as exc:
        raise CheckFailed(f"{exc.user_message} {exc.details}".strip()) from exc
    if not pieces or not summary.text.strip():
        raise CheckFailed(f"the model loaded but generated no text (finish: {summary.finish_reason})")
    try:
        answer = json.loads(constrained.text)
    except ValueError as exc:
        raise CheckFailed(f"the JSON-constrained reply is not JSON: {constrained.text!r}") from exc
    if not isinstance(answer, dict) or not isinstance(answer.get("ok"), bool):
        raise CheckFailed(f"the JSON-constrained reply does not follow the schema: {constrained.text!r}")
    return (f"{Path(model).name} loaded in {loaded:.1f} s (engine {engine.ready_info.get('pid')}), "
            f"{summary.completion_tokens} tokens: {summary.text.strip()[:40]!r}; JSON reply {constrained.text!r}")


def check_window() -> str:
    """Open the main window, let Qt draw it, close it.

    Raises CheckFailed: the window did not show or did not close.
    """
    if sys.platform.startswith("linux") and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtGui import QGuiApplication

    from app.gui import create_application
    from app.main_window import MainWindow

    app = create_application([sys.argv[0] if sys.argv else "hearth"])
    window = MainWindow()
    window.show()
    deadline = time.monotonic() + 10
    while not window.isVisible() and time.monotonic() < deadline:
        app.processEvents()
    app.processEvents()
    if not window.isVisible():
        raise CheckFailed(f"the main window did not appear (Qt platform {QGuiApplication.platformName()})")
    size = window.size()
    if not window.close() or window.isVisible():
        raise CheckFailed("the main window did not close")
    app.processEvents()
    window.deleteLater()
    app.processEvents()
    return f"opened and closed ({size.width()}x{size.height()}, Qt platform {QGuiApplication.platformName()})"


def _run_one(name: str, check: Callable[[], str]) -> CheckResult:
    try:
        return CheckResult(name, PASS, check())
    except CheckWarning as exc:
        return CheckResult(name, WARN, str(exc))
    except CheckFailed as exc:
        log.warning("self-test %s failed: %s", name, exc)
        # The traceback at INFO: without a log file (the disk is the problem) logging's last-resort
        # handler prints WARNING and up on the terminal, and a traceback does not belong there.
        log.info("self-test %s failure details", name, exc_info=exc)
        return CheckResult(name, FAIL, str(exc))
    except Exception as exc:  # noqa: BLE001 - a self-test reports every failure, never crashes
        log.error("self-test %s crashed: %s: %s", name, type(exc).__name__, exc)
        log.info("self-test %s crash details", name, exc_info=exc)
        return CheckResult(name, FAIL, f"{type(exc).__name__}: {exc}")


def run_self_test(*, model: Path | None = None, strict: bool = False, out: TextIO | None = None) -> int:
    """Run every check, print the report to ``out`` (standard output), return the exit code.

    ``strict``: every WARN counts as a failure. Never raises: a check that crashes is reported as FAIL.
    """
    from wizard import __version__

    out = out or sys.stdout
    frozen = "frozen bundle" if getattr(sys, "frozen", False) else "from source"
    strictness = ", strict" if strict else ""
    print(f"Hearth {__version__} self-test ({frozen}{strictness}, Python {sys.version.split()[0]}, "
          f"{sys.platform})",
          file=out, flush=True)
    checks: list[tuple[str, Callable[[], str]]] = [
        ("shipped files", check_shipped_files),
        ("data folders", check_data_folders),
        ("keyring", check_keyring),
        ("modules", check_modules),
        ("engine", lambda: check_model(model)),
        ("main window", check_window),
    ]
    results = []
    for name, check in checks:
        started = time.perf_counter()
        result = _run_one(name, check)
        log.info("self-test %s (%.2f s)", result.line(), time.perf_counter() - started)
        print(result.line(), file=out, flush=True)
        results.append(result)
    failed = sum(r.status == FAIL for r in results)
    warned = sum(r.status == WARN for r in results)
    if failed:
        print(f"Self-test FAILED: {failed} of {len(results)} checks failed.", file=out, flush=True)
        return 1
    if strict and warned:
        print(f"Self-test FAILED: {warned} of {len(results)} checks only warned, and --strict counts "
              f"a warning as a failure.", file=out, flush=True)
        return 1
    print(f"Self-test passed: {len(results)} checks, {warned} warnings.", file=out, flush=True)
    return 0
