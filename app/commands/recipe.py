"""``hearth recipe check|list|apply``: check, list and apply recipes from the command line.

``check FILE`` prints every problem as ``file:line: key: message`` and exits 1, or a short
summary and exits 0. ``list`` shows the shipped recipes. ``apply FILE --dry-run`` shows
every change; ``apply FILE`` makes them, and needs ``--yes`` when the recipe asks for a
permission not granted before. FILE may also be the id of a shipped recipe.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "recipe", help="check, list and apply recipes (what an assistant is for and may do)",
        description="Recipes are small text files that set up an assistant: its instructions, "
        "the folders it may use, its tools and memory.")
    actions = parser.add_subparsers(title="actions", metavar="ACTION", dest="action")
    check = actions.add_parser("check", help="check a recipe file and list every problem")
    check.add_argument("file", help="the recipe file (.toml) or a shipped recipe's id")
    check.set_defaults(handler=run_check)
    listing = actions.add_parser("list", help="show the recipes that come with Hearth")
    listing.set_defaults(handler=run_list)
    apply = actions.add_parser("apply", help="set up an assistant from a recipe")
    apply.add_argument("file", help="the recipe file (.toml) or a shipped recipe's id")
    apply.add_argument("--dry-run", action="store_true", help="only show what would change")
    apply.add_argument("--yes", action="store_true",
                       help="agree to every new permission the recipe asks for")
    apply.set_defaults(handler=run_apply)
    parser.set_defaults(handler=lambda args: (parser.print_help(), 2)[1])


def _recipe_path(text: str) -> Path:
    path = Path(text)
    if not path.exists() and path.suffix == "" and "/" not in text and "\\" not in text:
        from wizard.recipes import shipped_recipe_files

        for shipped in shipped_recipe_files():
            if shipped.stem == text:
                return shipped
    return path


def run_check(args: argparse.Namespace) -> int:
    from wizard.recipes import RecipeError, load_recipe
    from wizard.recipes.plan import permissions_of

    try:
        loaded = load_recipe(_recipe_path(args.file))
    except RecipeError as exc:
        print(exc.for_terminal())
        return 1
    recipe = loaded.recipe
    out = [f"{Path(args.file).name}: OK — \"{recipe.name}\" ({recipe.id})",
           f"  {recipe.description}", f"  For: {recipe.for_whom}"]
    permissions = permissions_of(recipe)
    out.append("  It may:" if permissions else "  It asks for no permissions.")
    out += [f"    - {p.describe()}" for p in permissions]
    out += [str(note) for note in loaded.notes]
    print("\n".join(out))
    return 0


def run_list(args: argparse.Namespace) -> int:
    from wizard.recipes import shipped_recipes

    for loaded in shipped_recipes():
        recipe = loaded.recipe
        print(f"{recipe.id:<28} {recipe.name}: {recipe.description}")
    return 0


def run_apply(args: argparse.Namespace) -> int:
    from wizard.recipes import RecipeError, load_recipe
    from wizard.recipes.plan import apply_plan, plan_recipe

    try:
        loaded = load_recipe(_recipe_path(args.file))
    except RecipeError as exc:
        print(exc.for_terminal())
        return 1
    plan = plan_recipe(loaded.recipe)
    print("\n".join(plan.lines()))
    if args.dry_run:
        print("Dry run: nothing was changed.")
        return 0
    if plan.unchanged:
        return 0
    folder = apply_plan(plan, allow=bool(args.yes))
    print(f"Done: the assistant \"{plan.recipe.name}\" is set up in {folder}.")
    sys.stdout.flush()
    return 0
