"""Writing a catalog back to TOML: one canonical layout, atomically.

The layout is the shipped file's own (keys in the same order, ``head_count_kv`` as one
number when every layer has the same), so writing back an unchanged catalog gives the
same bytes and a refresh shows up in a diff as exactly the lines it changed. The
comment block at the top of the file being replaced is kept; comments between entries
are not (every fact's source lives in ``recipes/CATALOG.md``, not in comments).
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from wizard.catalog.model import SCHEMA_VERSION, Catalog, CatalogEntry, HeaderNumbers
from wizard.errors import HearthFileError

# The order capabilities are written in (a frozenset has none of its own).
CAPABILITY_ORDER = ("chat", "tool_use", "long_context", "multilingual", "coding", "reasoning")
GENERATED_COMMENT = (
    "# Hearth's curated model list (written by wizard/catalog/write.py).\n"
    "# Every fact's source is in recipes/CATALOG.md.\n"
)


def _value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)  # a JSON string is a valid TOML basic string
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_value(item) for item in value) + "]"
    raise TypeError(f"cannot write {value!r} to the catalog")


def _header_lines(header: HeaderNumbers) -> list[str]:
    kv = header.head_count_kv
    fields: list[tuple[str, object]] = [
        ("architecture", header.architecture),
        ("block_count", header.block_count),
        ("context_length", header.context_length),
        ("embedding_length", header.embedding_length),
        ("feed_forward_length", header.feed_forward_length),
        ("head_count", header.head_count),
        ("head_count_kv", kv[0] if len(set(kv)) == 1 else list(kv)),
        ("key_length", header.key_length),
        ("value_length", header.value_length),
        ("sliding_window", header.sliding_window),
        ("sliding_window_pattern", header.sliding_window_pattern),
        ("vocab_size", header.vocab_size),
        ("tensor_bytes", header.tensor_bytes),
    ]
    return [f"{key} = {_value(value)}" for key, value in fields if value is not None]


def entry_toml(entry: CatalogEntry) -> str:
    """One ``[[model]]`` table with its ``[model.header]``, in the canonical layout."""
    capabilities = [c for c in CAPABILITY_ORDER if c in entry.capabilities]
    capabilities += sorted(entry.capabilities - set(CAPABILITY_ORDER))
    fields: list[tuple[str, object]] = [
        ("id", entry.id), ("name", entry.name), ("family", entry.family), ("repo", entry.repo),
        ("file", entry.file), ("revision", entry.revision), ("size_bytes", entry.size_bytes),
        ("sha256", entry.sha256), ("licence", entry.licence), ("parameters", entry.parameters),
        ("languages", list(entry.languages)), ("capabilities", capabilities),
        ("quality", entry.quality), ("quantization", entry.quantization),
    ]
    lines = ["[[model]]"]
    lines += [f"{key} = {_value(value)}" for key, value in fields if value is not None]
    lines.append("[model.header]")
    lines += _header_lines(entry.header)
    return "\n".join(lines) + "\n"


def leading_comments(text: str) -> str:
    """The comment block (and blank lines) a TOML file starts with."""
    kept = []
    for line in text.splitlines(keepends=True):
        if line.strip() and not line.lstrip().startswith("#"):
            break
        kept.append(line)
    return "".join(kept).rstrip("\n") + "\n" if any(line.strip() for line in kept) else ""


def catalog_toml(catalog: Catalog, *, comments: str = GENERATED_COMMENT) -> str:
    """The whole file: ``comments``, the schema version, then every entry in order."""
    parts = [comments.rstrip("\n") + "\n\n" if comments else "", f"schema_version = {SCHEMA_VERSION}\n"]
    for entry in catalog.entries:
        parts.append("\n" + entry_toml(entry))
    return "".join(parts)


def write_catalog(catalog: Catalog, path: Path, *, comments_from: Path | None = None) -> Path:
    """Write ``catalog`` to ``path`` atomically (temp file in the same folder + ``os.replace``).

    The comment block at the top of ``comments_from`` (default: the existing ``path``) is
    kept; without one the file gets :data:`GENERATED_COMMENT`. A reader never sees half a
    file, and a failure leaves the old file untouched.

    Raises:
        HearthFileError: the folder cannot be written (full disk, no permission).
    """
    path = Path(path)
    try:
        comments = leading_comments(Path(comments_from or path).read_text(encoding="utf-8")) or GENERATED_COMMENT
    except (OSError, UnicodeDecodeError):
        comments = GENERATED_COMMENT
    text = catalog_toml(catalog, comments=comments)
    temp_name = None
    try:
        with tempfile.NamedTemporaryFile("w", encoding="utf-8", dir=path.parent, prefix=f".{path.name}.",
                                         suffix=".tmp", delete=False) as handle:
            temp_name = handle.name
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp_name, path)
    except OSError as exc:
        if temp_name is not None:
            Path(temp_name).unlink(missing_ok=True)
        raise HearthFileError("Hearth could not save its list of models.",
                              hint="Check that the disk has free space and the folder may be written, "
                              "then try again; the old list is unchanged.",
                              details=f"{path}: {exc}") from exc
    return path
