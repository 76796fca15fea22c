"""The engine process: ``python -m wizard.engine.server --model FILE.gguf [options]``.

Protocol with the parent (wizard.engine.process):
- the access token is the first line on standard input, never on the command line (other
  users can read a process's arguments) and never in a file; standard input then stays open,
  and its end (the parent died or let go) stops this process;
- exactly one JSON line on standard output: ``{"event": "ready", "port": N, ...}`` once the
  model is loaded and the port is open, or ``{"event": "error", "error": CLASS, "message": ...,
  "hint": ..., "details": ...}`` followed by exit status 2;
- llama.cpp's error messages go to standard error.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import os
import sys
import threading
from collections.abc import Sequence
from pathlib import Path

from wizard.engine.errors import EngineStartError, UnsafeServerSettings
from wizard.engine.modelfile import validate_model_file
from wizard.engine.plan import KV_CACHE_TYPES, LoadPlan
from wizard.errors import HearthError


def check_bind(host: str, token: str) -> None:
    """Refuse settings that would open the model to other people.

    Raises:
        UnsafeServerSettings: no token at all, or a non-loopback address without a token.
    """
    if not is_loopback_address(host) and not token:
        raise UnsafeServerSettings(
            "Hearth will not open the AI to other computers without a token.",
            details=f"refused to bind {host!r} without a token")
    if not token:
        raise UnsafeServerSettings("Hearth will not run the AI server without a token.",
                                   details=f"refused to bind {host!r} without a token")


def is_loopback_address(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="wizard.engine.server", description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True, type=Path)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--n-ctx", type=int, default=LoadPlan.n_ctx)
    parser.add_argument("--n-gpu-layers", type=int, default=LoadPlan.n_gpu_layers)
    parser.add_argument("--threads", type=int, default=LoadPlan.n_threads)
    parser.add_argument("--kv-type", choices=sorted(KV_CACHE_TYPES), default=LoadPlan.kv_type)
    parser.add_argument("--n-batch", type=int, default=LoadPlan.n_batch)
    parser.add_argument("--flash-attn", action="store_true")
    parser.add_argument("--busy-wait", type=float, default=5.0,
                        help="seconds a second request waits for the first before 429")
    return parser


def plan_from_args(args: argparse.Namespace) -> LoadPlan:
    return LoadPlan(n_ctx=args.n_ctx, n_gpu_layers=args.n_gpu_layers, n_threads=args.threads,
                    kv_type=args.kv_type, n_batch=args.n_batch, flash_attn=args.flash_attn)


def _announce(event: dict) -> None:
    sys.stdout.write(json.dumps(event) + "\n")
    sys.stdout.flush()


def _exit_when_parent_lets_go() -> None:
    while sys.stdin.buffer.read(4096):
        pass
    os._exit(0)


def serve(args: argparse.Namespace, token: str) -> None:
    """Load the model, open the port, announce readiness, serve until stdin closes.

    Raises:
        HearthError subclasses (UnsafeServerSettings, ModelFileError, EngineStartError,
        UnsafeTemplateError, NoChatTemplateError, ChatTemplateError) before anything is served.
    """
    from wizard.engine.generator import LlamaRunner
    from wizard.engine.http_api import EngineHTTPServer
    from wizard.engine.template import choose_template

    check_bind(args.host, token)
    validate_model_file(args.model)
    runner = LlamaRunner(args.model, plan_from_args(args))
    template = choose_template(
        runner.metadata("tokenizer.chat_template"),
        architecture=runner.metadata("general.architecture") or "",
        has_special_token=runner.is_single_special_token,
        bos_token=runner.token_text(runner.bos_token),
        eos_token=runner.token_text(runner.eos_token),
    )
    try:
        server = EngineHTTPServer((args.host.strip("[]"), args.port), runner=runner, template=template,
                                  token=token, model_id=args.model.stem, busy_wait=args.busy_wait)
    except OSError as exc:
        raise EngineStartError("The AI server could not open its port.", details=str(exc)) from exc
    threading.Thread(target=_exit_when_parent_lets_go, daemon=True, name="parent-watch").start()
    _announce({"event": "ready", "port": server.port, "model": args.model.stem,
               "n_ctx": runner.n_ctx, "template": template.origin, "pid": os.getpid()})
    server.serve_forever(poll_interval=0.2)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    token = sys.stdin.readline().strip()
    try:
        serve(args, token)
    except HearthError as exc:
        _announce({"event": "error", "error": type(exc).__name__, "message": exc.user_message,
                   "hint": exc.hint, "details": exc.details})
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
