"""Reading a recipe file: size limits, TOML, every rule, and the :class:`Recipe` it makes.

Use :func:`load_recipe` for a file and :func:`parse_recipe_text` for text already in
memory. Both either return a checked :class:`Recipe` (with ``notes``: warnings that do
not stop it) or raise :class:`RecipeError` listing every problem with its line. Nothing
here runs code from the recipe, and nothing raises anything else for bad input.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from wizard.errors import HearthFileError
from wizard.recipes import sections
from wizard.recipes.checks import Checker
from wizard.recipes.lines import key_lines
from wizard.recipes.problems import RecipeError, RecipeProblem
from wizard.recipes.schema import SCHEMA_VERSION, Recipe

MAX_FILE_BYTES = 64 * 1024
MAX_FOLDERS_TOTAL = 24

ID_RE = re.compile(r"[a-z0-9][a-z0-9-]{1,39}")
_TOML_LINE_RE = re.compile(r"\(at line (\d+), column (\d+)\)")

_TOP_KEYS = ("schema_version", "id", "name", "description", "for_whom", "model", "persona",
             "sampling", "tools", "memory", "documents", "integrations", "local_api")
_LOCAL_API_KEYS = ("offered",)


@dataclass(frozen=True)
class LoadedRecipe:
    """A recipe that passed every rule, and the notes worth showing about it."""

    recipe: Recipe
    notes: tuple[RecipeProblem, ...]


def load_recipe(path: Path, *, home: Path | None = None) -> LoadedRecipe:
    """Read and check one recipe file.

    Raises:
        HearthFileError: the file is missing, a folder, or cannot be read.
        RecipeError: the file breaks a rule; ``problems`` lists all of them.
    """
    label = path.name
    try:
        if path.is_dir():
            raise HearthFileError(f"\"{path}\" is a folder; a recipe is one .toml file.",
                                  hint="Choose the recipe file inside it.")
        with path.open("rb") as handle:
            raw = handle.read(MAX_FILE_BYTES + 1)  # never read a huge file whole
    except HearthFileError:
        raise
    except OSError as exc:
        raise HearthFileError(f"Hearth could not open the recipe \"{path}\".",
                              details=str(exc)) from exc
    recipe = parse_recipe_bytes(raw, label=label, home=home)
    return LoadedRecipe(recipe=_with_source(recipe.recipe, path), notes=recipe.notes)


def _with_source(recipe: Recipe, path: Path) -> Recipe:
    from dataclasses import replace

    return replace(recipe, source=path)


def parse_recipe_bytes(raw: bytes, *, label: str = "recipe.toml",
                       home: Path | None = None) -> LoadedRecipe:
    """Check recipe file contents (``label`` names the file in problems).

    Raises:
        RecipeError: the contents break a rule.
    """
    def fail(message: str, line: int | None = None) -> RecipeError:
        return RecipeError(label, [RecipeProblem(file=label, line=line, key="", message=message)])

    if len(raw) > MAX_FILE_BYTES:
        raise fail(f"the file is larger than {MAX_FILE_BYTES // 1024} KB; a recipe is a short "
                   "text file, so this is not one")
    if raw.startswith(b"\xef\xbb\xbf"):  # Notepad's byte-order mark
        raw = raw[3:]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[:exc.start].count(b"\n") + 1
        raise fail("this line has characters that are not UTF-8 text; save the file as "
                   "UTF-8 (\"Unicode\") text", line) from None
    return parse_recipe_text(text, label=label, home=home)


def parse_recipe_text(text: str, *, label: str = "recipe.toml",
                      home: Path | None = None) -> LoadedRecipe:
    """Check recipe text (see :func:`parse_recipe_bytes`).

    Raises:
        RecipeError: the text breaks a rule.
    """
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        match = _TOML_LINE_RE.search(str(exc))
        reason = _TOML_LINE_RE.sub("", str(exc)).strip()
        problem = RecipeProblem(
            file=label, line=int(match.group(1)) if match else None, key="",
            message=f"this line is not written the way recipes are ({reason}). Check the quotes "
                    "around text and that each setting looks like name = value")
        raise RecipeError(label, [problem]) from None
    except RecursionError:
        raise RecipeError(label, [RecipeProblem(
            file=label, line=None, key="",
            message="lists or tables are nested too deeply; a recipe never needs that")]) from None

    check = Checker(label, key_lines(text))
    if not check.guard(document):
        raise RecipeError(label, check.problems)
    recipe = _build(document, check, home=home, text=text)
    if check.failed or recipe is None:
        problems = sorted(check.problems, key=lambda p: (p.warning, p.line or 0))
        raise RecipeError(label, problems)
    return LoadedRecipe(recipe=recipe, notes=tuple(check.problems))


def _build(doc: dict[str, Any], check: Checker, *, home: Path | None, text: str) -> Recipe | None:
    check.unknown_keys(doc, (), _TOP_KEYS)
    version = doc.get("schema_version")
    if version is None:
        check.problem(("schema_version",), f"this setting is missing; write schema_version = "
                      f"{SCHEMA_VERSION} at the top of the file")
    elif isinstance(version, bool) or version != SCHEMA_VERSION:
        check.problem(("schema_version",), f"expected {SCHEMA_VERSION}, found {version!r}; this "
                      "recipe may be written for another version of Hearth")
    recipe_id = check.text(doc, ("id",), max_length=40, pattern=ID_RE,
                           what="a short name of lower-case letters, digits and dashes, "
                                "like \"study-buddy\"")
    name = check.text(doc, ("name",), max_length=60)
    description = check.text(doc, ("description",), max_length=160)
    for_whom = check.text(doc, ("for_whom",), max_length=200)

    model = sections.model(doc, check)
    persona = sections.persona(doc, check)
    sampling = sections.sampling(doc, check)
    grants = sections.FolderGrants(check, home=home)
    documents = sections.documents(doc, check, grants)
    tools = sections.tools(doc, check, grants, has_documents=documents is None or bool(documents))
    memory = sections.memory(doc, check)
    integrations = sections.integrations(doc, check)
    local_api = check.table(doc, ("local_api",), _LOCAL_API_KEYS)
    offered = check.boolean(local_api or {}, ("local_api", "offered"), default=False)
    if len(grants.seen) > MAX_FOLDERS_TOTAL:
        check.problem(("documents",), f"a recipe may name at most {MAX_FOLDERS_TOTAL} different "
                      f"folders, this one names {len(grants.seen)}")

    if check.failed:
        return None
    assert recipe_id and name and description and for_whom and model and persona and sampling
    assert tools is not None and memory is not None and integrations is not None
    assert documents is not None and offered is not None
    return Recipe(id=recipe_id, name=name, description=description, for_whom=for_whom,
                  model=model, persona=persona, sampling=sampling, tools=tools, memory=memory,
                  document_folders=documents, integrations=integrations,
                  local_api_offered=offered, source_text=text)
