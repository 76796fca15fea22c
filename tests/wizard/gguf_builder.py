"""Write small GGUF headers for tests: other architectures, and deliberately broken files.

Only the header is built; the tensor data is left out (a caller passes ``file_size`` to
the reader, or writes a sparse file of that size). Values are typed by Python type unless
wrapped in ``Typed`` (``Typed(7, UINT64)``); lists become arrays.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import Any

from wizard.gguf.types import (
    ARRAY, BOOL, FLOAT32, GGML_TYPES_BY_NAME, INT32, STRING, UINT32, UINT64, VALUE_TYPES,
)


@dataclass(frozen=True)
class Typed:
    value: Any
    type_id: int


@dataclass
class Tensor:
    name: str
    dims: tuple[int, ...]
    type_name: str = "f32"
    offset: int | None = None  # None: placed after the previous one, aligned
    type_id: int | None = None  # overrides type_name (unknown types)


@dataclass
class BuiltGGUF:
    header: bytes  # up to and including the alignment padding before the data
    file_size: int  # what the whole file would measure with its tensor data
    offsets: dict[str, int] = field(default_factory=dict)  # byte position of fields, for corrupting


def _string(text: str | bytes) -> bytes:
    raw = text.encode() if isinstance(text, str) else text
    return struct.pack("<Q", len(raw)) + raw


def _type_of(value: Any) -> int:
    if isinstance(value, Typed):
        return value.type_id
    if isinstance(value, bool):
        return BOOL
    if isinstance(value, int):
        return UINT32 if 0 <= value < 1 << 32 else UINT64 if value >= 0 else INT32
    if isinstance(value, float):
        return FLOAT32
    if isinstance(value, str):
        return STRING
    if isinstance(value, list):
        return ARRAY
    raise TypeError(f"no GGUF type for {value!r}")


def _scalar(type_id: int, value: Any) -> bytes:
    if type_id == STRING:
        return _string(value)
    return struct.pack("<" + VALUE_TYPES[type_id][1], value)


def encode_value(value: Any) -> tuple[int, bytes]:
    type_id = _type_of(value)
    raw = value.value if isinstance(value, Typed) else value
    if type_id != ARRAY:
        return type_id, _scalar(type_id, raw)
    item_type = _type_of(raw[0]) if raw else INT32
    if item_type == UINT32 and any(v < 0 for v in raw):
        item_type = INT32
    body = b"".join(_scalar(item_type, v.value if isinstance(v, Typed) else v) for v in raw)
    return ARRAY, struct.pack("<IQ", item_type, len(raw)) + body


def build_gguf(
    metadata: dict[str, Any],
    tensors: list[Tensor],
    *,
    version: int = 3,
    magic: bytes = b"GGUF",
    alignment: int = 32,
) -> BuiltGGUF:
    """A GGUF header with ``metadata`` and ``tensors`` (sizes from ggml's type table)."""
    offsets: dict[str, int] = {}
    out = bytearray(magic + struct.pack("<I", version))
    offsets["tensor_count"] = len(out)
    out += struct.pack("<QQ", len(tensors), len(metadata))
    for key, value in metadata.items():
        offsets[f"kv:{key}"] = len(out)
        type_id, body = encode_value(value)
        out += _string(key) + struct.pack("<I", type_id) + body
    next_offset, data_end = 0, 0
    for tensor in tensors:
        ggml_type = GGML_TYPES_BY_NAME[tensor.type_name]
        n_elements = 1
        for dim in tensor.dims:
            n_elements *= dim
        n_bytes = ggml_type.row_bytes(tensor.dims[0]) * (n_elements // max(tensor.dims[0], 1))
        offset = next_offset if tensor.offset is None else tensor.offset
        offsets[f"tensor:{tensor.name}"] = len(out)
        out += _string(tensor.name) + struct.pack("<I", len(tensor.dims))
        out += struct.pack(f"<{len(tensor.dims)}Q", *tensor.dims)
        out += struct.pack("<IQ", ggml_type.id if tensor.type_id is None else tensor.type_id, offset)
        data_end = max(data_end, offset + n_bytes)
        next_offset = -(-(offset + n_bytes) // alignment) * alignment
    out += bytes(-len(out) % alignment)
    return BuiltGGUF(bytes(out), len(out) + data_end, offsets)


def llama_like(
    *,
    arch: str = "llama",
    n_layer: int = 4,
    n_embd: int = 256,
    n_head: int = 8,
    n_head_kv: int | list[int] = 2,
    n_ff: int = 512,
    n_vocab: int = 1024,
    context_length: int = 4096,
    weight_type: str = "q8_0",
    tied_output: bool = False,
    extra: dict[str, Any] | None = None,
) -> BuiltGGUF:
    """A transformer header shaped like llama.cpp's llama/gemma2 models, weights only in name."""
    head_dim = n_embd // n_head
    metadata: dict[str, Any] = {
        "general.architecture": arch,
        f"{arch}.block_count": n_layer,
        f"{arch}.context_length": context_length,
        f"{arch}.embedding_length": n_embd,
        f"{arch}.feed_forward_length": n_ff,
        f"{arch}.attention.head_count": n_head,
        f"{arch}.attention.head_count_kv": n_head_kv,
        **(extra or {}),
    }
    kv_heads = n_head_kv if isinstance(n_head_kv, list) else [n_head_kv] * n_layer
    tensors = [Tensor("token_embd.weight", (n_embd, n_vocab), weight_type)]
    for il in range(n_layer):
        kv_dim = head_dim * kv_heads[il]
        tensors += [
            Tensor(f"blk.{il}.attn_norm.weight", (n_embd,)),
            Tensor(f"blk.{il}.attn_q.weight", (n_embd, n_embd), weight_type),
            Tensor(f"blk.{il}.attn_output.weight", (n_embd, n_embd), weight_type),
        ]
        if kv_dim:  # a layer without KV heads has no K and V projections
            tensors += [Tensor(f"blk.{il}.attn_k.weight", (n_embd, kv_dim), weight_type),
                        Tensor(f"blk.{il}.attn_v.weight", (n_embd, kv_dim), weight_type)]
        tensors += [
            Tensor(f"blk.{il}.ffn_norm.weight", (n_embd,)),
            Tensor(f"blk.{il}.ffn_gate.weight", (n_embd, n_ff), weight_type),
            Tensor(f"blk.{il}.ffn_up.weight", (n_embd, n_ff), weight_type),
            Tensor(f"blk.{il}.ffn_down.weight", (n_ff, n_embd), weight_type),
        ]
    tensors.append(Tensor("output_norm.weight", (n_embd,)))
    if not tied_output:
        tensors.append(Tensor("output.weight", (n_embd, n_vocab), weight_type))
    return build_gguf(metadata, tensors)


__all__ = ["BuiltGGUF", "Tensor", "Typed", "build_gguf", "encode_value", "llama_like", "UINT64"]
