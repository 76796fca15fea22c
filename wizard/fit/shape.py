"""The numbers the memory estimate needs, taken from a GGUF header the way llama.cpp does.

Per-layer values (``head_count_kv`` may be an array; sliding-window layers follow a
pattern) become tuples with one entry per layer, so the estimate never has to guess.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from wizard.errors import HearthValueError
from wizard.gguf import ArraySummary, GGUFHeader

# Architectures whose sliding-window layers follow a fixed period when the file carries
# no ``attention.sliding_window_pattern``: layer il is SWA unless il % period == period - 1
# (llama.cpp's hparams.set_swa_pattern).
SWA_PERIODS = {"gemma2": 2, "gemma3": 6, "cohere2": 4, "gpt-oss": 2}

_LAYER = re.compile(r"^blk\.(\d+)\.")


class ModelShapeError(HearthValueError):
    """The header lacks what Hearth needs to size the model (not a chat model, usually)."""

    default_hint = "Choose a different model; Hearth can only size chat models it knows how to run."


@dataclass(frozen=True)
class ModelShape:
    """A transformer's sizes: what the KV cache, compute buffer and weights depend on."""

    architecture: str
    n_layer: int
    n_ctx_train: int
    n_embd: int
    n_ff: int
    n_vocab: int
    n_head: tuple[int, ...]
    n_head_kv: tuple[int, ...]
    head_dim_k: int
    head_dim_v: int
    sliding_window: int  # 0: none
    swa_layers: tuple[bool, ...]
    layer_bytes: tuple[int, ...]  # tensor bytes of each repeating layer (blk.N.*)
    input_bytes: int  # token embeddings and anything else outside the layers and output
    output_bytes: int  # output.weight and output_norm
    embedding_bytes: int  # token_embd.weight alone: llama.cpp loads it again as the output when tied
    output_tied: bool
    header_bytes: int


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _wrong_type(key: str, value: object) -> ModelShapeError:
    return ModelShapeError("Hearth could not read this model's sizes: its file describes them wrongly.",
                           details=f"{key} is {value!r} ({type(value).__name__}), expected a whole number")


def _per_layer(value: object, n_layer: int, key: str) -> tuple[int, ...]:
    if isinstance(value, ArraySummary):
        if value.item_type in ("string", "bool", "float32", "float64"):
            raise _wrong_type(key, value)
        if value.values is None or len(value.values) != n_layer:
            raise ModelShapeError("Hearth could not read this model's layer sizes.",
                                  details=f"{key} is {value}, expected {n_layer} values")
        if not all(_is_int(v) for v in value.values):
            raise _wrong_type(key, value)
        return tuple(value.values)
    if not _is_int(value):
        raise _wrong_type(key, value)
    return (value,) * n_layer


def _optional_int(header: GGUFHeader, suffix: str, default: int) -> int:
    """``{arch}.{suffix}`` when the file sets it (a whole number, else ModelShapeError), or ``default``."""
    value = header.arch_value(suffix)
    if value is None:
        return default
    if not _is_int(value) or value < 0:
        raise _wrong_type(f"{header.architecture}.{suffix}", value)
    return value


def _require_int(header: GGUFHeader, suffix: str) -> int:
    value = header.arch_value(suffix)
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ModelShapeError(
            "Hearth could not find this model's size in its file.",
            details=f"{header.architecture}.{suffix} is {value!r}",
        )
    return value


def _swa_layers(header: GGUFHeader, arch: str, n_layer: int, window: int) -> tuple[bool, ...]:
    if not window:
        return (False,) * n_layer
    pattern = header.arch_value("attention.sliding_window_pattern")
    if isinstance(pattern, ArraySummary) and pattern.values is not None and len(pattern.values) == n_layer:
        return tuple(bool(v) for v in pattern.values)
    period = pattern if isinstance(pattern, int) and not isinstance(pattern, bool) and pattern > 0 else None
    period = period or SWA_PERIODS.get(arch)
    if period is None:  # a window but no pattern: llama.cpp treats every layer as SWA
        return (True,) * n_layer
    return tuple(il % period < period - 1 for il in range(n_layer))


def model_shape(header: GGUFHeader) -> ModelShape:
    """The sizes of the model described by ``header``.

    Raises:
        ModelShapeError: a key the estimate needs is missing or impossible.
    """
    arch = header.architecture
    if not arch:
        raise ModelShapeError("Hearth could not tell what kind of model this is.",
                              details="general.architecture is missing")
    n_layer = _require_int(header, "block_count")
    n_embd = _require_int(header, "embedding_length")
    heads = _per_layer(header.arch_value("attention.head_count", 0), n_layer, f"{arch}.attention.head_count")
    if max(heads) <= 0:
        raise ModelShapeError("Hearth could not find this model's size in its file.",
                              details=f"{arch}.attention.head_count is missing")
    heads_kv = _per_layer(header.arch_value("attention.head_count_kv", max(heads)), n_layer,
                          f"{arch}.attention.head_count_kv")
    head_dim = n_embd // max(heads)
    window = header.arch_value("attention.sliding_window", 0)
    window = window if isinstance(window, int) and not isinstance(window, bool) and window > 0 else 0
    vocab = header.arch_value("vocab_size")
    tokens = header.metadata.get("tokenizer.ggml.tokens")
    if not isinstance(vocab, int) or isinstance(vocab, bool):
        vocab = tokens.length if isinstance(tokens, ArraySummary) else 0
    if not vocab:  # no tokenizer in the header: the embedding matrix has one row per token
        embd = next((t for t in header.tensors if t.name == "token_embd.weight" and len(t.dims) == 2), None)
        vocab = embd.dims[1] if embd else 0

    layer_bytes = [0] * n_layer
    input_bytes = output_bytes = 0
    names = set()
    for tensor in header.tensors:
        names.add(tensor.name)
        match = _LAYER.match(tensor.name)
        if match and int(match.group(1)) < n_layer:
            layer_bytes[int(match.group(1))] += tensor.n_bytes
        elif tensor.name.startswith("output"):
            output_bytes += tensor.n_bytes
        else:
            input_bytes += tensor.n_bytes
    tied = "output.weight" not in names
    return ModelShape(
        architecture=arch,
        n_layer=n_layer,
        n_ctx_train=_optional_int(header, "context_length", 0),
        n_embd=n_embd,
        n_ff=max(_per_layer(header.arch_value("feed_forward_length", 0), n_layer, f"{arch}.feed_forward_length")),
        n_vocab=int(vocab),
        n_head=heads,
        n_head_kv=heads_kv,
        head_dim_k=_optional_int(header, "attention.key_length", head_dim),
        head_dim_v=_optional_int(header, "attention.value_length", head_dim),
        sliding_window=window,
        swa_layers=_swa_layers(header, arch, n_layer, window),
        layer_bytes=tuple(layer_bytes),
        input_bytes=input_bytes,
        output_bytes=output_bytes,
        embedding_bytes=next((t.n_bytes for t in header.tensors if t.name == "token_embd.weight"), 0),
        output_tied=tied,
        header_bytes=header.data_offset,
    )
