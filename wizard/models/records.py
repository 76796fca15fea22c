"""One installed model as the registry records it, and its strict JSON form.

A record says which file it is, where it came from, what it must hash to, its licence,
when it was installed, and the fit figures measured on this computer (filled in later
by the fit check; a plain dict so that work can add figures without a schema change).
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path, PurePosixPath
from typing import Any, Literal

from wizard.errors import HearthValueError

SourceKind = Literal["hub", "mirror", "pack", "manual"]
SOURCE_KINDS: tuple[str, ...] = ("hub", "mirror", "pack", "manual")
HUB_ENDPOINT = "https://huggingface.co"

_SHA256_RE = re.compile(r"^[0-9a-f]{64}$")
_SOURCE_KEYS = frozenset({"kind", "repo", "filename", "revision", "commit", "endpoint", "pack"})
_RECORD_KEYS = frozenset({"id", "path", "source", "sha256", "size", "licence", "installed", "fit"})


class BadRecordError(HearthValueError):
    """A registry entry does not have the shape Hearth writes (the file was edited or damaged)."""


@dataclass(frozen=True)
class ModelSource:
    """Where a model file came from.

    ``kind``: "hub" (huggingface.co), "mirror" (another Hub endpoint: ``endpoint``),
    "pack" (an offline model pack at ``pack``) or "manual" (added by hand).
    """

    kind: SourceKind
    repo: str | None = None
    filename: str | None = None
    revision: str | None = None
    commit: str | None = None
    endpoint: str | None = None
    pack: str | None = None

    def describe(self) -> str:
        """One short phrase for people: "Hugging Face: owner/name", "model pack in /media/usb" …"""
        if self.kind == "manual":
            return "added by hand"
        if self.kind == "pack":
            origin = f" (from {self.repo})" if self.repo else ""
            return f"model pack in {self.pack}{origin}"
        where = "Hugging Face" if self.kind == "hub" else f"mirror {self.endpoint}"
        return f"{where}: {self.repo}"


@dataclass(frozen=True)
class InstalledModel:
    """One model file in the registry.

    ``path`` is relative to the models folder (POSIX separators) when the file is inside
    it, so a portable Hearth folder can move; otherwise it is absolute.
    """

    id: str
    path: str
    source: ModelSource
    sha256: str
    size: int
    licence: str = "unknown"
    installed: str = field(default_factory=lambda: time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
    fit: dict[str, Any] = field(default_factory=dict)

    def file_in(self, models_dir: Path) -> Path:
        """The file's path on this computer."""
        stored = Path(self.path)
        return stored if stored.is_absolute() else models_dir / PurePosixPath(self.path)

    def with_fit(self, figures: Mapping[str, Any]) -> InstalledModel:
        return replace(self, fit=dict(figures))

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["source"] = {k: v for k, v in data["source"].items() if v is not None}
        return data


def model_id_for(path: Path, models_dir: Path) -> str:
    """The id a file gets: its path inside the models folder (``owner--name/file.gguf``), else its name."""
    try:
        return path.relative_to(models_dir).as_posix()
    except ValueError:
        return path.name


def stored_path(path: Path, models_dir: Path) -> str:
    """What ``InstalledModel.path`` holds for ``path``: relative inside the models folder."""
    try:
        return path.relative_to(models_dir).as_posix()
    except ValueError:
        return str(path)


def _fail(index: int, key: str, problem: str) -> BadRecordError:
    return BadRecordError(f"Entry {index + 1} of the installed-models list is damaged: {key} {problem}.",
                          details=f"entry={index} key={key}")


def _text(data: Mapping[str, Any], key: str, index: int, *, optional: bool = False) -> str | None:
    value = data.get(key)
    if value is None and optional:
        return None
    if not isinstance(value, str) or not value or len(value) > 4096:
        raise _fail(index, key, "is not a piece of text")
    return value


def parse_record(data: Any, index: int) -> InstalledModel:
    """A record from its JSON form.

    Raises:
        BadRecordError: unknown or missing keys, wrong types, a malformed sha256.
    """
    if not isinstance(data, Mapping):
        raise _fail(index, "entry", "is not a table")
    unknown = set(data) - _RECORD_KEYS
    if unknown:
        raise _fail(index, ", ".join(sorted(unknown)), "is not a known key")
    source = data.get("source")
    if not isinstance(source, Mapping) or set(source) - _SOURCE_KEYS or source.get("kind") not in SOURCE_KINDS:
        raise _fail(index, "source", "is not a known kind of source")
    size = data.get("size")
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        raise _fail(index, "size", "is not a number of bytes")
    sha256 = _text(data, "sha256", index)
    if not _SHA256_RE.match(sha256 or ""):
        raise _fail(index, "sha256", "is not a sha256 checksum")
    fit = data.get("fit", {})
    if not isinstance(fit, Mapping):
        raise _fail(index, "fit", "is not a table")
    return InstalledModel(
        id=_text(data, "id", index), path=_text(data, "path", index),
        source=ModelSource(kind=source["kind"], **{k: _text(source, k, index, optional=True)
                                                   for k in _SOURCE_KEYS - {"kind"}}),
        sha256=sha256, size=size, licence=_text(data, "licence", index),
        installed=_text(data, "installed", index), fit=dict(fit))
