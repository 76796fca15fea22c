"""``hearth pack export DIR [--model ID ...] [--no-recipes]`` and ``hearth pack import DIR``: offline model packs.

Export also writes the recipes of the assistants that use the exported models (unless
``--no-recipes``); import installs them where ``hearth recipe list`` finds them.

Exit codes: 0 done; 1 an error (printed as a plain sentence); 130 interrupted (Ctrl-C
or SIGTERM): an import then installs nothing, an export writes no manifest.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

EXIT_INTERRUPTED = 130


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "pack", help="carry models on a USB stick (offline model packs)",
        description="Write installed models to a folder (for example a USB stick), or install the models "
                    "from such a folder on a computer without internet.")
    actions = parser.add_subparsers(title="actions", metavar="ACTION", required=True)
    export = actions.add_parser("export", help="write installed models into a pack folder")
    export.add_argument("folder", metavar="DIR", type=Path, help="an empty folder, e.g. on a USB stick")
    export.add_argument("--model", dest="models", action="append", metavar="ID",
                        help="a model id from “hearth models list” (repeat for more; default: all)")
    export.add_argument("--no-recipes", dest="recipes", action="store_false",
                        help="leave out the recipes of the assistants that use these models")
    export.set_defaults(handler=run_export)
    install = actions.add_parser("import", help="check and install the models in a pack folder")
    install.add_argument("folder", metavar="DIR", type=Path, help="the folder holding hearth-pack.toml")
    install.set_defaults(handler=run_import)


def _with_cancel(work: Callable[[threading.Event, Any], Any]) -> tuple[Any, bool]:
    """Run ``work(cancel, bar)`` with Ctrl-C/SIGTERM setting ``cancel``; (result, was_cancelled)."""
    from app.commands.progress_bar import TerminalProgressBar
    from wizard.packs import PackCancelled

    cancel = threading.Event()
    bar = TerminalProgressBar()
    previous = {}
    if threading.current_thread() is threading.main_thread():
        previous = {sig: signal.signal(sig, lambda *_: cancel.set()) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        return work(cancel, bar), False
    except PackCancelled:
        return None, True
    finally:
        bar.finish()
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def run_export(args: argparse.Namespace) -> int:
    from app.commands.progress_bar import human_bytes
    from wizard.packs import export_pack

    manifest, cancelled = _with_cancel(
        lambda cancel, bar: export_pack(args.folder, model_ids=args.models, with_recipes=args.recipes,
                                        progress=bar, cancel=cancel))
    if cancelled:
        print("Stopped. The pack was not finished (it has no manifest); run the command again.", file=sys.stderr)
        return EXIT_INTERRUPTED
    count, recipes = len(manifest.files), len(manifest.recipes)
    with_recipes = f" and {recipes} recipe{'s' if recipes != 1 else ''}" if recipes else ""
    print(f"Wrote a model pack with {count} model file{'s' if count != 1 else ''}{with_recipes} "
          f"({human_bytes(manifest.total_bytes)}) to {args.folder}.")
    return 0


def run_import(args: argparse.Namespace) -> int:
    from app.commands.progress_bar import human_bytes
    from wizard.packs import import_pack

    result, cancelled = _with_cancel(lambda cancel, bar: import_pack(args.folder, progress=bar, cancel=cancel))
    if cancelled:
        print("Stopped. Nothing was installed.", file=sys.stderr)
        return EXIT_INTERRUPTED
    for model in result.installed:
        print(f"Installed {model.id} ({human_bytes(model.size)}, sha256 verified).")
    for recipe in result.recipes:
        print(f"Added the recipe “{recipe.name}” as {recipe.path.stem} "
              f"(set it up with “hearth recipe apply {recipe.path.stem}”).")
    return 0
