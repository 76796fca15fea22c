"""``hearth recommend [--recipe ID] [--json]``: which model from Hearth's list suits this computer.

Probes this computer (as ``hearth doctor`` does), plans every model in the catalog for
its memory and graphics card, and prints them best first with a verdict ("runs
comfortably", "runs, but tight", "too big for this computer"), the reason and the
expected speed. ``--recipe`` takes a shipped recipe's id or a recipe file, and applies
its model needs (conversation length, abilities, preferred families, smallest size).
"""

from __future__ import annotations

import argparse
import json
import sys


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "recommend", help="show which AI models suit this computer",
        description="Rank the models in Hearth's list for this computer, with a verdict, "
        "the reason and the expected speed for each.")
    parser.add_argument("--recipe", metavar="ID", help="a shipped recipe's id or a recipe file: use its model needs")
    parser.add_argument("--json", action="store_true", help="print JSON (sizes in bytes) instead of text")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from wizard.catalog import load_catalog
    from wizard.hardware import probe_hardware
    from wizard.recipes.schema import ModelNeeds
    from wizard.recommend import recommend

    needs, recipe_name = ModelNeeds(), None
    if args.recipe:
        from app.commands.recipe import _recipe_path
        from wizard.recipes import load_recipe

        recipe = load_recipe(_recipe_path(args.recipe)).recipe
        needs, recipe_name = recipe.model, recipe.name
    profile = probe_hardware()
    result = recommend(profile, load_catalog(), needs)
    if args.json:
        data = {"recipe": args.recipe, **result.to_dict()}
        json.dump(data, sys.stdout, indent=2, sort_keys=True)
        sys.stdout.write("\n")
        return 0
    lines = [f"For the assistant \"{recipe_name}\":" if recipe_name else "For a general assistant:"]
    if result.best is None:
        lines.append("  No model in Hearth's list fits this computer. Free some memory, or choose "
                     "a smaller model file yourself.")
    for number, option in enumerate(result.options, 1):
        size = f"{option.entry.size_bytes / 1e9:.1f} GB download" if option.entry.size_bytes else "size unknown"
        badges = f" [{', '.join(option.badges)}]" if option.badges else ""
        lines.append(f"{number:2}. {option.entry.name} ({size}): {option.verdict}{badges}")
        lines.append(f"    {option.reason}")
        if option.fits:
            lines.append(f"    Speed: {option.speed} (about {option.tokens_per_second:.0f} tokens a second).")
    if result.left_out:
        lines.append("Not suitable for this assistant:")
        lines += [f"  - {entry.name}: {why}" for entry, why in result.left_out]
    lines.append(f"Speed worked out from {result.bandwidth.source}.")
    print("\n".join(lines))
    return 0
