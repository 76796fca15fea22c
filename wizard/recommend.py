"""Which catalog model should this computer run for this assistant, and how will it feel?

For each catalog entry the recipe accepts, the fit planner (:func:`wizard.fit.plan_load`)
sizes it for this computer's free memory (and graphics card), and an expected speed is
worked out from memory bandwidth: generating one token reads every weight once, so
``tokens/s ≲ bandwidth ÷ bytes read per token``; real machines reach ~65–80 % of that
bound (``REAL_WORLD_FACTOR``). The models that fit are ranked by quality; the first
recommendation is the best-quality model that runs comfortably at a usable speed.

Memory bandwidth, from the hardware (theoretical peak, vendors' specification pages):

- PCs' processors: the probe cannot see the memory type, so Hearth assumes dual-channel
  DDR4-3200 (2 × 8 bytes × 3200 MT/s = 51.2 GB/s), the lower end of today's laptops
  (DDR5-4800 dual channel is 76.8 GB/s). Few cores cannot use it all: each core is
  counted at :data:`CPU_CORE_BYTES_PER_SECOND`, calibrated on this project's development
  machine from the decode speed ``tests/bench/bench_engine.py`` measures (tests/bench/README.md).
- Apple chips share one memory for processor and graphics: Apple's tech specs give
  M1 68.25 GB/s, M1 Pro 200, M1 Max 400, M1 Ultra 800; M2 100, Pro 200, Max 400,
  Ultra 800; M3 100, Pro 150, Max 300 (14-core CPU) or 400; M4 120, Pro 273,
  Max 410 (14-core CPU) or 546.
- Graphics cards: :data:`CARD_BANDWIDTH` by name (NVIDIA, AMD and Intel product pages:
  bus width × memory data rate); an unknown card counts as :data:`UNKNOWN_CARD_BANDWIDTH`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass, replace
from typing import Any

from wizard.catalog import Catalog, CatalogEntry
from wizard.fit import COMFORTABLE, TIGHT, FitPlan, ModelShape, estimate_memory, plan_load
from wizard.hardware import GpuInfo, HardwareProfile
from wizard.recipes.schema import ModelNeeds

GB = 1_000_000_000
GiB = 1 << 30
REAL_WORLD_FACTOR = 0.7
DDR4_DUAL_CHANNEL = 51.2 * GB
# Measured on the development machine (2 cores, quiet) by tests/bench/bench_engine.py
# (tests/bench/README.md, "Engine speed"): SmolLM2-135M Q4_1 (96.6 MB of weights read per
# token) streams a median 73.5 tok/s (single runs 61-86) through Hearth, llama-server and
# llama-cpp-python alike, i.e. ~7.1 GB/s for 2 cores, ~3.6 GB/s per core; ÷ REAL_WORLD_FACTOR
# gives this bound.
CPU_CORE_BYTES_PER_SECOND = 5.2 * GB
UNKNOWN_CARD_BANDWIDTH = 250 * GB
# Below this a reply feels broken; the first recommendation avoids it when it can.
USABLE_TOKENS_PER_SECOND = 4.0
# When the probe could not read the memory: plan as for a small machine.
UNKNOWN_RAM_BUDGET = 4 * GiB
# Vocabulary assumed for an entry that does not give one: large, so the estimate errs high.
ASSUMED_VOCAB = 152_064

APPLE_BANDWIDTH = {  # chip -> GB/s; M3 Max and M4 Max: (fewer-core variant, full variant)
    "m1": 68.25, "m1 pro": 200, "m1 max": 400, "m1 ultra": 800,
    "m2": 100, "m2 pro": 200, "m2 max": 400, "m2 ultra": 800,
    "m3": 100, "m3 pro": 150, "m3 max": (300, 400), "m3 ultra": 819,
    "m4": 120, "m4 pro": 273, "m4 max": (410, 546),
}
CARD_BANDWIDTH = {  # lower-case name fragment -> GB/s; longest match wins
    "rtx 5090": 1792, "rtx 5080": 960, "rtx 5070 ti": 896, "rtx 5070": 672,
    "rtx 4090": 1008, "rtx 4080 super": 736, "rtx 4080": 716.8, "rtx 4070 ti super": 672,
    "rtx 4070 ti": 504, "rtx 4070 super": 504, "rtx 4070": 504, "rtx 4060 ti": 288, "rtx 4060": 272,
    "rtx 3090 ti": 1008, "rtx 3090": 936, "rtx 3080 ti": 912, "rtx 3080": 760, "rtx 3070 ti": 608,
    "rtx 3070": 448, "rtx 3060 ti": 448, "rtx 3060": 360, "rtx 3050": 224,
    "rtx 2080 ti": 616, "rtx 2080": 448, "rtx 2070": 448, "rtx 2060": 336,
    "rx 7900 xtx": 960, "rx 7900 xt": 800, "rx 7800 xt": 624, "rx 7600": 288,
    "rx 6900 xt": 512, "rx 6800 xt": 512, "rx 6800": 512, "rx 6700 xt": 384,
    "arc pro b60": 456, "arc b580": 456, "arc a770": 560, "arc a750": 512,
}

RUNS_COMFORTABLY = "runs comfortably"
RUNS_TIGHT = "runs, but tight"
TOO_BIG_HERE = "too big for this computer"
_VERDICT_WORDS = {COMFORTABLE: RUNS_COMFORTABLY, TIGHT: RUNS_TIGHT}


@dataclass(frozen=True)
class Bandwidth:
    """Memory bandwidth (bytes/s) for weights on the processor and on the graphics card."""

    cpu: float
    gpu: float | None
    source: str  # how it was worked out, in words


@dataclass(frozen=True)
class Recommendation:
    """One catalog model judged for this computer."""

    entry: CatalogEntry
    plan: FitPlan
    verdict: str  # RUNS_COMFORTABLY, RUNS_TIGHT or TOO_BIG_HERE
    reason: str
    tokens_per_second: float
    speed: str  # "about as fast as you read" …
    badges: tuple[str, ...] = ()

    @property
    def fits(self) -> bool:
        return self.plan.fits

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: the entry's identity, the verdict, the speed and the load plan."""
        plan = self.plan
        return {
            "id": self.entry.id, "name": self.entry.name, "repo": self.entry.repo, "file": self.entry.file,
            "size_bytes": self.entry.size_bytes, "quality": self.entry.quality, "verdict": self.verdict,
            "reason": self.reason, "tokens_per_second": round(self.tokens_per_second, 1), "speed": self.speed,
            "badges": list(self.badges),
            "plan": {"verdict": plan.verdict, "n_ctx": plan.n_ctx, "n_gpu_layers": plan.n_gpu_layers,
                     "n_threads": plan.n_threads, "kv_type": plan.kv_type, "flash_attn": plan.flash_attn},
            "estimate": asdict(plan.estimate),
        }


