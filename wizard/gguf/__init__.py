"""GGUF model files: a bounded, validating header reader (no tensor data is read)."""

from wizard.gguf.errors import (
    GGUFBadMagicError,
    GGUFError,
    GGUFLengthError,
    GGUFMalformedError,
    GGUFMetadataError,
    GGUFNeedMoreBytes,
    GGUFTensorError,
    GGUFTruncatedError,
    GGUFVersionError,
)
from wizard.gguf.reader import ArraySummary, GGUFHeader, TensorInfo, parse_gguf_header, read_gguf_header
from wizard.gguf.types import GGML_TYPES, GGML_TYPES_BY_NAME, GGMLType

__all__ = [
    "GGML_TYPES", "GGML_TYPES_BY_NAME", "ArraySummary", "GGMLType", "GGUFBadMagicError", "GGUFError",
    "GGUFHeader", "GGUFLengthError", "GGUFMalformedError", "GGUFMetadataError", "GGUFNeedMoreBytes",
    "GGUFTensorError", "GGUFTruncatedError", "GGUFVersionError", "TensorInfo", "parse_gguf_header",
    "read_gguf_header",
]
