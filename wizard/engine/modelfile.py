"""The check a model file must pass before llama.cpp is allowed to open it.

This is the engine's seam for GGUF header validation: :func:`validate_model_file` checks the
fixed part of the header (magic, version, tensor and key counts that the file's size can
actually hold). The full bounded header reader lives in ``wizard.gguf``; this function should
delegate to it once that lands, keeping the same name and errors.
"""

from __future__ import annotations

import struct
from pathlib import Path

from wizard.engine.errors import ModelFileError

GGUF_MAGIC = b"GGUF"
SUPPORTED_VERSIONS = (2, 3)
_FIXED_HEADER = struct.Struct("<4sIQQ")  # magic, version, tensor count, key/value count
# The smallest a key/value entry can be: key length (8) + 1 byte key + type (4) + a 1-byte value.
_MIN_KV_BYTES = 14
# The smallest a tensor info can be: name length (8) + 1 byte + n_dims (4) + one dim (8) + type (4)
# + offset (8).
_MIN_TENSOR_INFO_BYTES = 33


def validate_model_file(path: Path) -> None:
    """Refuse a file llama.cpp should not be given.

    Raises:
        ModelFileError: the file is missing, unreadable, not GGUF, of an unknown GGUF version,
            or claims more entries than it has bytes for.
    """
    path = Path(path)
    try:
        size = path.stat().st_size
        with path.open("rb") as handle:
            head = handle.read(_FIXED_HEADER.size)
    except FileNotFoundError as exc:
        raise ModelFileError("The model file is not there any more.", details=str(exc)) from exc
    except OSError as exc:
        raise ModelFileError("Hearth could not read the model file.", details=str(exc)) from exc
    if len(head) < _FIXED_HEADER.size or head[:4] != GGUF_MAGIC:
        raise ModelFileError("This file is not an AI model file Hearth can use (not GGUF).",
                             details=f"{path}: first bytes {head[:4]!r}")
    _, version, n_tensors, n_kv = _FIXED_HEADER.unpack(head)
    if version not in SUPPORTED_VERSIONS:
        raise ModelFileError("This model file uses a format version Hearth does not know.",
                             details=f"{path}: GGUF version {version}")
    room = size - _FIXED_HEADER.size
    if n_kv * _MIN_KV_BYTES + n_tensors * _MIN_TENSOR_INFO_BYTES > room:
        raise ModelFileError("The model file is damaged or incomplete.",
                             hint="Download the model again.",
                             details=f"{path}: {n_tensors} tensors and {n_kv} keys cannot fit in {size} bytes")
