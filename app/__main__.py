"""``hearth`` and ``python -m app``: the window when run bare, sub-commands otherwise.

Argument parsing happens before anything heavy is imported, so ``hearth --version``
answers at once and the command line works on a machine without a display.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys

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
    subparsers = parser.add_subparsers(title="commands", metavar="COMMAND")
    register_all(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the process exit code."""
    args_in = sys.argv[1:] if argv is None else argv
    args = build_parser().parse_args(args_in)

    from wizard.logs import setup_logging

    try:
        log_file = setup_logging()
    except OSError as exc:  # a read-only or full disk must not stop the window opening
        print(f"Hearth could not write its log file: {exc}", file=sys.stderr)
    else:
        log.info("Hearth %s starting; log file %s", __version__, log_file)

    try:
        handler = getattr(args, "handler", None)
        if handler is not None:
            return handler(args)
        from app.gui import run_gui

        return run_gui([sys.argv[0], *args_in])
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


if __name__ == "__main__":
    sys.exit(main())
