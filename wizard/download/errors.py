"""Errors a download can end with, each in words a non-technical person understands.

They subclass the shared classes in ``wizard.errors`` so the GUI and the CLI show them
with the same code as every other Hearth error.
"""

from __future__ import annotations

from pathlib import Path

from wizard.errors import HearthError, HearthFileError, HearthNetworkError, HearthValueError, StoppedByPerson

GB = 1_000_000_000


def format_gb(size: int, decimals: int = 1) -> str:
    """Bytes as the GB figure people see in their file manager."""
    return f"{size / GB:.{decimals}f} GB"


class UnsafeNameError(HearthValueError):
    """A repository, file or version name could escape the models folder or is malformed."""

    default_hint = "Check the model and file names; they come from the model's page on the Hub."


class ModelNotFoundError(HearthValueError):
    """The repository, the file in it, or the asked-for version does not exist (or is private)."""

    default_hint = "Check the spelling of the model's name. If the model is private, add your access token in Settings."


class AccessDeniedError(HearthError, PermissionError):
    """The model needs permission (gated) or the access token was refused."""

    default_hint = (
        "Open the model's page on Hugging Face, accept its terms, and add your access token in Settings."
    )


class NotEnoughSpaceError(HearthFileError):
    """The disk does not have room for the download (checked before any byte is fetched)."""

    def __init__(self, *, needed: int, free: int, folder: Path, what: str = "This download") -> None:
        self.needed, self.free, self.folder = needed, free, folder
        decimals = 1 if format_gb(needed) != format_gb(free) else 2  # never "needs 0.3, has 0.3"
        super().__init__(
            f"{what} needs {format_gb(needed, decimals)} of free space, "
            f"but only {format_gb(free, decimals)} is free on this disk.",
            hint="Free some space (for example by deleting models you no longer use) and try again.",
            details=f"folder={folder} needed={needed} free={free}",
        )


class DownloadNetworkError(HearthNetworkError):
    """The server could not be reached or kept failing after several tries."""


class DamagedDownloadError(HearthValueError):
    """The finished file's checksum does not match the Hub's: the file was set aside, not used."""

    def __init__(self, *, quarantined: Path, expected: str, actual: str) -> None:
        self.quarantined, self.expected, self.actual = quarantined, expected, actual
        super().__init__(
            "The downloaded file was damaged on the way, so Hearth did not use it. "
            "Any model you already had is untouched.",
            hint=f"Try the download again. The damaged copy was set aside in {quarantined.parent} "
            "and can be deleted.",
            details=f"expected sha256 {expected}, got {actual}; kept at {quarantined}",
        )


class DownloadBusyError(HearthFileError):
    """Another Hearth window or command is already downloading the same file."""

    default_hint = "Wait for the other download to finish, or stop it first."


class DownloadCancelled(StoppedByPerson):
    """The person stopped the download; the part already fetched is kept for next time."""

    default_hint = "Start the same download again to continue where it stopped."