@dataclass(frozen=True)
class Recommendations:
    """Everything the chooser shows: the pick, the ranked options, and what was left out."""

    best: Recommendation | None
    options: tuple[Recommendation, ...]  # models that fit, best first, then the ones too big
    left_out: tuple[tuple[CatalogEntry, str], ...]  # entries the recipe cannot use, and why
    bandwidth: Bandwidth

    def to_dict(self) -> dict[str, Any]:
        return {"best": self.best.entry.id if self.best else None,
                "options": [option.to_dict() for option in self.options],
                "left_out": [{"id": entry.id, "why": why} for entry, why in self.left_out],
                "bandwidth": asdict(self.bandwidth)}


# ---------------------------------------------------------------- hardware

def apple_chip_bandwidth(chip_name: str, performance_cores: int | None = None) -> float | None:
    """Bytes/s of an Apple chip named like "Apple M2 Pro"; None if the name is not one Hearth knows."""
    match = re.search(r"\bM(\d)(?:\s+(Pro|Max|Ultra))?\b", chip_name, re.IGNORECASE)
    if match is None:
        return None
    key = f"m{match[1]}" + (f" {match[2].lower()}" if match[2] else "")
    value = APPLE_BANDWIDTH.get(key)
    if isinstance(value, tuple):  # the binned Max (fewer performance cores) has less
        value = value[1] if (performance_cores or 0) >= 12 else value[0]
    return None if value is None else value * GB


