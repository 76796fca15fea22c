"""``hearth models list [--json]`` and ``hearth models remove ID [--keep-file]``.

Exit codes: 0 done; 1 an error (printed as a plain sentence).
"""

from __future__ import annotations

import argparse
import json
import sys


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "models", help="list or remove installed models",
        description="See the models installed on this computer, or delete one to get its space back.")
    actions = parser.add_subparsers(title="actions", metavar="ACTION", required=True)
    listing = actions.add_parser("list", help="show the installed models")
    listing.add_argument("--json", action="store_true", help="print the list as JSON")
    listing.set_defaults(handler=run_list)
    remove = actions.add_parser("remove", help="delete an installed model and free its space")
    remove.add_argument("model_id", metavar="ID", help="the model's id (or file name) from “hearth models list”")
    remove.add_argument("--keep-file", action="store_true",
                        help="only take it off the list; leave the file where it is")
    remove.set_defaults(handler=run_remove)


def _warn_if_recovered(registry: object) -> None:
    problem = getattr(registry, "problem", None)
    if problem is not None:
        print(f"Warning: {problem.user_message}\n{problem.hint}", file=sys.stderr)


def run_list(args: argparse.Namespace) -> int:
    from app.commands.progress_bar import human_bytes
    from wizard.models import ModelRegistry

    registry = ModelRegistry()
    models = registry.list()
    _warn_if_recovered(registry)
    if args.json:
        print(json.dumps({"models_folder": str(registry.models_dir),
                          "models": [m.to_json() | {"file": str(m.file_in(registry.models_dir))}
                                     for m in models]}, indent=2))
        return 0
    if not models:
        print("No models are installed yet.")
        return 0
    for model in models:
        print(f"{model.id}\n    {human_bytes(model.size)}, licence {model.licence}, "
              f"{model.source.describe()}, installed {model.installed[:10]}")
    total = sum(m.size for m in models)
    print(f"{len(models)} model{'s' if len(models) != 1 else ''}, {human_bytes(total)} in {registry.models_dir}")
    return 0


def run_remove(args: argparse.Namespace) -> int:
    from app.commands.progress_bar import human_bytes
    from wizard.models import ModelRegistry

    registry = ModelRegistry()
    if args.keep_file:
        model = registry.forget(args.model_id)
        _warn_if_recovered(registry)
        print(f"Took {model.id} off the list; the file is still at {model.file_in(registry.models_dir)}.")
        return 0
    removal = registry.delete(args.model_id)
    _warn_if_recovered(registry)
    if removal.file_was_missing:
        print(f"Took {removal.model.id} off the list; its file had already been deleted.")
    else:
        print(f"Deleted {removal.model.id}: {human_bytes(removal.bytes_freed)} freed.")
    return 0
