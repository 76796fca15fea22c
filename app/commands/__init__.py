"""Hearth's command-line sub-commands (``hearth download …``, ``hearth recipe …``).

Each sub-command lives in its own module with two functions:

    def register(subparsers) -> None      # add its parser; set_defaults(handler=run)
    def run(args: argparse.Namespace) -> int

and is listed in ``COMMAND_MODULES``. Commands never import Qt: they must work over SSH
and on a machine with no display. Errors they raise as ``HearthError`` are printed as
plain sentences by ``app.__main__`` and give exit code 1.
"""

from __future__ import annotations

import argparse
import importlib

COMMAND_MODULES: list[str] = [
    "app.commands.download",
    "app.commands.catalog",
    "app.commands.doctor",
    "app.commands.estimate",
    "app.commands.models",
    "app.commands.pack",
    "app.commands.recipe",
    "app.commands.recommend",
    "app.commands.chat",
    "app.commands.serve",
    "app.commands.provision",
    "app.commands.profile",
]


def register_all(subparsers: argparse._SubParsersAction) -> None:
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