def card_bandwidth(name: str) -> float | None:
    """Bytes/s of a graphics card from :data:`CARD_BANDWIDTH`, or None when unknown."""
    lowered = " ".join(name.lower().split())
    hits = [key for key in CARD_BANDWIDTH if key in lowered]
    return CARD_BANDWIDTH[max(hits, key=len)] * GB if hits else None


def offload_card(profile: HardwareProfile) -> GpuInfo | None:
    """The graphics card model layers would go to: Apple's chip, or the dedicated card with the most memory."""
    if profile.gpu_offload.supported is False:
        return None
    apple = next((g for g in profile.gpus if g.vendor == "apple" and g.total_bytes), None)
    if apple is not None:
        return apple
    cards = [g for g in profile.gpus if not g.unified_memory and (g.free_bytes or g.total_bytes)]
    if not cards or not profile.gpu_offload.supported:
        return None
    return max(cards, key=lambda g: g.free_bytes if g.free_bytes is not None else g.total_bytes or 0)


def memory_bandwidth(profile: HardwareProfile) -> Bandwidth:
    """How fast weights can be read on this computer (see the module docstring for the table)."""
    apple = next((g for g in profile.gpus if g.vendor == "apple"), None)
    if apple is not None:
        chip = apple_chip_bandwidth(profile.cpu.model_name or apple.name, profile.cpu.performance_cores)
        if chip is not None:
            return Bandwidth(chip, chip, f"{profile.cpu.model_name or apple.name}: {chip / GB:g} GB/s shared memory")
    cores = profile.cpu.physical_cores or 2
    cpu = min(DDR4_DUAL_CHANNEL, cores * CPU_CORE_BYTES_PER_SECOND)
    source = (f"processor: {cores} cores, memory assumed dual-channel DDR4 "
              f"({DDR4_DUAL_CHANNEL / GB:g} GB/s), {cpu / GB:g} GB/s usable")
    card = offload_card(profile)
    if card is None or card.vendor == "apple":
        return Bandwidth(cpu, None, source)
    known = card_bandwidth(card.name)
    gpu = known or UNKNOWN_CARD_BANDWIDTH
    return Bandwidth(cpu, gpu, source + f"; {card.name}: {gpu / GB:g} GB/s" + ("" if known else " (assumed)"))


# ---------------------------------------------------------------- models

def entry_shape(entry: CatalogEntry) -> ModelShape | None:
    """The estimator's view of a catalog entry, from its header numbers; None without a size.

    The catalog has no per-tensor sizes: the weights (``tensor_bytes``, else the file
    size) are split into the token embeddings (vocab × embedding of the parameters) and
    equal layers, with the output counted as tied to the embeddings (llama.cpp then
    loads them again on the card, which errs toward more memory for untied models too).
    """
    h = entry.header
    weights = h.tensor_bytes or entry.size_bytes
    if not weights:
        return None
    vocab = h.vocab_size or ASSUMED_VOCAB
    share = min(0.5, vocab * h.embedding_length / entry.parameters)
    embedding = int(weights * share)
    per_layer = (weights - embedding) // h.block_count
    swa = set(h.sliding_window_layers)
    return ModelShape(
        architecture=h.architecture, n_layer=h.block_count, n_ctx_train=h.context_length,
        n_embd=h.embedding_length, n_ff=h.feed_forward_length or 4 * h.embedding_length, n_vocab=vocab,
        n_head=(h.head_count,) * h.block_count, n_head_kv=h.head_count_kv, head_dim_k=h.head_dim_k,
        head_dim_v=h.head_dim_v, sliding_window=h.sliding_window or 0,
        swa_layers=tuple(il in swa for il in range(h.block_count)),
        layer_bytes=(per_layer,) * h.block_count, input_bytes=embedding, output_bytes=0,
        embedding_bytes=embedding, output_tied=True,
        header_bytes=max(0, (entry.size_bytes or weights) - weights),
    )


