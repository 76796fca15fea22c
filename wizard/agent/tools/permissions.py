"""Which files the assistant's tools may read or write: only inside folders the person granted.

Every check works on real, resolved paths compared component by component, never on string
prefixes: ``/home/ann/allowed-evil`` is not inside ``/home/ann/allowed`` (MCP filesystem
CVE-2025-53110), and a symlink that leads out of a granted folder is followed to where it really
goes and refused there (CVE-2025-53109). ``..`` segments and symlinked parent folders are
resolved away before the comparison.

On case-insensitive file systems (macOS, Windows) a path may name a granted folder in another
case; the component comparison then fails and a second check asks the file system whether one
of the real parent folders *is* the granted folder (same device and inode), so such a path is
judged by what it is, not how it is spelled.

Paths the model writes are untrusted text. Refused outright, before touching the disk: empty
text, NUL characters, ``~``, ``file:`` URLs, and on POSIX every Windows form (``C:\\``, ``C:x``,
``\\\\server\\share``, ``\\\\?\\``, any backslash) and a leading ``//``.

A small race remains (a folder swapped for a symlink between the check and the open); files are
opened with ``O_NOFOLLOW`` and checked again after opening, which closes it for the last
component.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from wizard.errors import HearthError

MAX_PATH_CHARS = 1024
_WINDOWS_DRIVE = re.compile(r"^[A-Za-z]:")
_WINDOWS_RESERVED = re.compile(r"^(con|prn|aux|nul|com\d|lpt\d)(\..*)?$", re.IGNORECASE)


class PathNotAllowed(HearthError, PermissionError):
    """A tool was asked to use a file outside the folders the person granted."""

    default_hint = "Hearth only opens files inside the folders you allowed in the assistant's settings."

    def __init__(self, user_message: str, *, hint: str | None = None, details: str = "") -> None:
        HearthError.__init__(self, user_message, hint=hint, details=details)


class ToolFileNotFound(HearthError, FileNotFoundError):
    """The file a tool was asked to read does not exist in a granted folder."""

    default_hint = "Check the file's name; it must be inside one of the folders you allowed."

    def __init__(self, user_message: str, *, hint: str | None = None, details: str = "") -> None:
        HearthError.__init__(self, user_message, hint=hint, details=details)


@dataclass(frozen=True)
class GrantedFolder:
    """A folder as granted (``given``) and as it really is on disk (``real``)."""

    given: Path
    real: Path
    writable: bool


def is_inside(real_path: Path, real_folder: Path) -> bool:
    """Whether an already resolved path is the folder or inside it, by components (never prefixes).

    Falls back to asking whether a real parent folder is the same directory as ``real_folder``
    (device and inode), which is how a case-insensitive file system's other spelling is recognised.
    """
    folder_parts = real_folder.parts
    if real_path.parts[: len(folder_parts)] == folder_parts:
        return True
    try:
        folder_stat = os.stat(real_folder)
    except OSError:
        return False
    for candidate in (real_path, *real_path.parents):
        try:
            if os.path.samestat(os.stat(candidate), folder_stat):
                return True
        except OSError:
            continue
    return False


def check_untrusted_text(text: str) -> None:
    """Refuse path text that is malformed or foreign before any file system call.

    Raises:
        PathNotAllowed: empty, too long, NUL, ``~``, URL, or a Windows form on POSIX.
    """
    def refuse(why: str) -> PathNotAllowed:
        return PathNotAllowed("The assistant asked for a file in a way Hearth does not accept.",
                              details=f"{why}: {text[:200]!r}")

    if not isinstance(text, str) or not text.strip():
        raise refuse("empty path")
    if len(text) > MAX_PATH_CHARS:
        raise refuse("path too long")
    if "\x00" in text:
        raise refuse("NUL character")
    if text.startswith("~"):
        raise refuse("home-folder shorthand")
    if re.match(r"^[A-Za-z][A-Za-z0-9+.-]*://", text):
        raise refuse("URL")
    if os.name == "posix":
        if "\\" in text:
            raise refuse("backslash (a Windows path)")
        if _WINDOWS_DRIVE.match(text):
            raise refuse("Windows drive")
        if text.startswith("//"):
            raise refuse("network path")
    else:
        if text.startswith(("\\\\", "//")):
            raise refuse("network or device path")
        if ":" in text[2:] or (":" in text[:2] and not _WINDOWS_DRIVE.match(text)):
            raise refuse("alternate data stream")
        if any(_WINDOWS_RESERVED.match(part.rstrip(" .")) for part in re.split(r"[\\/]", text) if part):
            raise refuse("reserved device name")


class FolderPermissions:
    """The folders one assistant may read from and write to.

    ``read`` folders may be read; ``write`` folders may be read and written (writing still needs
    the person's confirmation, asked by the write_file tool). Folders that do not exist are left
    out and listed in ``missing``.
    """

    def __init__(self, *, read: Iterable[Path | str] = (), write: Iterable[Path | str] = ()) -> None:
        self.folders: list[GrantedFolder] = []
        self.missing: list[Path] = []
        for writable, group in ((True, write), (False, read)):
            for given in group:
                given = Path(given)
                try:
                    real = given.expanduser().resolve(strict=True)
                except (OSError, RuntimeError):
                    self.missing.append(given)
                    continue
                if real.is_dir():
                    self.folders.append(GrantedFolder(given, real, writable))
                else:
                    self.missing.append(given)

    @property
    def readable(self) -> list[GrantedFolder]:
        return list(self.folders)

    @property
    def writable(self) -> list[GrantedFolder]:
        return [folder for folder in self.folders if folder.writable]

    def describe(self) -> str:
        """One line per folder, for the model's instructions."""
        return "\n".join(f"- {f.real} ({'read and write' if f.writable else 'read only'})"
                         for f in self.folders)

    # -- reading -------------------------------------------------------------------------------

    def resolve_for_reading(self, requested: str) -> Path:
        """The real path of an existing regular file inside a granted folder.

        A relative path is looked up in each granted folder in turn.

        Raises:
            PathNotAllowed: the path is malformed, leads outside every granted folder (also
                through a symlink), or is not a regular file (a device, a pipe, a folder).
            ToolFileNotFound: no such file inside the granted folders.
        """
        check_untrusted_text(requested)
        if not self.folders:
            raise PathNotAllowed("The assistant has not been given any folder to read.")
        candidates = self._candidates(requested, self.folders)
        outside = None
        for candidate in candidates:
            try:
                real = candidate.resolve(strict=True)
            except FileNotFoundError:
                continue
            except (OSError, RuntimeError) as exc:  # symlink loops, permission denied
                raise PathNotAllowed("That file cannot be opened.", details=f"{candidate}: {exc!r}") from exc
            if not any(is_inside(real, folder.real) for folder in self.folders):
                outside = real
                continue
            if not stat.S_ISREG(os.stat(real).st_mode):
                raise PathNotAllowed("That is not a file Hearth can read.",
                                     details=f"{real} is not a regular file")
            return real
        if outside is not None:
            raise PathNotAllowed("That file is outside the folders you allowed.", details=f"-> {outside}")
        raise ToolFileNotFound("There is no such file in the folders you allowed.",
                               details=f"{requested!r} in {[str(f.real) for f in self.folders]}")

    def open_for_reading(self, requested: str) -> tuple[Path, int]:
        """``(real path, open file descriptor)``; the caller closes the descriptor.

        Raises: as :meth:`resolve_for_reading`, and PathNotAllowed if the file changed into
        something else between the check and the open.
        """
        real = self.resolve_for_reading(requested)
        flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
        try:
            fd = os.open(real, flags)
        except OSError as exc:
            raise PathNotAllowed("That file cannot be opened.", details=f"{real}: {exc!r}") from exc
        _same_file_or_close(fd, real)
        return real, fd

    # -- writing -------------------------------------------------------------------------------

    def resolve_for_writing(self, requested: str) -> Path:
        """The real path a new or existing file would be written at, inside a writable folder.

        The parent folder must exist. An existing target must be a plain file with a single
        name: writing through a symlink, or to a hard link (whose other name may be outside the
        folder), is refused.

        Raises:
            PathNotAllowed: malformed, outside every writable folder, a symlink, a hard link,
                a folder, or a special file.
        """
        check_untrusted_text(requested)
        writable = self.writable
        if not writable:
            raise PathNotAllowed("The assistant may not write files: no folder was allowed for writing.")
        candidate = self._candidates(requested, writable)[0]
        name = candidate.name
        if name in ("", ".", ".."):
            raise PathNotAllowed("That is a folder, not a file name.", details=repr(requested))
        try:
            parent = candidate.parent.resolve(strict=True)
        except FileNotFoundError as exc:
            raise PathNotAllowed("Hearth only writes into folders that already exist.",
                                 details=f"{candidate.parent}") from exc
        except (OSError, RuntimeError) as exc:
            raise PathNotAllowed("That folder cannot be used.", details=repr(exc)) from exc
        target = parent / name
        if not any(is_inside(target, folder.real) for folder in writable):
            raise PathNotAllowed("Hearth may not write there: it is outside the folders you allowed for writing.",
                                 details=f"-> {target}")
        try:
            info = os.lstat(target)
        except FileNotFoundError:
            return target
        if stat.S_ISLNK(info.st_mode):
            raise PathNotAllowed("Hearth does not write through shortcuts (links).", details=f"{target} is a symlink")
        if not stat.S_ISREG(info.st_mode):
            raise PathNotAllowed("That is not a file Hearth can write.", details=f"{target} is not a regular file")
        if info.st_nlink > 1:
            raise PathNotAllowed("Hearth does not change a file that also appears elsewhere (a hard link).",
                                 details=f"{target} has {info.st_nlink} names")
        return target

    # -- plumbing ------------------------------------------------------------------------------

    @staticmethod
    def _candidates(requested: str, folders: list[GrantedFolder]) -> list[Path]:
        path = Path(requested)
        if path.is_absolute():
            return [path]
        return [folder.real / path for folder in folders]


def _same_file_or_close(fd: int, real: Path) -> None:
    try:
        opened = os.fstat(fd)
        now = os.stat(real)
        if not (os.path.samestat(opened, now) and stat.S_ISREG(opened.st_mode)):
            raise PathNotAllowed("That file changed while Hearth was opening it.", details=str(real))
    except BaseException:
        os.close(fd)
        raise


def write_file_exclusively(target: Path, data: bytes) -> None:
    """Write ``data`` to ``target`` (checked by :meth:`FolderPermissions.resolve_for_writing`)
    through a temporary file in the same folder and an atomic rename, never following a link.

    Raises:
        OSError: the disk refused (full, read-only …).
    """
    temp = target.with_name(f".{target.name}.hearth-tmp-{os.getpid()}")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(temp, flags, 0o644)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, target)  # replaces a link itself, never what it points to
    except BaseException:
        try:
            os.unlink(temp)
        except OSError:
            pass
        raise

