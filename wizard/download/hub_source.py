"""What to download and from where, asked of the Hub through huggingface_hub.

huggingface_hub builds the URL (endpoint or mirror included), the headers (token, user
agent), reads the file's metadata and the LFS sha256, and raises typed errors that are
mapped here to plain Hearth errors. The bytes themselves are moved by ``transfer.py``.

A dropped connection, a timeout or a 5xx/429 answer to these two small requests is tried
again with the same backoff as the transfer (huggingface_hub's own retry cannot be
cancelled, so it is left off); a refusal (401, 403, 404) is not. A server that has not
answered anything yet for this download (a mistyped mirror address, say) is given up on
sooner.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import httpx2
from huggingface_hub import HfApi, constants, get_hf_file_metadata, hf_hub_url
from huggingface_hub.utils import build_hf_headers
from huggingface_hub.errors import (
    GatedRepoError,
    HfHubHTTPError,
    OfflineModeIsEnabled,
    RemoteEntryNotFoundError,
    RepositoryNotFoundError,
    RevisionNotFoundError,
)

from wizard import __version__
from wizard.download.errors import AccessDeniedError, DownloadCancelled, DownloadNetworkError, ModelNotFoundError
from wizard.download.retry import RETRY_STATUSES, RetryPolicy, StopCheck, never_stop, sleep_unless_stopped

log = logging.getLogger(__name__)

METADATA_TIMEOUT = 20.0
HUGGING_FACE = "https://huggingface.co"  # huggingface_hub's endpoint when HF_ENDPOINT is not set
T = TypeVar("T")


@dataclass(frozen=True)
class RemoteFile:
    """One file of one commit of a repository, with what is needed to verify it.

    ``sha256`` is the Hub's LFS sha256 (model weights are always in LFS); for a small
    non-LFS file it is ``None`` and ``git_sha1`` (the git blob id) is checked instead.
    """

    repo_id: str
    filename: str
    revision: str
    commit: str
    url: str  # pinned to ``commit``, so a moving branch cannot mix two versions
    size: int
    sha256: str | None
    git_sha1: str | None
    endpoint: str | None

    @property
    def identity(self) -> str:
        """What must not change for a partial file to be continued."""
        return self.sha256 or self.git_sha1 or f"{self.commit}:{self.size}"


def hub_headers(token: str | None) -> dict[str, str]:
    """Authorization (only if ``token``) and Hearth's user agent; never the CLI's stored token."""
    headers = build_hf_headers(token=token or False, library_name="hearth", library_version=__version__)
    headers["Accept-Encoding"] = "identity"  # the byte count must be the file's
    return headers


@dataclass
class ServerContact:
    """Whether the download server has answered at all during one download (an error status counts)."""

    reached: bool = False


def plain_error(exc: Exception, *, repo_id: str, filename: str, revision: str,
                token_given: bool, endpoint: str | None = None, reached: bool = False) -> Exception:
    """The Hearth error to show for an error from huggingface_hub or the HTTP client.

    ``endpoint``: the mirror asked (``None``: huggingface_hub's own, ``HF_ENDPOINT`` or
    huggingface.co); ``reached``: the server answered something earlier in this download,
    so a failed connection is not blamed on its address.
    """
    details = f"{type(exc).__name__}: {exc}"
    if isinstance(exc, GatedRepoError):
        return AccessDeniedError(
            f"The model “{repo_id}” is only available after you accept its terms on Hugging Face"
            + (", and your access token does not have that permission yet." if token_given else "."),
            details=details)
    if isinstance(exc, RepositoryNotFoundError):
        return ModelNotFoundError(f"Hearth could not find the model “{repo_id}”.", details=details)
    if isinstance(exc, RevisionNotFoundError):
        return ModelNotFoundError(f"The model “{repo_id}” has no version called “{revision}”.",
                                  hint="Leave the version empty to get the newest one.", details=details)
    if isinstance(exc, RemoteEntryNotFoundError):
        return ModelNotFoundError(f"The model “{repo_id}” has no file called “{filename}”.",
                                  hint="Check the file name on the model's page.", details=details)
    if isinstance(exc, HfHubHTTPError):
        status = exc.response.status_code if exc.response is not None else 0
        if status in (401, 403):
            return AccessDeniedError(
                "The download server refused access to this model"
                + (": your access token was not accepted." if token_given else "."),
                hint="Check your access token in Settings (it may have expired), then try again.",
                details=details)
        if status == 404:
            return ModelNotFoundError(f"Hearth could not find “{filename}” in the model “{repo_id}”.",
                                      details=details)
        if status == 429:
            return DownloadNetworkError("The download server is busy and asked Hearth to slow down.",
                                        hint="Wait a few minutes and try again; nothing was lost.",
                                        details=details)
        return DownloadNetworkError(f"The download server had a problem (error {status}).",
                                    hint="Try again later; nothing was lost.", details=details)
    if isinstance(exc, OfflineModeIsEnabled):
        return DownloadNetworkError("Hearth is set to work offline, so it did not download anything.",
                                    hint="Unset HF_HUB_OFFLINE to allow downloads.", details=details)
    if isinstance(exc, httpx2.TransportError | OSError):
        address = endpoint or constants.ENDPOINT
        hint = address_hint(endpoint) if never_reached(exc) and not reached else None
        return DownloadNetworkError("Hearth could not reach the download server.", hint=hint,
                                    details=f"{address}: {details}")
    return exc


def address_hint(endpoint: str | None) -> str | None:
    """What to check when no connection could be made, by where the server's address came from.

    Hearth is told a mirror by Settings → Downloads, a command's --endpoint or an answer file
    (it cannot tell which here); without one, huggingface_hub uses ``HF_ENDPOINT`` if it was set.
    """
    if endpoint:
        return (f"Check your internet connection, and that {endpoint} is the right address of the "
                "download mirror (set in Settings → Downloads, or by --endpoint or an answer file), "
                "then try again.")
    if constants.ENDPOINT.rstrip("/") != HUGGING_FACE:
        return (f"Check your internet connection, and that {constants.ENDPOINT} is the right address "
                "of the download server (the HF_ENDPOINT environment variable chose it), then try again.")
    return None


def worth_retrying(exc: BaseException) -> bool:
    """A failure that may go away by itself: the network, a timeout, a busy or failing server."""
    if isinstance(exc, HfHubHTTPError):
        return exc.response is not None and exc.response.status_code in RETRY_STATUSES
    if isinstance(exc, httpx2.UnsupportedProtocol):
        return False  # a mistyped address does not get better
    return isinstance(exc, httpx2.TransportError)


def never_reached(exc: BaseException) -> bool:
    """No connection was made at all: refused, no such name, or no answer to connect."""
    return isinstance(exc, httpx2.ConnectError | httpx2.ConnectTimeout)


def with_retries(call: Callable[[], T], *, policy: RetryPolicy, should_stop: StopCheck,
                 on_wait: Callable[[float], None], contact: ServerContact | None = None) -> T:
    """``call()``, tried again after a passing failure (see :func:`worth_retrying`).

    ``contact``: shared by the requests of one download (``None``: the server is known to
    have answered). While it has not been reached (no answer of any kind, not even an error
    status), it is given up on after ``policy.unreachable_attempts`` retries, not
    ``policy.attempts``. Any answer, or a failure other than a failed connection, sets it.

    Raises:
        DownloadCancelled: stopped while waiting to try again.
        Exception: the last failure, once ``policy.attempts`` are used up, or one not worth retrying.
    """
    if contact is None:
        contact = ServerContact(reached=True)
    failures = 0
    while True:
        try:
            result = call()
        except Exception as exc:
            failures += 1
            contact.reached = contact.reached or not never_reached(exc)
            limit = policy.attempts if contact.reached else policy.unreachable_attempts
            if not worth_retrying(exc) or failures > limit:
                raise
            wait = policy.wait_after(failures)
            log.info("metadata request failed (%s: %s); try %d in %.1f s", type(exc).__name__, exc,
                     failures + 1, wait)
            on_wait(wait)
            if sleep_unless_stopped(wait, should_stop):
                raise DownloadCancelled("The download was stopped before it began.") from exc
        else:
            contact.reached = True
            return result


def describe_remote_file(repo_id: str, filename: str, *, revision: str, endpoint: str | None,
                         token: str | None, policy: RetryPolicy = RetryPolicy(),
                         should_stop: StopCheck = never_stop,
                         on_wait: Callable[[float], None] = lambda seconds: None) -> RemoteFile:
    """Ask the Hub for the file's commit, size and checksum (two small requests).

    Each request is tried again after a passing failure; ``on_wait(seconds)`` is called
    before each wait, ``should_stop`` can end a wait.

    Raises:
        ModelNotFoundError: repository, revision or file missing (or private without a token).
        AccessDeniedError: gated model, or a token the server refuses.
        DownloadNetworkError: the server is unreachable or answered with an error.
        DownloadCancelled: ``should_stop`` said so while waiting to try again.
    """
    context = dict(repo_id=repo_id, filename=filename, revision=revision, token_given=bool(token),
                   endpoint=endpoint)
    url = hf_hub_url(repo_id, filename, revision=revision, endpoint=endpoint)
    contact = ServerContact()
    retrying = dict(policy=policy, should_stop=should_stop, on_wait=on_wait, contact=contact)
    try:
        meta = with_retries(lambda: get_hf_file_metadata(
            url, token=token or False, endpoint=endpoint, timeout=METADATA_TIMEOUT, library_name="hearth",
            library_version=__version__), **retrying)
        commit = meta.commit_hash or revision
        api = HfApi(endpoint=endpoint, token=token or False, library_name="hearth",
                    library_version=__version__)
        infos = with_retries(lambda: api.get_paths_info(repo_id, [filename], revision=commit), **retrying)
    except DownloadCancelled:
        raise
    except Exception as exc:  # mapped below; anything unexpected is re-raised as is
        mapped = plain_error(exc, **context, reached=contact.reached)
        if mapped is exc:
            raise
        raise mapped from exc
    entry = next((i for i in infos if getattr(i, "path", None) == filename and hasattr(i, "blob_id")), None)
    if entry is None:
        raise ModelNotFoundError(f"The model “{repo_id}” has no file called “{filename}”.",
                                 details=f"paths-info at {commit} returned {infos!r}")
    lfs = entry.lfs
    size = lfs.size if lfs is not None else entry.size
    if meta.size is not None and meta.size != size:
        log.warning("size differs: HEAD says %s, paths-info says %s", meta.size, size)
    return RemoteFile(
        repo_id=repo_id, filename=filename, revision=revision, commit=commit,
        url=hf_hub_url(repo_id, filename, revision=commit, endpoint=endpoint),
        size=int(size), sha256=lfs.sha256 if lfs is not None else None,
        git_sha1=None if lfs is not None else entry.blob_id, endpoint=endpoint,
    )