def expected_tokens_per_second(shape: ModelShape, plan: FitPlan, bandwidth: Bandwidth) -> float:
    """Tokens per second one reply is likely to stream at, from the bytes read per token."""
    layers = shape.n_layer + 1
    on_gpu = min(plan.n_gpu_layers, layers) if plan.n_gpu_layers >= 0 else layers
    read = sum(shape.layer_bytes) + shape.output_bytes + (shape.embedding_bytes if shape.output_tied else 0)
    gpu_bytes = read * on_gpu / layers if bandwidth.gpu else 0.0
    seconds = (read - gpu_bytes) / bandwidth.cpu + (gpu_bytes / bandwidth.gpu if bandwidth.gpu else 0.0)
    return REAL_WORLD_FACTOR / seconds if seconds > 0 else 0.0


def speed_words(tokens_per_second: float) -> str:
    """Speed as people feel it: a token is ~¾ of a word and people read ~4 words a second."""
    if tokens_per_second >= 20:
        return "faster than you read"
    if tokens_per_second >= 8:
        return "about as fast as you read"
    if tokens_per_second >= USABLE_TOKENS_PER_SECOND:
        return "a bit slower than you read"
    if tokens_per_second >= 1:
        return "slow: a few words a second"
    return "very slow: about a word every few seconds"


def ram_budget(profile: HardwareProfile) -> int:
    """Memory a model may use now: what is available, or 60 % of the total when that is unknown."""
    memory = profile.memory
    if memory.available_bytes:
        return memory.available_bytes
    if memory.total_bytes:
        return int(memory.total_bytes * 0.6)
    return UNKNOWN_RAM_BUDGET


def judge(entry: CatalogEntry, profile: HardwareProfile, needs: ModelNeeds, *,
          bandwidth: Bandwidth | None = None) -> Recommendation | None:
    """One entry planned for this computer; None when the entry has no size to plan with."""
    shape = entry_shape(entry)
    if shape is None:
        return None
    bandwidth = bandwidth or memory_bandwidth(profile)
    card = offload_card(profile)
    unified = card is not None and card.unified_memory
    gpu_free = 0 if card is None or unified else (card.free_bytes if card.free_bytes is not None
                                                  else card.total_bytes or 0)
    plan = plan_load(shape, ram_available_bytes=ram_budget(profile), min_ctx=needs.min_context,
                     wanted_ctx=max(8192, needs.min_context), gpu_free_bytes=gpu_free,
                     physical_cores=profile.cpu.performance_cores or profile.cpu.physical_cores)
    if unified and plan.fits and plan.estimate.total_bytes <= (card.total_bytes or 0):
        # Apple: the card reads the same memory, so every layer goes to it when the
        # whole model fits in Metal's working set; the memory verdict does not change.
        everything = estimate_memory(shape, n_ctx=plan.n_ctx, kv_type=plan.kv_type, n_gpu_layers=-1)
        plan = replace(plan, n_gpu_layers=everything.n_gpu_layers)
    tokens = expected_tokens_per_second(shape, plan, bandwidth)
    return Recommendation(entry, plan, _VERDICT_WORDS.get(plan.verdict, TOO_BIG_HERE), plan.reason,
                          tokens, speed_words(tokens))


def recommend(profile: HardwareProfile, catalog: Catalog, needs: ModelNeeds | None = None) -> Recommendations:
    """Rank the catalog for this computer and this assistant's needs.

    Order: models that run comfortably, then tight ones, each by quality (a recipe's
    preferred families count as a few points more), then the ones too big. ``best`` is
    the first comfortable model at a usable speed (:data:`USABLE_TOKENS_PER_SECOND`),
    else the fastest comfortable one, else the best tight one, else None.
    """
    needs = needs or ModelNeeds()
    bandwidth = memory_bandwidth(profile)
    judged: list[Recommendation] = []
    left_out: list[tuple[CatalogEntry, str]] = []
    for entry in catalog.entries:
        why = _why_not(entry, needs)
        if why is None:
            result = judge(entry, profile, needs, bandwidth=bandwidth)
            if result is None:
                why = "its size is not known yet (the list of models needs a refresh)"
            else:
                judged.append(result)
        if why is not None:
            left_out.append((entry, why))

    def rank(r: Recommendation) -> tuple:
        order = {RUNS_COMFORTABLY: 0, RUNS_TIGHT: 1}.get(r.verdict, 2)
        preferred = r.entry.family in needs.preferred_families
        bonus = max(1, 5 - 2 * needs.preference(r.entry)) if preferred else 0  # 5, 3, 1, 1 …
        return (order, -(r.entry.quality + bonus), r.entry.parameters, r.entry.id)

    ranked = sorted(judged, key=rank)
    comfortable = [r for r in ranked if r.verdict == RUNS_COMFORTABLY]
    usable = [r for r in comfortable if r.tokens_per_second >= USABLE_TOKENS_PER_SECOND]
    tight = [r for r in ranked if r.verdict == RUNS_TIGHT]
    best = (usable[0] if usable else max(comfortable, key=lambda r: r.tokens_per_second) if comfortable
            else tight[0] if tight else None)
    if best is not None:
        ranked.remove(best)
        ranked.insert(0, best)
    ranked = _with_badges(ranked, best)
    return Recommendations(ranked[0] if best is not None else None, tuple(ranked), tuple(left_out), bandwidth)


