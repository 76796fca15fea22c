"""Writing a model pack from installed models, and installing one: all or nothing.

Import order: the manifest and every path, size and file are checked (nothing copied
yet); free disk is checked; each file is copied to a temp name under the models
folder's ``partial/`` while its sha256 is computed; the recipes are checked (sha256,
and that each is a valid recipe); only when *every* file matched are the recipes
installed (``recipes.py``) and the models moved into place with ``os.replace`` and
registered. Any mismatch, missing file or cancel removes the temp copies: nothing is
installed.

Export order: files are copied to ``NAME.part`` in the pack, read back and checked,
renamed; then the recipes of the assistants that use the exported models are written;
the manifest is written last and atomically, so a folder with a manifest is always a
complete pack.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from wizard import __version__
from wizard.download.disk import DiskUsageFunction, check_free_space
from wizard.download.errors import DownloadCancelled
from wizard.download.names import inside
from wizard.download.partial import fsync_folder, hash_prefix, write_text_atomic
from wizard.download.progress import ProgressCallback, ProgressReporter
from wizard.errors import HearthError, HearthFileError, HearthValueError, StoppedByPerson
from wizard.models import InstalledModel, ModelRegistry, ModelSource, register_file
from wizard.packs.manifest import MANIFEST_NAME, PackEntry, PackManifest, PackSource, read_manifest, render_manifest
from wizard.packs.recipes import PackRecipe, check_recipes, install_recipes, recipes_using

log = logging.getLogger(__name__)

BLOCK = 4 * 1024 * 1024
Flag = threading.Event | Callable[[], bool] | None


class PackFileDamagedError(HearthValueError):
    """A file's sha256 does not match the manifest (or the registry): nothing was installed."""

    default_hint = "Copy the pack again from a good copy, or make it again with “hearth pack export”."


class PackCancelled(StoppedByPerson):
    """The person stopped the copy; nothing was installed (or no manifest was written)."""

    default_hint = "Start it again when you are ready."


class PackFolderNotEmptyError(HearthFileError):
    default_hint = "Choose an empty folder (or a new one) for the pack."


@dataclass(frozen=True)
class ImportResult:
    installed: tuple[InstalledModel, ...]
    recipes: tuple[PackRecipe, ...]  # verified and installed; applying them is the recipe command's job
    bytes_copied: int


def _stopper(cancel: Flag) -> Callable[[], str | None]:
    def should_stop() -> str | None:
        stop = cancel.is_set() if isinstance(cancel, threading.Event) else bool(cancel and cancel())
        return "cancel" if stop else None
    return should_stop


def _copy_hashing(source: Path, target: Path, *, done_before: int, reporter: ProgressReporter,
                  should_stop: Callable[[], str | None]) -> str:
    """Copy ``source`` to ``target`` (fsync'd) and return the sha256 of the bytes copied.

    Raises:
        PackCancelled: ``should_stop`` said so (``target`` is left for the caller to remove).
        OSError: reading or writing failed.
    """
    digest = hashlib.sha256()
    target.parent.mkdir(parents=True, exist_ok=True)
    copied = 0
    with source.open("rb") as reader, target.open("wb") as writer:
        while block := reader.read(BLOCK):
            if should_stop():
                raise PackCancelled("The copy was stopped. Nothing was installed.")
            writer.write(block)
            digest.update(block)
            copied += len(block)
            reporter.bytes(done_before + copied)
        writer.flush()
        os.fsync(writer.fileno())
    return digest.hexdigest()


def _read_back(path: Path, size: int, should_stop: Callable[[], str | None]) -> str:
    """sha256 of what is now on the disk (catches a USB stick that wrote something else)."""
    digest = hashlib.sha256()
    try:
        with path.open("rb") as handle:
            hash_prefix(handle, size, digest, on_bytes=lambda _: None, should_stop=should_stop)
    except DownloadCancelled as exc:
        raise PackCancelled("The check was stopped. The pack was not finished.") from exc
    return digest.hexdigest()


def _disk_error(action: str, exc: OSError) -> HearthFileError:
    return HearthFileError(f"Hearth could not {action}.",
                           hint="Check that the disk or USB stick is still connected and has free space, "
                                "then try again.", details=f"{type(exc).__name__}: {exc}")


