"""Run the engine as a managed child process and talk to it through the one client.

The child (``python -m wizard.engine.server``) listens on 127.0.0.1 on a port of its choosing,
with a fresh random token that reaches it through its standard input only. If it dies
(llama.cpp can crash), the reply in flight raises :class:`EngineCrashed`; :meth:`LocalEngine.restart`
brings it back with the same model and plan, and the caller sends the same messages again.
"""

from __future__ import annotations

import collections
import json
import secrets
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

from wizard.engine import errors as engine_errors
from wizard.engine.client import Cancel, ChatStream, EngineClient
from wizard.engine.errors import (
    EngineConnectionError,
    EngineCrashed,
    EngineError,
    EngineStartError,
    ModelFileError,
)
from wizard.engine.modelfile import validate_model_file
from wizard.engine.plan import GenerationParams, LoadPlan

STDERR_TAIL_LINES = 40
# The frozen app has no ``python -m``: its own executable runs the engine when given this first
# argument (app/__main__.py checks for it before anything else is imported).
FROZEN_ENGINE_FLAG = "--engine-server"


def default_launcher() -> list[str]:
    """How to start :mod:`wizard.engine.server`: ``python -m`` from source, the app itself when frozen."""
    if getattr(sys, "frozen", False):
        return [sys.executable, FROZEN_ENGINE_FLAG]
    return [sys.executable, "-m", "wizard.engine.server"]


def engine_command(model_path: Path, plan: LoadPlan, *, host: str = "127.0.0.1", port: int = 0,
                   launcher: Sequence[str] | None = None, busy_wait: float = 5.0) -> list[str]:
    """The argv that starts the engine process. No secret is ever part of it.

    ``launcher`` replaces :func:`default_launcher` (``[python, "-m", "wizard.engine.server"]``, or
    ``[Hearth, "--engine-server"]`` in the frozen app).
    """
    argv = list(launcher) if launcher else default_launcher()
    argv += ["--model", str(model_path), "--host", host, "--port", str(port),
             "--n-ctx", str(plan.n_ctx), "--n-gpu-layers", str(plan.n_gpu_layers),
             "--threads", str(plan.n_threads), "--kv-type", plan.kv_type,
             "--n-batch", str(plan.n_batch), "--busy-wait", str(busy_wait)]
    if plan.flash_attn:
        argv.append("--flash-attn")
    return argv


class EnginePortBusy(EngineStartError):
    """The fixed port asked for is already used by another program on this computer."""

    default_hint = "Close the program that uses it, or choose another port."


