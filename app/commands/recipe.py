"""``hearth recipe check|list|apply``: check, list and apply recipes from the command line.

``check FILE`` prints every problem as ``file:line: key: message`` and exits 1, or a short
summary and exits 0. ``list`` shows the shipped recipes and those added on this computer
(from a model pack). ``apply FILE --dry-run`` shows every change (the profile, each
permission, the model for this computer and the disk it needs, the secrets to be asked);
``apply FILE`` makes a complete assistant, the way ``hearth provision`` does: the model is
downloaded or added, run once and measured, and the profile written. New permissions need
the person's agreement: ``--yes``, or typing "yes" when asked on a terminal (without a
terminal and without --yes nothing is changed). The recipe's secrets are asked for on a
terminal (typing hidden) and kept in the keyring only. FILE may also be the id of a
shipped recipe.
"""

from __future__ import annotations

import argparse
import getpass
import sys
import threading
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
    listing = actions.add_parser("list", help="show the recipes that come with Hearth and those you added")
    listing.set_defaults(handler=run_list)
    apply = actions.add_parser("apply", help="set up an assistant from a recipe")
    apply.add_argument("file", help="the recipe file (.toml) or a shipped recipe's id")
    apply.add_argument("--dry-run", action="store_true", help="only show what would change")
    apply.add_argument("--yes", action="store_true",
                       help="agree to every new permission the recipe asks for")
    apply.add_argument("--model", default="auto", metavar="MODEL",
                       help='"auto" (the default: the model already set up, else the best one for this computer), '
                            "a model id from Hearth's list, or a .gguf model file")
    apply.add_argument("--name", default=None, metavar="NAME", help="the name of the person it is for")
    apply.add_argument("--no-check", action="store_true",
                       help="do not run the model once to check and measure it")
    apply.set_defaults(handler=run_apply)
    parser.set_defaults(handler=lambda args: (parser.print_help(), 2)[1])


def _recipe_path(text: str) -> Path:
    path = Path(text)
    if not path.exists() and path.suffix == "" and "/" not in text and "\\" not in text:
        from wizard.recipes import shipped_recipe_files, user_recipe_files

        for known in [*shipped_recipe_files(), *user_recipe_files()]:
            if known.stem == text:
                return known
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
    from wizard.errors import HearthError
    from wizard.recipes import load_recipe, shipped_recipes, user_recipe_files

    for loaded in shipped_recipes():
        recipe = loaded.recipe
        print(f"{recipe.id:<28} {recipe.name}: {recipe.description}")
    added = user_recipe_files()
    if added:
        print("\nAdded on this computer (from a model pack):")
    for path in added:
        try:
            recipe = load_recipe(path).recipe
        except HearthError as exc:
            print(f"{path.stem:<28} cannot be used: {exc.user_message}")
            continue
        print(f"{path.stem:<28} {recipe.name}: {recipe.description} ({path})")
    return 0


def run_apply(args: argparse.Namespace) -> int:
    from app.commands.chat import ctrl_c_stops
    from wizard.provision.recipe_setup import finish_recipe_setup, plan_recipe_setup
    from wizard.recipes import RecipeError, load_recipe
    from wizard.recipes.plan import ConsentNeeded

    try:
        loaded = load_recipe(_recipe_path(args.file))
    except RecipeError as exc:
        print(exc.for_terminal())
        return 1
    setup = plan_recipe_setup(loaded, model=args.model, person_name=args.name, check=not args.no_check)
    print("\n".join(setup.lines()))
    if args.dry_run:
        print("Dry run: nothing was changed.")
        return 0
    if setup.unchanged:
        return 0
    interactive = sys.stdin.isatty()
    new = setup.plan.new_permissions
    if new and not args.yes:
        if not interactive:
            raise ConsentNeeded(new)
        count = f"{len(new)} new permission{'s' if len(new) != 1 else ''}"
        answer = input(f"Allow the {count} listed above? Type yes to agree: ")
        if answer.strip().lower() not in ("y", "yes"):
            print("Nothing was changed: the new permissions were not allowed.")
            return 1
    ask_secrets(setup.plan.recipe, interactive=interactive)
    cancel = threading.Event()
    with ctrl_c_stops(cancel):
        folder = finish_recipe_setup(setup, allow=True, step=lambda line: print(line, flush=True), cancel=cancel)
    if cancel.is_set():
        print("Stopped. Nothing was set up.", file=sys.stderr)
        return 130
    print(f"Done: the assistant \"{setup.plan.recipe.name}\" is set up in {folder}.")
    sys.stdout.flush()
    return 0


def ask_secrets(recipe, *, interactive: bool) -> None:
    """Ask for each secret the recipe needs (typing hidden) and keep it in the keyring; say what was done.

    Not on a terminal, or no secure keyring: nothing is asked, and the command says so plainly.

    Raises:
        SecretStorageError: the keyring refused a secret (the ones before it are kept).
    """
    from wizard.secrets import NoSecureStorageError, get_secret, set_secret, storage_name

    names = recipe.secret_names
    if not names:
        return
    listed = ", ".join(f"\"{n}\"" for n in names)
    needs = f"This assistant needs the secret{'s' if len(names) != 1 else ''} {listed}"
    if not interactive:
        print(f"{needs}. They were not asked for, because this is not an interactive terminal: enter them in "
              "Hearth (Set up again…), or run this command again in a terminal.")
        return
    try:
        where = storage_name()
    except NoSecureStorageError as exc:
        reason = exc.user_message[0].lower() + exc.user_message[1:]
        print(f"{needs}, but {reason} Hearth did not ask for them: enter them in Hearth's window, which can "
              "keep them for one session.")
        return
    print(f"{needs}. Each is kept in this computer's keyring ({where}), never in a file. What you type is not "
          "shown; press Enter to skip one.")
    purposes: dict[str, str] = {}
    for integration in recipe.integrations:
        for name in integration.secrets:
            purposes.setdefault(name, f"for {integration.name}: {integration.purpose}")
    for name in names:
        kept = get_secret(recipe.id, name) is not None
        keeps = " [Enter keeps the one already kept]" if kept else ""
        value = getpass.getpass(f"{name} ({purposes[name]}){keeps}: ")
        if value:
            set_secret(recipe.id, name, value)
            print(f"  \"{name}\": kept in the keyring.")
        elif kept:
            print(f"  \"{name}\": kept as it was.")
        else:
            print(f"  \"{name}\": skipped; enter it later in Hearth (Set up again…).")