def _file_bytes(entry: CatalogEntry) -> int | None:
    return entry.size_bytes or entry.header.tensor_bytes


def next_smaller(profile: HardwareProfile, catalog: Catalog, needs: ModelNeeds | None = None, *,
                 than: CatalogEntry, tried: Iterable[str] = (),
                 measured_ratio: float | None = None) -> Recommendation | None:
    """The model to try after ``than`` proved too big when it was run here: the best smaller file that fits.

    Only entries with a smaller file than ``than`` (``size_bytes``, else their weights), that this
    assistant can use (``needs``, as for :func:`recommend`) and that are not in ``tried`` are
    judged, exactly as :func:`recommend` judges them; its ``best`` among them wins (comfortable
    before tight, then quality). ``measured_ratio`` is the failed model's measured peak ÷ its
    estimate: above 1 the estimates proved low on this computer, so the candidates are planned in
    that much less memory. None when no smaller model fits (or ``than``'s size is unknown).
    """
    limit = _file_bytes(than)
    if limit is None:
        return None
    skip = {than.id, *tried}
    smaller = tuple(e for e in catalog.entries
                    if e.id not in skip and (_file_bytes(e) or limit) < limit)
    if measured_ratio is not None and measured_ratio > 1:
        budget = int(ram_budget(profile) / measured_ratio)
        profile = replace(profile, memory=replace(profile.memory, available_bytes=budget))
    return recommend(profile, replace(catalog, entries=smaller), needs).best


def _why_not(entry: CatalogEntry, needs: ModelNeeds) -> str | None:
    if entry.header.context_length < needs.min_context:
        return (f"it can follow at most {entry.header.context_length} tokens of conversation; "
                f"this assistant needs {needs.min_context}")
    missing = sorted(needs.capabilities - entry.capabilities)
    if missing:
        return "it cannot " + " or ".join(_ABILITY_WORDS.get(m, m) for m in missing)
    if not needs.accepts(entry):
        return f"it is smaller than this assistant needs (at least {needs.min_size})"
    return None


_ABILITY_WORDS = {"tool_use": "use tools", "long_context": "follow long documents", "chat": "chat",
                  "multilingual": "work in many languages", "coding": "write code", "reasoning": "reason step by step"}


def _with_badges(ranked: Iterable[Recommendation], best: Recommendation | None) -> list[Recommendation]:
    ranked = list(ranked)
    fitting = [r for r in ranked if r.fits]
    fastest = max(fitting, key=lambda r: r.tokens_per_second, default=None)
    smallest = min(fitting, key=lambda r: r.entry.size_bytes or 0, default=None)
    top_quality = max(fitting, key=lambda r: r.entry.quality, default=None)
    out = []
    for r in ranked:
        badges = []
        if r is best:
            badges.append("recommended")
        if r is top_quality and r is not best:
            badges.append("best quality that fits")
        if r is fastest:
            badges.append("fastest")
        if r is smallest:
            badges.append("smallest download")
        if r.fits and r.plan.n_gpu_layers > 0:
            badges.append("uses the graphics chip")
        if "tool_use" in r.entry.capabilities:
            badges.append("can use tools")
        out.append(replace(r, badges=tuple(badges)))
    return out
