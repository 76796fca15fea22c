"""Reading ``catalog.toml``: strict checks that name the entry and the key at fault."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from wizard.catalog.model import (
    CATALOG_FILE_NAME,
    KNOWN_CAPABILITIES,
    SCHEMA_VERSION,
    Catalog,
    CatalogEntry,
    CatalogError,
    HeaderNumbers,
)
from wizard.errors import HearthFileError
from wizard.paths import recipes_dir

_ID_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{0,79}$")
_REPO_PART_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,95}$")
_SHA256_RE = re.compile(r"^[0-9a-f]{64}$")
_REVISION_RE = re.compile(r"^[0-9a-f]{40}$")
_LICENCE_RE = re.compile(r"^[a-z0-9][a-z0-9.+-]{0,63}$")
_LANGUAGE_RE = re.compile(r"^[a-z]{2,3}$")
_QUANT_RE = re.compile(r"^[A-Z0-9_]{2,16}$")
_FAMILY_RE = re.compile(r"^[a-z0-9][a-z0-9.-]{0,31}$")
_ARCH_RE = re.compile(r"^[a-z0-9_]{2,32}$")

_ENTRY_KEYS_REQUIRED = frozenset(
    {"id", "name", "family", "repo", "file", "licence", "parameters", "languages",
     "capabilities", "quality", "quantization", "header"}
)
_ENTRY_KEYS_OPTIONAL = frozenset({"revision", "size_bytes", "sha256"})
_HEADER_KEYS_REQUIRED = frozenset(
    {"architecture", "block_count", "context_length", "embedding_length", "head_count",
     "head_count_kv"}
)
# vocab_size, feed_forward_length and tensor_bytes only sharpen the estimate; the Hub
# refresh (wizard.catalog.refresh) fills what is missing.
_HEADER_KEYS_OPTIONAL = frozenset(
    {"key_length", "value_length", "sliding_window", "sliding_window_pattern", "tensor_bytes",
     "vocab_size", "feed_forward_length"}
)
_TOP_KEYS = frozenset({"schema_version", "model"})


def default_catalog_path() -> Path:
    """The catalog shipped with Hearth (``recipes/catalog.toml``)."""
    return recipes_dir() / CATALOG_FILE_NAME


def load_catalog(path: Path | None = None) -> Catalog:
    """Read and check a catalog file (the shipped one when ``path`` is None).

    Raises:
        HearthFileError: the file is missing or cannot be read.
        CatalogError: the file is not valid TOML or an entry breaks a rule.
    """
    path = default_catalog_path() if path is None else path
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise HearthFileError(
            "Hearth could not read its list of models.",
            hint="Reinstalling Hearth puts the list back.",
            details=f"{path}: {exc}",
        ) from exc
    try:
        document = tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise CatalogError(f"the file cannot be read as TOML ({exc}).", path=path) from exc
    return parse_catalog(document, source=path)


def parse_catalog(document: Mapping[str, Any], *, source: Path | None = None) -> Catalog:
    """Check an already-parsed catalog document and build the entries.

    Raises:
        CatalogError: a rule is broken; the error names the entry id and the key.
    """
    _reject_unknown(document, _TOP_KEYS, entry_id=None, prefix="", path=source)
    version = document.get("schema_version")
    if version != SCHEMA_VERSION or isinstance(version, bool):
        raise CatalogError(f"this list is written for another version of Hearth "
                           f"(schema_version {version!r}, expected {SCHEMA_VERSION}).",
                           key="schema_version", path=source)
    models = document.get("model")
    if not isinstance(models, list) or not models:
        raise CatalogError("the list has no [[model]] entries.", key="model", path=source)
    entries: list[CatalogEntry] = []
    seen_ids: set[str] = set()
    seen_files: dict[tuple[str, str], str] = {}
    for index, table in enumerate(models):
        entry = _parse_entry(table, index=index, path=source)
        if entry.id in seen_ids:
            raise CatalogError("this id is used by more than one model.", entry_id=entry.id,
                               key="id", path=source)
        location = (entry.repo.lower(), entry.file)
        if location in seen_files:
            raise CatalogError(f"the same file is already listed as \"{seen_files[location]}\".",
                               entry_id=entry.id, key="file", path=source)
        seen_ids.add(entry.id)
        seen_files[location] = entry.id
        entries.append(entry)
    return Catalog(entries=tuple(entries), source=source)


class _Reader:
    """Typed access to one TOML table, raising CatalogError that names entry and key."""

    def __init__(self, table: Mapping[str, Any], *, entry_id: str | None, prefix: str,
                 path: Path | None) -> None:
        self.table = table
        self.entry_id = entry_id
        self.prefix = prefix
        self.path = path

    def fail(self, key: str, problem: str) -> CatalogError:
        return CatalogError(problem, entry_id=self.entry_id, key=self.prefix + key, path=self.path)

    def has(self, key: str) -> bool:
        return key in self.table

    def text(self, key: str, pattern: re.Pattern[str] | None = None, *, what: str = "") -> str:
        value = self._get(key)
        if not isinstance(value, str):
            raise self.fail(key, f"must be text in quotes, not {_type_name(value)}.")
        if not value.strip():
            raise self.fail(key, "must not be empty.")
        if pattern is not None and not pattern.fullmatch(value):
            raise self.fail(key, f"\"{value}\" is not {what}.")
        return value

    def integer(self, key: str, *, minimum: int = 1, maximum: int | None = None) -> int:
        value = self._get(key)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(key, f"must be a whole number, not {_type_name(value)}.")
        if value < minimum or (maximum is not None and value > maximum):
            limit = f"from {minimum} to {maximum}" if maximum is not None else f"at least {minimum}"
            raise self.fail(key, f"must be {limit}, not {value}.")
        return value

    def optional_integer(self, key: str, *, minimum: int = 1) -> int | None:
        return self.integer(key, minimum=minimum) if self.has(key) else None

    def text_list(self, key: str, pattern: re.Pattern[str], *, what: str) -> tuple[str, ...]:
        value = self._get(key)
        if not isinstance(value, list) or not value:
            raise self.fail(key, f"must be a non-empty list, not {_type_name(value)}.")
        items: list[str] = []
        for item in value:
            if not isinstance(item, str) or not pattern.fullmatch(item):
                raise self.fail(key, f"{item!r} is not {what}.")
            if item in items:
                raise self.fail(key, f"\"{item}\" is listed twice.")
            items.append(item)
        return tuple(items)

    def _get(self, key: str) -> Any:
        if key not in self.table:
            raise self.fail(key, "this required setting is missing.")
        return self.table[key]


def _parse_entry(table: Any, *, index: int, path: Path | None) -> CatalogEntry:
    label = f"number {index + 1}"
    if not isinstance(table, dict):
        raise CatalogError("each model must be a [[model]] table.", entry_id=label, path=path)
    raw_id = table.get("id")
    entry_id = raw_id if isinstance(raw_id, str) and raw_id else label
    reader = _Reader(table, entry_id=entry_id, prefix="", path=path)
    entry_id = reader.text("id", _ID_RE, what="a valid id (lower-case letters, digits, '.', '_', '-')")
    reader.entry_id = entry_id
    _reject_unknown(table, _ENTRY_KEYS_REQUIRED | _ENTRY_KEYS_OPTIONAL, entry_id=entry_id,
                    prefix="", path=path)

    repo = reader.text("repo")
    _check_repo(repo, reader)
    file = reader.text("file")
    _check_file_name(file, reader)
    capabilities = reader.text_list("capabilities", re.compile(r".+"), what="a capability")
    unknown = sorted(set(capabilities) - KNOWN_CAPABILITIES)
    if unknown:
        raise reader.fail("capabilities", f"\"{unknown[0]}\" is not a capability Hearth knows "
                                          f"({', '.join(sorted(KNOWN_CAPABILITIES))}).")
    header_table = reader._get("header")
    if not isinstance(header_table, dict):
        raise reader.fail("header", f"must be a [model.header] table, not {_type_name(header_table)}.")

    return CatalogEntry(
        id=entry_id,
        name=reader.text("name"),
        family=reader.text("family", _FAMILY_RE, what="a family name like \"qwen2.5\""),
        repo=repo,
        file=file,
        licence=reader.text("licence", _LICENCE_RE, what="a licence name like \"apache-2.0\""),
        parameters=reader.integer("parameters", minimum=10_000_000),
        languages=reader.text_list("languages", _LANGUAGE_RE, what="a language code like \"en\""),
        capabilities=frozenset(capabilities),
        quality=reader.integer("quality", minimum=1, maximum=100),
        quantization=reader.text("quantization", _QUANT_RE, what="a quantization like \"Q4_K_M\""),
        header=_parse_header(header_table, entry_id=entry_id, path=path),
        revision=reader.text("revision", _REVISION_RE, what="a 40-character commit id")
        if reader.has("revision") else None,
        size_bytes=reader.optional_integer("size_bytes"),
        sha256=reader.text("sha256", _SHA256_RE, what="64 lower-case hexadecimal characters")
        if reader.has("sha256") else None,
    )


def _parse_header(table: Mapping[str, Any], *, entry_id: str, path: Path | None) -> HeaderNumbers:
    _reject_unknown(table, _HEADER_KEYS_REQUIRED | _HEADER_KEYS_OPTIONAL, entry_id=entry_id,
                    prefix="header.", path=path)
    reader = _Reader(table, entry_id=entry_id, prefix="header.", path=path)
    block_count = reader.integer("block_count", maximum=512)
    head_count = reader.integer("head_count", maximum=1024)
    head_count_kv = _per_layer_kv_heads(reader, block_count=block_count, head_count=head_count)
    embedding_length = reader.integer("embedding_length")
    key_length = reader.optional_integer("key_length")
    value_length = reader.optional_integer("value_length")
    if (key_length is None or value_length is None) and embedding_length % head_count:
        raise reader.fail("embedding_length", f"{embedding_length} is not divisible by head_count "
                                              f"{head_count}; set key_length and value_length.")
    context_length = reader.integer("context_length", minimum=256)
    sliding_window = reader.optional_integer("sliding_window")
    pattern = reader.optional_integer("sliding_window_pattern", minimum=0)
    if (sliding_window is None) != (pattern is None):
        missing = "sliding_window_pattern" if pattern is None else "sliding_window"
        raise reader.fail(missing, "sliding_window and sliding_window_pattern go together; "
                                   "this one is missing.")
    if pattern is not None and pattern > block_count:
        raise reader.fail("sliding_window_pattern", f"{pattern} is more than block_count {block_count}.")
    return HeaderNumbers(
        architecture=reader.text("architecture", _ARCH_RE, what="a GGUF architecture name"),
        block_count=block_count,
        context_length=context_length,
        embedding_length=embedding_length,
        head_count=head_count,
        head_count_kv=head_count_kv,
        vocab_size=reader.optional_integer("vocab_size", minimum=256),
        key_length=key_length,
        value_length=value_length,
        sliding_window=sliding_window,
        sliding_window_pattern=pattern,
        tensor_bytes=reader.optional_integer("tensor_bytes"),
        feed_forward_length=reader.optional_integer("feed_forward_length"),
    )


def _per_layer_kv_heads(reader: _Reader, *, block_count: int, head_count: int) -> tuple[int, ...]:
    value = reader._get("head_count_kv")
    if isinstance(value, list):
        if len(value) != block_count:
            raise reader.fail("head_count_kv", f"lists {len(value)} layers but block_count is {block_count}.")
        layers = value
    else:
        layers = [value] * block_count
    for heads in layers:
        if isinstance(heads, bool) or not isinstance(heads, int):
            raise reader.fail("head_count_kv", f"must be a whole number or a list of them, "
                                               f"not {_type_name(heads)}.")
        if heads < 1 or head_count % heads:
            raise reader.fail("head_count_kv", f"{heads} does not divide head_count {head_count}.")
    return tuple(layers)


def _check_repo(repo: str, reader: _Reader) -> None:
    parts = repo.split("/")
    if len(parts) != 2 or not all(_REPO_PART_RE.fullmatch(p) for p in parts) or ".." in repo:
        raise reader.fail("repo", f"\"{repo}\" is not a Hugging Face repository name like \"owner/name\".")


def _check_file_name(file: str, reader: _Reader) -> None:
    # The name becomes part of a URL and of a path under the models folder: refuse
    # anything that could climb out of either.
    bad = (
        "\\" in file or file.startswith("/") or re.match(r"^[A-Za-z]:", file) is not None
        or any(ord(ch) < 32 or ch in "\x7f:*?\"<>|" for ch in file)
    )
    # Split by hand: PurePosixPath would quietly drop "." and empty parts.
    if bad or any(part in ("", ".", "..") for part in file.split("/")):
        raise reader.fail("file", f"\"{file}\" is not a plain file name inside the repository "
                                  f"(no \"..\", no leading \"/\", no backslashes).")
    if not file.endswith(".gguf"):
        raise reader.fail("file", f"\"{file}\" is not a .gguf model file.")


def _reject_unknown(table: Mapping[str, Any], allowed: Iterable[str], *, entry_id: str | None,
                    prefix: str, path: Path | None) -> None:
    unknown = sorted(set(table) - set(allowed))
    if unknown:
        raise CatalogError("this setting is not one Hearth knows (a typo?).", entry_id=entry_id,
                           key=prefix + unknown[0], path=path)


_TYPE_NAMES = ((bool, "true/false"), (int, "a number"), (float, "a decimal number"), (str, "text"),
               (list, "a list"), (dict, "a table"))


def _type_name(value: Any) -> str:
    return next((name for kind, name in _TYPE_NAMES if isinstance(value, kind)), type(value).__name__)
