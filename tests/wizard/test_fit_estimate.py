"""The memory estimate against llama.cpp's own printed sizes, and against hand-computed ones.

tests/wizard/fit_logs/ holds the relevant lines of llama.cpp's verbose load log for the
tiny model, captured here with llama-cpp-python 0.3.36 (first line: the exact call).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from tests.wizard.gguf_builder import llama_like
from wizard.fit import FitSettingsError, ModelShapeError, estimate_memory, model_shape
from wizard.gguf import parse_gguf_header, read_gguf_header

LOGS = sorted((Path(__file__).parent / "fit_logs").glob("*.log"))
MiB = 1 << 20
GGML_TYPE_NAMES = {1: "f16", 8: "q8_0", 2: "q4_0"}


def parse_log(path: Path) -> dict:
    text = path.read_text()
    call = ast.literal_eval(re.search(r"\*\*(\{.*\})\)", text.splitlines()[0]).group(1))
    kv = re.search(r"llama_kv_cache: size = +([\d.]+) MiB \( *(\d+) cells.*K \((\w+)\)", text)
    return {
        "call": call,
        "n_ctx": int(re.search(r"n_ctx += (\d+)", text).group(1)),
        "n_ubatch": int(re.search(r"n_ubatch += (\d+)", text).group(1)),
        "flash_attn": "flash_attn            = enabled" in text,
        "kv_mib": kv.group(1), "kv_cells": int(kv.group(2)), "kv_type": kv.group(3),
        "compute_mib": float(re.search(r"compute buffer size is +([\d.]+) MiB", text).group(1)),
        "model_mib": re.search(r"model buffer size = +([\d.]+) MiB", text).group(1),
    }


@pytest.fixture(scope="module")
def tiny_header(tiny_model: Path):
    return read_gguf_header(tiny_model)


def test_there_are_captured_logs_for_several_settings() -> None:
    calls = [parse_log(p)["call"] for p in LOGS]
    assert {c["n_ctx"] for c in calls} >= {512, 1000, 2048, 4096, 8192}
    assert any(c.get("type_k") == 8 for c in calls) and any(c.get("n_ubatch") == 128 for c in calls)


@pytest.mark.parametrize("log", LOGS, ids=[p.stem for p in LOGS])
def test_kv_cache_matches_llama_cpp_exactly(log: Path, tiny_header) -> None:
    seen = parse_log(log)
    call = seen["call"]
    estimate = estimate_memory(
        tiny_header, n_ctx=call["n_ctx"], kv_type=GGML_TYPE_NAMES[call.get("type_k", 1)],
        n_batch=call.get("n_batch", 512), n_ubatch=call.get("n_ubatch", 512), flash_attn=call.get("flash_attn"),
    )
    assert estimate.n_ctx == seen["n_ctx"] == seen["kv_cells"]  # 1000 is padded to 1024
    assert estimate.n_ubatch == seen["n_ubatch"] and estimate.flash_attn == seen["flash_attn"]
    assert estimate.kv_type == seen["kv_type"]
    assert f"{estimate.kv_bytes / MiB:.2f}" == seen["kv_mib"]
    assert f"{estimate.weights_bytes / MiB:.2f}" == seen["model_mib"]


@pytest.mark.parametrize("log", LOGS, ids=[p.stem for p in LOGS])
def test_compute_buffer_is_within_a_few_percent_of_llama_cpp(log: Path, tiny_header) -> None:
    seen = parse_log(log)
    call = seen["call"]
    estimate = estimate_memory(
        tiny_header, n_ctx=call["n_ctx"], kv_type=GGML_TYPE_NAMES[call.get("type_k", 1)],
        n_batch=call.get("n_batch", 512), n_ubatch=call.get("n_ubatch", 512), flash_attn=call.get("flash_attn"),
    )
    tolerance = 0.035 if seen["flash_attn"] else 0.015
    assert estimate.compute_reserved_bytes / MiB == pytest.approx(seen["compute_mib"], rel=tolerance)


def test_compute_buffer_of_a_large_vocabulary_model() -> None:
    """facts.md: llama.cpp printed 515.75 MiB for a 270M model with a 262k vocabulary at n_ctx 512."""
    built = llama_like(arch="gemma3", n_layer=18, n_embd=640, n_head=4, n_head_kv=1, n_ff=2048,
                       n_vocab=262144, weight_type="q8_0", tied_output=True,
                       extra={"gemma3.attention.key_length": 256, "gemma3.attention.value_length": 256,
                              "gemma3.attention.sliding_window": 512})
    header = parse_gguf_header(built.header, file_size=built.file_size)
    assert estimate_memory(header, n_ctx=512).compute_reserved_bytes == int(515.75 * MiB)


def _hand_kv(layers_kv_heads, head_dim, cells, bytes_per_block, block) -> int:
    return sum(2 * (head_dim * h // block) * bytes_per_block * cells for h in layers_kv_heads)


def test_per_layer_kv_heads_and_q8_0() -> None:
    built = llama_like(n_layer=4, n_embd=512, n_head=8, n_head_kv=[8, 2, 4, 0])
    header = parse_gguf_header(built.header, file_size=built.file_size)
    f16 = estimate_memory(header, n_ctx=3000)
    assert f16.n_ctx == 3072
    assert f16.kv_bytes == (8 + 2 + 4 + 0) * 64 * 2 * 2 * 3072
    q8 = estimate_memory(header, n_ctx=3000, kv_type="q8_0")
    assert q8.flash_attn and q8.kv_bytes == _hand_kv([8, 2, 4, 0], 64, 3072, 34, 32)
    q4 = estimate_memory(header, n_ctx=3000, kv_type="q4_0")
    assert q4.kv_bytes == _hand_kv([8, 2, 4, 0], 64, 3072, 18, 32)
    assert f16.kv_bytes / q8.kv_bytes == pytest.approx(2 / 1.0625)


def test_key_and_value_lengths_override_the_head_size() -> None:
    built = llama_like(n_layer=2, n_embd=256, n_head=4, n_head_kv=2,
                       extra={"llama.attention.key_length": 128, "llama.attention.value_length": 96})
    header = parse_gguf_header(built.header, file_size=built.file_size)
    assert estimate_memory(header, n_ctx=256).kv_bytes == 2 * (128 * 2 + 96 * 2) * 2 * 256


def test_gemma2_sliding_window_layers() -> None:
    built = llama_like(arch="gemma2", n_layer=6, n_embd=256, n_head=4, n_head_kv=2,
                       extra={"gemma2.attention.sliding_window": 1000})
    header = parse_gguf_header(built.header, file_size=built.file_size)
    shape = model_shape(header)
    assert shape.swa_layers == (True, False) * 3  # gemma2: every other layer, starting with the first
    per_cell_layer = 64 * 2 * 2 * 2  # head_dim x kv heads x (K + V) x f16
    full = estimate_memory(header, n_ctx=8192)  # llama-cpp-python's default: full-size SWA cache
    assert full.kv_bytes == 6 * per_cell_layer * 8192
    small = estimate_memory(header, n_ctx=8192, n_ubatch=512, swa_full=False)
    assert small.kv_cells_swa == 1536  # min(8192, 1000 + 512) padded to 256
    assert small.kv_bytes == 3 * per_cell_layer * 8192 + 3 * per_cell_layer * 1536
    short = estimate_memory(header, n_ctx=1024, swa_full=False)
    assert short.kv_cells_swa == 1024


def test_gemma3_pattern_and_explicit_patterns() -> None:
    gemma3 = llama_like(arch="gemma3", n_layer=12, extra={"gemma3.attention.sliding_window": 512})
    assert model_shape(parse_gguf_header(gemma3.header, file_size=gemma3.file_size)).swa_layers == (
        (True,) * 5 + (False,)) * 2
    explicit = llama_like(arch="newarch", n_layer=3, extra={
        "newarch.attention.sliding_window": 128,
        "newarch.attention.sliding_window_pattern": [True, True, False]})
    assert model_shape(parse_gguf_header(explicit.header, file_size=explicit.file_size)).swa_layers == (
        True, True, False)


def test_gpu_layers_are_split_the_way_llama_cpp_assigns_them() -> None:
    built = llama_like(n_layer=4, n_embd=256, n_vocab=2048, tied_output=True)
    header = parse_gguf_header(built.header, file_size=built.file_size)
    shape = model_shape(header)
    cpu = estimate_memory(header, n_ctx=1024)
    assert cpu.gpu_bytes == 0 and cpu.ram_bytes == cpu.total_bytes
    assert cpu.weights_bytes == header.total_tensor_bytes

    output_only = estimate_memory(header, n_ctx=1024, n_gpu_layers=1)
    # the output layer goes first, and a tied output brings a copy of the embeddings
    assert output_only.weights_bytes == header.total_tensor_bytes + shape.embedding_bytes
    assert output_only.kv_bytes == cpu.kv_bytes and output_only.gpu_bytes > shape.embedding_bytes

    two = estimate_memory(header, n_ctx=1024, n_gpu_layers=3)
    per_layer_kv = cpu.kv_bytes // 4
    expected_gpu = (shape.layer_bytes[2] + shape.layer_bytes[3] + shape.output_bytes + shape.embedding_bytes
                    + 2 * per_layer_kv + two.compute_reserved_bytes)
    assert two.gpu_bytes == expected_gpu

    everything = estimate_memory(header, n_ctx=1024, n_gpu_layers=-1)
    assert everything.n_gpu_layers == 5 == estimate_memory(header, n_ctx=1024, n_gpu_layers=99).n_gpu_layers
    assert everything.ram_bytes < cpu.ram_bytes - sum(shape.layer_bytes)
    for estimate in (cpu, output_only, two, everything):
        assert estimate.total_bytes == estimate.ram_bytes + estimate.gpu_bytes == (
            estimate.weights_bytes + estimate.kv_bytes + estimate.compute_bytes + estimate.overhead_bytes)


def test_bad_settings_and_headers_are_plain_errors(tiny_header) -> None:
    with pytest.raises(FitSettingsError):
        estimate_memory(tiny_header, n_ctx=0)
    with pytest.raises(FitSettingsError) as caught:
        estimate_memory(tiny_header, n_ctx=512, kv_type="q2_k")
    assert isinstance(caught.value, ValueError) and "q2_k" in caught.value.details
    built = llama_like()
    broken = built.header.replace(b"llama.block_count", b"llama.block_cougt")
    with pytest.raises(ModelShapeError) as caught:
        model_shape(parse_gguf_header(broken, file_size=built.file_size))
    assert "block_count" in caught.value.details and caught.value.hint


@pytest.mark.parametrize(("key", "value"), [
    ("llama.attention.key_length", "128"),  # a string where llama.cpp wants a number
    ("llama.attention.value_length", 96.0),
    ("llama.attention.head_count", "8"),
    ("llama.attention.head_count_kv", True),
    ("llama.feed_forward_length", ["512", "512", "512", "512"]),
    ("llama.context_length", "4096"),
])
def test_wrongly_typed_sizes_are_a_shape_error_not_a_crash(key: str, value: object) -> None:
    built = llama_like(extra={key: value})  # a valid GGUF: only the value's type is wrong
    header = parse_gguf_header(built.header, file_size=built.file_size)
    with pytest.raises(ModelShapeError) as caught:
        estimate_memory(header, n_ctx=512)
    assert key in caught.value.details and "expected a whole number" in caught.value.details
    assert caught.value.user_message.startswith("Hearth could not read this model's sizes")
