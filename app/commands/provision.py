"""``hearth provision ANSWERS.toml [--dry-run]``: set up an assistant from an answer file, unattended.

For consultants: no window and no questions. Every step is written to the log file and as
one plain line on standard error; the last line on standard output says what was done.
Running the same file again changes nothing and says so. On any failure the command exits
1 with a plain message and no half-made assistant is left. ``--dry-run`` prints every
change and writes nothing. The answer file's format is in recipes/README.md.
"""

from __future__ import annotations

import argparse
import sys
import threading
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "provision", help="set up an assistant from an answer file, with no questions",
        description="Set up a personal assistant from an answer file (recipe, model, the person's name, "
        "folders, model pack or mirror, local API), unattended. Safe to run again.")
    parser.add_argument("answers", type=Path, metavar="ANSWERS.toml", help="the answer file")
    parser.add_argument("--dry-run", action="store_true", help="show every change and write nothing")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from app.commands.chat import ctrl_c_stops
    from wizard.provision import load_answers, provision

    answers = load_answers(args.answers)
    cancel = threading.Event()

    def say(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    with ctrl_c_stops(cancel):
        result = provision(answers, dry_run=args.dry_run, progress=say, cancel=cancel)
    if cancel.is_set():
        print("Stopped. Nothing was set up.", file=sys.stderr)
        return 130
    if args.dry_run:
        print("Dry run: nothing was changed." + ("" if result.changed else " (Everything is already set up "
                                                                            "like this.)"))
    elif result.changed:
        print(f"Set up \"{result.profile_dir.name}\" in {result.profile_dir}. Handover report: {result.report}")
    else:
        print(f"Nothing to change: \"{result.profile_dir.name}\" is already set up exactly like this.")
    return 0
