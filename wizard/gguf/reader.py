"""A bounded, validating reader for the header of a GGUF model file.

It reads the metadata and the tensor descriptions, never the tensor data, and checks
everything llama.cpp's own loader has been exploited through (Talos 2024, CVE-2025-53630):
every count and length is checked against the bytes that are left *before* anything is
allocated or looped over, so a damaged or hostile file costs a few microseconds, not
memory. Arrays of fixed-size values are skipped by arithmetic; string arrays (a 128k
token vocabulary) are skipped without decoding them, mostly in C (runs of short strings
matched by one regular expression), with every length still checked against the bytes left.

It reads a local file (``read_gguf_header``) or the first bytes of one fetched by an
HTTP Range request (``parse_gguf_header``); a prefix that ends inside the header raises
``GGUFNeedMoreBytes`` with how many bytes to fetch, distinct from a damaged file.
"""

from __future__ import annotations

import functools
import mmap
import os
import re
import struct
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

from wizard.errors import HearthFileError
from wizard.gguf.errors import (
    GGUFBadMagicError,
    GGUFLengthError,
    GGUFMetadataError,
    GGUFNeedMoreBytes,
    GGUFTensorError,
    GGUFTruncatedError,
    GGUFVersionError,
)
from wizard.gguf.types import ARRAY, GGML_TYPES, STRING, VALUE_TYPES, GGMLType

MAGIC = b"GGUF"
SUPPORTED_VERSIONS = (2, 3)
DEFAULT_ALIGNMENT = 32
MAX_ALIGNMENT = 1 << 20  # real files use 32; anything huge only pushes the data out of reach
MAX_DIMS = 4
MAX_TENSOR_NAME = 63  # ggml's GGML_MAX_NAME is 64 including the final NUL
MAX_KEY_LENGTH = 1 << 16
# Numeric arrays up to this length keep their values (per-layer head counts, window
# patterns); longer ones, and every string array, are only summarised.
MAX_KEPT_ARRAY = 4096
INT64_MAX = (1 << 63) - 1
# Smallest possible encodings, used to bound counts before looping over them.
_MIN_KV_BYTES = 8 + 1 + 4 + 1  # key length, one key byte, value type, a one-byte value
_MIN_TENSOR_INFO_BYTES = 8 + 1 + 4 + 8 + 4 + 8  # name length, one byte, n_dims, one dim, type, offset


@dataclass(frozen=True)
class ArraySummary:
    """A metadata array: its element type and length, and its values when small and numeric."""

    item_type: str
    length: int
    values: tuple[Any, ...] | None = None


@dataclass(frozen=True)
class TensorInfo:
    """One tensor as the header describes it. ``offset`` is relative to the data section."""

    name: str
    dims: tuple[int, ...]
    ggml_type: GGMLType
    offset: int
    n_bytes: int

    @property
    def n_elements(self) -> int:
        count = 1
        for dim in self.dims:
            count *= dim
        return count


@dataclass(frozen=True)
class GGUFHeader:
    """Everything in a GGUF file except the tensor data.

    ``data_offset`` is where the tensor data starts (the header's length, aligned);
    ``total_tensor_bytes`` the sum of every tensor's size.
    """

    version: int
    tensor_count: int
    metadata: Mapping[str, Any]
    tensors: tuple[TensorInfo, ...]
    alignment: int
    data_offset: int
    total_tensor_bytes: int
    file_size: int | None

    @property
    def architecture(self) -> str | None:
        value = self.metadata.get("general.architecture")
        return value if isinstance(value, str) else None

    def arch_value(self, suffix: str, default: Any = None) -> Any:
        """``{architecture}.{suffix}`` from the metadata, e.g. ``arch_value("block_count")``."""
        return self.metadata.get(f"{self.architecture}.{suffix}", default)


