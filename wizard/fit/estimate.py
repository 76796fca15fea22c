"""How much memory llama.cpp will use to run a model, split between RAM and GPU memory.

Four parts, each from llama.cpp's own rules or calibrated against its logs and a
measured peak RSS (tests/bench/bench_memory_fit.py, tests/wizard/fit_logs/):

- weights: the tensor bytes from the header, split by which layers are offloaded
  (llama.cpp offloads the output layer first, then the last repeating layers; the token
  embeddings always stay in RAM, and are loaded again on the GPU when the output is tied
  to them). The file is memory-mapped and every weight is read per token, so on the CPU
  all of it ends up resident.
- KV cache: exactly llama.cpp's formula (per-layer KV heads, sliding-window layers,
  context padded to 256). The buffer is zeroed at load, so it is all resident.
- compute: llama.cpp reserves a buffer for the worst-case batch ("CPU compute buffer
  size"): the larger of the logits (n_ubatch x n_vocab floats) and the attention scores
  (n_ubatch x n_ctx x n_head floats). On the CPU only the pages a graph writes become
  resident: with one output row per batch (how Hearth's engine runs) the logits part is
  never touched, while a full context touches the attention scores, the feed-forward
  activations and ggml's work buffer (the scores converted to f16). ``compute_bytes``
  is that resident part on the CPU and the whole reservation on a GPU.
- overhead: the engine process after ``import llama_cpp`` plus llama.cpp's tokenizer
  tables and the file's mapped header.
"""

from __future__ import annotations

from dataclasses import dataclass

from wizard.errors import HearthValueError
from wizard.fit.shape import ModelShape, model_shape
from wizard.gguf import GGML_TYPES_BY_NAME, GGUFHeader

MiB = 1 << 20
CTX_PAD = 256  # llama_context pads n_ctx (and each SWA cache) to a multiple of 256
KV_TYPES = ("f16", "q8_0", "q4_0")
# Measured on Linux x86-64, Python 3.11, llama-cpp-python 0.3.36 (tests/bench/bench_memory_fit.py):
# VmRSS right after `import llama_cpp` was 40.1 MiB.
ENGINE_BASELINE_BYTES = 40 * MiB
# Anonymous memory llama.cpp + llama-cpp-python hold after loading, beyond the KV cache:
# 19.5-20.6 MiB for a 49,152-token vocabulary, plus ~2 MiB more once generating. The
# per-token share (token strings, maps, the piece cache) is an assumption scaled by vocab.
RUNTIME_FIXED_BYTES = 14 * MiB
RUNTIME_BYTES_PER_VOCAB_TOKEN = 160
FLOAT = 4


class FitSettingsError(HearthValueError):
    """Settings the estimate cannot describe (a context of 0, an unknown KV cache type …)."""


@dataclass(frozen=True)
class MemoryEstimate:
    """Bytes llama.cpp needs for one model with one set of settings.

    ``total_bytes == ram_bytes + gpu_bytes == weights + kv + compute + overhead``.
    ``compute_reserved_bytes`` is the buffer llama.cpp reserves and prints ("CPU compute
    buffer size"); ``compute_bytes`` counts what of it is really resident (see module doc).
    """

    n_ctx: int
    n_ubatch: int
    n_gpu_layers: int
    kv_type: str
    flash_attn: bool
    weights_bytes: int
    kv_bytes: int
    compute_bytes: int
    overhead_bytes: int
    total_bytes: int
    ram_bytes: int
    gpu_bytes: int
    compute_reserved_bytes: int
    kv_cells_full: int
    kv_cells_swa: int


