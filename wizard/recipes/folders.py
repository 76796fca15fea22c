"""Folders in recipes: placeholders, resolution, and refusing grants that are too broad.

A folder is written as one of:

- ``{documents}``, ``{desktop}``, ``{downloads}``, ``{pictures}``, ``{music}``,
  ``{videos}`` — the person's own folder of that kind on this computer (platformdirs),
  optionally followed by ``/Sub/Folder``;
- ``~/Some/Folder`` — a folder inside the person's home folder;
- a full path such as ``/srv/office`` or ``D:/Office`` (consultants' own machines).

Relative paths and ``..`` are refused. After resolving symbolic links, a folder may not
be a whole disk, the home folder itself (or a folder holding it), a hidden settings folder
inside home (``~/.ssh``, ``~/.config``, ``~/Library``, ``~/AppData``), a system folder
(``/etc``, ``C:\\Windows`` …), or Hearth's own folders.
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Callable, Iterable
from pathlib import Path, PurePath, PureWindowsPath

import platformdirs

from wizard.paths import hearth_paths

PLACEHOLDERS: dict[str, Callable[[], str]] = {
    "documents": platformdirs.user_documents_dir,
    "desktop": platformdirs.user_desktop_dir,
    "downloads": platformdirs.user_downloads_dir,
    "pictures": platformdirs.user_pictures_dir,
    "music": platformdirs.user_music_dir,
    "videos": platformdirs.user_videos_dir,
}
MAX_FOLDER_TEXT = 300

_PLACEHOLDER_RE = re.compile(r"^\{([^{}]*)\}(.*)$", re.DOTALL)
# Refused with everything inside them (compared case-insensitively, after the drive).
_POSIX_SYSTEM = ("bin", "boot", "dev", "etc", "lib", "lib32", "lib64", "libx32", "proc", "run",
                 "sbin", "sys", "usr", "var", "snap", "system", "library", "private",
                 "applications", "cores")
_WINDOWS_SYSTEM = ("windows", "program files", "program files (x86)", "programdata",
                   "$recycle.bin", "system volume information", "recovery")
# Refused only as themselves: they hold other people's folders or other disks.
_POSIX_TOO_BROAD = ("home", "users", "volumes", "mnt", "media", "tmp")
_WINDOWS_TOO_BROAD = ("users",)
# First folder inside home that holds settings, passwords and keys.
_HOME_SETTINGS = ("appdata", "library")


class FolderProblem(Exception):
    """Internal: why a written folder cannot be granted (the message is for people)."""

    def __init__(self, message: str, *, warning: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.warning = warning


def expand(written: str, *, home: Path | None = None,
           user_dirs: dict[str, Callable[[], str]] | None = None) -> Path:
    """The absolute path ``written`` stands for on this computer (symlinks not yet resolved).

    Raises:
        FolderProblem: unknown placeholder, relative path, ``..``, ``~user`` or too long.
    """
    home = Path.home() if home is None else home
    user_dirs = PLACEHOLDERS if user_dirs is None else user_dirs
    if not written.strip():
        raise FolderProblem("expected a folder, found empty text")
    if len(written) > MAX_FOLDER_TEXT:
        raise FolderProblem(f"a folder may be at most {MAX_FOLDER_TEXT} characters long, "
                            f"this one has {len(written)}")
    if ".." in re.split(r"[\\/]", written):
        raise FolderProblem("must not contain \"..\"; write the folder itself, for example "
                            "\"{documents}/Letters\"")
    match = _PLACEHOLDER_RE.match(written)
    if match:
        name, rest = match.groups()
        if name not in user_dirs:
            close = difflib.get_close_matches(name, list(user_dirs), n=1)
            maybe = f" (did you mean {{{close[0]}}}?)" if close else ""
            raise FolderProblem(f"{{{name}}} is not a folder name Hearth knows{maybe}; use one of "
                                + ", ".join(f"{{{n}}}" for n in user_dirs))
        if rest and rest[0] not in "/\\":
            raise FolderProblem(f"expected \"/\" after {{{name}}}, found \"{rest[:10]}\"")
        return Path(user_dirs[name]()) / rest.lstrip("/\\")
    if written.startswith("~"):
        if written != "~" and written[1] not in "/\\":
            raise FolderProblem("only \"~/…\" (your own home folder) may start with ~")
        return home / written[1:].lstrip("/\\")
    if not Path(written).is_absolute():
        raise FolderProblem("expected a full folder path, or one starting with ~/ or a "
                            "placeholder such as {documents}")
    return Path(written)


def too_broad(path: PurePath, *, home: PurePath, own: Iterable[PurePath] = ()) -> str | None:
    """Why granting ``path`` would be refused, or None when it is fine.

    Compares whole path components (``/allowed-evil`` is not inside ``/allowed``); works
    on ``PureWindowsPath`` too, so the Windows rules are tested on any computer.
    """
    windows = isinstance(path, PureWindowsPath)
    parts = [part.lower() for part in path.parts[1:]]
    if not parts:
        return "this is a whole disk; choose one folder on it"
    for folder in own:
        if path == folder or path.is_relative_to(folder) or folder.is_relative_to(path):
            return "this is Hearth's own folder (or holds it); Hearth keeps its settings there"
    if path == home:
        return "this is your whole home folder; choose a folder inside it, such as {documents}"
    if path.is_relative_to(home):
        first = path.relative_to(home).parts[0]
        if first.startswith(".") or first.lower() in _HOME_SETTINGS:
            return (f"\"{first}\" is a hidden settings folder that can hold passwords and keys; "
                    "choose a folder of your own documents")
        return None
    if home.is_relative_to(path):
        return "this folder holds your whole home folder; choose a folder inside it"
    system = _WINDOWS_SYSTEM if windows else _POSIX_SYSTEM
    broad = _WINDOWS_TOO_BROAD if windows else _POSIX_TOO_BROAD
    if parts[0] in system:
        return "this is a system folder; a recipe may not open system folders"
    if len(parts) == 1 and parts[0] in broad:
        return "this folder holds other people's or other disks' folders; choose one inside it"
    return None


def resolve(written: str, *, home: Path | None = None,
            user_dirs: dict[str, Callable[[], str]] | None = None) -> tuple[Path, bool]:
    """Expand, resolve symlinks and check one folder; return (real path, exists).

    Raises:
        FolderProblem: the folder cannot be granted (``warning`` is never set here).
    """
    home = Path.home() if home is None else home
    expanded = expand(written, home=home, user_dirs=user_dirs)
    try:
        real = Path(os.path.realpath(expanded))
        real_home = Path(os.path.realpath(home))
    except (OSError, ValueError) as exc:
        raise FolderProblem(_unreadable(expanded, exc)) from None
    paths = hearth_paths()
    own = [Path(os.path.realpath(p)) for p in (paths.config, paths.data, paths.models,
                                                paths.cache, paths.logs)]
    reason = too_broad(real, home=real_home, own=own)
    if reason is None and real != expanded:  # a link must not hide where it points, nor be one
        reason = too_broad(expanded, home=home, own=own)
    if reason is not None:
        shown_path = f" ({real})" if str(real) != written else ""
        raise FolderProblem(f"refused{shown_path}: {reason}")
    try:
        exists = real.exists()
        if exists and not real.is_dir():
            raise FolderProblem(f"{real} is a file, expected a folder")
    except (OSError, ValueError) as exc:
        raise FolderProblem(_unreadable(real, exc)) from None
    return real, exists


_NUL_MESSAGE = ("contains an invisible \"NUL\" character (\\u0000), which no folder name can "
                "have; type the folder again")


def _unreadable(path: Path, exc: BaseException) -> str:
    """Why ``path`` could not be looked at, in plain words (no folder on this computer is changed)."""
    if isinstance(exc, ValueError):
        return _NUL_MESSAGE
    if isinstance(exc, PermissionError):
        return (f"Hearth is not allowed to look inside the folder holding {path} (permission "
                "denied); choose a folder you can open, or ask whoever looks after this computer")
    reason = getattr(exc, "strerror", None) or str(exc)
    return f"{path} cannot be checked on this computer ({reason}); check how the folder is written"
