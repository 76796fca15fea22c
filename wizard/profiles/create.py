"""Writing a profile so it never ends half-made: the recipe applied and ``setup.json`` together.

A new profile is built in a hidden ``.creating-<id>-…`` folder next to the others and
renamed into place once all three files are there, so it appears at once or not at all.
An existing profile gets its new ``setup.json`` first and then the recipe (``profile.json``
last, as :func:`wizard.recipes.plan.apply_plan` commits); if applying fails, the old
``setup.json`` is put back.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Collection
from dataclasses import replace
from pathlib import Path

from wizard.engine.plan import LoadPlan
from wizard.errors import HearthFileError
from wizard.profiles.setup_file import SETUP_FILE, write_setup
from wizard.recipes.plan import ConsentNeeded, Permission, RecipePlan, apply_plan

CREATING_PREFIX = ".creating-"


def save_profile(plan: RecipePlan, *, allow: bool | Collection[Permission] = False,
                 person_name: str, model_name: str, model_path: Path | None,
                 model_repo: str | None, model_file: str | None, load_plan: LoadPlan | None,
                 extra: dict | None = None) -> Path:
    """Apply ``plan`` and write its ``setup.json`` as one step; return the profile folder.

    ``allow`` is as for :func:`apply_plan`. Nothing is written when consent is missing.

    Raises:
        ConsentNeeded: a new permission was not agreed to; nothing was written.
        HearthFileError: the profile could not be written; nothing half-made is left.
    """
    agreed = set(plan.new_permissions) if allow is True else set(allow or ())
    missing = [p for p in plan.new_permissions if p not in agreed]
    if missing:
        raise ConsentNeeded(missing)
    setup = dict(person_name=person_name, model_name=model_name, model_path=model_path,
                 model_repo=model_repo, model_file=model_file, load_plan=load_plan, extra=extra)
    target = plan.profile_dir
    if not target.exists():
        return _create(plan, allow, setup)
    old = _read_bytes(target / SETUP_FILE)
    write_setup(target, **setup)
    try:
        apply_plan(plan, allow=allow)
    except BaseException:
        _restore(target / SETUP_FILE, old)
        raise
    return target


def _create(plan: RecipePlan, allow: bool | Collection[Permission], setup: dict) -> Path:
    root = plan.profile_dir.parent
    try:
        root.mkdir(parents=True, exist_ok=True)
        scratch = Path(tempfile.mkdtemp(prefix=f"{CREATING_PREFIX}{plan.recipe.id}-", dir=root))
    except OSError as exc:
        raise HearthFileError(f"Hearth could not save the assistant \"{plan.recipe.name}\".",
                              hint="Check that the disk is not full and try again.",
                              details=f"{root}: {exc}") from exc
    try:
        staged = apply_plan(replace(plan, profile_dir=scratch / plan.profile_dir.name), allow=allow)
        write_setup(staged, **setup)
        try:
            os.replace(staged, plan.profile_dir)  # the whole profile appears at once
        except OSError as exc:
            raise HearthFileError(f"Hearth could not save the assistant \"{plan.recipe.name}\".",
                                  hint="Check that the disk is not full and try again.",
                                  details=f"{plan.profile_dir}: {exc}") from exc
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return plan.profile_dir


def _read_bytes(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except OSError:
        return None


def _restore(path: Path, old: bytes | None) -> None:
    try:
        if old is None:
            path.unlink(missing_ok=True)
        else:
            temp = path.with_name(f".{path.name}.restore")
            temp.write_bytes(old)
            os.replace(temp, path)
    except OSError:
        pass  # the new setup.json stays: still a complete profile
