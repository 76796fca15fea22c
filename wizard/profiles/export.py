"""A configured profile written back as a recipe to share (no secrets, portable folders).

The recipe is the profile's recipe as it was set up: without the folders the person
refused, and with folders written the portable way: placeholders such as ``{documents}``
stay, and a folder inside the home folder is written as ``~/…``. Integrations keep the
*names* of their secrets only; values live in the keyring and never leave it.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from wizard.errors import HearthFileError
from wizard.profiles.store import Profile
from wizard.recipes.schema import SCHEMA_VERSION, Folder, Recipe


def _s(value: str) -> str:
    """A TOML basic string (JSON's escapes are TOML's)."""
    return json.dumps(value, ensure_ascii=False)


def _list(values) -> str:
    return "[" + ", ".join(_s(v) for v in values) + "]"


def portable_folder(folder: Folder, *, home: Path | None = None) -> str:
    """How to write ``folder`` in a shared recipe: as written when that is portable, else ``~/…``."""
    written = folder.written
    if written.startswith("{") or written.startswith("~"):
        return written
    home = Path(os.path.realpath(home or Path.home()))
    for candidate in (Path(written).expanduser(), folder.path):
        try:
            relative = Path(os.path.realpath(candidate)).relative_to(home)
        except ValueError:
            continue
        return "~/" + relative.as_posix()
    return written


def recipe_toml(recipe: Recipe, *, home: Path | None = None, header: str = "") -> str:
    """``recipe`` as recipe-file text that :func:`wizard.recipes.load_recipe` accepts."""
    def number(value: float | int) -> str:
        return repr(value) if isinstance(value, float) else str(value)

    m, p, s = recipe.model, recipe.persona, recipe.sampling
    out = [header.rstrip("\n")] if header else []
    out += [f"schema_version = {SCHEMA_VERSION}", f"id = {_s(recipe.id)}", f"name = {_s(recipe.name)}",
            f"description = {_s(recipe.description)}", f"for_whom = {_s(recipe.for_whom)}", "",
            "[model]", f"min_context = {m.min_context}", f"capabilities = {_list(sorted(m.capabilities))}",
            f"preferred_families = {_list(m.preferred_families)}", f"min_size = {_s(m.min_size)}", "",
            "[persona]", f"system_prompt = {_s(p.system_prompt)}", f"greeting = {_s(p.greeting)}", "",
            "[sampling]"]
    out += [f"{key} = {number(value)}" for key, value in s.as_kwargs().items()]
    if recipe.document_folders:
        out += ["", "[documents]",
                f"folders = {_list(portable_folder(f, home=home) for f in recipe.document_folders)}"]
    for tool in recipe.tools:
        out += ["", "[[tools]]", f"name = {_s(tool.name)}"]
        if tool.read_folders:
            out.append(f"read_folders = {_list(portable_folder(f, home=home) for f in tool.read_folders)}")
        if tool.write_folders:
            out.append(f"write_folders = {_list(portable_folder(f, home=home) for f in tool.write_folders)}")
            out.append(f"confirm_each_write = {'true' if tool.confirm_each_write else 'false'}")
    out += ["", "[memory]", f"enabled = {'true' if recipe.memory.enabled else 'false'}",
            f"remember = {_list(recipe.memory.remember)}"]
    for integration in recipe.integrations:
        out += ["", "[[integrations]]", f"name = {_s(integration.name)}", f"purpose = {_s(integration.purpose)}",
                f"secrets = {_list(integration.secrets)}"]
    out += ["", "[local_api]", f"offered = {'true' if recipe.local_api_offered else 'false'}", ""]
    return "\n".join(out)


def export_recipe(profile: Profile, *, home: Path | None = None) -> str:
    """The profile as recipe text to share (see the module docstring)."""
    header = (f"# Exported by Hearth from the assistant \"{profile.id}\". Secrets are named only; "
              "their values stay in the keyring.\n")
    return recipe_toml(profile.recipe, home=home, header=header.replace("\n", " ").strip() + "\n")


def write_recipe_file(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically.

    Raises:
        HearthFileError: it could not be written.
    """
    path = Path(path).expanduser()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temp = tempfile.mkstemp(prefix=".recipe-", suffix=".toml", dir=path.parent)
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
        raise HearthFileError("Hearth could not write the recipe file.", details=f"{path}: {exc}") from exc
