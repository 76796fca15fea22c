"""``hearth`` and ``python -m app``: the window when run bare, sub-commands otherwise.

Argument parsing happens before anything heavy is imported, so ``hearth --version``
answers at once and the command line works on a machine without a display.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

from app.commands import register_all
from wizard import __version__
from wizard.errors import HearthError

log = logging.getLogger(__name__)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hearth",
        description="Hearth: your own private AI, on your own computer. "
        "Run without arguments to open the window.",
    )
    parser.add_argument("--version", action="version", version=f"Hearth {__version__}")
    parser.add_argument("--self-test", action="store_true",
                        help="check that this installation works, print a report and exit "
                        "(0 only when every check passes)")
    parser.add_argument("--strict", action="store_true",
                        help="with --self-test: a warning (a check skipped or only partly possible) "
                        "fails the self-test too")
    # Its own dest: `hearth chat --model …` fills `model` through the sub-command's parser.
    parser.add_argument("--model", dest="self_test_model", type=Path, metavar="FILE.gguf",
                        help="with --self-test: a small model file to load and ask for a few words")
    subparsers = parser.add_subparsers(title="commands", metavar="COMMAND")
    register_all(subparsers)
    return parser


class _LogStream:
    """Stands in for sys.stdout/stderr when a windowed app has none: lines go to the log."""

    encoding = "utf-8"
    errors = "replace"

    def __init__(self, logger_name: str, level: int) -> None:
        self._log = logging.getLogger(logger_name)
        self._level = level
        self._pending = ""

    def write(self, text: str) -> int:
        self._pending += text
        *lines, self._pending = self._pending.split("\n")
        for line in lines:
            if line.strip():
                self._log.log(self._level, "%s", line.rstrip())
        return len(text)

    def flush(self) -> None:
        if self._pending.strip():
            self._log.log(self._level, "%s", self._pending.rstrip())
        self._pending = ""

    def isatty(self) -> bool:
        return False

    def writable(self) -> bool:
        return True


def _give_missing_streams_a_home(log_ready: bool) -> None:
    """A windowed app (Windows, macOS) starts with sys.stdout/stderr None; print() and tqdm would fail.

    Once logging works they write to the log file; otherwise to nowhere.
    """
    for name, level in (("stdout", logging.INFO), ("stderr", logging.WARNING)):
        if getattr(sys, name) is None:
            setattr(sys, name, _LogStream(f"hearth.{name}", level) if log_ready
                    else open(os.devnull, "w", encoding="utf-8"))  # noqa: SIM115 - lives as long as the process


def _asks_to_be_the_engine(args_in: list[str]) -> bool:
    """The frozen app's "be the engine" flag? Looked up only when there are arguments: its module
    imports all of wizard.engine, which the bare window does not need before it is drawn."""
    if not args_in:
        return False
    from wizard.engine.process import FROZEN_ENGINE_FLAG

    return args_in[0] == FROZEN_ENGINE_FLAG


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the process exit code."""
    args_in = sys.argv[1:] if argv is None else argv
    if _asks_to_be_the_engine(args_in):
        # The frozen app is its own engine process (it has no `python -m wizard.engine.server`);
        # stdout is the engine's line to its parent, so nothing below may touch it.
        from wizard.engine.server import main as engine_main

        return engine_main(args_in[1:])
    parser = build_parser() if args_in else None  # a double-click has no arguments: go straight to the window
    args = parser.parse_args(args_in) if parser is not None else _no_arguments()
    if args.self_test_model is not None and not args.self_test:
        parser.error("--model goes with --self-test (to chat with a model: hearth chat --model FILE)")
    if args.strict and not args.self_test:
        parser.error("--strict goes with --self-test")

    opens_window = not args.self_test and getattr(args, "handler", None) is None
    if opens_window:  # the log file is opened once the window has been drawn; records are held until then
        from wizard.logs import hold_early_records

        hold_early_records()
        _give_missing_streams_a_home(log_ready=True)
        log.info("Hearth %s starting", __version__)
        log_file = None
    else:
        log_file = _open_log_file()
        _give_missing_streams_a_home(log_ready=log_file is not None)

    try:
        if args.self_test:
            from app.self_test import run_self_test

            return run_self_test(model=args.self_test_model, strict=args.strict)
        if not opens_window:
            return _run_command(args.handler, args, log_file)
        from app.gui import run_gui

        return run_gui([sys.argv[0], *args_in], open_log=_open_log_file)
    except KeyboardInterrupt:
        print("Stopped.", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `hearth doctor --json | head`: the reader left, nothing to say
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - keeps interpreter shutdown quiet
        return 0
    except HearthError as exc:
        log.exception("Hearth stopped with an error")
        print(exc.for_terminal(), file=sys.stderr)
        return 1


def _open_log_file() -> Path | None:
    """Open the log file (what was held so far goes in first); None when it cannot be written:
    a read-only or full disk must not stop Hearth, so it says so on stderr and goes on."""
    from wizard.logs import setup_logging

    try:
        log_file = setup_logging()
    except OSError as exc:
        print(f"Hearth could not write its log file: {exc}", file=sys.stderr)
        return None
    log.info("Hearth %s; log file %s", __version__, log_file)
    return log_file


def _no_arguments() -> argparse.Namespace:
    """What the parser gives for no arguments, without building it (every sub-command's
    parser imports a little of the core: ~40 ms before the window could be drawn)."""
    return argparse.Namespace(self_test=False, strict=False, self_test_model=None)


def _run_command(handler, args: argparse.Namespace, log_file: Path | None) -> int:
    """A sub-command, with a last resort: a mistake in Hearth is one plain sentence, never a traceback.

    HearthError, KeyboardInterrupt and BrokenPipeError pass through to ``main``'s own handling.
    """
    try:
        return handler(args)
    except (HearthError, BrokenPipeError):
        raise
    except Exception as exc:  # noqa: BLE001 - the last resort: the traceback goes to the log
        log.exception("Unexpected error in a command")
        where = (f"the details are in the log file at {log_file}" if log_file is not None else
                 f"its log file could not be written, so here is the detail: {type(exc).__name__}: {exc}")
        print(f"Hearth hit a problem it did not expect and stopped; {where}.", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
