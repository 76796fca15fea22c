"""The GGUF value types and ggml tensor types, with the sizes the reader needs.

Block sizes and bytes per block are ggml's own (ggml/src/ggml.c ``type_traits``, the same
table as gguf-py's ``GGML_QUANT_SIZES``): a row of ``n`` elements of type ``t`` takes
``n // block_size * type_size`` bytes, and ``n`` must be a multiple of ``block_size``.
"""

from __future__ import annotations

from dataclasses import dataclass

QK_K = 256


@dataclass(frozen=True)
class GGMLType:
    """One ggml tensor element type."""

    id: int
    name: str
    block_size: int
    type_size: int

    def row_bytes(self, n_elements: int) -> int:
        """Bytes for ``n_elements`` values (a multiple of ``block_size``)."""
        return n_elements // self.block_size * self.type_size


_GGML_TYPES = (
    (0, "f32", 1, 4),
    (1, "f16", 1, 2),
    (2, "q4_0", 32, 2 + 16),
    (3, "q4_1", 32, 2 + 2 + 16),
    (6, "q5_0", 32, 2 + 4 + 16),
    (7, "q5_1", 32, 2 + 2 + 4 + 16),
    (8, "q8_0", 32, 2 + 32),
    (9, "q8_1", 32, 2 + 2 + 32),
    (10, "q2_k", QK_K, 2 + 2 + QK_K // 16 + QK_K // 4),
    (11, "q3_k", QK_K, 2 + QK_K // 4 + QK_K // 8 + 12),
    (12, "q4_k", QK_K, 2 + 2 + QK_K // 2 + 12),
    (13, "q5_k", QK_K, 2 + 2 + QK_K // 2 + QK_K // 8 + 12),
    (14, "q6_k", QK_K, 2 + QK_K // 2 + QK_K // 4 + QK_K // 16),
    (15, "q8_k", QK_K, 4 + QK_K + QK_K // 8),
    (16, "iq2_xxs", QK_K, 2 + QK_K // 4),
    (17, "iq2_xs", QK_K, 2 + QK_K // 4 + QK_K // 32),
    (18, "iq3_xxs", QK_K, 2 + QK_K // 4 + QK_K // 8),
    (19, "iq1_s", QK_K, 2 + QK_K // 8 + QK_K // 16),
    (20, "iq4_nl", 32, 2 + 16),
    (21, "iq3_s", QK_K, 2 + QK_K // 4 + QK_K // 8 + QK_K // 32 + 4),
    (22, "iq2_s", QK_K, 2 + QK_K // 4 + QK_K // 16),
    (23, "iq4_xs", QK_K, 2 + 2 + QK_K // 2 + QK_K // 64),
    (24, "i8", 1, 1),
    (25, "i16", 1, 2),
    (26, "i32", 1, 4),
    (27, "i64", 1, 8),
    (28, "f64", 1, 8),
    (29, "iq1_m", QK_K, QK_K // 8 + QK_K // 16 + QK_K // 32),
    (30, "bf16", 1, 2),
    (34, "tq1_0", QK_K, 2 + 4 * 13),
    (35, "tq2_0", QK_K, 2 + 64),
    (39, "mxfp4", 32, 1 + 16),
    (40, "nvfp4", 64, 4 + 32),
    (41, "q1_0", 128, 2 + 16),
    (42, "q2_0", 64, 2 + 16),
)

GGML_TYPES: dict[int, GGMLType] = {row[0]: GGMLType(*row) for row in _GGML_TYPES}
GGML_TYPES_BY_NAME: dict[str, GGMLType] = {t.name: t for t in GGML_TYPES.values()}

# GGUF metadata value types: id -> (name, struct format or None for string/array).
UINT8, INT8, UINT16, INT16, UINT32, INT32, FLOAT32, BOOL, STRING, ARRAY, UINT64, INT64, FLOAT64 = range(13)
VALUE_TYPES: dict[int, tuple[str, str | None]] = {
    UINT8: ("uint8", "B"),
    INT8: ("int8", "b"),
    UINT16: ("uint16", "H"),
    INT16: ("int16", "h"),
    UINT32: ("uint32", "I"),
    INT32: ("int32", "i"),
    FLOAT32: ("float32", "f"),
    BOOL: ("bool", "?"),
    STRING: ("string", None),
    ARRAY: ("array", None),
    UINT64: ("uint64", "Q"),
    INT64: ("int64", "q"),
    FLOAT64: ("float64", "d"),
}
