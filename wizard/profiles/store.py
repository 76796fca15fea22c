"""Reading profiles: one folder per configured assistant in ``<data>/profiles/<id>/``.

A profile is complete when its three files are there and readable: ``recipe.toml`` (the
recipe as applied), ``profile.json`` (what was granted) and ``setup.json`` (the person's
name, the model and how to load it). Anything less is not a profile yet: it is skipped by
:func:`list_profiles` and refused by :func:`load_profile` with the file that is wrong.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from wizard.engine.plan import LoadPlan
from wizard.errors import HearthError
from wizard.paths import hearth_paths
from wizard.profiles.errors import ProfileDamagedError, ProfileNotFoundError
from wizard.profiles.setup_file import SETUP_FILE, narrow_recipe, write_json_atomic
from wizard.recipes.load import ID_RE, load_recipe
from wizard.recipes.plan import PROFILE_FILE, RECIPE_FILE, profiles_dir
from wizard.recipes.schema import Recipe

log = logging.getLogger(__name__)

LAST_USED_FILE = "last-profile.json"


@dataclass(frozen=True)
class Profile:
    """One configured assistant, read from its folder."""

    id: str  # folder name (= recipe id)
    folder: Path
    recipe: Recipe  # as applied, without the folders the person refused
    name: str  # the assistant's name shown to people (recipe.name)
    person_name: str  # "" if none
    model_name: str  # plain name of the model ("" if none chosen yet)
    model_path: Path | None
    load_plan: LoadPlan | None
    settings: dict  # profile.json "settings"
    local_api: bool  # the recipe offers the local API, it was granted and turned on
    setup: dict = dataclasses.field(default_factory=dict, repr=False, compare=False)  # setup.json
    permissions: tuple[tuple[str, str], ...] = ()  # (kind, target) from profile.json


def list_profiles() -> list[Profile]:
    """Every complete profile, sorted by name; damaged or half-made ones are logged and skipped."""
    root = profiles_dir()
    if not root.is_dir():
        return []
    found = []
    for folder in root.iterdir():
        if not folder.is_dir() or folder.name.startswith("."):
            continue  # ".creating-…" folders are profiles being written
        try:
            found.append(_read(folder))
        except HearthError as exc:
            log.warning("skipping profile %s: %s %s", folder, exc.user_message, exc.details)
    return sorted(found, key=lambda p: (p.name.casefold(), p.id))


def load_profile(which: str | Path) -> Profile:
    """The profile with this id (e.g. ``"study-buddy"``) or in this folder.

    Raises:
        ProfileNotFoundError: there is no such profile.
        ProfileDamagedError: it exists but a file is missing or broken (the message says which).
    """
    text = str(which)
    if isinstance(which, Path) or os.sep in text or "/" in text:
        folder = Path(which).expanduser()
    elif ID_RE.fullmatch(text):
        folder = profiles_dir() / text
    else:
        raise ProfileNotFoundError(f"There is no assistant called \"{text}\" on this computer.")
    if not folder.is_dir() or not any((folder / name).exists()
                                      for name in (RECIPE_FILE, PROFILE_FILE, SETUP_FILE)):
        raise ProfileNotFoundError(f"There is no assistant called \"{folder.name}\" on this computer.",
                                   details=str(folder))
    return _read(folder)


def default_profile() -> Profile | None:
    """The profile used last (see :func:`mark_used`), else the first by name, else None."""
    last = _last_used_id()
    if last:
        try:
            return load_profile(last)
        except HearthError:
            pass
    profiles = list_profiles()
    return profiles[0] if profiles else None


def mark_used(profile: Profile) -> None:
    """Remember ``profile`` as the one used last (a small JSON file in the data folder).

    Raises:
        HearthFileError: the file could not be written.
    """
    path = hearth_paths().data / LAST_USED_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    write_json_atomic(path, {"profile": profile.id})


def _last_used_id() -> str | None:
    try:
        data = json.loads((hearth_paths().data / LAST_USED_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    value = data.get("profile") if isinstance(data, dict) else None
    return value if isinstance(value, str) and ID_RE.fullmatch(value) else None


def _damaged(folder: Path, file: str, what: str, details: str = "") -> ProfileDamagedError:
    return ProfileDamagedError(f"The assistant \"{folder.name}\" cannot be used: its file {file} {what}.",
                               file=file, details=f"{folder / file}: {details}".rstrip(": "))


def _read_json(folder: Path, name: str) -> dict[str, Any]:
    path = folder / name
    if not path.is_file():
        what = ("is missing: setup was not finished" if name == SETUP_FILE else "is missing")
        raise _damaged(folder, name, what)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise _damaged(folder, name, "cannot be read", str(exc)) from exc
    if not isinstance(data, dict):
        raise _damaged(folder, name, "is not what Hearth wrote there")
    return data


def _read(folder: Path) -> Profile:
    if not (folder / RECIPE_FILE).is_file():
        raise _damaged(folder, RECIPE_FILE, "is missing")
    try:
        recipe = load_recipe(folder / RECIPE_FILE).recipe
    except HearthError as exc:
        raise _damaged(folder, RECIPE_FILE, "is not a valid recipe any more",
                       getattr(exc, "details", "") or exc.user_message) from exc
    profile = _read_json(folder, PROFILE_FILE)
    setup = _read_json(folder, SETUP_FILE)
    refused = setup.get("folders_refused") or []
    if isinstance(refused, list):
        recipe = narrow_recipe(recipe, {str(path): False for path in refused})
    model = setup.get("model") if isinstance(setup.get("model"), dict) else {}
    path_text = model.get("path")
    model_path = Path(path_text) if isinstance(path_text, str) and path_text not in ("", "None") else None
    load_plan = None
    if isinstance(setup.get("load_plan"), dict):
        known = {f.name for f in dataclasses.fields(LoadPlan)}
        try:
            load_plan = LoadPlan(**{k: v for k, v in setup["load_plan"].items() if k in known})
        except (TypeError, ValueError) as exc:
            raise _damaged(folder, SETUP_FILE, "has an impossible way to load the model", str(exc)) from exc
    permissions = tuple((str(p.get("kind", "")), str(p.get("target", "")))
                        for p in profile.get("permissions", []) if isinstance(p, dict))
    settings = profile.get("settings") if isinstance(profile.get("settings"), dict) else {}
    local_api = (recipe.local_api_offered and ("local_api", "") in permissions
                 and setup.get("local_api") is True)
    return Profile(id=folder.name, folder=folder, recipe=recipe, name=recipe.name,
                   person_name=str(setup.get("person_name") or ""),
                   model_name=str(model.get("name") or ""), model_path=model_path,
                   load_plan=load_plan, settings=settings, local_api=local_api, setup=setup,
                   permissions=permissions)
