"""Turning a finished download (or any verified file) into a registry record."""

from __future__ import annotations

import hashlib
import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING

from wizard.errors import HearthError, HearthFileError
from wizard.models.records import HUB_ENDPOINT, InstalledModel, ModelSource, model_id_for, stored_path
from wizard.models.registry import ModelRegistry

if TYPE_CHECKING:
    from wizard.download.hub_download import DownloadResult

log = logging.getLogger(__name__)

_BLOCK = 4 * 1024 * 1024


def licence_from_catalog(repo: str | None, filename: str | None) -> str:
    """The licence the shipped catalog gives this file, or "unknown"."""
    from wizard.catalog import load_catalog

    try:
        entries = load_catalog().entries
    except HearthError as exc:  # a damaged catalog must not stop an install
        log.warning("catalog unreadable while looking up a licence: %s", exc.details or exc)
        return "unknown"
    return next((e.licence for e in entries if e.repo == repo and e.file == filename), "unknown")


def sha256_of_file(path: Path) -> str:
    """Raises: HearthFileError when the file cannot be read."""
    digest = hashlib.sha256()
    try:
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(_BLOCK), b""):
                digest.update(block)
    except OSError as exc:
        raise HearthFileError("Hearth could not read the model file.", details=f"{path}: {exc}") from exc
    return digest.hexdigest()


def register_file(path: Path, *, source: ModelSource, licence: str = "unknown", sha256: str | None = None,
                  registry: ModelRegistry | None = None) -> InstalledModel:
    """Record the file at ``path`` (hashing it when ``sha256`` is not already known).

    Raises:
        HearthFileError: the file cannot be read or the registry cannot be written.
    """
    registry = registry or ModelRegistry()
    path = Path(os.path.abspath(path))
    models_dir = Path(os.path.abspath(registry.models_dir))
    record = InstalledModel(
        id=model_id_for(path, models_dir), path=stored_path(path, models_dir), source=source,
        sha256=(sha256 or sha256_of_file(path)).lower(), size=path.stat().st_size, licence=licence)
    return registry.add(record)


def register_download(result: DownloadResult, *, revision: str, endpoint: str | None = None,
                      registry: ModelRegistry | None = None) -> InstalledModel:
    """Record a finished :func:`wizard.download.download_from_hub` result.

    Raises:
        HearthFileError: the registry cannot be written.
    """
    endpoint = (endpoint or os.environ.get("HF_ENDPOINT") or HUB_ENDPOINT).rstrip("/")
    kind = "hub" if endpoint == HUB_ENDPOINT else "mirror"
    source = ModelSource(kind=kind, repo=result.repo_id, filename=result.filename, revision=revision,
                         commit=result.commit, endpoint=None if kind == "hub" else endpoint)
    # Small non-LFS files are verified by their git sha1; the registry always keeps a sha256.
    sha256 = result.digest if len(result.digest) == 64 else None
    return register_file(result.path, source=source, sha256=sha256, registry=registry,
                         licence=licence_from_catalog(result.repo_id, result.filename))
