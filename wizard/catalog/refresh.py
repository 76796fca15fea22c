"""Refresh catalog entries from the Hub: header numbers by HTTP Range, size and sha256 from metadata.

For each entry, huggingface_hub gives the file's commit, exact size and LFS sha256
(``describe_remote_file``: ``get_hf_file_metadata`` + ``get_paths_info``), then only the
first bytes of the file are fetched with ``Range`` requests through huggingface_hub's
own HTTP session, and the GGUF header is read from them. A header longer than what was
fetched (a large vocabulary) makes the reader ask for more (``GGUFNeedMoreBytes``): the
missing part is fetched, at least doubling the prefix, up to :data:`MAX_PREFIX_BYTES`.
A 5 GB model costs a few megabytes.

The file on the Hub is the truth: the refreshed entry takes its numbers, and
``changes`` lists every value that differed from the catalog.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, replace

import httpx2

from wizard.catalog.model import Catalog, CatalogEntry, HeaderNumbers
from wizard.errors import HearthError, HearthValueError
from wizard.fit.shape import ModelShapeError, model_shape
from wizard.gguf import (
    GGUFBadMagicError,
    GGUFError,
    GGUFHeader,
    GGUFNeedMoreBytes,
    GGUFTruncatedError,
    parse_gguf_header,
)

log = logging.getLogger(__name__)

FIRST_PREFIX_BYTES = 4 << 20  # a 128k-token vocabulary's header is 3-8 MB
MAX_PREFIX_BYTES = 64 << 20
REQUEST_TIMEOUT = 30.0
_CONTENT_RANGE = re.compile(r"^bytes (\d+)-(\d+)/(\d+|\*)$")

Cancel = Callable[[], bool] | None


class CatalogRefreshError(HearthValueError):
    """One catalog entry could not be refreshed from the Hub; ``entry_id`` says which."""

    default_hint = "The list of models was not changed for this model. Check the repository and file name, then try again."

    def __init__(self, entry_id: str, problem: str, *, hint: str | None = None, details: str = "") -> None:
        super().__init__(f"Hearth could not refresh the model \"{entry_id}\": {problem}", hint=hint, details=details)
        self.entry_id = entry_id


@dataclass(frozen=True)
class RefreshedEntry:
    """An entry as the Hub has it now, what changed, and what reading it cost."""

    entry: CatalogEntry
    changes: tuple[str, ...]  # "sha256: None -> 7485…", one per value that differed
    bytes_fetched: int  # file bytes fetched by Range requests
    header_bytes: int  # the header's length (the data starts there)


@dataclass(frozen=True)
class CatalogRefresh:
    """The result of refreshing a whole catalog: the new catalog and what failed."""

    catalog: Catalog
    refreshed: tuple[RefreshedEntry, ...]
    failed: tuple[CatalogRefreshError, ...]


def header_numbers(header: GGUFHeader, *, entry_id: str = "?") -> HeaderNumbers:
    """The catalog's header numbers, read from a GGUF header the way the estimator reads them.

    Raises:
        CatalogRefreshError: the header lacks the sizes, or its sliding-window layers follow
            no pattern the catalog can write down.
    """
    try:
        shape = model_shape(header)
    except ModelShapeError as exc:
        raise CatalogRefreshError(entry_id, exc.user_message, details=exc.details) from exc
    if len(set(shape.n_head)) != 1:
        raise CatalogRefreshError(entry_id, "its layers have different numbers of attention heads, "
                                  "which the list of models cannot describe.", details=f"n_head={shape.n_head}")

    def explicit(suffix: str) -> int | None:
        value = header.arch_value(suffix)
        return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None

    window, pattern = (shape.sliding_window or None), None
    if window is not None:
        pattern = _swa_period(shape.swa_layers)
        if pattern is None:
            raise CatalogRefreshError(entry_id, "its sliding-window layers follow no regular pattern.",
                                      details=f"swa_layers={shape.swa_layers}")
    return HeaderNumbers(
        architecture=shape.architecture,
        block_count=shape.n_layer,
        context_length=shape.n_ctx_train,
        embedding_length=shape.n_embd,
        head_count=shape.n_head[0],
        head_count_kv=shape.n_head_kv,
        vocab_size=shape.n_vocab or None,
        key_length=explicit("attention.key_length"),
        value_length=explicit("attention.value_length"),
        sliding_window=window,
        sliding_window_pattern=pattern,
        tensor_bytes=header.total_tensor_bytes,
        feed_forward_length=shape.n_ff or None,
    )


def _swa_period(layers: tuple[bool, ...]) -> int | None:
    """llama.cpp's set_swa_pattern(n) that produces ``layers``: 0 = all sliding; None = no n does."""
    if all(layers):
        return 0
    for n in range(1, len(layers) + 1):
        if all(flag == (il % n < n - 1) for il, flag in enumerate(layers)):
            return n
    return None


