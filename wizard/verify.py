"""Check a downloaded model by running it: load, generate a few tokens, measure, step down if needed.

The estimate (wizard.fit) decides the plan; this proves it on the real engine
(:class:`wizard.engine.LocalEngine`, a child process) and records what was measured:
peak memory of the engine process (Linux: ``VmHWM``, the kernel's own high-water mark;
elsewhere the largest resident size sampled while it ran), load time and tokens/s.

If the model does not load, or uses far more memory than estimated or than the
computer has for it, the context is halved (never below the assistant's minimum: the
last try is the minimum itself) and the model tried again; when even the minimum does
not fit, the result says a smaller file is needed (:func:`wizard.recommend.next_smaller`
picks one from the catalog). A damaged file, one with a refused chat template, or one
whose header Hearth cannot size is a plain failure: a smaller context would not help.
Every attempt is kept in the result.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psutil

from wizard.engine import GenerationParams, LoadPlan, LocalEngine
from wizard.engine.errors import EngineCrashed, EngineError, EngineStartError, ModelFileError
from wizard.errors import HearthError
from wizard.fit import FitPlan, MemoryEstimate, estimate_memory
from wizard.gguf import GGUFHeader

log = logging.getLogger(__name__)

OK, STEPPED_DOWN, NEEDS_SMALLER_FILE, FAILED, CANCELLED = (
    "ok", "stepped_down", "needs_smaller_file", "failed", "cancelled")
# Measured peak above estimate × this is "far off": the estimate cannot be trusted for this
# file, so the next attempt gets a smaller context.
FAR_OFF_RATIO = 1.5
WARMUP_TOKENS = 4  # the first reply after loading is 20-30 % slower: not measured
MEASURED_TOKENS = 16
PROMPT = [{"role": "user", "content": "Say hello in one short sentence."}]
SAMPLE_SECONDS = 0.05

Progress = Callable[[str, dict[str, Any]], None]
Cancel = threading.Event | Callable[[], bool] | None


@dataclass(frozen=True)
class Attempt:
    """One load of the model with one plan, and what was measured."""

    n_ctx: int
    n_gpu_layers: int
    kv_type: str
    estimated_ram_bytes: int
    loaded: bool
    peak_ram_bytes: int | None = None
    load_seconds: float | None = None
    tokens_generated: int = 0
    tokens_per_second: float | None = None
    time_to_first_token: float | None = None
    problem: str = ""  # plain words; empty when this attempt passed

    @property
    def passed(self) -> bool:
        return self.loaded and not self.problem


@dataclass(frozen=True)
class Verification:
    """What checking a model found. ``plan`` is the plan that passed (None when none did)."""

    outcome: str  # OK, STEPPED_DOWN, NEEDS_SMALLER_FILE, FAILED or CANCELLED
    message: str  # one plain sentence for the person
    model_path: str
    plan: LoadPlan | None
    attempts: tuple[Attempt, ...]
    ram_budget_bytes: int | None
    measured_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))

    @property
    def passed(self) -> bool:
        return self.outcome in (OK, STEPPED_DOWN)

    @property
    def final(self) -> Attempt | None:
        """The attempt that passed, if any."""
        return next((a for a in reversed(self.attempts) if a.passed), None)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready figures (bytes as ints, seconds as floats), for the installed-models registry."""
        final = self.final
        return {
            "outcome": self.outcome, "message": self.message, "model_path": self.model_path,
            "plan": asdict(self.plan) if self.plan else None, "ram_budget_bytes": self.ram_budget_bytes,
            "measured_at": self.measured_at,
            "peak_ram_bytes": final.peak_ram_bytes if final else None,
            "load_seconds": final.load_seconds if final else None,
            "tokens_per_second": final.tokens_per_second if final else None,
            "attempts": [asdict(a) for a in self.attempts],
        }


