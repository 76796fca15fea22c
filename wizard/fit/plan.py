"""Choose how to load a model on this computer: context, GPU layers, threads, KV cache type.

The plan keeps headroom for the person's other apps and never quietly picks a context
shorter than the recipe needs: when even the minimum does not fit, the verdict says so
and why, and the caller decides (a smaller model, usually).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from wizard.fit.estimate import KV_TYPES, FitSettingsError, MemoryEstimate, estimate_memory
from wizard.fit.shape import ModelShape, model_shape
from wizard.gguf import GGUFHeader

if TYPE_CHECKING:  # importing wizard.engine costs ~45 ms, paid by `hearth`'s window start through the CLI parser
    from wizard.engine.plan import LoadPlan as EngineLoadPlan

GiB = 1 << 30
MiB = 1 << 20
COMFORTABLE = "comfortable"  # fits, leaving the headroom free
TIGHT = "tight"  # fits in what is free now, but eats into the headroom
TOO_BIG = "too_big"  # even the smallest acceptable setting does not fit
CONTEXT_TOO_LONG = "context_too_long"  # the model was not trained for the context the recipe needs


@dataclass(frozen=True)
class FitPlan:
    """What to pass to llama.cpp, the estimate behind it, and a plain reason."""

    verdict: str
    n_ctx: int
    n_gpu_layers: int
    n_threads: int
    kv_type: str
    flash_attn: bool
    estimate: MemoryEstimate
    reason: str

    @property
    def fits(self) -> bool:
        return self.verdict in (COMFORTABLE, TIGHT)

    def engine_plan(self) -> EngineLoadPlan:
        """The settings the engine loads the model with."""
        from wizard.engine.plan import LoadPlan as EngineLoadPlan

        return EngineLoadPlan(n_ctx=self.n_ctx, n_gpu_layers=self.n_gpu_layers, n_threads=self.n_threads,
                              kv_type=self.kv_type, flash_attn=self.flash_attn)


def default_headroom(ram_available_bytes: int) -> int:
    """RAM left for the person's other apps: a tenth of what is free, at least 512 MiB."""
    return max(512 * MiB, ram_available_bytes // 10)


def choose_threads(physical_cores: int | None) -> int:
    """llama.cpp is fastest on physical cores; keep one free for the window on larger machines."""
    cores = physical_cores or 2
    return max(1, cores - 1) if cores >= 6 else max(1, cores)


def context_candidates(minimum: int, wanted: int, trained: int) -> list[int]:
    """Largest first: ``wanted`` (capped at the trained length), halving down to ``minimum``."""
    top = min(wanted, trained) if trained else wanted
    sizes, size = [], max(top, minimum)
    while size > minimum:
        sizes.append(size)
        size //= 2
    sizes.append(minimum)
    return sizes


def _gib(n: int) -> str:
    return f"{n / GiB:.1f} GB"


def plan_load(
    model: GGUFHeader | ModelShape,
    *,
    ram_available_bytes: int,
    min_ctx: int,
    wanted_ctx: int = 8192,
    gpu_free_bytes: int = 0,
    physical_cores: int | None = None,
    headroom_bytes: int | None = None,
    gpu_headroom_bytes: int = 512 * MiB,
) -> FitPlan:
    """The best way to load ``model`` in this much memory, or a verdict saying it does not fit.

    Tries contexts from ``wanted_ctx`` down to ``min_ctx`` (never below), and for each the
    KV cache types f16, q8_0, q4_0, with as many layers on the GPU as its free memory
    takes. The first setting that fits with headroom wins; failing that, the first that
    fits at all is "tight"; failing that, "too_big" with the smallest setting's estimate.

    Raises:
        FitSettingsError: ``min_ctx`` is below 1.
        ModelShapeError: the header lacks the sizes the estimate needs.
    """
    if min_ctx < 1:
        raise FitSettingsError("The assistant's conversation length must be at least one word.",
                               details=f"min_ctx={min_ctx}")
    shape = model if isinstance(model, ModelShape) else model_shape(model)
    headroom = default_headroom(ram_available_bytes) if headroom_bytes is None else headroom_bytes
    threads = choose_threads(physical_cores)
    gpu_budget = max(0, gpu_free_bytes - gpu_headroom_bytes)

    def best_offload(n_ctx: int, kv_type: str) -> MemoryEstimate:
        cpu_only = estimate_memory(shape, n_ctx=n_ctx, kv_type=kv_type)
        if gpu_budget <= 0:
            return cpu_only
        for layers in range(shape.n_layer + 1, 0, -1):
            candidate = estimate_memory(shape, n_ctx=n_ctx, kv_type=kv_type, n_gpu_layers=layers)
            if candidate.gpu_bytes <= gpu_budget:
                return candidate
        return cpu_only

    def plan(verdict: str, estimate: MemoryEstimate, reason: str) -> FitPlan:
        return FitPlan(verdict, estimate.n_ctx, estimate.n_gpu_layers, threads, estimate.kv_type,
                        estimate.flash_attn, estimate, reason)

    if shape.n_ctx_train and min_ctx > shape.n_ctx_train:
        smallest = best_offload(min_ctx, KV_TYPES[-1])
        return plan(CONTEXT_TOO_LONG, smallest,
                    f"This model can follow at most {shape.n_ctx_train} tokens of conversation, "
                    f"and this assistant needs {min_ctx}.")
    tight: FitPlan | None = None
    estimate = None
    for n_ctx in context_candidates(min_ctx, wanted_ctx, shape.n_ctx_train):
        for kv_type in KV_TYPES:
            estimate = best_offload(n_ctx, kv_type)
            if estimate.ram_bytes + headroom <= ram_available_bytes:
                return plan(COMFORTABLE, estimate,
                            f"Needs about {_gib(estimate.total_bytes)}; {_gib(ram_available_bytes)} of memory "
                            f"is free, so your other apps keep {_gib(ram_available_bytes - estimate.ram_bytes)}.")
            if tight is None and estimate.ram_bytes <= ram_available_bytes:
                tight = plan(TIGHT, estimate,
                             f"Needs about {_gib(estimate.total_bytes)} of the {_gib(ram_available_bytes)} free: "
                             "it runs, but other apps may slow down while it does.")
    if tight is not None:
        return tight
    assert estimate is not None  # context_candidates always yields min_ctx
    return plan(TOO_BIG, estimate,
                f"Needs at least {_gib(estimate.ram_bytes)} of memory even with the shortest conversation "
                f"this assistant allows, and only {_gib(ram_available_bytes)} is free.")
