"""Checks on names that come from outside (a catalog, a pack, the command line).

A repository id, file name or revision is used to build a URL *and* a local path, so a
name like ``../../.bashrc`` or ``C:\\Windows`` must be refused before any request.
"""

from __future__ import annotations

import re
from pathlib import Path, PurePosixPath

from wizard.download.errors import UnsafeNameError

_REPO_PART = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,95}$")
_DRIVE = re.compile(r"^[A-Za-z]:")
_FORBIDDEN_CHARS = set('\\:*?"<>|')


def _refuse(what: str, name: str, why: str) -> UnsafeNameError:
    return UnsafeNameError(f"The {what} name “{name}” cannot be used: {why}.", details=f"{what}={name!r}")


def check_repo_id(repo_id: str) -> str:
    """Return ``repo_id`` if it is ``owner/name`` with plain characters.

    Raises:
        UnsafeNameError: anything else (``..``, extra slashes, absolute paths, spaces …).
    """
    parts = repo_id.split("/")
    if len(parts) != 2 or not all(_REPO_PART.match(p) for p in parts) or ".." in repo_id:
        raise _refuse("model", repo_id, "it must look like owner/model-name")
    return repo_id


def check_file_name(filename: str) -> str:
    """Return ``filename`` if it is a relative path inside a repository.

    Raises:
        UnsafeNameError: empty, absolute, ``..`` or ``.`` parts, backslashes, drive
            letters, control or Windows-reserved characters.
    """
    if not filename or len(filename) > 400:
        raise _refuse("file", filename, "it is empty or too long")
    if filename.startswith("/") or _DRIVE.match(filename):
        raise _refuse("file", filename, "it points outside the model's folder")
    if any(ch in _FORBIDDEN_CHARS or ord(ch) < 32 for ch in filename):
        raise _refuse("file", filename, "it contains characters that are not allowed in file names")
    parts = PurePosixPath(filename).parts
    if any(part in ("..", ".") for part in filename.split("/")) or "" in filename.split("/"):
        raise _refuse("file", filename, "it points outside the model's folder")
    if not parts:
        raise _refuse("file", filename, "it is empty")
    return filename


def check_revision(revision: str) -> str:
    """Return ``revision`` (a branch, tag or commit) if it is safe to put in a URL.

    Raises:
        UnsafeNameError: ``..``, backslashes, control characters or leading slashes.
    """
    if (not revision or ".." in revision or revision.startswith("/") or "\\" in revision
            or any(ord(ch) < 33 for ch in revision) or len(revision) > 200):
        raise _refuse("version", revision, "it is not a valid branch, tag or commit")
    return revision


def repo_folder_name(repo_id: str) -> str:
    """``owner/name`` -> ``owner--name``: one folder per repository, like the Hub's cache."""
    return check_repo_id(repo_id).replace("/", "--")


def inside(root: Path, relative: str) -> Path:
    """``root / relative``, checked again after resolving so it cannot leave ``root``.

    Raises:
        UnsafeNameError: the resolved path is outside ``root`` (e.g. through a symlink).
    """
    base = root.resolve()
    target = (base / check_file_name(relative)).resolve()
    if target != base and base not in target.parents:
        raise _refuse("file", relative, "it points outside the model's folder")
    return target
