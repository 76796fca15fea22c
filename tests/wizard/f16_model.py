"""A bigger, real, loadable model for step-down tests: the tiny test model rewritten in f16.

The same SmolLM2-135M weights (its ``q4_1`` tensors dequantized exactly, as ggml does,
then stored as ``f16``), the same metadata bytes and tokenizer: llama.cpp loads it and it
answers like the original, but its weights take ~2.3x the memory. It stands for what
catalogs really offer: the same model in a larger quantization.
"""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest

from wizard.gguf import read_gguf_header
from wizard.gguf.reader import _Cursor, _read_metadata
from wizard.gguf.types import GGML_TYPES_BY_NAME

F16 = GGML_TYPES_BY_NAME["f16"]


def _dequantize_q4_1(raw: bytes) -> np.ndarray:
    """ggml's dequantize_row_q4_1: per block of 32, d and m (f16) and 16 bytes of nibbles."""
    blocks = np.frombuffer(raw, dtype=np.uint8).reshape(-1, 20)
    d = blocks[:, 0:2].copy().view(np.float16).astype(np.float32)
    m = blocks[:, 2:4].copy().view(np.float16).astype(np.float32)
    qs = blocks[:, 4:]
    low, high = (qs & 0x0F).astype(np.float32), (qs >> 4).astype(np.float32)
    return (np.concatenate([low, high], axis=1) * d + m).reshape(-1)


def _string(text: str) -> bytes:
    raw = text.encode()
    return struct.pack("<Q", len(raw)) + raw


def write_f16_copy(source: Path, target: Path) -> Path:
    """``source`` (a GGUF with q4_1 tensors) rewritten with those tensors in f16."""
    header = read_gguf_header(source)
    data = source.read_bytes()
    cursor = _Cursor(data, len(data))
    cursor.pos = 24  # magic, version, tensor count, metadata count
    _read_metadata(cursor, struct.unpack_from("<Q", data, 16)[0])
    metadata_end = cursor.pos

    infos, blobs, offset = [], [], 0
    for tensor in header.tensors:
        raw = data[header.data_offset + tensor.offset: header.data_offset + tensor.offset + tensor.n_bytes]
        ggml_type = tensor.ggml_type
        if ggml_type.name == "q4_1":
            raw, ggml_type = _dequantize_q4_1(raw).astype(np.float16).tobytes(), F16
        infos.append(_string(tensor.name) + struct.pack(f"<I{len(tensor.dims)}Q", len(tensor.dims), *tensor.dims)
                     + struct.pack("<IQ", ggml_type.id, offset))
        blobs.append((offset, raw))
        offset = -(-(offset + len(raw)) // header.alignment) * header.alignment
    head = data[:metadata_end] + b"".join(infos)
    head += bytes(-len(head) % header.alignment)
    with target.open("wb") as out:
        out.write(head)
        for position, raw in blobs:
            out.seek(len(head) + position)
            out.write(raw)
        out.truncate(len(head) + offset)
    return target


@pytest.fixture(scope="session")
def tiny_f16_model(tiny_model: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny model in f16 (244 MB), written once per test session."""
    return write_f16_copy(tiny_model, tmp_path_factory.mktemp("f16") / "SmolLM2-135M-Instruct.F16.gguf")