def fetch_header(url: str, *, size: int, headers: dict[str, str], entry_id: str,
                 first_bytes: int = FIRST_PREFIX_BYTES, max_bytes: int = MAX_PREFIX_BYTES,
                 client: httpx2.Client | None = None, cancel: Cancel = None) -> tuple[GGUFHeader, int]:
    """Read the GGUF header of the ``size``-byte file at ``url`` from as few first bytes as possible.

    Returns the header and the number of bytes fetched.

    Raises:
        CatalogRefreshError: the file is damaged or not GGUF, the header is longer than
            ``max_bytes``, the server does not honour Range requests, or the transfer failed.
    """
    from huggingface_hub import get_session

    session = client or get_session()
    data = bytearray()
    want = min(first_bytes, size)
    while True:
        if cancel is not None and cancel():
            raise CatalogRefreshError(entry_id, "the refresh was stopped.", hint="")
        data += _fetch_range(session, url, start=len(data), end=want, size=size, headers=headers,
                             entry_id=entry_id)
        try:
            return parse_gguf_header(bytes(data), file_size=size), len(data)
        except GGUFNeedMoreBytes as exc:
            if len(data) >= max_bytes:
                raise CatalogRefreshError(
                    entry_id, f"its description is longer than the {max_bytes >> 20} MB Hearth reads "
                    "to check a model.", details=str(exc.details)) from exc
            want = min(max(exc.needed, 2 * len(data)), max_bytes, size)
        except GGUFError as exc:
            raise CatalogRefreshError(entry_id, _damage(exc),
                                      hint="Choose another file for this model, or tell the repository's owner.",
                                      details=exc.details) from exc


def _damage(exc: GGUFError) -> str:
    if isinstance(exc, GGUFBadMagicError):
        return "the file on the Hub is not a model file Hearth can use (it is not in the GGUF format)."
    if isinstance(exc, GGUFTruncatedError):
        return "the file on the Hub is incomplete: it ends before its own description does."
    return "the file on the Hub is damaged."


def _fetch_range(session: httpx2.Client, url: str, *, start: int, end: int, size: int,
                 headers: dict[str, str], entry_id: str) -> bytes:
    """Bytes ``start`` to ``end`` (exclusive) of the file; never more, even if Range is ignored."""
    wanted = end - start
    request_headers = {**headers, "Range": f"bytes={start}-{end - 1}"}
    try:
        with session.stream("GET", url, headers=request_headers, timeout=REQUEST_TIMEOUT) as response:
            status = response.status_code
            if status == 200 and start:
                raise CatalogRefreshError(entry_id, "the download server does not send parts of files.",
                                          details=f"HTTP 200 for bytes={start}-{end - 1}")
            if status == 206:
                match = _CONTENT_RANGE.match(response.headers.get("Content-Range", ""))
                if match is None or int(match[1]) != start or (match[3] != "*" and int(match[3]) != size):
                    raise CatalogRefreshError(entry_id, "the download server sent the wrong part of the file.",
                                              details=f"Content-Range {response.headers.get('Content-Range')!r}")
            elif status != 200:
                raise CatalogRefreshError(entry_id, f"the download server answered with error {status}.",
                                          hint="Try again later; the list of models was not changed.",
                                          details=f"HTTP {status} for {url}")
            chunks, received = [], 0
            for chunk in response.iter_raw():
                chunks.append(chunk[:wanted - received])
                received += len(chunks[-1])
                if received >= wanted:
                    break  # leaving the block closes the connection: nothing more is read
    except httpx2.HTTPError as exc:
        raise CatalogRefreshError(entry_id, "the connection to the download server failed.",
                                  hint="Check the internet connection and try again.",
                                  details=f"{type(exc).__name__}: {exc}") from exc
    if received < wanted:
        raise CatalogRefreshError(entry_id, "the download server stopped sending in the middle of the file.",
                                  hint="Try again; the list of models was not changed.",
                                  details=f"got {received} of {wanted} bytes from {start}")
    return b"".join(chunks)


