"""Qt-free: turn the wizard's answers into a profile on disk (the recipe applied, plus the setup).

:func:`wizard.recipes.plan.apply_plan` writes ``profile.json`` and ``recipe.toml``; this
adds ``setup.json`` next to them with what the recipe cannot know: the person's name, the
model file and how to load it. Folders the person did not allow are taken out of the
recipe before it is planned, so the profile never grants them.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, replace
from pathlib import Path

from app.ui.setup.state import SetupAnswers
from wizard.errors import HearthFileError
from wizard.recipes.plan import RecipePlan, apply_plan, plan_recipe
from wizard.recipes.schema import Recipe

SETUP_FILE = "setup.json"
SETUP_SCHEMA = 1


def narrow_recipe(recipe: Recipe, allowed: dict[str, bool]) -> Recipe:
    """``recipe`` without the folders the person refused (tools left with no folder go too)."""
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


def setup_plan(answers: SetupAnswers) -> RecipePlan:
    """What finishing would change (nothing is written)."""
    return plan_recipe(narrow_recipe(answers.recipe.recipe, answers.folders_allowed))


def finish_setup(answers: SetupAnswers) -> Path:
    """Store the secrets, apply the recipe and write ``setup.json``; return the profile folder.

    Finishing is the person's agreement to the permissions the last page listed.

    Raises:
        NoSecureStorageError, SecretStorageError: a secret could not be kept (nothing else was written).
        HearthFileError: the profile could not be written.
    """
    recipe = answers.recipe.recipe
    for name in recipe.secret_names:
        value = answers.secret_values.get(name, "")
        if answers.session_only_secrets:
            answers.session_secrets.set(recipe.id, name, value)
        else:
            from wizard.secrets import set_secret

            set_secret(recipe.id, name, value)
    profile_dir = apply_plan(setup_plan(answers), allow=True)
    model = answers.model
    setup = {
        "schema_version": SETUP_SCHEMA,
        "person_name": answers.person_name,
        "model": {"name": model.name, "path": str(answers.model_path),
                  "repo": model.entry.repo if model.entry else None,
                  "file": model.entry.file if model.entry else None},
        "load_plan": asdict(model.plan.engine_plan()),
        "folders_refused": sorted(path for path, ok in answers.folders_allowed.items() if not ok),
        "secrets_kept_for_session_only": answers.session_only_secrets and bool(recipe.secret_names),
        "checked_tokens_per_second": answers.check_tokens_per_second,
    }
    _write_json_atomic(profile_dir / SETUP_FILE, setup)
    answers.profile_dir = profile_dir
    return profile_dir


def read_setup(profile_dir: Path) -> dict | None:
    try:
        data = json.loads((profile_dir / SETUP_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _write_json_atomic(path: Path, data: dict) -> None:
    try:
        handle, temp = tempfile.mkstemp(prefix=".setup-", suffix=".json", dir=path.parent)
        with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as out:
            json.dump(data, out, indent=2, ensure_ascii=False)
            out.write("\n")
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp, path)
    except OSError as exc:
        raise HearthFileError("Hearth could not save your setup.",
                              hint="Check that the disk is not full and press Start chatting again.",
                              details=f"{path}: {exc}") from exc
