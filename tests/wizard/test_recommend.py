"""Recommendations for real machines (captured hardware outputs) from the shipped catalog."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from wizard.catalog import Catalog, load_catalog
from wizard.hardware import apple, nvidia, probe_hardware
from wizard.hardware.linux_cpu import parse_cpuinfo, parse_meminfo
from wizard.hardware.model import CpuInfo, DiskInfo, GpuOffload, HardwareProfile, MemoryInfo, OsInfo, PowerInfo
from wizard.recipes.schema import ModelNeeds
from wizard.recommend import (
    RUNS_COMFORTABLY,
    RUNS_TIGHT,
    TOO_BIG_HERE,
    apple_chip_bandwidth,
    card_bandwidth,
    entry_shape,
    recommend,
    speed_words,
)

FIXTURES = Path(__file__).parent / "fixtures" / "hardware"
GiB = 1 << 30
GB = 1_000_000_000


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog()


def _profile(memory: MemoryInfo, cpu: CpuInfo, gpus=(), offload: bool = False) -> HardwareProfile:  # noqa: ANN001
    return HardwareProfile(os=OsInfo(name="Linux"), memory=memory, cpu=cpu, gpus=tuple(gpus),
                           gpu_offload=GpuOffload(supported=offload), disk=DiskInfo(), power=PowerInfo())


def _m1_16gb() -> HardwareProfile:
    values = apple.parse_sysctl((FIXTURES / "macos-m1-16gb-sysctl.txt").read_text())
    profile = _profile(MemoryInfo(total_bytes=apple.memory_total_from_sysctl(values)),
                       apple.cpu_from_sysctl(values), [apple.apple_gpu_from_sysctl(values)], offload=True)
    return replace(profile, os=OsInfo(name="macOS"))


def _desktop(cards: str = "nvidia-smi-rtx4080super-rtx3060.csv", keep: str = "") -> HardwareProfile:
    gpus = [g for g in nvidia.parse_nvidia_smi_csv((FIXTURES / cards).read_text()) if keep in g.name]
    return _profile(MemoryInfo(total_bytes=32 * GiB, available_bytes=26 * GiB),
                    CpuInfo(physical_cores=8, logical_cores=16), gpus, offload=True)


def _laptop_8gb() -> HardwareProfile:
    # What an "8 GB" laptop reports (7.6 GiB usable) with a browser open; 4 cores, no card.
    return _profile(MemoryInfo(total_bytes=int(7.6 * GiB), available_bytes=int(4.5 * GiB)),
                    CpuInfo(physical_cores=4, logical_cores=8))


def _this_vm_from_captures() -> HardwareProfile:
    fields = parse_cpuinfo((FIXTURES / "linux-x86_64-xeon-cpuinfo.txt").read_text())
    return _profile(parse_meminfo((FIXTURES / "linux-x86_64-meminfo.txt").read_text()),
                    CpuInfo(model_name=fields.model_name, physical_cores=fields.physical_cores,
                            logical_cores=fields.logical_cores, simd=fields.simd))


def _check_consistent(result, profile: HardwareProfile) -> None:  # noqa: ANN001
    assert result.options[0] is result.best
    verdicts = [o.verdict for o in result.options[1:]]
    order = {RUNS_COMFORTABLY: 0, RUNS_TIGHT: 1, TOO_BIG_HERE: 2}
    assert [order[v] for v in verdicts] == sorted(order[v] for v in verdicts)
    for option in result.options:
        assert option.reason == option.plan.reason and option.speed == speed_words(option.tokens_per_second)
        assert option.fits == (option.verdict != TOO_BIG_HERE)
        if option.fits:
            assert option.plan.estimate.ram_bytes <= (profile.memory.available_bytes
                                                      or int(profile.memory.total_bytes * 0.6))
    json.dumps(result.to_dict())  # the CLI's --json


def test_an_8gb_laptop_never_gets_a_big_model(catalog: Catalog) -> None:
    profile = _laptop_8gb()
    result = recommend(profile, catalog)
    _check_consistent(result, profile)
    best = result.best
    assert best.verdict == RUNS_COMFORTABLY and best.entry.parameters < 5 * GB
    assert "recommended" in best.badges and best.plan.n_gpu_layers == 0
    for option in result.options:
        if option.entry.parameters >= 7 * GB:
            assert option.verdict == TOO_BIG_HERE, option.entry.id
            assert "only" in option.reason and "free" in option.reason
    assert 4 <= best.tokens_per_second < 20 and "read" in best.speed


def test_a_16gb_m1_puts_every_layer_on_the_apple_graphics(catalog: Catalog) -> None:
    profile = _m1_16gb()
    result = recommend(profile, catalog)
    _check_consistent(result, profile)
    assert result.bandwidth.cpu == result.bandwidth.gpu == 68.25 * GB
    best = result.best
    assert best.verdict == RUNS_COMFORTABLY and 7 * GB <= best.entry.parameters <= 13 * GB
    assert best.plan.n_gpu_layers == best.entry.header.block_count + 1
    assert best.plan.estimate.total_bytes <= profile.gpus[0].total_bytes  # Metal's working set
    assert "uses the graphics chip" in best.badges
    assert result.options[-1].entry.id == "phi-4-q4_k_m" and not result.options[-1].verdict == RUNS_COMFORTABLY


def test_a_desktop_with_a_free_rtx_4080_super_runs_on_the_card(catalog: Catalog) -> None:
    profile = _desktop()
    result = recommend(profile, catalog)
    _check_consistent(result, profile)
    best = result.best
    assert "4080 SUPER" in result.bandwidth.source and result.bandwidth.gpu == 736 * GB
    assert best.entry.id == "phi-4-q4_k_m"  # the best quality in the list, all on the card
    assert best.plan.n_gpu_layers == best.entry.header.block_count + 1
    assert best.plan.estimate.gpu_bytes <= profile.gpus[0].free_bytes
    assert best.speed in ("faster than you read", "about as fast as you read")


def test_a_busy_rtx_3060_gets_only_what_its_free_memory_holds(catalog: Catalog) -> None:
    busy = _desktop(keep="3060")  # the capture: 1278 MiB of 12288 free
    idle = replace(busy, gpus=(nvidia.gpus_from_nvml_values("550.54.14", [
        ("NVIDIA GeForce RTX 3060", 12 * GiB, 11 * GiB)])[0],))
    cpu_only = replace(busy, gpus=(), gpu_offload=GpuOffload(supported=False))
    on_busy, on_idle, on_cpu = (recommend(p, catalog) for p in (busy, idle, cpu_only))
    for result, profile in ((on_busy, busy), (on_idle, idle)):
        _check_consistent(result, profile)
        for option in result.options:
            assert option.plan.estimate.gpu_bytes <= profile.gpus[0].free_bytes
    assert on_busy.best.plan.n_gpu_layers < on_idle.best.plan.n_gpu_layers
    assert on_idle.best.plan.n_gpu_layers > 0 and on_idle.best.tokens_per_second > on_cpu.best.tokens_per_second
    assert all(o.plan.n_gpu_layers == 0 for o in on_cpu.options)
    # The same model is faster the more of it sits on the card.
    same = on_idle.best.entry.id
    speeds = [next(o for o in r.options if o.entry.id == same).tokens_per_second for r in (on_cpu, on_busy, on_idle)]
    assert speeds == sorted(speeds) and speeds[0] < speeds[2]


def test_this_machine_for_real(catalog: Catalog) -> None:
    profile = probe_hardware()
    result = recommend(profile, catalog)
    _check_consistent(result, profile)
    assert result.best is not None and result.best.fits
    if not profile.gpus:
        assert all(o.plan.n_gpu_layers == 0 for o in result.options)
    assert result.best.plan.n_threads <= (profile.cpu.physical_cores or 2)


def test_this_vm_from_its_captured_proc_files(catalog: Catalog) -> None:
    profile = _this_vm_from_captures()  # 24 GB, 2 cores: memory is plenty, the cores are few
    result = recommend(profile, catalog)
    _check_consistent(result, profile)
    assert all(o.verdict == RUNS_COMFORTABLY for o in result.options)
    assert result.best.tokens_per_second >= 4  # never a crawl as the first choice
    slowest = min(result.options, key=lambda o: o.tokens_per_second)
    assert slowest.entry.parameters >= 12 * GB and slowest.speed.startswith(("slow", "very slow"))


def test_recipe_needs_filter_and_explain(catalog: Catalog) -> None:
    needs = ModelNeeds(min_context=32768, capabilities=frozenset({"chat", "tool_use"}), min_size="medium")
    result = recommend(_desktop(), catalog, needs)
    assert {o.entry.family for o in result.options} == {"qwen"}
    why = dict((entry.id, reason) for entry, reason in result.left_out)
    assert why["gemma-2-9b-it-q4_k_m"].startswith("it can follow at most 8192 tokens")
    assert why["mistral-nemo-instruct-2407-q4_k_m"] == "it cannot use tools"
    assert result.best.plan.n_ctx >= 32768


def test_preferred_families_win_close_calls(catalog: Catalog) -> None:
    plain = recommend(_desktop(), catalog)
    prefers = recommend(_desktop(), catalog, ModelNeeds(preferred_families=("gemma",)))
    order = [o.entry.id for o in plain.options]
    preferred = [o.entry.id for o in prefers.options]
    # Gemma 2 9B (quality 65) passes Mistral Nemo (68), not Phi-4 (75): a tie-breaker, not a veto.
    assert order.index("gemma-2-9b-it-q4_k_m") > order.index("mistral-nemo-instruct-2407-q4_k_m")
    assert preferred.index("gemma-2-9b-it-q4_k_m") < preferred.index("mistral-nemo-instruct-2407-q4_k_m")
    assert preferred[0] == order[0] == "phi-4-q4_k_m"


def test_an_entry_without_a_size_is_left_out_with_a_reason(catalog: Catalog) -> None:
    entry = replace(catalog.entries[0], size_bytes=None, sha256=None)
    assert entry_shape(entry) is None
    result = recommend(_laptop_8gb(), Catalog(entries=(entry,)))
    assert result.best is None and result.options == ()
    assert "refresh" in result.left_out[0][1]


def test_bandwidth_tables_and_speed_words() -> None:
    assert apple_chip_bandwidth("Apple M3 Max", 12) == 400 * GB
    assert apple_chip_bandwidth("Apple M3 Max", 10) == 300 * GB
    assert apple_chip_bandwidth("Apple M2 Pro") == 200 * GB
    assert apple_chip_bandwidth("Intel(R) Core(TM) i7") is None
    assert card_bandwidth("NVIDIA GeForce RTX 4080 SUPER") == 736 * GB  # not the plain 4080's 716.8
    assert card_bandwidth("NVIDIA GeForce RTX 3060") == 360 * GB
    assert card_bandwidth("Matrox G200") is None
    assert [speed_words(t) for t in (30, 10, 5, 2, 0.5)] == [
        "faster than you read", "about as fast as you read", "a bit slower than you read",
        "slow: a few words a second", "very slow: about a word every few seconds"]


def test_shape_from_the_catalog_matches_the_real_file_closely(tiny_model: Path) -> None:
    """The catalog-only estimate is close to the one from the real header (tiny model as an entry)."""
    from wizard.catalog.refresh import header_numbers
    from wizard.fit import estimate_memory, model_shape
    from wizard.gguf import read_gguf_header

    header = read_gguf_header(tiny_model)
    entry = replace(load_catalog().entries[0], parameters=134_515_008, size_bytes=header.file_size,
                    header=header_numbers(header))
    from_catalog = estimate_memory(entry_shape(entry), n_ctx=2048)
    from_file = estimate_memory(model_shape(header), n_ctx=2048)
    assert from_catalog.total_bytes == pytest.approx(from_file.total_bytes, rel=0.03)
    assert from_catalog.kv_bytes == from_file.kv_bytes


# --- stepping down to a smaller file -----------------------------------------------------

from tests.wizard.f16_model import tiny_f16_model  # noqa: E402, F401 - a fixture

MiB = 1 << 20


def _entry(entry_id: str, header, *, size: int, quality: int, quantization: str = "Q4_1"):  # noqa: ANN001, ANN202
    from wizard.catalog import CatalogEntry
    from wizard.catalog.refresh import header_numbers

    return CatalogEntry(id=entry_id, name=entry_id, family="smollm", repo="HuggingFaceTB/SmolLM2-135M-Instruct-GGUF",
                        file=f"{entry_id}.gguf", licence="apache-2.0", parameters=134_515_008, languages=("en",),
                        capabilities=frozenset({"chat"}), quality=quality, quantization=quantization,
                        header=header_numbers(header, entry_id=entry_id), size_bytes=size)


def test_after_a_file_proves_too_big_the_best_smaller_one_that_fits_runs(
        tiny_model: Path, tiny_f16_model: Path) -> None:
    from tests.wizard.gguf_builder import llama_like
    from wizard.engine import LoadPlan
    from wizard.gguf import parse_gguf_header, read_gguf_header
    from wizard.recommend import judge, next_smaller
    from wizard.verify import NEEDS_SMALLER_FILE, OK, STEPPED_DOWN, verify_model

    budget = 300 * MiB  # between the two files' measured peaks at 2048 tokens (~350 and ~210 MiB here)
    profile = probe_hardware()
    profile = replace(profile, memory=replace(profile.memory, available_bytes=budget))
    needs = ModelNeeds(min_context=2048)
    tiny_header, f16_header = read_gguf_header(tiny_model), read_gguf_header(tiny_f16_model)
    big = _entry("smollm2-f16", f16_header, size=tiny_f16_model.stat().st_size, quality=30, quantization="F16")
    tiny = _entry("smollm2-q4_1", tiny_header, size=tiny_model.stat().st_size, quality=10)
    middle_built = llama_like(n_layer=9, n_embd=1024, n_head=16, n_head_kv=4, n_ff=4096, n_vocab=32000,
                              context_length=8192)  # smaller than the f16 file, still too big here
    middle = _entry("middle-q8_0", parse_gguf_header(middle_built.header, file_size=middle_built.file_size),
                    size=middle_built.file_size, quality=20, quantization="Q8_0")
    short_built = llama_like(context_length=1024)  # the smallest, but too short for the assistant
    short = _entry("short-context", parse_gguf_header(short_built.header, file_size=short_built.file_size),
                   size=short_built.file_size, quality=50)
    catalog = Catalog((big, middle, tiny, short))
    assert tiny.size_bytes < middle.size_bytes < big.size_bytes
    assert not judge(middle, profile, needs).fits and judge(tiny, profile, needs).fits

    first = verify_model(tiny_f16_model, LoadPlan(n_ctx=2048, n_threads=2), min_ctx=2048, ram_budget_bytes=budget)
    assert first.outcome == NEEDS_SMALLER_FILE, first.message
    ratio = max(a.peak_ram_bytes / a.estimated_ram_bytes for a in first.attempts)

    chosen = next_smaller(profile, catalog, needs, than=big, measured_ratio=ratio)

    assert chosen is not None and chosen.entry is tiny and chosen.fits
    second = verify_model(tiny_model, chosen.plan, min_ctx=2048, ram_budget_bytes=budget)
    assert second.outcome in (OK, STEPPED_DOWN), second.message
    assert second.final.peak_ram_bytes <= budget < first.attempts[-1].peak_ram_bytes
    # Nothing smaller is left, and already-tried or unaffordable models are never offered.
    assert next_smaller(profile, catalog, needs, than=tiny) is None
    assert next_smaller(profile, catalog, needs, than=big, tried=[tiny.id]) is None
    # The estimate proved twice too low: planned in half the memory, not even the tiny model fits.
    assert next_smaller(profile, catalog, needs, than=big, measured_ratio=2.0) is None
