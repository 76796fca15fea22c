"""Checking a model on the real engine: measured figures, stepping down, plain failures."""

from __future__ import annotations

import json
import shutil
import threading
from pathlib import Path

import psutil
import pytest

from wizard.engine import LoadPlan
from wizard.fit import estimate_memory, plan_load
from wizard.gguf import read_gguf_header
from wizard.models import ModelRegistry, ModelSource, register_file
from wizard.verify import (
    CANCELLED,
    FAILED,
    NEEDS_SMALLER_FILE,
    OK,
    STEPPED_DOWN,
    store_verification,
    verify_model,
)

GiB, MiB = 1 << 30, 1 << 20


def _stages() -> tuple[list[str], callable]:
    seen: list[str] = []
    return seen, lambda stage, facts: seen.append(stage)


def test_the_tiny_model_passes_and_its_figures_are_measured(tiny_model: Path) -> None:
    header = read_gguf_header(tiny_model)
    plan = plan_load(header, ram_available_bytes=16 * GiB, min_ctx=2048, wanted_ctx=2048, physical_cores=2)
    stages, progress = _stages()

    result = verify_model(tiny_model, plan, min_ctx=2048, ram_budget_bytes=16 * GiB, progress=progress)

    assert result.outcome == OK and result.passed, result.message
    assert result.plan == plan.engine_plan()
    (attempt,) = result.attempts
    assert attempt.passed and attempt.loaded and attempt.problem == ""
    # The peak of the engine process: at least the weights it read, and within the estimate.
    assert header.total_tensor_bytes < attempt.peak_ram_bytes <= plan.estimate.ram_bytes * 1.1
    assert attempt.estimated_ram_bytes == plan.estimate.ram_bytes
    assert 0 < attempt.load_seconds < 120
    assert attempt.tokens_generated > 1 and attempt.tokens_per_second > 0
    assert stages == ["checking", "loading", "generating", "done"]

    data = json.loads(json.dumps(result.to_dict()))
    assert data["outcome"] == "ok" and data["plan"]["n_ctx"] == 2048
    assert data["peak_ram_bytes"] == attempt.peak_ram_bytes and len(data["attempts"]) == 1
    # No engine child is left running.
    assert not [p for p in psutil.Process().children(recursive=True) if "wizard.engine.server" in " ".join(p.cmdline())]


def test_a_small_budget_steps_the_context_down_until_it_fits(tiny_model: Path) -> None:
    # Measure this machine first: the budget sits between the 2048 and 4096 peaks.
    at_2048 = verify_model(tiny_model, LoadPlan(n_ctx=2048, n_threads=2), min_ctx=2048).final.peak_ram_bytes
    at_4096 = verify_model(tiny_model, LoadPlan(n_ctx=4096, n_threads=2), min_ctx=4096).final.peak_ram_bytes
    assert at_4096 > at_2048 + 20 * MiB  # the larger cache is really there
    budget = (at_2048 + at_4096) // 2
    stages, progress = _stages()

    result = verify_model(tiny_model, LoadPlan(n_ctx=8192, n_threads=2), min_ctx=1024,
                          ram_budget_bytes=budget, progress=progress)

    assert result.outcome == STEPPED_DOWN, result.message
    assert [a.n_ctx for a in result.attempts] == [8192, 4096, 2048]
    assert [a.passed for a in result.attempts] == [False, False, True]
    assert all("more than the" in a.problem for a in result.attempts[:2])
    assert result.plan.n_ctx == 2048 and "2048 tokens instead of 8192" in result.message
    assert stages.count("stepping_down") == 2
    assert result.to_dict()["peak_ram_bytes"] <= budget


def test_a_tiny_budget_says_a_smaller_file_is_needed(tiny_model: Path) -> None:
    result = verify_model(tiny_model, LoadPlan(n_ctx=4096, n_threads=2), min_ctx=2048, ram_budget_bytes=64 * MiB)
    assert result.outcome == NEEDS_SMALLER_FILE and not result.passed and result.plan is None
    assert [a.n_ctx for a in result.attempts] == [4096, 2048]  # never below the recipe's minimum
    assert all(a.loaded and a.peak_ram_bytes > 64 * MiB for a in result.attempts)
    assert "smaller model file is needed" in result.message
    assert result.to_dict()["peak_ram_bytes"] is None


