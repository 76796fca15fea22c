"""The answer file a consultant writes for ``hearth provision``: read and checked like a recipe.

::

    schema_version = 1
    recipe = "everyday-assistant"      # a shipped recipe's id, or the path of a recipe file
    model = "auto"                     # "auto", a catalog id, or the path of a .gguf file
    person_name = "Sam"
    folders = ["{documents}"]          # the recipe's folders to grant (left out: all of them)
    local_api = false                  # turn the local API on (only if the recipe offers it)
    model_pack = "/media/usb/pack"     # install the model from this pack (offline)
    mirror = "https://hub.example.org" # download from this Hub mirror instead of huggingface.co
    catalog = "our-models.toml"        # use this list of models instead of Hearth's own
    verify = true                      # run the model once and measure it (default true)

    [secrets]                          # the recipe's secrets, from environment variables
    mail_password = "env:SHOP_MAIL_PASSWORD"

Relative paths are relative to the answer file's folder. Every problem is reported with
the file, the line, the key and what was expected; unknown keys are refused. A secret's
value is never written in the file: ``[secrets]`` names the environment variable that
holds it when ``hearth provision`` runs, and the value goes to the keyring only.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from wizard.errors import HearthFileError, HearthValueError
from wizard.recipes.lines import key_lines, line_of
from wizard.recipes.load import ID_RE
from wizard.recipes.problems import RecipeProblem, found, is_unsafe_char

SCHEMA_VERSION = 1
MAX_FILE_BYTES = 16 * 1024
MAX_FOLDERS = 24
KEYS = ("schema_version", "recipe", "model", "person_name", "folders", "local_api", "model_pack",
        "mirror", "catalog", "verify", "secrets")
AUTO = "auto"
ENV_PREFIX = "env:"
_SECRET_NAME_RE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
_ENV_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,99}$")
_TOML_LINE_RE = re.compile(r"\(at line (\d+), column (\d+)\)")
CATALOG_ID_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{0,79}$")  # as ids in the catalog (wizard/catalog/parse.py)


class AnswersError(HearthValueError):
    """The answer file cannot be used; ``problems`` lists every reason with its line."""

    default_hint = ("Each problem names the line and the setting to change; recipes/README.md "
                    "describes answer files.")

    def __init__(self, file: str, problems: list[RecipeProblem]) -> None:
        self.problems = tuple(problems)
        count = len(problems)
        super().__init__(f"The answer file \"{file}\" has {count} problem{'s' if count != 1 else ''}, "
                         "so nothing was set up.", details="\n".join(str(p) for p in problems))
        self.file = file

    def for_terminal(self) -> str:
        return "\n".join([*(str(p) for p in self.problems), f"Error: {self.user_message}", self.hint])


@dataclass(frozen=True)
class Answers:
    """A checked answer file. Paths are absolute; ``model`` is "auto", a catalog id or a file path."""

    source: Path
    recipe: str  # a shipped recipe id, or an absolute path (text) of a recipe file
    model: str
    model_file: Path | None  # set when ``model`` names a .gguf file
    person_name: str
    folders: tuple[str, ...] | None  # None: every folder the recipe asks for
    local_api: bool
    model_pack: Path | None
    mirror: str | None
    catalog: Path | None
    verify: bool
    secrets: tuple[tuple[str, str], ...] = ()  # (secret name, environment variable holding its value)

    @property
    def recipe_path(self) -> Path | None:
        return None if ID_RE.fullmatch(self.recipe) else Path(self.recipe)


def load_answers(path: Path) -> Answers:
    """Read and check an answer file.

    Raises:
        HearthFileError: the file is missing or cannot be read.
        AnswersError: the file breaks a rule (every problem listed, with its line).
    """
    path = Path(path).expanduser()
    label = path.name
    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_FILE_BYTES + 1)
    except IsADirectoryError as exc:
        raise HearthFileError(f"\"{path}\" is a folder; an answer file is one .toml file.",
                              details=str(exc)) from exc
    except OSError as exc:
        raise HearthFileError(f"Hearth could not open the answer file \"{path}\".", details=str(exc)) from exc
    if len(raw) > MAX_FILE_BYTES:
        raise AnswersError(label, [RecipeProblem(label, None, "", f"the file is larger than "
                                                 f"{MAX_FILE_BYTES // 1024} KB; an answer file is short")])
    try:
        text = raw.removeprefix(b"\xef\xbb\xbf").decode("utf-8")
        document = tomllib.loads(text)
    except UnicodeDecodeError:
        raise AnswersError(label, [RecipeProblem(label, None, "", "the file is not UTF-8 text; save it "
                                                 "as UTF-8 (\"Unicode\") text")]) from None
    except tomllib.TOMLDecodeError as exc:
        match = _TOML_LINE_RE.search(str(exc))
        reason = _TOML_LINE_RE.sub("", str(exc)).strip()
        raise AnswersError(label, [RecipeProblem(label, int(match.group(1)) if match else None, "",
                                                 f"this line is not written the way answer files are "
                                                 f"({reason}); check the quotes around text")]) from None
    return _check(document, _Problems(label, key_lines(text)), path.resolve())


class _Problems:
    def __init__(self, label: str, lines: dict) -> None:
        self.label, self.lines, self.found = label, lines, []

    def add(self, key: str, message: str, *, at: tuple[str, ...] | None = None) -> None:
        self.found.append(RecipeProblem(self.label, line_of(self.lines, at or (key,)), key, message))

    def text(self, doc: dict, key: str, *, required: bool = False, default: str = "",
             max_length: int = 300) -> str:
        value = doc.get(key)
        if value is None:
            if required:
                self.add(key, "this setting is missing")
            return default
        if not isinstance(value, str):
            self.add(key, f"expected text in quotes, found {found(value)}")
            return default
        if any(is_unsafe_char(c) for c in value) or len(value) > max_length:
            self.add(key, f"expected plain text of at most {max_length} characters")
            return default
        return value

    def boolean(self, doc: dict, key: str, default: bool) -> bool:
        value = doc.get(key, default)
        if not isinstance(value, bool):
            self.add(key, f"expected true or false, found {found(value)}")
            return default
        return value


def _path(base: Path, text: str) -> Path:
    candidate = Path(text).expanduser()
    return candidate if candidate.is_absolute() else base.parent / candidate


def _check(doc: dict[str, Any], check: _Problems, source: Path) -> Answers:
    for key in doc:
        if key not in KEYS:
            check.add(key, f"Hearth does not know this setting; expected one of: {', '.join(KEYS)}")
    version = doc.get("schema_version")
    if version is None:
        check.add("schema_version", f"this setting is missing; write schema_version = {SCHEMA_VERSION} "
                  "at the top of the file")
    elif isinstance(version, bool) or version != SCHEMA_VERSION:
        check.add("schema_version", f"expected {SCHEMA_VERSION}, found {found(version)}")
    recipe = check.text(doc, "recipe", required=True)
    if recipe and not ID_RE.fullmatch(recipe):
        if not recipe.endswith(".toml"):
            check.add("recipe", "expected the id of a recipe that comes with Hearth (like "
                      "\"everyday-assistant\") or the path of a recipe file ending in .toml")
        else:
            recipe = str(_path(source, recipe))
    model = check.text(doc, "model", default=AUTO) or AUTO
    model_file = None
    if model.lower().endswith(".gguf"):
        model_file = _path(source, model)
    elif model != AUTO and not CATALOG_ID_RE.fullmatch(model):
        check.add("model", "expected \"auto\", the id of a model in Hearth's list, or the path of "
                  "a .gguf model file")
    person = check.text(doc, "person_name", max_length=60).strip()
    folders = doc.get("folders")
    if folders is not None:
        if not isinstance(folders, list) or not all(isinstance(f, str) and f.strip() for f in folders):
            check.add("folders", "expected a list of folders in quotes, like [\"{documents}\"]")
            folders = None
        elif len(folders) > MAX_FOLDERS:
            check.add("folders", f"at most {MAX_FOLDERS} folders")
            folders = None
        else:
            folders = tuple(folders)
    pack_text = check.text(doc, "model_pack")
    mirror = check.text(doc, "mirror") or None
    if mirror is not None:
        parsed = urlparse(mirror)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            check.add("mirror", f"expected a web address starting with https://, found {found(mirror)}")
    catalog_text = check.text(doc, "catalog")
    if pack_text and mirror:
        check.add("mirror", "give either model_pack (offline) or mirror (download), not both")
    secrets = _secrets(doc, check)
    answers = Answers(
        source=source, recipe=recipe, model=model, model_file=model_file, person_name=person,
        folders=folders, local_api=check.boolean(doc, "local_api", False),
        model_pack=_path(source, pack_text) if pack_text else None, mirror=mirror.rstrip("/") if mirror else None,
        catalog=_path(source, catalog_text) if catalog_text else None,
        verify=check.boolean(doc, "verify", True), secrets=secrets)
    if check.found:
        raise AnswersError(check.label, check.found)
    return answers


def _secrets(doc: dict[str, Any], check: _Problems) -> tuple[tuple[str, str], ...]:
    table = doc.get("secrets")
    if table is None:
        return ()
    if not isinstance(table, dict):
        check.add("secrets", "expected a [secrets] section of lines like mail_password = \"env:MAIL_PASSWORD\"")
        return ()
    out = []
    for name, value in table.items():
        key = f"secrets.{name}"
        if not _SECRET_NAME_RE.fullmatch(name):
            check.add(key, "expected the name of a secret the recipe asks for, in lower-case letters, digits "
                      "and _", at=("secrets", name))
        elif (not isinstance(value, str) or not value.startswith(ENV_PREFIX)
              or not _ENV_NAME_RE.fullmatch(value[len(ENV_PREFIX):])):
            check.add(key, "expected \"env:VARIABLE\", the name of an environment variable that holds the secret "
                      "when hearth provision runs; a secret itself is never written in an answer file",
                      at=("secrets", name))
        else:
            out.append((name, value[len(ENV_PREFIX):]))
    return tuple(out)