class _Cursor:
    """Reads little-endian values from ``data``, with every length checked first.

    ``total`` is the real file's size when known: a read past the end of ``data`` but
    within ``total`` means "fetch more", past ``total`` means the file is damaged.
    """

    def __init__(self, data: bytes | mmap.mmap, total: int | None) -> None:
        self.data = data
        self.have = len(data)
        self.total = total
        self.complete = total is not None and total <= self.have
        self.pos = 0

    def bytes_left(self) -> int | None:
        """Bytes left in the whole file, when its size is known."""
        return None if self.total is None else self.total - self.pos

    def need(self, n: int, what: str) -> None:
        end = self.pos + n
        if end <= self.have:
            return
        if self.complete or (self.total is not None and end > self.total):
            raise GGUFTruncatedError(details=f"file ends at byte {self.total} while reading {what} at {self.pos}")
        raise GGUFNeedMoreBytes(needed=end, have=self.have, details=f"reading {what} at byte {self.pos}")

    def check_length(self, count: int, unit_bytes: int, what: str, *, cap: int | None = None) -> None:
        """Reject a declared count whose smallest encoding would not fit in the file."""
        left = self.bytes_left()
        if (left is not None and count * unit_bytes > left) or (cap is not None and count > cap):
            raise GGUFLengthError(
                details=f"{what} is {count} at byte {self.pos}, more than the {left} bytes left in the file"
            )

    def unpack(self, fmt: str, what: str) -> Any:
        size = struct.calcsize("<" + fmt)
        self.need(size, what)
        value = struct.unpack_from("<" + fmt, self.data, self.pos)[0]
        self.pos += size
        return value

    def string(self, what: str, *, max_length: int | None = None) -> str:
        length = self.unpack("Q", f"length of {what}")
        self.check_length(length, 1, f"length of {what}", cap=max_length)
        self.need(length, what)
        raw = bytes(self.data[self.pos:self.pos + length])
        self.pos += length
        return raw.decode("utf-8", errors="replace")

    def skip_strings(self, count: int, what: str) -> None:
        """Walk ``count`` strings by their lengths alone (a vocabulary), decoding nothing.

        Runs of :data:`STRING_RUN` short strings are matched in C by :func:`_short_string_run`;
        a run it cannot match (a longer string, the end of the bytes at hand) is walked one
        string at a time with every length checked against the bytes left.
        """
        data, pos = self.data, self.pos
        match = _short_string_run().match if count >= 2 * STRING_RUN else None
        while count:
            if match is not None and count >= STRING_RUN:
                found = match(data, pos)
                if found is not None:  # every string of the run lies inside ``data``
                    pos = found.end()
                    count -= STRING_RUN
                    continue
            step = min(count, STRING_RUN)
            pos = self._walk_strings(pos, step, what)
            count -= step
        self.pos = pos

    def _walk_strings(self, pos: int, count: int, what: str) -> int:
        unpack_from = _U64.unpack_from
        data, have = self.data, self.have
        for _ in range(count):
            if pos + 8 > have:
                self.pos = pos
                self.need(8, f"a string length in {what}")
            (length,) = unpack_from(data, pos)
            pos += 8
            if pos + length > have:
                self.pos = pos
                self.check_length(length, 1, f"a string length in {what}")
                self.need(length, f"a string in {what}")
            pos += length
        return pos


_U64 = struct.Struct("<Q")
# Strings of up to SHORT_STRING bytes are nearly all of a vocabulary (SmolLM2's 49152 tokens:
# all but 3; its merges alike); a longer one makes its run fall back to the checked walk.
# tests/bench/bench_gguf_header.py: a 151,936-token header in ~15 ms instead of ~40 ms; the
# pattern compiles in ~2 ms (longer SHORT_STRING or STRING_RUN: no faster, slower to compile).
SHORT_STRING = 127
STRING_RUN = 64


@functools.cache
def _short_string_run() -> re.Pattern[bytes]:
    """A pattern for STRING_RUN GGUF strings of at most SHORT_STRING bytes each: the 8-byte
    little-endian length (one byte, then seven zeros) and that many bytes. The first byte
    picks the one branch that can match; the possessive repeat never backtracks."""
    branches = [re.escape(bytes([n]) + bytes(7)) + (b".{%d}" % n if n else b"") for n in range(SHORT_STRING + 1)]
    return re.compile(b"(?s)(?:" + b"|".join(branches) + b"){%d}+" % STRING_RUN)


