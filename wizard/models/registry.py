"""The installed-models registry: one JSON file in Hearth's data folder.

    registry = ModelRegistry()
    registry.add(record)                 # after a download or a pack import
    registry.list(); registry.get("owner--name/model.gguf")
    freed = registry.delete("owner--name/model.gguf").bytes_freed   # file and record

Writes are atomic (temp file + ``os.replace``) and serialised between processes with a
lock file; reads take no lock (except on Windows), so listing never waits for a writer. A
damaged file never stops Hearth: the good entries are kept, the damaged file is copied
aside, and :attr:`ModelRegistry.problem` says so in plain words.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from wizard.download.errors import DownloadBusyError
from wizard.download.partial import FileLock, fsync_folder, write_json_atomic
from wizard.errors import HearthError, HearthFileError, HearthValueError
from wizard.models.records import BadRecordError, InstalledModel, parse_record
from wizard.paths import hearth_paths

log = logging.getLogger(__name__)

REGISTRY_FILE_NAME = "installed-models.json"
SCHEMA_VERSION = 1
LOCK_WAIT_SECONDS = 10.0
# Writes replace the file whole, so a read needs no lock and never waits for a writer (a window
# listing models while a big file is deleted). Not on Windows: there a reader holding the file
# open would make the writer's os.replace fail.
LOCK_FREE_READS = os.name != "nt"


class ModelNotInstalledError(HearthValueError, LookupError):
    """No installed model has that id (or file name)."""

    default_hint = "Run “hearth models list” to see the installed models and their ids."


class RegistryDamagedError(HearthFileError):
    """The registry file could not be read as Hearth wrote it; a copy was kept."""


class RegistryTooNewError(HearthFileError):
    """The registry was written by a newer Hearth; this one will not change it."""

    default_hint = "Update Hearth to the newest version."


class OutsideModelsFolderError(HearthError, PermissionError):
    """Hearth deletes only files inside its own models folder."""

    default_hint = ("Delete the file yourself if you no longer need it, or take it off the list "
                    "and keep the file (“hearth models remove ID --keep-file”).")


@dataclass(frozen=True)
class Removal:
    """What :meth:`ModelRegistry.delete` did."""

    model: InstalledModel
    path: Path
    bytes_freed: int
    file_was_missing: bool


def is_inside(folder: Path, path: Path) -> bool:
    """True when ``path``, with every symlink resolved, is ``folder`` or below it.

    Compared by path components, so ``/models-evil`` is not inside ``/models``.
    """
    return path.resolve().is_relative_to(folder.resolve())


class _NeedsRecovery(Exception):
    """The file read without the lock is damaged: read it again under the lock, which mends it."""


class ModelRegistry:
    """The registry file ``file`` (default: data folder) for the models folder ``models_dir``."""

    def __init__(self, *, file: Path | None = None, models_dir: Path | None = None) -> None:
        paths = hearth_paths()
        self.file = file or paths.data / REGISTRY_FILE_NAME
        self.models_dir = models_dir or paths.models
        self.problem: RegistryDamagedError | None = None  # set when a damaged file was recovered

    # ---- reading ---------------------------------------------------------------------
    def list(self) -> list[InstalledModel]:
        """Every installed model, oldest first.

        Raises:
            RegistryTooNewError: written by a newer Hearth.
            HearthFileError: the file exists but cannot be read.
        """
        if LOCK_FREE_READS:
            try:
                return self._read(recover=False)
            except _NeedsRecovery:
                pass
        with self._locked():
            return self._read()

    def get(self, model_id: str) -> InstalledModel:
        """The model with this id, or with this file name if only one has it.

        Raises:
            ModelNotInstalledError: none matches (or the file name is ambiguous).
        """
        return self._find(self.list(), model_id)

    # ---- changing --------------------------------------------------------------------
    def add(self, model: InstalledModel) -> InstalledModel:
        """Record ``model``, replacing an earlier record with the same id (a re-download)."""
        self._change(lambda models: [m for m in models if m.id != model.id] + [model])
        log.info("registered model %s (%s, %d bytes)", model.id, model.source.describe(), model.size)
        return model

    def forget(self, model_id: str) -> InstalledModel:
        """Take the model off the list; its file stays where it is.

        Raises:
            ModelNotInstalledError: no such model.
        """
        found: list[InstalledModel] = []

        def drop(models: list[InstalledModel]) -> list[InstalledModel]:
            found.append(self._find(models, model_id))
            return [m for m in models if m.id != found[0].id]
        self._change(drop)
        return found[0]

    def set_fit(self, model_id: str, figures: Mapping[str, Any]) -> InstalledModel:
        """Store the fit figures measured for a model (replacing earlier ones).

        Raises:
            ModelNotInstalledError: no such model.
            HearthValueError: ``figures`` cannot be written as JSON.
        """
        try:
            json.dumps(dict(figures))
        except (TypeError, ValueError) as exc:
            raise HearthValueError("These fit figures cannot be saved.", details=str(exc)) from exc
        updated: list[InstalledModel] = []

        def update(models: list[InstalledModel]) -> list[InstalledModel]:
            updated.append(self._find(models, model_id).with_fit(figures))
            return [updated[0] if m.id == updated[0].id else m for m in models]
        self._change(update)
        return updated[0]

    def delete(self, model_id: str) -> Removal:
        """Delete the model's file and its record; report the bytes freed.

        Raises:
            ModelNotInstalledError: no such model.
            OutsideModelsFolderError: the file (after resolving symlinks) is not inside the
                models folder; nothing was deleted.
            HearthFileError: the file could not be deleted; the record is kept.
        """
        with self._locked():
            models = self._read()
            model = self._find(models, model_id)
            path = model.file_in(self.models_dir)
            if not is_inside(self.models_dir, path) or path.is_symlink():
                raise OutsideModelsFolderError(
                    f"“{model.id}” is not in Hearth's models folder, so Hearth will not delete it.",
                    details=f"path={path} resolved={path.resolve()} models={self.models_dir.resolve()}")
            freed, missing = self._delete_file(path)
            self._write([m for m in models if m.id != model.id])
        log.info("deleted model %s (%d bytes freed)", model.id, freed)
        return Removal(model, path, freed, missing)

    # ---- internals -------------------------------------------------------------------
    def _delete_file(self, path: Path) -> tuple[int, bool]:
        try:
            size = path.stat().st_size
            path.unlink()
        except FileNotFoundError:
            return 0, True
        except OSError as exc:
            raise HearthFileError("Hearth could not delete the model file.",
                                  hint="Close any program using it and try again.",
                                  details=f"{path}: {exc}") from exc
        folder = path.parent
        if folder.resolve() != self.models_dir.resolve() and not any(folder.iterdir()):
            folder.rmdir()  # the empty owner--name folder
        return size, False

    @staticmethod
    def _find(models: list[InstalledModel], model_id: str) -> InstalledModel:
        for model in models:
            if model.id == model_id:
                return model
        by_name = [m for m in models if Path(m.path).name == model_id]
        if len(by_name) == 1:
            return by_name[0]
        raise ModelNotInstalledError(f"No installed model is called “{model_id}”.",
                                     details=f"{len(by_name)} models have that file name")

    def _change(self, change: Callable[[list[InstalledModel]], list[InstalledModel]]) -> None:
        with self._locked():
            self._write(change(self._read()))

    @contextmanager
    def _locked(self) -> Iterator[None]:
        deadline = time.monotonic() + LOCK_WAIT_SECONDS
        lock = FileLock(self.file.with_name(self.file.name + ".lock"))
        while True:
            try:
                lock.__enter__()
                break
            except DownloadBusyError:  # another Hearth process is writing the registry: wait
                if time.monotonic() > deadline:
                    raise HearthFileError("The list of installed models is busy in another Hearth window.",
                                          hint="Close the other Hearth window or command and try again.")
                time.sleep(0.05)
        try:
            yield
        finally:
            lock.__exit__(None, None, None)

    def _write(self, models: list[InstalledModel]) -> None:
        document = {"schema_version": SCHEMA_VERSION, "models": [m.to_json() for m in models]}
        try:
            write_json_atomic(self.file, document)
            fsync_folder(self.file.parent)
        except OSError as exc:
            raise HearthFileError("Hearth could not save the list of installed models.",
                                  hint="Check that the disk has free space, then try again.",
                                  details=f"{self.file}: {exc}") from exc

    def _read(self, *, recover: bool = True) -> list[InstalledModel]:
        """The records in the file; a damaged file is recovered (under the lock only:
        ``recover=False`` raises :class:`_NeedsRecovery` instead)."""
        try:
            raw = self.file.read_bytes()
        except FileNotFoundError:
            return []
        except OSError as exc:
            raise HearthFileError("Hearth could not read the list of installed models.",
                                  details=f"{self.file}: {exc}") from exc
        try:
            document = json.loads(raw)
            version = document.get("schema_version") if isinstance(document, dict) else None
        except (ValueError, UnicodeDecodeError) as exc:
            return self._recover([], f"not JSON: {exc}", recover)
        if isinstance(version, int) and version > SCHEMA_VERSION:
            raise RegistryTooNewError("The list of installed models was saved by a newer version of Hearth.",
                                      details=f"schema_version={version}")
        entries = document.get("models") if isinstance(document, dict) else None
        if version != SCHEMA_VERSION or not isinstance(entries, list):
            return self._recover([], "no schema_version 1 models list", recover)
        models, problems = [], []
        for index, entry in enumerate(entries):
            try:
                model = parse_record(entry, index)
            except BadRecordError as exc:
                problems.append(exc.user_message)
                continue
            if any(m.id == model.id for m in models):
                problems.append(f"entry {index + 1} repeats {model.id}")
                continue
            models.append(model)
        return self._recover(models, "; ".join(problems), recover) if problems else models

    def _recover(self, kept: list[InstalledModel], why: str, recover: bool) -> list[InstalledModel]:
        """Copy the damaged file aside, write back what could be read, and say so."""
        if not recover:
            raise _NeedsRecovery(why)
        backup = self.file.with_name(f"{self.file.name}.damaged-{time.strftime('%Y%m%d-%H%M%S')}")
        try:
            shutil.copy2(self.file, backup)
        except OSError as exc:  # no copy, no rewrite: the damaged file stays as it is
            raise RegistryDamagedError("The list of installed models is damaged and Hearth could not keep a "
                                       "copy of it.", hint="Your model files were not touched. Check that the "
                                       "disk has free space, then try again.", details=f"{why}; {exc}") from exc
        self._write(kept)
        log.warning("installed-models registry %s was damaged (%s); copy kept at %s", self.file, why, backup)
        self.problem = RegistryDamagedError(
            "The list of installed models was damaged. Hearth kept what it could read "
            f"({len(kept)} model{'s' if len(kept) != 1 else ''}) and saved a copy of the damaged list.",
            hint=f"Your model files were not touched. The damaged list is at {backup}.",
            details=why)
        return kept
