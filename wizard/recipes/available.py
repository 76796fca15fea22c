"""Every recipe a person can choose: the shipped ones, then the ones added on this computer.

Added recipes (``<data>/recipes``, where a model pack's recipes are installed, or a file
put there by hand) are checked one by one. A file that cannot be used (broken, not a
recipe, far too big, unreadable) never stops the list: it is left out and reported in
:attr:`AvailableRecipes.unusable` with a plain reason, so the window can say so. A folder
that cannot be looked in at all (no permission) is not a recipe: it is reported in
:attr:`AvailableRecipes.folder_problem`, and the shipped recipes are still offered.

An added recipe that is the same as a shipped one (a pack made from an assistant set up
with a shipped recipe brings it back as ``id-from-pack.toml``, with the shipped id) is
left out too: it would only be a second card looking exactly like the first.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, replace
from pathlib import Path

from wizard.errors import HearthError
from wizard.recipes.load import LoadedRecipe, load_recipe
from wizard.recipes.problems import RecipeError
from wizard.recipes.schema import Recipe

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class UnusableRecipe:
    """An added recipe file that was left out, and why."""

    path: Path
    reason: str  # one plain sentence (or the first problem, with its line)
    details: str = ""  # every problem, for a "details" expander or the log


@dataclass(frozen=True)
class FolderProblem:
    """The folder of added recipes could not be looked in, so none of its recipes are offered."""

    path: Path
    message: str  # what happened, one plain sentence
    hint: str  # what to do about it
    details: str = ""  # the system's error, for a "details" expander or the log


@dataclass(frozen=True)
class AvailableRecipes:
    """The recipes to offer, shipped first, and the added files that were left out."""

    shipped: tuple[LoadedRecipe, ...] = ()
    added: tuple[LoadedRecipe, ...] = ()
    unusable: tuple[UnusableRecipe, ...] = ()
    folder_problem: FolderProblem | None = None

    @property
    def all(self) -> tuple[LoadedRecipe, ...]:
        return self.shipped + self.added

    def is_added(self, loaded: LoadedRecipe) -> bool:
        """True for a recipe added on this computer (not one that comes with Hearth)."""
        return loaded in self.added


def available_recipes(*, home: Path | None = None) -> AvailableRecipes:
    """The shipped recipes and the usable ones added on this computer, each checked.

    Raises:
        RecipeError, HearthFileError: a *shipped* recipe is broken (a bug in Hearth). An
            added file never raises: it is reported in ``unusable``; a folder of added
            recipes that cannot be looked in is reported in ``folder_problem``.
    """
    from wizard.recipes import shipped_recipes, user_recipe_files, user_recipes_dir

    shipped = tuple(shipped_recipes())
    folder = user_recipes_dir()
    try:
        if folder.is_dir():
            with os.scandir(folder):  # opened first: a glob quietly finds nothing in a folder it may not read
                pass
        files = user_recipe_files()
    except OSError as exc:
        log.warning("could not list the added recipes in %s: %s", folder, exc)
        return AvailableRecipes(shipped, folder_problem=FolderProblem(
            folder, "Hearth could not look in the folder of recipes added on this computer, so none of "
                    "them are shown.",
            f"Check that your user account may open the folder {folder}, then look again. "
            "The recipes that come with Hearth can still be chosen.",
            f"{type(exc).__name__}: {exc}"))
    added: list[LoadedRecipe] = []
    unusable: list[UnusableRecipe] = []
    for path in files:
        try:
            loaded = load_recipe(path, home=home)
        except HearthError as exc:
            unusable.append(_unusable(path, exc))
            log.warning("left out the added recipe %s: %s", path, exc.details or exc.user_message)
            continue
        except Exception as exc:  # noqa: BLE001 - a bug must not hide the other recipes
            log.exception("left out the added recipe %s: reading it failed", path)
            unusable.append(UnusableRecipe(path, "Hearth could not read it.", f"{type(exc).__name__}: {exc}"))
            continue
        twin = next((s for s in shipped if _same(s.recipe, loaded.recipe)), None)
        if twin is not None:
            log.info("the added recipe %s is the same as the shipped %s; offered once", path, twin.recipe.id)
            continue
        added.append(loaded)
    return AvailableRecipes(shipped, tuple(added), tuple(unusable))


def _same(one: Recipe, other: Recipe) -> bool:
    """The same recipe, wherever its file is and however its text is laid out."""
    return replace(one, source=None) == replace(other, source=None)


def _unusable(path: Path, exc: HearthError) -> UnusableRecipe:
    if isinstance(exc, RecipeError):
        errors = [p for p in exc.problems if not p.warning] or list(exc.problems)
        reason = errors[0].plain() if errors else exc.user_message
        if len(errors) > 1:
            reason += f" (and {len(errors) - 1} more problem{'s' if len(errors) > 2 else ''})"
        return UnusableRecipe(path, reason[:1].upper() + reason[1:], exc.details)
    return UnusableRecipe(path, exc.user_message, exc.details)