def import_pack(folder: Path, *, registry: ModelRegistry | None = None, progress: ProgressCallback | None = None,
                cancel: Flag = None, disk_usage: DiskUsageFunction = shutil.disk_usage,
                recipes_folder: Path | None = None) -> ImportResult:
    """Verify and install every model file and recipe of the pack in ``folder``, or none.

    Recipes go to ``recipes_folder`` (default: :func:`wizard.recipes.user_recipes_dir`).

    Raises:
        PackManifestError, PackFileMissingError: the pack is unusable (checked before copying).
        NotEnoughSpaceError: the models folder's disk is too full (before copying).
        PackFileDamagedError: a file's checksum did not match; the message names it.
        PackManifestError: a recipe in the pack is not a valid recipe (nothing installed).
        PackCancelled: ``cancel`` was set.
        HearthFileError: a disk refused a read or write.
    """
    manifest = read_manifest(folder)
    registry = registry or ModelRegistry()
    models_dir = registry.models_dir
    targets = [inside(models_dir, entry.install_name()) for entry in manifest.files]
    temps = [inside(models_dir / "partial" / "pack-import", entry.install_name() + ".part")
             for entry in manifest.files]
    check_free_space(models_dir, manifest.total_bytes, disk_usage=disk_usage, what="Installing this model pack")
    reporter = ProgressReporter(progress, manifest.total_bytes)
    should_stop = _stopper(cancel)
    reporter.state("waiting", "Checking the model pack…")
    try:
        done = 0
        for entry, temp in zip(manifest.files, temps):
            digest = _copy_hashing(entry.location, temp, done_before=done, reporter=reporter, should_stop=should_stop)
            if digest != entry.sha256:
                raise _damaged(entry, digest)
            done += entry.size
        recipes = install_recipes(check_recipes(manifest.recipes), recipes_folder)
    except BaseException as exc:
        for temp in temps:
            temp.unlink(missing_ok=True)
        _remove_empty_folders(models_dir / "partial" / "pack-import")
        reporter.state("failed", exc.user_message if isinstance(exc, HearthError) else "Stopped.")
        if isinstance(exc, OSError) and not isinstance(exc, HearthError):
            raise _disk_error("copy the model pack", exc) from exc
        raise
    installed = []
    for entry, temp, target in zip(manifest.files, temps, targets):
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(temp, target)
        fsync_folder(target.parent)
        source = entry.source or PackSource(repo="", file=Path(entry.path).name)
        installed.append(register_file(
            target, sha256=entry.sha256, licence=entry.licence, registry=registry,
            source=ModelSource(kind="pack", pack=str(folder), repo=source.repo or None,
                               filename=source.file, revision=source.revision)))
    _remove_empty_folders(models_dir / "partial" / "pack-import")
    log.info("imported %d model files (%d bytes) from pack %s", len(installed), manifest.total_bytes, folder)
    reporter.state("done", "Installed from the model pack and verified.", done=manifest.total_bytes)
    return ImportResult(tuple(installed), recipes, manifest.total_bytes)


def _remove_empty_folders(root: Path) -> None:
    """Remove ``root`` and the folders below it that hold nothing (leftovers of temp copies)."""
    if not root.is_dir():
        return
    for folder in sorted((p for p in root.rglob("*") if p.is_dir()), key=lambda p: len(p.parts), reverse=True):
        if not any(folder.iterdir()):
            folder.rmdir()
    if not any(root.iterdir()):
        root.rmdir()


def _damaged(entry: PackEntry, actual: str) -> PackFileDamagedError:
    return PackFileDamagedError(
        f"The model pack is damaged: “{entry.path}” is not the file the pack lists. Nothing was installed.",
        details=f"{entry.location}: expected sha256 {entry.sha256}, got {actual}")


