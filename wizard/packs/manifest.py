"""``hearth-pack.toml``: what an offline model pack holds, checked before any byte is copied.

    schema_version = 1
    created = "2025-01-31T12:00:00Z"

    [[files]]
    path = "models/owner--name/model.gguf"      # inside the pack folder, POSIX separators
    size = 98362432
    sha256 = "b179…"
    licence = "apache-2.0"
    source = { repo = "owner/name", file = "model.gguf", revision = "<commit>" }   # optional

    [[recipes]]                                 # optional, verified like files, then installed
    path = "recipes/writing-desk.toml"
    size = 2048
    sha256 = "…"

Everything is strict: unknown keys, ``..``, absolute paths, backslashes, drive letters,
a symlink that leaves the pack, a size that does not match the file on the stick —
each is refused with the file and key named.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from wizard.download.errors import UnsafeNameError
from wizard.download.names import check_file_name, check_repo_id, check_revision, inside, repo_folder_name
from wizard.errors import HearthFileError, HearthValueError

MANIFEST_NAME = "hearth-pack.toml"
SCHEMA_VERSION = 1
MAX_MANIFEST_BYTES = 1_000_000
MAX_ENTRIES = 1000

_SHA256_RE = re.compile(r"^[0-9a-f]{64}$")
_LICENCE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.+-]{0,63}$")
_TOP_KEYS = frozenset({"schema_version", "created", "created_by", "files", "recipes"})
_FILE_KEYS = frozenset({"path", "size", "sha256", "licence", "source"})
_RECIPE_KEYS = frozenset({"path", "size", "sha256"})
_SOURCE_KEYS = frozenset({"repo", "file", "revision"})


class PackManifestError(HearthValueError):
    """The pack's manifest is missing, malformed, or names something unsafe; nothing was copied."""

    default_hint = "Make the pack again with “hearth pack export”, or ask whoever gave it to you for a new copy."


class PackFileMissingError(HearthFileError):
    """A file the manifest lists is not in the pack folder."""

    default_hint = "Copy the whole pack folder again, or make the pack again with “hearth pack export”."


@dataclass(frozen=True)
class PackSource:
    repo: str
    file: str
    revision: str | None = None


@dataclass(frozen=True)
class PackEntry:
    """One file of the pack. ``location`` is its checked path on this computer."""

    path: str
    size: int
    sha256: str
    location: Path
    licence: str = "unknown"
    source: PackSource | None = None

    def install_name(self) -> str:
        """Where it goes inside the models folder: ``owner--name/file`` like a download, else its name."""
        if self.source is not None:
            return f"{repo_folder_name(self.source.repo)}/{self.source.file}"
        return f"imported/{Path(self.path).name}"

    def to_toml(self, table: str) -> str:
        lines = [f"[[{table}]]", f"path = {_toml_string(self.path)}", f"size = {self.size}",
                 f"sha256 = {_toml_string(self.sha256)}"]
        if table == "files":
            lines.append(f"licence = {_toml_string(self.licence)}")
        if self.source is not None:
            parts = [f"repo = {_toml_string(self.source.repo)}", f"file = {_toml_string(self.source.file)}"]
            if self.source.revision:
                parts.append(f"revision = {_toml_string(self.source.revision)}")
            lines.append(f"source = {{ {', '.join(parts)} }}")
        return "\n".join(lines)


@dataclass(frozen=True)
class PackManifest:
    folder: Path
    files: tuple[PackEntry, ...]
    recipes: tuple[PackEntry, ...] = ()
    created: str = ""

    @property
    def total_bytes(self) -> int:
        return sum(entry.size for entry in self.files)


def _toml_string(value: str) -> str:
    """A TOML basic string (JSON's escapes are valid TOML ones)."""
    return json.dumps(value, ensure_ascii=True)


def render_manifest(files: list[PackEntry], *, created: str, created_by: str,
                    recipes: list[PackEntry] | tuple[PackEntry, ...] = ()) -> str:
    """The manifest text for ``files`` and ``recipes`` (the inverse of :func:`read_manifest`)."""
    head = [f"schema_version = {SCHEMA_VERSION}", f"created = {_toml_string(created)}",
            f"created_by = {_toml_string(created_by)}"]
    tables = [*(entry.to_toml("files") for entry in files), *(entry.to_toml("recipes") for entry in recipes)]
    return "\n\n".join(["\n".join(head), *tables]) + "\n"