def refresh_entry(entry: CatalogEntry, *, endpoint: str | None = None, token: str | None = None,
                  first_bytes: int = FIRST_PREFIX_BYTES, max_bytes: int = MAX_PREFIX_BYTES,
                  cancel: Cancel = None) -> RefreshedEntry:
    """The entry as its file on the Hub is now: header numbers, tensor bytes, size, sha256, commit.

    Asks for the entry's pinned ``revision`` when it has one, else ``main`` (and pins the
    commit found). ``endpoint`` points at a mirror.

    Raises:
        CatalogRefreshError: the repository, revision or file is missing, access is refused,
            the server fails, or the file is damaged; the message names the entry.
    """
    from wizard.download.hub_source import describe_remote_file, hub_headers

    revision = entry.revision or "main"
    try:
        remote = describe_remote_file(entry.repo, entry.file, revision=revision, endpoint=endpoint, token=token)
    except HearthError as exc:
        raise CatalogRefreshError(entry.id, exc.user_message, hint=exc.hint, details=exc.details) from exc
    if remote.sha256 is None:
        raise CatalogRefreshError(entry.id, "the Hub keeps no checksum for this file (it is not a model file).",
                                  details=f"{entry.repo}/{entry.file} is not stored in LFS")
    header, fetched = fetch_header(remote.url, size=remote.size, headers=hub_headers(token), entry_id=entry.id,
                                   first_bytes=first_bytes, max_bytes=max_bytes, cancel=cancel)
    numbers = header_numbers(header, entry_id=entry.id)
    refreshed = replace(entry, header=numbers, size_bytes=remote.size, sha256=remote.sha256,
                        revision=remote.commit)
    log.info("refreshed %s from %s@%s: %d header bytes, %d fetched", entry.id, entry.repo, remote.commit,
             header.data_offset, fetched)
    return RefreshedEntry(refreshed, _changes(entry, refreshed), fetched, header.data_offset)


def _changes(old: CatalogEntry, new: CatalogEntry) -> tuple[str, ...]:
    changes = [f"{key}: {getattr(old, key)} -> {getattr(new, key)}"
               for key in ("revision", "size_bytes", "sha256") if getattr(old, key) != getattr(new, key)]
    for key in HeaderNumbers.__dataclass_fields__:
        before, after = getattr(old.header, key), getattr(new.header, key)
        if before != after:
            if isinstance(before, tuple) and len(set(before)) == 1:
                before = before[0]
            if isinstance(after, tuple) and len(set(after)) == 1:
                after = after[0]
            changes.append(f"header.{key}: {before} -> {after}")
    return tuple(changes)


def refresh_catalog(catalog: Catalog, *, endpoint: str | None = None, token: str | None = None,
                    only: set[str] | None = None, first_bytes: int = FIRST_PREFIX_BYTES,
                    progress: Callable[[str, int, int], None] | None = None, cancel: Cancel = None
                    ) -> CatalogRefresh:
    """Refresh every entry (or those whose id is in ``only``); a failed entry keeps its old values.

    ``progress(entry_id, done, total)`` is called before each entry. Nothing is written:
    pass the result's ``catalog`` to :func:`wizard.catalog.write.write_catalog`.
    """
    targets = [e for e in catalog.entries if only is None or e.id in only]
    new_entries, refreshed, failed = [], [], []
    done = 0
    for entry in catalog.entries:
        if entry not in targets or (cancel is not None and cancel()):
            new_entries.append(entry)
            continue
        if progress is not None:
            progress(entry.id, done, len(targets))
        done += 1
        try:
            result = refresh_entry(entry, endpoint=endpoint, token=token, first_bytes=first_bytes, cancel=cancel)
        except CatalogRefreshError as exc:
            log.warning("refresh of %s failed: %s (%s)", entry.id, exc.user_message, exc.details)
            failed.append(exc)
            new_entries.append(entry)
            continue
        refreshed.append(result)
        new_entries.append(result.entry)
    return CatalogRefresh(replace(catalog, entries=tuple(new_entries)), tuple(refreshed), tuple(failed))
