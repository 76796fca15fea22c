"""The recipes a model pack carries: written on export, checked and installed on import.

Export takes the recipe of every assistant (profile) on this computer that uses one of
the exported models, written back the shareable way (:func:`wizard.profiles.export_recipe`:
no secrets, portable folders), as ``recipes/<assistant>.toml`` in the pack.

Import checks each recipe's sha256 (as for model files) and that it is a valid recipe
before anything is installed, then puts it in the folder Hearth reads added recipes
from (:func:`wizard.recipes.user_recipes_dir`; ``hearth recipe list`` shows them), named
by the recipe's id. A recipe already there with the same content is reused; a different
file is never overwritten: the new one gets a free name (``id-2.toml`` …). The names of
shipped recipes are never taken (``id-from-pack.toml``), so ``hearth recipe apply NAME``
finds the pack's recipe.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path

from wizard.download.partial import write_text_atomic
from wizard.errors import HearthError
from wizard.models import InstalledModel, ModelRegistry
from wizard.packs.manifest import MANIFEST_NAME, PackEntry, PackManifestError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PackRecipe:
    """A recipe installed from a pack: where it is now, and what it is called."""

    path: Path
    id: str
    name: str


@dataclass(frozen=True)
class CheckedRecipe:
    entry: PackEntry
    text: str
    id: str
    name: str


# ---- export ---------------------------------------------------------------------------------

def recipes_using(models: list[InstalledModel], registry: ModelRegistry) -> list[tuple[str, str]]:
    """(path in the pack, recipe text) for each assistant that uses one of ``models``.

    An assistant uses the model chosen for it in Settings, else the one it was set up with.
    Damaged assistants are skipped (``list_profiles`` logs them).
    """
    from wizard.profiles import export_recipe, list_profiles
    from wizard.settings import load_settings

    settings = load_settings().settings
    ids = {model.id for model in models}
    files = {model.file_in(registry.models_dir).resolve() for model in models}
    found = []
    for profile in list_profiles():
        chosen = settings.model_for(profile.id)
        uses = chosen in ids if chosen else (profile.model_path is not None
                                             and profile.model_path.resolve() in files)
        if uses:
            found.append((f"recipes/{profile.id}.toml", export_recipe(profile)))
    return found


# ---- import ---------------------------------------------------------------------------------

def check_recipes(entries: tuple[PackEntry, ...]) -> list[CheckedRecipe]:
    """Read each recipe of the pack, match its sha256, and check it is a valid recipe.

    Raises:
        PackFileDamagedError: a recipe's bytes are not the ones the manifest lists.
        PackManifestError: a recipe is not a valid recipe (the message names it).
        OSError: it could not be read.
    """
    from wizard.packs.transfer import PackFileDamagedError
    from wizard.recipes import parse_recipe_bytes
    from wizard.recipes.load import MAX_FILE_BYTES

    checked = []
    for entry in entries:
        if entry.size > MAX_FILE_BYTES:
            raise _not_a_recipe(entry, f"{entry.size} bytes is far more than a recipe file holds")
        raw = entry.location.read_bytes()
        if hashlib.sha256(raw).hexdigest() != entry.sha256:
            raise PackFileDamagedError(
                f"The model pack is damaged: “{entry.path}” is not the file the pack lists. Nothing was installed.",
                details=f"{entry.location}: expected sha256 {entry.sha256}")
        try:
            loaded = parse_recipe_bytes(raw, label=Path(entry.path).name)
        except HearthError as exc:
            raise _not_a_recipe(entry, getattr(exc, "details", "") or exc.user_message) from exc
        text = raw.decode("utf-8")
        checked.append(CheckedRecipe(entry, text, loaded.recipe.id, loaded.recipe.name))
    return checked


def _not_a_recipe(entry: PackEntry, details: str) -> PackManifestError:
    return PackManifestError(
        f"The model pack cannot be used: in {MANIFEST_NAME}, “{entry.path}” is listed as a recipe but is "
        "not a recipe Hearth can use. Nothing was installed.", details=f"{entry.location}: {details}")


def install_recipes(checked: list[CheckedRecipe], folder: Path | None = None) -> tuple[PackRecipe, ...]:
    """Put the checked recipes in ``folder`` (default: where Hearth reads added recipes).

    Raises:
        OSError: a file could not be written (those written before stay; each is whole).
    """
    from wizard.recipes import shipped_recipe_files, user_recipes_dir

    folder = folder or user_recipes_dir()
    taken = {path.stem for path in shipped_recipe_files()}
    installed = []
    for recipe in checked:
        stem = f"{recipe.id}-from-pack" if recipe.id in taken else recipe.id  # ids are plain names
        target = _free_name(folder, stem, recipe.text)
        if not target.exists():
            write_text_atomic(target, recipe.text)
            log.info("installed recipe %s from a model pack at %s", recipe.id, target)
        installed.append(PackRecipe(target, recipe.id, recipe.name))
    return tuple(installed)


def _free_name(folder: Path, stem: str, text: str) -> Path:
    """``folder/stem.toml``, or the same file already there, or ``stem-2.toml`` …"""
    for number in range(1, 1000):
        target = folder / (f"{stem}.toml" if number == 1 else f"{stem}-{number}.toml")
        if not target.exists():
            return target
        try:
            if target.read_text(encoding="utf-8") == text:
                return target  # this very recipe was installed before
        except (OSError, UnicodeDecodeError):
            pass
    raise OSError(f"no free name for the recipe {stem} in {folder}")