def pad(value: int, multiple: int) -> int:
    return -(-value // multiple) * multiple


def kv_cells(shape: ModelShape, n_ctx: int, n_ubatch: int, *, swa_full: bool = True) -> tuple[int, int]:
    """Cells of the full-attention cache and of the sliding-window cache (llama_kv_cache_iswa)."""
    full = pad(n_ctx, CTX_PAD)
    if not shape.sliding_window or swa_full:
        return full, full
    return full, pad(min(full, shape.sliding_window + n_ubatch), CTX_PAD)


def kv_bytes_per_layer(shape: ModelShape, n_ctx: int, n_ubatch: int, kv_type: str,
                       *, swa_full: bool = True) -> tuple[int, ...]:
    """llama.cpp's KV cache size for each layer: K and V rows of head_dim x n_head_kv per cell."""
    ggml_type = GGML_TYPES_BY_NAME[kv_type]
    full, swa = kv_cells(shape, n_ctx, n_ubatch, swa_full=swa_full)
    sizes = []
    for il in range(shape.n_layer):
        cells = swa if shape.swa_layers[il] else full
        heads = shape.n_head_kv[il]
        k_row = ggml_type.row_bytes(shape.head_dim_k * heads)
        v_row = ggml_type.row_bytes(shape.head_dim_v * heads)
        sizes.append((k_row + v_row) * cells)
    return tuple(sizes)


def _compute(shape: ModelShape, n_kv: int, ubatch: int, flash_attn: bool) -> tuple[int, int]:
    """(reserved, resident on the CPU) compute bytes: llama.cpp's graph sizes, calibrated."""
    n_head = max(shape.n_head)
    logits = FLOAT * ubatch * (shape.n_vocab + 3 * shape.n_embd)
    if flash_attn:
        attention = FLOAT * ubatch * (n_kv + 6 * shape.n_embd)
        work = 0
    else:  # scores + mask + the q/k/v views; ggml's work buffer holds the scores as f16
        attention = FLOAT * ubatch * (n_head * n_kv + n_kv + 6 * shape.n_embd)
        work = 2 * n_head * n_kv * ubatch
    feed_forward = FLOAT * ubatch * (3 * shape.n_ff + 4 * shape.n_embd)
    reserved = max(logits, attention)
    output_buffer = FLOAT * shape.n_vocab  # one row of logits kept for the sampler
    return reserved, min(reserved, attention + feed_forward) + work + output_buffer


def estimate_memory(
    model: GGUFHeader | ModelShape,
    *,
    n_ctx: int,
    n_gpu_layers: int = 0,
    kv_type: str = "f16",
    n_batch: int = 512,
    n_ubatch: int = 512,
    flash_attn: bool | None = None,
    swa_full: bool = True,
) -> MemoryEstimate:
    """Estimate the memory to run ``model`` with these llama.cpp settings.

    ``n_gpu_layers`` counts as llama.cpp does (the output layer first; ``-1`` or more
    than the layers means all). ``flash_attn=None`` means what llama.cpp will do: on when
    the KV cache is quantized (it requires it), off otherwise. ``swa_full`` is
    llama-cpp-python's default (full-size sliding-window caches).

    Raises:
        FitSettingsError: a setting is out of range or the KV type is unknown.
        ModelShapeError: the header lacks the sizes (from ``model_shape``).
    """
    shape = model if isinstance(model, ModelShape) else model_shape(model)
    if kv_type not in KV_TYPES:
        raise FitSettingsError("Hearth does not know that memory setting for the model.",
                               details=f"KV cache type {kv_type!r}; expected one of {KV_TYPES}")
    if n_ctx < 1 or n_batch < 1 or n_ubatch < 1:
        raise FitSettingsError("The conversation length must be at least one word.",
                               details=f"n_ctx={n_ctx} n_batch={n_batch} n_ubatch={n_ubatch}")
    if flash_attn is None:
        flash_attn = kv_type != "f16"
    ctx = pad(n_ctx, CTX_PAD)
    ubatch = min(ctx, n_batch, n_ubatch)
    full_cells, swa_cells = kv_cells(shape, ctx, ubatch, swa_full=swa_full)
    n_kv = full_cells if not all(shape.swa_layers) else swa_cells

    gpu_layers = shape.n_layer + 1 if n_gpu_layers < 0 else min(n_gpu_layers, shape.n_layer + 1)
    first_gpu_layer = shape.n_layer + 1 - gpu_layers
    on_gpu = [il >= first_gpu_layer for il in range(shape.n_layer)]
    output_on_gpu = gpu_layers >= 1

    weights_gpu = sum(b for b, gpu in zip(shape.layer_bytes, on_gpu) if gpu)
    weights_ram = shape.input_bytes + sum(b for b, gpu in zip(shape.layer_bytes, on_gpu) if not gpu)
    if output_on_gpu:
        weights_gpu += shape.output_bytes + (shape.embedding_bytes if shape.output_tied else 0)
    else:
        weights_ram += shape.output_bytes

    kv_layers = kv_bytes_per_layer(shape, ctx, ubatch, kv_type, swa_full=swa_full)
    kv_gpu = sum(b for b, gpu in zip(kv_layers, on_gpu) if gpu)
    kv_ram = sum(kv_layers) - kv_gpu

    reserved, resident = _compute(shape, n_kv, ubatch, flash_attn)
    if gpu_layers == 0:
        compute_ram, compute_gpu = resident, 0
    elif all(on_gpu):  # the host only stages inputs (embeddings, mask) and one row of logits
        compute_ram = FLOAT * ubatch * (shape.n_embd + n_kv) + FLOAT * shape.n_vocab
        compute_gpu = reserved
    else:
        compute_ram, compute_gpu = resident, reserved

    overhead = (ENGINE_BASELINE_BYTES + RUNTIME_FIXED_BYTES + RUNTIME_BYTES_PER_VOCAB_TOKEN * shape.n_vocab
                + shape.header_bytes)
    ram = weights_ram + kv_ram + compute_ram + overhead
    gpu = weights_gpu + kv_gpu + compute_gpu
    return MemoryEstimate(
        n_ctx=ctx,
        n_ubatch=ubatch,
        n_gpu_layers=gpu_layers,
        kv_type=kv_type,
        flash_attn=flash_attn,
        weights_bytes=weights_ram + weights_gpu,
        kv_bytes=kv_ram + kv_gpu,
        compute_bytes=compute_ram + compute_gpu,
        overhead_bytes=overhead,
        total_bytes=ram + gpu,
        ram_bytes=ram,
        gpu_bytes=gpu,
        compute_reserved_bytes=reserved,
        kv_cells_full=full_cells,
        kv_cells_swa=swa_cells,
    )