def _read_value(cur: _Cursor, value_type: int, key: str) -> Any:
    if value_type == STRING:
        return cur.string(f"the value of {key!r}")
    if value_type == ARRAY:
        return _read_array(cur, key)
    entry = VALUE_TYPES.get(value_type)
    if entry is None:
        raise GGUFMetadataError(details=f"metadata {key!r} has unknown value type {value_type}")
    return cur.unpack(entry[1], f"the value of {key!r}")


def _read_array(cur: _Cursor, key: str) -> ArraySummary:
    item_type = cur.unpack("I", f"the array type of {key!r}")
    length = cur.unpack("Q", f"the array length of {key!r}")
    entry = VALUE_TYPES.get(item_type)
    if entry is None or item_type == ARRAY:
        raise GGUFMetadataError(details=f"metadata array {key!r} has unsupported element type {item_type}")
    name, fmt = entry
    if item_type == STRING:
        cur.check_length(length, 8, f"the length of array {key!r}")
        cur.skip_strings(length, f"array {key!r}")
        return ArraySummary(name, length)
    item_size = struct.calcsize("<" + fmt)
    cur.check_length(length, item_size, f"the length of array {key!r}")
    cur.need(length * item_size, f"array {key!r}")
    values = None
    if length <= MAX_KEPT_ARRAY:
        values = struct.unpack_from(f"<{length}{fmt}", cur.data, cur.pos)
    cur.pos += length * item_size
    return ArraySummary(name, length, values)


def _read_metadata(cur: _Cursor, count: int) -> dict[str, Any]:
    metadata: dict[str, Any] = {}
    for index in range(count):
        key = cur.string(f"metadata key {index}", max_length=MAX_KEY_LENGTH)
        if not key:
            raise GGUFMetadataError(details=f"metadata key {index} is empty")
        if key in metadata:
            raise GGUFMetadataError(details=f"metadata key {key!r} appears twice")
        value_type = cur.unpack("I", f"the type of {key!r}")
        metadata[key] = _read_value(cur, value_type, key)
    return metadata


def _alignment(metadata: Mapping[str, Any]) -> int:
    alignment = metadata.get("general.alignment", DEFAULT_ALIGNMENT)
    if (isinstance(alignment, bool) or not isinstance(alignment, int) or not 0 < alignment <= MAX_ALIGNMENT
            or alignment & (alignment - 1)):
        raise GGUFMetadataError(details=f"general.alignment is {alignment!r}, not a power of two up to {MAX_ALIGNMENT}")
    return alignment


