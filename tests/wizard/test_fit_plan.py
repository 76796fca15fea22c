"""The load plan: headroom kept, GPU layers filled, and never a context below the minimum."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.wizard.gguf_builder import llama_like
from wizard.fit import (
    COMFORTABLE, CONTEXT_TOO_LONG, TIGHT, TOO_BIG, FitSettingsError, estimate_memory, model_shape, plan_load,
)
from wizard.fit.plan import choose_threads, context_candidates
from wizard.gguf import parse_gguf_header, read_gguf_header

GiB, MiB = 1 << 30, 1 << 20


@pytest.fixture(scope="module")
def tiny(tiny_model: Path):
    return read_gguf_header(tiny_model)


def test_plenty_of_memory_gives_the_wanted_context_in_f16(tiny) -> None:
    plan = plan_load(tiny, ram_available_bytes=16 * GiB, min_ctx=2048, wanted_ctx=8192, physical_cores=4)
    assert plan.verdict == COMFORTABLE and plan.fits
    assert (plan.n_ctx, plan.kv_type, plan.n_gpu_layers, plan.n_threads) == (8192, "f16", 0, 4)
    assert plan.estimate == estimate_memory(tiny, n_ctx=8192)
    assert "GB" in plan.reason


def test_wanted_context_is_capped_at_what_the_model_was_trained_for(tiny) -> None:
    plan = plan_load(tiny, ram_available_bytes=16 * GiB, min_ctx=512, wanted_ctx=131072)
    assert plan.n_ctx == 8192


def test_less_memory_shrinks_kv_type_then_context_but_never_below_the_minimum(tiny) -> None:
    full = estimate_memory(tiny, n_ctx=8192)
    q8 = estimate_memory(tiny, n_ctx=8192, kv_type="q8_0")
    # room for the q8_0 cache at 8192 with 100 MiB headroom, not for f16
    available = q8.ram_bytes + 100 * MiB
    plan = plan_load(tiny, ram_available_bytes=available, headroom_bytes=100 * MiB, min_ctx=1024)
    assert full.ram_bytes + 100 * MiB > available
    assert (plan.verdict, plan.n_ctx, plan.kv_type, plan.flash_attn) == (COMFORTABLE, 8192, "q8_0", True)

    at_min = estimate_memory(tiny, n_ctx=1024, kv_type="q4_0")
    squeezed = plan_load(tiny, ram_available_bytes=at_min.ram_bytes + 10 * MiB, headroom_bytes=100 * MiB,
                         min_ctx=1024)
    assert squeezed.verdict == TIGHT and squeezed.n_ctx >= 1024

    too_small = plan_load(tiny, ram_available_bytes=at_min.ram_bytes - 1, headroom_bytes=0, min_ctx=1024)
    assert too_small.verdict == TOO_BIG and not too_small.fits
    assert too_small.n_ctx == 1024  # the report is about the minimum, not something smaller
    assert "shortest conversation" in too_small.reason


def test_a_minimum_longer_than_the_model_was_trained_for_is_its_own_verdict(tiny) -> None:
    plan = plan_load(tiny, ram_available_bytes=64 * GiB, min_ctx=32768)
    assert plan.verdict == CONTEXT_TOO_LONG and "8192" in plan.reason and "32768" in plan.reason


def test_a_gpu_takes_as_many_layers_as_fit_in_its_free_memory() -> None:
    built = llama_like(n_layer=8, n_embd=1024, n_head=16, n_head_kv=4, n_ff=4096, n_vocab=32000)
    header = parse_gguf_header(built.header, file_size=built.file_size)
    shape = model_shape(header)
    everything = estimate_memory(header, n_ctx=4096, n_gpu_layers=-1)
    big = plan_load(header, ram_available_bytes=8 * GiB, min_ctx=4096, wanted_ctx=4096,
                    gpu_free_bytes=everything.gpu_bytes + 512 * MiB)
    assert big.n_gpu_layers == shape.n_layer + 1 and big.estimate.gpu_bytes <= everything.gpu_bytes

    half = estimate_memory(header, n_ctx=4096, n_gpu_layers=5)
    partial = plan_load(header, ram_available_bytes=8 * GiB, min_ctx=4096, wanted_ctx=4096,
                        gpu_free_bytes=half.gpu_bytes + 512 * MiB)
    assert partial.n_gpu_layers == 5
    assert estimate_memory(header, n_ctx=4096, n_gpu_layers=6).gpu_bytes > half.gpu_bytes

    no_gpu = plan_load(header, ram_available_bytes=8 * GiB, min_ctx=4096, wanted_ctx=4096, gpu_free_bytes=100 * MiB)
    assert no_gpu.n_gpu_layers == 0


def test_helpers() -> None:
    assert context_candidates(2048, 8192, 32768) == [8192, 4096, 2048]
    assert context_candidates(3000, 8192, 4096) == [4096, 3000]
    assert context_candidates(4096, 1024, 0) == [4096]
    assert [choose_threads(n) for n in (None, 1, 4, 8)] == [2, 1, 4, 7]
    with pytest.raises(FitSettingsError):
        plan_load(llama_like_header(), ram_available_bytes=GiB, min_ctx=0)


def llama_like_header():
    built = llama_like()
    return parse_gguf_header(built.header, file_size=built.file_size)


def test_a_fit_plan_becomes_the_engines_load_plan(tiny_model) -> None:
    from wizard.engine.plan import LoadPlan
    from wizard.gguf import read_gguf_header

    plan = plan_load(read_gguf_header(tiny_model), ram_available_bytes=8 * GiB, min_ctx=2048,
                     physical_cores=4)
    engine = plan.engine_plan()
    assert isinstance(engine, LoadPlan)
    assert (engine.n_ctx, engine.n_gpu_layers, engine.n_threads, engine.kv_type, engine.flash_attn) == (
        plan.n_ctx, plan.n_gpu_layers, plan.n_threads, plan.kv_type, plan.flash_attn)
