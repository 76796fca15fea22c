"""``setup.json``: what a recipe cannot know (the person's name, the model and how to load it).

It sits next to ``recipe.toml`` and ``profile.json`` (written by
:func:`wizard.recipes.plan.apply_plan`). Folders the person refused are listed in it, and
:func:`narrow_recipe` takes them out of the recipe, so the profile never grants them.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

from wizard.engine.plan import LoadPlan
from wizard.errors import HearthFileError
from wizard.recipes.schema import Recipe

SETUP_FILE = "setup.json"
SETUP_SCHEMA = 1


def narrow_recipe(recipe: Recipe, allowed: dict[str, bool]) -> Recipe:
    """``recipe`` without the folders the person refused (tools left with no folder go too).

    ``allowed`` maps a resolved folder path (as text) to False when refused; folders not in
    it are kept.
    """
    def keep(folders):
        return tuple(f for f in folders if allowed.get(str(f.path), True))

    tools = []
    for tool in recipe.tools:
        narrowed = replace(tool, read_folders=keep(tool.read_folders), write_folders=keep(tool.write_folders))
        if (tool.read_folders and not narrowed.read_folders) or (tool.write_folders and not narrowed.write_folders):
            continue  # a file tool with no folder left has nothing to do
        tools.append(narrowed)
    documents = keep(recipe.document_folders)
    if recipe.document_folders and not documents:
        tools = [tool for tool in tools if tool.name != "documents_search"]
    return replace(recipe, tools=tuple(tools), document_folders=documents)


def setup_record(*, person_name: str, model_name: str, model_path: Path | None,
                 model_repo: str | None, model_file: str | None, load_plan: LoadPlan | None,
                 extra: dict | None = None) -> dict[str, Any]:
    """The JSON document :func:`write_setup` stores (``extra`` keys are added at the top level)."""
    record: dict[str, Any] = {
        "schema_version": SETUP_SCHEMA,
        "person_name": person_name,
        "model": {"name": model_name, "path": str(model_path) if model_path else None,
                  "repo": model_repo, "file": model_file},
        "load_plan": asdict(load_plan) if load_plan is not None else None,
    }
    for key, value in (extra or {}).items():
        if key in record:
            raise ValueError(f"setup.json key {key!r} is not an extra")
        record[key] = value
    return record


def write_setup(folder: Path, *, person_name: str, model_name: str, model_path: Path | None,
                model_repo: str | None, model_file: str | None, load_plan: LoadPlan | None,
                extra: dict | None = None) -> None:
    """Write ``folder/setup.json`` atomically; an identical file is left untouched.

    Raises:
        HearthFileError: the file could not be written (the old one, if any, stays).
    """
    record = setup_record(person_name=person_name, model_name=model_name, model_path=model_path,
                          model_repo=model_repo, model_file=model_file, load_plan=load_plan,
                          extra=extra)
    write_json_atomic(Path(folder) / SETUP_FILE, record)


def read_setup(folder: Path) -> dict | None:
    """The stored ``setup.json``, or None when there is none (or it is unreadable)."""
    try:
        data = json.loads((Path(folder) / SETUP_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def write_json_atomic(path: Path, data: dict) -> None:
    """Temp file, fsync, ``os.replace``; skipped when the file already holds exactly this.

    Raises:
        HearthFileError: the file could not be written.
    """
    text = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    try:
        if path.read_text(encoding="utf-8") == text:
            return
    except (OSError, ValueError):
        pass
    try:
        handle, temp = tempfile.mkstemp(prefix=f".{path.stem}-", suffix=".json", dir=path.parent)
        try:
            with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as out:
                out.write(text)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temp, path)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise
    except OSError as exc:
        raise HearthFileError("Hearth could not save your setup.",
                              hint="Check that the disk is not full and try again.",
                              details=f"{path}: {exc}") from exc
