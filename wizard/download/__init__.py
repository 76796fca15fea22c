"""Resumable, verified downloads of model files (Qt-free).

Public entry point: :func:`download_from_hub`. Progress arrives as
:class:`DownloadProgress` events; errors are :mod:`wizard.download.errors` classes.
"""

from wizard.download.errors import (
    AccessDeniedError,
    DamagedDownloadError,
    DownloadBusyError,
    DownloadCancelled,
    DownloadNetworkError,
    ModelNotFoundError,
    NotEnoughSpaceError,
    UnsafeNameError,
)
from wizard.download.hub_download import DownloadResult, download_from_hub
from wizard.download.progress import DownloadProgress
from wizard.download.retry import RetryPolicy

__all__ = [
    "AccessDeniedError", "DamagedDownloadError", "DownloadBusyError", "DownloadCancelled",
    "DownloadNetworkError", "DownloadProgress", "DownloadResult", "ModelNotFoundError",
    "NotEnoughSpaceError", "RetryPolicy", "UnsafeNameError", "download_from_hub",
]
