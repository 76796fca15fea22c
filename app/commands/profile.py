"""``hearth profile list | report P [--out FILE] | export-recipe P [--out FILE]``.

``list`` shows the assistants set up on this computer (the one used last is marked).
``report`` writes the handover report (HTML, readable offline and printable) into the
assistant's folder or to FILE. ``export-recipe`` writes the assistant's setup as a recipe
to share: no secret values, folders under the home folder written with ``~``; without
``--out`` it goes to standard output.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("profile", help="list assistants, write a handover report, export a recipe",
                                   description="The assistants set up on this computer.")
    actions = parser.add_subparsers(dest="action", metavar="ACTION")
    listing = actions.add_parser("list", help="show the assistants set up on this computer")
    listing.set_defaults(handler=run_list)
    report = actions.add_parser("report", help="write the handover report (HTML)")
    report.add_argument("profile", metavar="P", help="the assistant's id (see `hearth profile list`)")
    report.add_argument("--out", type=Path, metavar="FILE", help="where to write it (default: its folder)")
    report.set_defaults(handler=run_report)
    export = actions.add_parser("export-recipe", help="write the assistant's setup as a recipe to share")
    export.add_argument("profile", metavar="P", help="the assistant's id (see `hearth profile list`)")
    export.add_argument("--out", type=Path, metavar="FILE", help="the recipe file to write (default: print it)")
    export.set_defaults(handler=run_export)
    parser.set_defaults(handler=lambda args: (parser.print_help(), 2)[1])


def run_list(args: argparse.Namespace) -> int:
    from wizard.profiles import default_profile, list_profiles

    profiles = list_profiles()
    if not profiles:
        print("No assistant is set up yet. Open Hearth, or run `hearth provision ANSWERS.toml`.", file=sys.stderr)
        return 0
    current = default_profile()
    for profile in profiles:
        mark = "*" if current is not None and profile.id == current.id else " "
        model = profile.model_name or "no model yet"
        print(f"{mark} {profile.id}\t{profile.name}\t{model}")
    return 0


def run_report(args: argparse.Namespace) -> int:
    from wizard.profiles import load_profile
    from wizard.provision import write_report

    path = write_report(load_profile(args.profile), out=args.out)
    print(f"Wrote the handover report to {path}")
    return 0


def run_export(args: argparse.Namespace) -> int:
    from wizard.profiles import export_recipe, load_profile

    text = export_recipe(load_profile(args.profile))
    if args.out is None:
        sys.stdout.write(text)
        return 0
    from wizard.profiles.export import write_recipe_file

    write_recipe_file(args.out, text)
    print(f"Wrote the recipe to {args.out}")
    return 0
