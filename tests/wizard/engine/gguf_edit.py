"""Rewrite one string key/value in a GGUF file's header, for building hostile test models.

The header is parsed just far enough to find the key; the tensor data is copied unchanged to
a new offset padded to the file's alignment, so llama.cpp loads the result normally (tensor
offsets are relative to the start of the data section).
"""

from __future__ import annotations

import shutil
import struct
from pathlib import Path

_SCALAR_SIZES = {0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8}
_STRING, _ARRAY, _UINT32 = 8, 9, 4


class _Reader:
    def __init__(self, data: bytes, offset: int = 0) -> None:
        self.data, self.offset = data, offset

    def take(self, fmt: str):
        values = struct.unpack_from("<" + fmt, self.data, self.offset)
        self.offset += struct.calcsize("<" + fmt)
        return values[0] if len(values) == 1 else values

    def string(self) -> bytes:
        length = self.take("Q")
        value = self.data[self.offset:self.offset + length]
        self.offset += length
        return value

    def skip_value(self, kind: int) -> None:
        if kind == _STRING:
            self.string()
        elif kind == _ARRAY:
            item_kind, count = self.take("IQ")
            if item_kind in _SCALAR_SIZES:
                self.offset += _SCALAR_SIZES[item_kind] * count
            else:
                for _ in range(count):
                    self.skip_value(item_kind)
        else:
            self.offset += _SCALAR_SIZES[kind]


def _read_prefix(path: Path) -> bytes:
    # Headers of small models are a few MB (the vocabulary); 64 MB is plenty for test models.
    with path.open("rb") as handle:
        return handle.read(64 << 20)


def rewrite_gguf(source: Path, target: Path, *, key: str, new_value: str | None = None,
                 new_key: str | None = None) -> None:
    """Copy ``source`` to ``target`` with string key ``key`` given ``new_value`` and/or renamed.

    Renaming (e.g. to a key llama.cpp does not know) is how a test removes a key.
    """
    data = _read_prefix(source)
    reader = _Reader(data)
    magic, version, n_tensors, n_kv = reader.take("4sIQQ")
    assert magic == b"GGUF" and version in (2, 3), (magic, version)
    alignment = 32
    found = None
    for _ in range(n_kv):
        start = reader.offset
        name = reader.string()
        kind = reader.take("I")
        value_start = reader.offset
        if name == b"general.alignment" and kind == _UINT32:
            alignment = struct.unpack_from("<I", data, value_start)[0]
        reader.skip_value(kind)
        if name == key.encode():
            assert kind == _STRING, f"{key} is not a string"
            found = (start, value_start, reader.offset)
    if found is None:
        raise KeyError(key)
    for _ in range(n_tensors):
        reader.string()
        n_dims = reader.take("I")
        reader.offset += 8 * n_dims + 4 + 8
    header_end = reader.offset
    data_start = header_end + (-header_end % alignment)

    start, value_start, end = found
    key_bytes = (new_key or key).encode()
    value_bytes = (data[value_start + 8:end] if new_value is None else new_value.encode())
    entry = struct.pack("<Q", len(key_bytes)) + key_bytes + struct.pack("<IQ", _STRING, len(value_bytes)) + value_bytes
    header = data[:start] + entry + data[end:header_end]
    header += b"\0" * (-len(header) % alignment)
    with source.open("rb") as src, target.open("wb") as dst:
        dst.write(header)
        src.seek(data_start)
        shutil.copyfileobj(src, dst, 1 << 20)


def read_gguf_string(path: Path, key: str) -> str | None:
    """The value of string key ``key`` in ``path``'s header, or None."""
    reader = _Reader(_read_prefix(path))
    _, _, _, n_kv = reader.take("4sIQQ")
    for _ in range(n_kv):
        name = reader.string()
        kind = reader.take("I")
        if name == key.encode() and kind == _STRING:
            return reader.string().decode()
        reader.skip_value(kind)
    return None
