"""``hearth serve [--profile P | --model FILE.gguf] [--port N]``: offer a model to other apps on this computer.

``--profile P`` serves that assistant's model, loaded the way setup chose; with neither option
the assistant used last (or the only one) is served. Running this command is the person's own
choice to open the connection, whether or not the assistant's local API switch is on.

Starts the local engine (an OpenAI-compatible server on 127.0.0.1 only), prints its base URL
and the token it generated for this run, then serves until Ctrl+C (exit 130) or SIGTERM (exit 0),
and stops the engine process. Apps send ``Authorization: Bearer TOKEN``; without it they get 401.
If the engine stops by itself, the command says so and exits 1.
"""

from __future__ import annotations

import argparse
import functools
import signal
import sys
import threading

from app.commands.chat import add_engine_arguments, chosen_profile, remember_used, start_engine
from wizard.errors import HearthValueError


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "serve", help="offer a model to other apps on this computer",
        description="Run a model as an OpenAI-compatible server that only this computer can reach. "
        "Prints the address and the token apps must use; Ctrl+C stops it.")
    add_engine_arguments(parser)
    parser.add_argument("--port", type=int, default=0, metavar="N",
                        help="the port to listen on (default: any free port)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from wizard.engine import EngineCrashed, engine_command

    if not 0 <= args.port <= 65535:
        raise HearthValueError("The port must be a number between 1 and 65535.",
                               hint="Leave --port out to use any free port.", details=f"--port {args.port}")
    profile = chosen_profile(args)
    stop = threading.Event()
    exit_code = {"code": 0}

    def on_signal(signum: int, frame: object) -> None:
        exit_code["code"] = 130 if signum == signal.SIGINT else 0
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        engine = start_engine(args, profile, command=functools.partial(engine_command, port=args.port))
        if profile is not None:
            remember_used(profile)
        try:
            if stop.is_set():
                return exit_code["code"]
            print(f"Hearth's AI is running for apps on this computer.\n"
                  f"  Address: {engine.base_url}\n"
                  f"  Token:   {engine.token}\n"
                  f"Apps must send the header: Authorization: Bearer <token>\n"
                  f"Press Ctrl+C to stop.", flush=True)
            while not stop.wait(0.25):
                if not engine.alive:
                    error = EngineCrashed("The AI stopped unexpectedly.",
                                          hint="Start it again with the same command.",
                                          details=engine.stderr_tail)
                    raise error
            print("Stopping…", file=sys.stderr, flush=True)
            return exit_code["code"]
        finally:
            engine.stop()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