class _Checker:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.manifest = folder / MANIFEST_NAME

    def fail(self, where: str, problem: str) -> PackManifestError:
        return PackManifestError(f"The model pack cannot be used: in {MANIFEST_NAME}, {where} {problem}.",
                                 details=f"{self.manifest}: {where}: {problem}")

    def keys(self, table: Mapping[str, Any], allowed: frozenset[str], where: str) -> None:
        unknown = sorted(set(table) - allowed)
        if unknown:
            raise self.fail(where, f"has a key Hearth does not know: {', '.join(unknown)}")

    def text(self, table: Mapping[str, Any], key: str, where: str, pattern: re.Pattern[str] | None = None) -> str:
        value = table.get(key)
        if not isinstance(value, str) or not value or len(value) > 400 or (pattern and not pattern.match(value)):
            raise self.fail(where, f"has a missing or malformed “{key}”")
        return value

    def entry(self, table: Any, where: str, allowed: frozenset[str]) -> PackEntry:
        if not isinstance(table, Mapping):
            raise self.fail(where, "is not a table")
        self.keys(table, allowed, where)
        path = self.text(table, "path", where)
        try:
            location = inside(self.folder, path)  # resolves symlinks: a link out of the pack is refused
        except UnsafeNameError as exc:
            raise self.fail(where, f"names “{path}”, which points outside the pack or is not a plain file "
                                   "name") from exc
        size = table.get("size")
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            raise self.fail(where, "has a missing or malformed “size”")
        sha256 = self.text(table, "sha256", where, _SHA256_RE)
        source = None
        if "source" in table:
            source = self.source(table["source"], f"{where}.source")
        licence = self.text(table, "licence", where, _LICENCE_RE) if "licence" in allowed else "unknown"
        entry = PackEntry(path, size, sha256, location, licence, source)
        self.present(entry)
        return entry

    def source(self, table: Any, where: str) -> PackSource:
        if not isinstance(table, Mapping):
            raise self.fail(where, "is not a table")
        self.keys(table, _SOURCE_KEYS, where)
        try:
            repo = check_repo_id(self.text(table, "repo", where))
            file = check_file_name(self.text(table, "file", where))
            revision = check_revision(self.text(table, "revision", where)) if "revision" in table else None
        except UnsafeNameError as exc:
            raise self.fail(where, f"has an unsafe name ({exc.user_message})") from exc
        return PackSource(repo, file, revision)

    def present(self, entry: PackEntry) -> None:
        if not entry.location.is_file():
            raise PackFileMissingError(f"The model pack is incomplete: “{entry.path}” is missing.",
                                       details=f"expected at {entry.location}")
        actual = entry.location.stat().st_size
        if actual != entry.size:
            raise PackManifestError(
                f"The model pack is damaged: “{entry.path}” has {actual:,} bytes, but the pack says "
                f"{entry.size:,}. Nothing was installed.", details=f"{entry.location}: size {actual} != {entry.size}")


def read_manifest(folder: Path) -> PackManifest:
    """Read and check the manifest of the pack in ``folder``, and that every file it lists is there.

    Raises:
        PackManifestError: no manifest, not TOML, an unknown key, an unsafe path, a
            wrong size, two files for one place; nothing has been copied.
        PackFileMissingError: a listed file is not in the folder.
    """
    checker = _Checker(folder)
    try:
        raw = checker.manifest.read_bytes()[: MAX_MANIFEST_BYTES + 1]
    except OSError as exc:
        raise PackManifestError(f"This folder is not a Hearth model pack: it has no {MANIFEST_NAME}.",
                                hint="Choose the folder that holds hearth-pack.toml.",
                                details=f"{checker.manifest}: {exc}") from exc
    if len(raw) > MAX_MANIFEST_BYTES:
        raise checker.fail("the file", "is far larger than a manifest can be")
    try:
        document = tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise checker.fail("the text", f"is not valid TOML ({exc})") from exc
    checker.keys(document, _TOP_KEYS, "the top level")
    if document.get("schema_version") != SCHEMA_VERSION:
        raise checker.fail("the top level", f"has schema_version {document.get('schema_version')!r}, "
                                            f"not {SCHEMA_VERSION} (a newer Hearth may read it)")
    tables = {name: document.get(name, []) for name in ("files", "recipes")}
    for name, items in tables.items():
        if not isinstance(items, list) or len(items) > MAX_ENTRIES:
            raise checker.fail(name, "is not a list of tables")
    if not tables["files"]:
        raise checker.fail("files", "lists no model files")
    files = tuple(checker.entry(t, f"files[{i + 1}]", _FILE_KEYS) for i, t in enumerate(tables["files"]))
    recipes = tuple(checker.entry(t, f"recipes[{i + 1}]", _RECIPE_KEYS) for i, t in enumerate(tables["recipes"]))
    targets = [entry.install_name() for entry in files]
    if len(set(targets)) != len(targets):
        raise checker.fail("files", "lists two files that would be installed in the same place")
    created = document.get("created", "")
    return PackManifest(folder, files, recipes, created if isinstance(created, str) else "")