def export_pack(folder: Path, *, model_ids: list[str] | None = None, registry: ModelRegistry | None = None,
                progress: ProgressCallback | None = None, cancel: Flag = None,
                disk_usage: DiskUsageFunction = shutil.disk_usage, with_recipes: bool = True) -> PackManifest:
    """Write a pack of the installed models (all, or ``model_ids``) into ``folder``.

    With ``with_recipes``, the recipes of the assistants that use those models go in too
    (shareable: no secrets, portable folders).

    Raises:
        ModelNotInstalledError: an id is not installed.
        HearthValueError: there is nothing to export.
        PackFolderNotEmptyError: ``folder`` already holds a pack.
        NotEnoughSpaceError: the pack's disk is too small (before copying).
        PackFileDamagedError: an installed model no longer matches its checksum.
        PackCancelled: ``cancel`` was set (no manifest is written).
        HearthFileError: a disk refused a read or write.
    """
    registry = registry or ModelRegistry()
    chosen = [registry.get(i) for i in model_ids] if model_ids else registry.list()
    models = list({model.id: model for model in chosen}.values())  # "--model x --model x" is one file
    if not models:
        raise HearthValueError("There are no installed models to put in a pack.",
                               hint="Download a model first, then make the pack.")
    if (folder / MANIFEST_NAME).exists():
        raise PackFolderNotEmptyError(f"{folder} already holds a model pack.")
    entries = [_entry_for(model, folder, registry.models_dir) for model in models]
    recipe_texts = recipes_using(models, registry) if with_recipes else []
    total = sum(entry.size for entry in entries)
    recipe_bytes = sum(len(text.encode()) for _, text in recipe_texts)
    check_free_space(folder, total + recipe_bytes, disk_usage=disk_usage, what="This model pack")
    reporter = ProgressReporter(progress, total)
    should_stop = _stopper(cancel)
    done = 0
    for model, entry in zip(models, entries):
        part = entry.location.with_name(entry.location.name + ".part")
        try:
            digest = _copy_hashing(model.file_in(registry.models_dir), part, done_before=done, reporter=reporter,
                                   should_stop=should_stop)
            if digest != entry.sha256:
                raise PackFileDamagedError(f"The installed model “{model.id}” is damaged, so it was not put in "
                                           "the pack.", hint="Delete it and download it again.",
                                           details=f"expected {entry.sha256}, read {digest}")
            reporter.state("verifying", f"Checking the copy of {model.id}…", done=done + entry.size)
            if _read_back(part, entry.size, should_stop) != entry.sha256:
                raise PackFileDamagedError(f"The copy of “{model.id}” on the pack's disk came out different.",
                                           hint="The disk or USB stick may be failing; try another one.")
            os.replace(part, entry.location)
        except BaseException as exc:
            part.unlink(missing_ok=True)
            if isinstance(exc, OSError) and not isinstance(exc, HearthError):
                raise _disk_error("write the model pack", exc) from exc
            raise
        done += entry.size
    created = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    try:
        recipes = [_write_recipe(folder, path, text) for path, text in recipe_texts]
        write_text_atomic(folder / MANIFEST_NAME, render_manifest(
            entries, recipes=recipes, created=created, created_by=f"Hearth {__version__}"))
    except OSError as exc:
        raise _disk_error("write the model pack", exc) from exc
    reporter.state("done", "The model pack is ready.", done=total)
    return read_manifest(folder)


def _write_recipe(folder: Path, path: str, text: str) -> PackEntry:
    """Write one recipe into the pack; its entry describes the bytes now on the disk."""
    location = inside(folder, path)
    write_text_atomic(location, text)
    written = location.read_bytes()
    return PackEntry(path, len(written), hashlib.sha256(written).hexdigest(), location)


def _entry_for(model: InstalledModel, folder: Path, models_dir: Path) -> PackEntry:
    """The manifest entry for an installed model; its file must be there, with the recorded size."""
    source_file = model.file_in(models_dir)
    if not source_file.is_file() or source_file.stat().st_size != model.size:
        raise HearthFileError(f"The installed model “{model.id}” is missing or has changed.",
                              hint="Delete it with “hearth models remove” and download it again.",
                              details=str(source_file))
    path = f"models/{model.id}"
    source = None
    if model.source.repo and model.source.filename:
        source = PackSource(model.source.repo, model.source.filename, model.source.commit or model.source.revision)
    return PackEntry(path, model.size, model.sha256, inside(folder, path), model.licence, source)