def test_halving_stops_at_the_minimum_rather_than_skipping_it(tiny_model: Path) -> None:
    # 4096 halved is 2048, below the minimum of 3000: the minimum itself is the last try.
    result = verify_model(tiny_model, LoadPlan(n_ctx=4096, n_threads=2), min_ctx=3000, ram_budget_bytes=64 * MiB)
    assert result.outcome == NEEDS_SMALLER_FILE
    assert [a.n_ctx for a in result.attempts] == [4096, 3000]
    assert all(a.loaded and "more than the" in a.problem for a in result.attempts)


def test_a_header_hearth_cannot_size_is_a_plain_failure(tiny_model: Path) -> None:
    from tests.wizard.gguf_builder import llama_like
    from wizard.gguf import parse_gguf_header

    built = llama_like(extra={"llama.attention.key_length": "64"})  # valid GGUF, wrongly typed size
    odd = parse_gguf_header(built.header, file_size=built.file_size)
    stages, progress = _stages()

    result = verify_model(tiny_model, LoadPlan(n_ctx=2048, n_threads=2), header=odd, progress=progress)

    assert result.outcome == FAILED and result.attempts == () and result.plan is None
    assert result.message.startswith("The model file cannot be used: Hearth could not read this model's sizes")
    assert stages == ["checking", "done"]  # the engine was never started


def test_far_more_memory_than_estimated_is_a_step_down_too(tiny_model: Path) -> None:
    # Estimated from the header of a much smaller model, the real one uses far more than expected.
    from tests.wizard.gguf_builder import llama_like
    from wizard.gguf import parse_gguf_header

    built = llama_like(n_layer=2, n_embd=64, n_head=4, n_head_kv=2, n_ff=128, n_vocab=1024, context_length=8192)
    small = parse_gguf_header(built.header, file_size=built.file_size)
    # the tiny model alone maps 92 MiB of weights; its engine peaks above 170 MiB at n_ctx 1024
    assert estimate_memory(small, n_ctx=2048).ram_bytes * 1.5 < 140 * MiB

    result = verify_model(tiny_model, LoadPlan(n_ctx=2048, n_threads=2), header=small, min_ctx=1024)

    assert result.outcome == NEEDS_SMALLER_FILE
    assert [a.n_ctx for a in result.attempts] == [2048, 1024]
    assert all("far more than the" in a.problem for a in result.attempts)


def test_a_broken_file_is_a_plain_failure_without_starting_the_engine(tiny_model: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken.gguf"
    broken.write_bytes(tiny_model.read_bytes()[:1_000_000])
    result = verify_model(broken, LoadPlan(n_ctx=2048), min_ctx=2048)
    assert result.outcome == FAILED and result.attempts == ()
    assert result.message.startswith("The model file cannot be used: ") and "damaged" in result.message
    text = tmp_path / "notes.gguf"
    text.write_text("just some words, not a model\n" * 100)
    assert "GGUF" in verify_model(text, LoadPlan(n_ctx=2048)).message
    assert verify_model(tmp_path / "gone.gguf", LoadPlan(n_ctx=2048)).outcome == FAILED


def test_cancel_stops_after_the_current_step(tiny_model: Path) -> None:
    cancel = threading.Event()
    result = verify_model(tiny_model, LoadPlan(n_ctx=2048, n_threads=2), min_ctx=1024,
                          ram_budget_bytes=64 * MiB, cancel=cancel,
                          progress=lambda stage, facts: cancel.set() if stage == "loading" else None)
    assert result.outcome == CANCELLED and len(result.attempts) == 1


def test_figures_are_stored_with_the_installed_model(tiny_model: Path, hearth_home: Path) -> None:
    registry = ModelRegistry()
    target = registry.models_dir / "smollm2" / tiny_model.name
    target.parent.mkdir(parents=True)
    shutil.copyfile(tiny_model, target)
    model = register_file(target, source=ModelSource(kind="manual"), registry=registry)
    result = verify_model(target, LoadPlan(n_ctx=1024, n_threads=2), min_ctx=1024)

    store_verification(model.id, result, registry=registry)

    stored = ModelRegistry().get(model.id).fit
    assert stored["outcome"] == "ok" and stored["plan"]["n_ctx"] == 1024
    assert stored["peak_ram_bytes"] == result.final.peak_ram_bytes
    with pytest.raises(Exception, match="No installed model"):
        store_verification("nobody--nothing/none.gguf", result, registry=registry)
