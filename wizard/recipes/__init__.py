"""Recipes: plain TOML files saying what a personal assistant is for and how it is set up.

A recipe is data only (see recipes/README.md for the format). :func:`load_recipe`
reads and checks one; :func:`shipped_recipes` lists the ones that come with Hearth;
:func:`user_recipe_files` the ones added on this computer (``<data>/recipes``, where a
model pack's recipes are installed); :func:`available_recipes` both, checked, for a
person to choose from (an added file that cannot be used is left out and reported).
"""

from __future__ import annotations

from pathlib import Path

from wizard.paths import hearth_paths, recipes_dir
from wizard.recipes.available import AvailableRecipes, FolderProblem, UnusableRecipe, available_recipes
from wizard.recipes.load import LoadedRecipe, load_recipe, parse_recipe_bytes, parse_recipe_text
from wizard.recipes.problems import RecipeError, RecipeProblem
from wizard.recipes.schema import SCHEMA_VERSION, Recipe

NOT_RECIPES = frozenset({"catalog.toml"})

__all__ = ["SCHEMA_VERSION", "AvailableRecipes", "FolderProblem", "LoadedRecipe", "Recipe", "RecipeError",
           "RecipeProblem", "UnusableRecipe", "available_recipes", "load_recipe", "parse_recipe_bytes",
           "parse_recipe_text", "shipped_recipe_files", "shipped_recipes", "user_recipe_files", "user_recipes_dir"]


def shipped_recipe_files() -> list[Path]:
    """The recipe files that come with Hearth, by file name."""
    return sorted(p for p in recipes_dir().glob("*.toml") if p.name not in NOT_RECIPES)


def shipped_recipes() -> list[LoadedRecipe]:
    """Every shipped recipe, checked.

    Raises:
        RecipeError: a shipped recipe is broken (a bug in Hearth, caught by the tests).
    """
    return [load_recipe(path) for path in shipped_recipe_files()]


def user_recipes_dir() -> Path:
    """Where recipes added on this computer live (a model pack's, for one): ``<data>/recipes``."""
    return hearth_paths().data / "recipes"


def user_recipe_files() -> list[Path]:
    """The recipe files added on this computer, by file name (not checked yet)."""
    folder = user_recipes_dir()
    return sorted(p for p in folder.glob("*.toml") if p.is_file()) if folder.is_dir() else []