class _PeakSampler:
    """The largest resident size of a process while it runs (for systems without VmHWM)."""

    def __init__(self, pid: int) -> None:
        self.peak = 0
        self._stop = threading.Event()
        try:
            self._process: psutil.Process | None = psutil.Process(pid)
        except psutil.Error:
            self._process = None
        self._thread = threading.Thread(target=self._run, daemon=True, name="verify-peak")
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set() and self._process is not None:
            self.sample()
            self._stop.wait(SAMPLE_SECONDS)

    def sample(self) -> None:
        if self._process is None:
            return
        try:
            info = self._process.memory_info()
        except psutil.Error:
            return
        self.peak = max(self.peak, info.rss, getattr(info, "peak_wset", 0))  # Windows keeps its own peak

    def finish(self) -> int:
        self._stop.set()
        self._thread.join(1.0)
        self.sample()
        return max(self.peak, linux_high_water_mark(self._process.pid) if self._process else 0)


def linux_high_water_mark(pid: int) -> int:
    """``VmHWM`` (peak resident size) of a process in bytes; 0 where /proc does not have it."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0


def _cancelled(cancel: Cancel) -> bool:
    if cancel is None:
        return False
    return cancel.is_set() if isinstance(cancel, threading.Event) else bool(cancel())


def _try_once(model_path: Path, plan: LoadPlan, estimate: MemoryEstimate, *, budget: int | None,
              cancel: Cancel, progress: Progress | None, engine_factory: Callable[..., LocalEngine]) -> Attempt:
    """Load, warm up, generate, measure. Raises the engine's non-memory errors (file, template)."""
    base = dict(n_ctx=plan.n_ctx, n_gpu_layers=plan.n_gpu_layers, kv_type=plan.kv_type,
                estimated_ram_bytes=estimate.ram_bytes)
    engine = engine_factory(model_path, plan)
    sampler: _PeakSampler | None = None
    try:
        if progress:
            progress("loading", {"n_ctx": plan.n_ctx})
        started = time.perf_counter()
        try:
            engine.start()
        except EngineStartError as exc:
            return Attempt(**base, loaded=False, problem=f"the model did not load ({exc.user_message})")
        load_seconds = time.perf_counter() - started
        sampler = _PeakSampler(engine.pid)
        if progress:
            progress("generating", {"n_ctx": plan.n_ctx, "load_seconds": load_seconds})
        params = GenerationParams(temperature=0.0, seed=1, max_tokens=WARMUP_TOKENS)
        try:
            for _ in engine.stream_chat(PROMPT, params=params, cancel=cancel):
                pass
            if _cancelled(cancel):  # a stopped warm-up may still hold the engine: ask nothing more
                return Attempt(**base, loaded=True, load_seconds=round(load_seconds, 3),
                               peak_ram_bytes=sampler.finish(), problem="the check was stopped")
            stream = engine.stream_chat(PROMPT, params=GenerationParams(temperature=0.0, seed=1,
                                                                        max_tokens=MEASURED_TOKENS), cancel=cancel)
            for _ in stream:
                pass
        except EngineCrashed as exc:
            return Attempt(**base, loaded=True, load_seconds=load_seconds, peak_ram_bytes=sampler.finish(),
                           problem=f"the model stopped while writing ({exc.user_message})")
        peak = sampler.finish()
        summary = stream.summary
        problem = ""
        if budget is not None and peak > budget:
            problem = (f"it used {peak / 2**30:.2f} GB of memory, more than the "
                       f"{budget / 2**30:.2f} GB this computer has for it")
        elif peak > estimate.ram_bytes * FAR_OFF_RATIO:
            problem = (f"it used {peak / 2**30:.2f} GB of memory, far more than the "
                       f"{estimate.ram_bytes / 2**30:.2f} GB expected")
        return Attempt(**base, loaded=True, peak_ram_bytes=peak, load_seconds=round(load_seconds, 3),
                       tokens_generated=summary.completion_tokens,
                       tokens_per_second=summary.tokens_per_second, time_to_first_token=summary.time_to_first_token,
                       problem=problem)
    finally:
        if sampler is not None:
            sampler.finish()
        engine.stop()