class LocalEngine:
    """A model served by a child process on 127.0.0.1. Use as a context manager or call stop().

    ``command`` builds the argv (default :func:`engine_command`); tests and the frozen app pass
    their own. ``port`` 0 and ``token`` None (the default): a free port and a fresh random
    token on every start; a fixed ``port``/``token`` (the local API other apps use) stay the
    same across starts. ``port_busy_hint`` is the hint given when the fixed port is taken.
    """

    def __init__(self, model_path: Path, plan: LoadPlan, *, start_timeout: float = 120.0,
                 command: Callable[..., list[str]] = engine_command, busy_wait: float = 5.0,
                 port: int = 0, token: str | None = None, port_busy_hint: str | None = None) -> None:
        self.model_path = Path(model_path)
        self.plan = plan
        self.start_timeout = start_timeout
        self._command = command
        self._busy_wait = busy_wait
        self._fixed_port = port
        self._fixed_token = token
        self.port_busy_hint = port_busy_hint
        self._process: subprocess.Popen | None = None
        self._stderr_tail: collections.deque[str] = collections.deque(maxlen=STDERR_TAIL_LINES)
        self.token = ""
        self.port = 0
        self.ready_info: dict = {}

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> None:
        """Start the child and wait until it has loaded the model.

        Raises:
            ModelFileError: the file fails the header check (before any process starts).
            UnsafeTemplateError, NoChatTemplateError, ChatTemplateError: the model's chat template
                was refused (from the header, before any process starts; or by the process).
            EnginePortBusy: the fixed ``port`` is used by another program (nothing was started).
            EngineStartError: the process failed to load the model or did not get ready in time
                (``details`` holds its last error lines).
        """
        if self.alive:
            return
        header = validate_model_file(self.model_path)
        # The child checks the template again once loaded (with the vocabulary); this check
        # keeps a hostile template from even reaching a process that has loaded the file.
        from wizard.engine.template import check_template_before_loading

        check_template_before_loading(header.metadata)
        self.token = self._fixed_token or secrets.token_urlsafe(32)
        self._stderr_tail.clear()
        if self._fixed_port:
            self._check_port_free(self._fixed_port)
            argv = self._command(self.model_path, self.plan, busy_wait=self._busy_wait, port=self._fixed_port)
        else:
            argv = self._command(self.model_path, self.plan, busy_wait=self._busy_wait)
        process = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, start_new_session=True)
        self._process = process
        self._stderr_reader = threading.Thread(target=self._keep_stderr, args=(process,), daemon=True,
                                               name="engine-stderr")
        self._stderr_reader.start()
        process.stdin.write(self.token.encode() + b"\n")
        process.stdin.flush()  # stdin stays open: closing it tells the child to exit
        event = self._wait_for_announcement(process)
        if event.get("event") == "ready":
            self.port = int(event["port"])
            self.ready_info = event
            return
        self._reap()
        self._stderr_reader.join(2.0)  # its last lines explain the failure
        error_class = getattr(engine_errors, str(event.get("error")), None)
        if not (isinstance(error_class, type) and issubclass(error_class, EngineError | ModelFileError)):
            error_class = EngineStartError
        details = "\n".join(part for part in (event.get("details", ""), self.stderr_tail.strip()) if part)
        raise error_class(event.get("message") or "The AI model could not be started.",
                          hint=event.get("hint"), details=details)

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the child (closing its stdin, then SIGTERM, then SIGKILL)."""
        process, self._process = self._process, None
        if process is None:
            return
        try:
            process.stdin.close()
        except OSError:
            pass
        try:
            process.wait(timeout=timeout / 2)
        except subprocess.TimeoutExpired:
            process.terminate()
            try:
                process.wait(timeout=timeout / 2)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        for stream in (process.stdout, process.stderr):
            stream.close()

    def restart(self) -> None:
        """Stop whatever is left of the child and start it again with the same model and plan.

        Raises: as :meth:`start`.
        """
        self.stop()
        self.start()

    def __enter__(self) -> LocalEngine:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def alive(self) -> bool:
        return self._process is not None and self._process.poll() is None

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def stderr_tail(self) -> str:
        return "".join(self._stderr_tail)

    def client(self) -> EngineClient:
        """An OpenAI-compatible client for this engine (the same class remote servers use)."""
        return EngineClient(self.base_url, api_key=self.token)

    # -- chatting ----------------------------------------------------------------------------

    def stream_chat(self, messages: Sequence[dict], *, params: GenerationParams | None = None,
                    cancel: Cancel = None) -> ChatStream:
        """Stream a reply; like :meth:`EngineClient.stream_chat` but a dead child becomes EngineCrashed.

        ``messages`` is never changed: after EngineCrashed, call :meth:`restart` and send the same
        messages again.

        Raises (while iterating):
            EngineCrashed: the engine process died; nothing the user typed is lost.
            EngineError subclasses: as the client.
        """
        if self._process is None:
            raise EngineError("The AI is not running.", hint="Start it again from Hearth; nothing was lost.")
        if not self.alive:
            raise self._crashed()
        return ChatStream(self.client().stream_chat(messages, params=params, cancel=cancel),
                          on_connection_error=self._translate_connection_error)

    def _translate_connection_error(self, error: EngineError) -> EngineError:
        if not isinstance(error, EngineConnectionError):
            return error
        process = self._process
        if process is not None:
            try:
                process.wait(timeout=2.0)  # a killed child closes its sockets just before it is reaped
            except subprocess.TimeoutExpired:
                return error
        return self._crashed(cause=error)

    def _crashed(self, cause: Exception | None = None) -> EngineCrashed:
        process = self._process
        code = process.poll() if process else None
        if code is not None and code < 0:
            try:
                how = f"killed by {signal.Signals(-code).name}"
            except ValueError:
                how = f"killed by signal {-code}"
        else:
            how = f"exit status {code}"
        details = f"engine process {how}"
        if cause is not None:
            details += f"; {cause.details or cause}"
        if self.stderr_tail:
            details += "\n" + self.stderr_tail
        return EngineCrashed("The AI stopped unexpectedly in the middle of its answer.", details=details)

    # -- plumbing ----------------------------------------------------------------------------

    def _check_port_free(self, port: int) -> None:
        probe = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        # as the engine's server does: a port left in TIME_WAIT by our own last run is free
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError as exc:
            raise EnginePortBusy(f"Another program on this computer is already using port {port}, "
                                 "so Hearth cannot start its AI there.", hint=self.port_busy_hint,
                                 details=str(exc)) from exc
        finally:
            probe.close()

    def _keep_stderr(self, process: subprocess.Popen) -> None:
        for raw in iter(process.stderr.readline, b""):
            self._stderr_tail.append(raw.decode("utf-8", errors="replace"))

    def _wait_for_announcement(self, process: subprocess.Popen) -> dict:
        result: dict = {}

        def read_line() -> None:
            line = process.stdout.readline()
            try:
                result.update(json.loads(line))
            except ValueError:
                result.update(event="error", message="", details=line.decode("utf-8", "replace"))

        reader = threading.Thread(target=read_line, daemon=True, name="engine-ready")
        reader.start()
        reader.join(self.start_timeout)
        if reader.is_alive():
            self._reap(force=True)
            raise EngineStartError("The AI model took too long to load.",
                                   details=f"no answer within {self.start_timeout:.0f} s\n{self.stderr_tail}")
        if result.get("event") == "error" and not result.get("message"):
            code = self._process.wait(timeout=10) if self._process else None
            result["details"] = f"engine exited with status {code} {result.get('details', '')}".strip()
        return result

    def _reap(self, force: bool = False) -> int | None:
        process, self._process = self._process, None
        if process is None:
            return None
        if force:
            process.kill()
        try:
            process.stdin.close()
        except OSError:
            pass
        try:
            return process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            return process.wait()