def _read_tensor_info(cur: _Cursor, index: int, seen: set[str]) -> TensorInfo:
    name = cur.string(f"the name of tensor {index}", max_length=MAX_TENSOR_NAME)
    if name in seen:
        raise GGUFTensorError(details=f"tensor name {name!r} appears twice")
    seen.add(name)
    n_dims = cur.unpack("I", f"the dimension count of {name!r}")
    if not 1 <= n_dims <= MAX_DIMS:
        raise GGUFTensorError(details=f"tensor {name!r} has {n_dims} dimensions; 1 to {MAX_DIMS} are allowed")
    cur.need(8 * n_dims, f"the dimensions of {name!r}")
    dims = struct.unpack_from(f"<{n_dims}Q", cur.data, cur.pos)
    cur.pos += 8 * n_dims
    n_elements = 1
    for dim in dims:
        if dim == 0 or dim > INT64_MAX:
            raise GGUFTensorError(details=f"tensor {name!r} has an impossible dimension {dim} in {dims}")
        n_elements *= dim
        if n_elements > INT64_MAX:
            raise GGUFTensorError(details=f"tensor {name!r} shape {dims} overflows")
    type_id = cur.unpack("I", f"the type of {name!r}")
    ggml_type = GGML_TYPES.get(type_id)
    if ggml_type is None:
        raise GGUFTensorError(details=f"tensor {name!r} has unknown ggml type {type_id}")
    if dims[0] % ggml_type.block_size:
        raise GGUFTensorError(
            details=f"tensor {name!r} rows of {dims[0]} are not a multiple of {ggml_type.name}'s block of "
            f"{ggml_type.block_size}"
        )
    offset = cur.unpack("Q", f"the offset of {name!r}")
    n_bytes = ggml_type.row_bytes(dims[0]) * (n_elements // dims[0])
    return TensorInfo(name, tuple(dims), ggml_type, offset, n_bytes)


def _check_tensor_layout(tensors: list[TensorInfo], alignment: int, data_offset: int, total: int | None) -> None:
    """Offsets aligned, inside the file, and no two tensors sharing bytes."""
    end_of_previous, previous = 0, None
    for tensor in sorted(tensors, key=lambda t: t.offset):
        if tensor.offset % alignment:
            raise GGUFTensorError(details=f"tensor {tensor.name!r} offset {tensor.offset} is not aligned to {alignment}")
        if tensor.offset < end_of_previous:
            raise GGUFTensorError(details=f"tensor {tensor.name!r} overlaps tensor {previous!r}")
        end_of_previous, previous = tensor.offset + tensor.n_bytes, tensor.name
        if total is not None and data_offset + end_of_previous > total:
            raise GGUFTensorError(
                details=f"tensor {tensor.name!r} ends at byte {data_offset + end_of_previous}, "
                f"past the end of the {total}-byte file"
            )


def parse_gguf_header(data: bytes | mmap.mmap, *, file_size: int | None = None) -> GGUFHeader:
    """Read the header from ``data``: a whole file, or its first bytes.

    Args:
        data: the file's bytes from offset 0; may be only a prefix.
        file_size: the real file's size (from ``Content-Range``/``X-Linked-Size``); when
            given, lengths are checked against it and tensors must end inside it. With
            ``None`` and a prefix, only the prefix's own bounds are known.

    Raises:
        GGUFNeedMoreBytes: ``data`` is shorter than ``file_size`` (or ``file_size`` is
            unknown) and the header continues past it; ``.needed`` says how far.
        GGUFMalformedError: (a subclass of) the file is damaged or not a GGUF file.
    """
    if file_size is not None and file_size < len(data):
        file_size = len(data)
    cur = _Cursor(data, file_size)
    cur.need(4, "the magic number")
    magic = bytes(data[:4])
    if magic != MAGIC:
        raise GGUFBadMagicError(details=f"the file starts with {magic!r}, not {MAGIC!r}")
    cur.pos = 4
    version = cur.unpack("I", "the version")
    if version not in SUPPORTED_VERSIONS:
        raise GGUFVersionError(details=f"GGUF version {version}; Hearth reads versions 2 and 3")
    tensor_count = cur.unpack("Q", "the tensor count")
    kv_count = cur.unpack("Q", "the metadata count")
    cur.check_length(tensor_count, _MIN_TENSOR_INFO_BYTES, "the tensor count", cap=INT64_MAX)
    cur.check_length(kv_count, _MIN_KV_BYTES, "the metadata count", cap=INT64_MAX)
    metadata = _read_metadata(cur, kv_count)
    alignment = _alignment(metadata)
    seen: set[str] = set()
    tensors = [_read_tensor_info(cur, index, seen) for index in range(tensor_count)]
    data_offset = -(-cur.pos // alignment) * alignment
    _check_tensor_layout(tensors, alignment, data_offset, file_size)
    return GGUFHeader(
        version=version,
        tensor_count=tensor_count,
        metadata=MappingProxyType(metadata),
        tensors=tuple(tensors),
        alignment=alignment,
        data_offset=data_offset,
        total_tensor_bytes=sum(t.n_bytes for t in tensors),
        file_size=file_size,
    )


def read_gguf_header(path: str | os.PathLike[str]) -> GGUFHeader:
    """Read and check the header of the GGUF file at ``path`` (the data is not read).

    Raises:
        HearthFileError: the file cannot be opened or read.
        GGUFMalformedError: (a subclass of) the file is damaged or not a GGUF file.
    """
    path = Path(path)
    try:
        with path.open("rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            if size < 64:  # mmap refuses empty files; tiny ones are damaged anyway
                return parse_gguf_header(handle.read(), file_size=size)
            # Only the header's pages are ever touched, so a 30 GB model costs nothing.
            with mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as mapped:
                return parse_gguf_header(mapped, file_size=size)
    except OSError as exc:
        raise HearthFileError(
            "Hearth could not open the model file.",
            details=f"{path}: {exc}",
        ) from exc