def verify_model(model_path: Path, plan: FitPlan | LoadPlan, *, header: GGUFHeader | None = None,
                 min_ctx: int = 2048, ram_budget_bytes: int | None = None, progress: Progress | None = None,
                 cancel: Cancel = None, engine_factory: Callable[..., LocalEngine] = LocalEngine) -> Verification:
    """Run the model with ``plan`` on the real engine; step the context down until it passes.

    ``ram_budget_bytes``: the memory the model may use on this computer (the plan's
    ``ram_available_bytes``); None means only "far off the estimate" triggers a step down.
    ``progress(stage, facts)`` gets "checking", "loading", "generating", "stepping_down" and
    "done". ``cancel`` stops between steps and during generation.

    Never raises for a model problem: a damaged file, a refused template, a model that
    never fits are outcomes (FAILED, NEEDS_SMALLER_FILE) with a plain ``message``.
    """
    from wizard.gguf import GGUFError, read_gguf_header

    model_path = Path(model_path)
    load_plan = plan.engine_plan() if isinstance(plan, FitPlan) else plan
    attempts: list[Attempt] = []

    def done(outcome: str, message: str, passed: LoadPlan | None = None) -> Verification:
        result = Verification(outcome, message, str(model_path), passed, tuple(attempts), ram_budget_bytes)
        if progress:
            progress("done", {"outcome": outcome})
        log.info("verified %s: %s (%d attempts) %s", model_path.name, outcome, len(attempts), message)
        return result

    if progress:
        progress("checking", {"model": model_path.name})
    try:
        header = header or read_gguf_header(model_path)
    except (GGUFError, HearthError) as exc:
        return done(FAILED, f"The model file cannot be used: {exc.user_message}")
    while True:
        if _cancelled(cancel):
            return done(CANCELLED, "The check was stopped before it finished.")
        try:
            estimate = estimate_memory(header, n_ctx=load_plan.n_ctx, n_gpu_layers=load_plan.n_gpu_layers,
                                       kv_type=load_plan.kv_type, flash_attn=load_plan.flash_attn)
        except HearthError as exc:  # ModelShapeError (not a model Hearth can size), FitSettingsError
            return done(FAILED, f"The model file cannot be used: {exc.user_message}")
        try:
            attempt = _try_once(model_path, load_plan, estimate, budget=ram_budget_bytes, cancel=cancel,
                                progress=progress, engine_factory=engine_factory)
        except (ModelFileError, EngineError) as exc:  # file or template: a smaller context will not help
            return done(FAILED, f"The model cannot be used: {exc.user_message}")
        attempts.append(attempt)
        if _cancelled(cancel):
            return done(CANCELLED, "The check was stopped before it finished.")
        if attempt.passed:
            if len(attempts) == 1:
                return done(OK, "The model runs well on this computer.", load_plan)
            return done(STEPPED_DOWN, f"The model runs on this computer with a shorter conversation memory "
                        f"({load_plan.n_ctx} tokens instead of {attempts[0].n_ctx}).", load_plan)
        # Halve, but never past the minimum: 4096 failing with a minimum of 3000 still tries 3000.
        smaller = max(load_plan.n_ctx // 2, min_ctx)
        if smaller >= load_plan.n_ctx:
            return done(NEEDS_SMALLER_FILE, "This model is too big for this computer even with the shortest "
                        f"conversation the assistant needs: {attempt.problem}. A smaller model file is needed.")
        if progress:
            progress("stepping_down", {"from": load_plan.n_ctx, "to": smaller, "why": attempt.problem})
        load_plan = LoadPlan(n_ctx=smaller, n_gpu_layers=load_plan.n_gpu_layers, n_threads=load_plan.n_threads,
                             kv_type=load_plan.kv_type, n_batch=load_plan.n_batch, flash_attn=load_plan.flash_attn)


def store_verification(model_id: str, result: Verification, *, registry: Any = None) -> None:
    """Keep the measured figures with the installed model (``ModelRegistry.set_fit``).

    Raises:
        ModelNotInstalledError: no installed model has this id.
        HearthFileError: the registry cannot be written.
    """
    from wizard.models import ModelRegistry

    (registry or ModelRegistry()).set_fit(model_id, result.to_dict())
