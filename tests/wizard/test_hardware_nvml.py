"""NVIDIA cards through NVML, GPU offload decided without loading llama.cpp, and what stays unknown.

There is no NVIDIA card here, so ``_read_nvml`` reads a stand-in ``pynvml`` module whose
answers are real NVML readings (fixtures/hardware/nvml-readings.json, sources in the README
there); its errors are nvidia-ml-py's own ``NVMLError`` classes, raised with NVML's codes.
"""

from __future__ import annotations

import json
import sys
import time
import types
from pathlib import Path
from types import SimpleNamespace

import pynvml as real_pynvml
import pytest

from wizard.hardware import amd, nvidia, offload, probe_hardware
from wizard.hardware.model import GpuInfo

FIXTURES = Path(__file__).parent / "fixtures" / "hardware"
READINGS = json.loads((FIXTURES / "nvml-readings.json").read_text(encoding="utf-8"))


def fake_pynvml(reading: dict | None, *, init_error: int | None = None, names_as_bytes: bool = False):  # noqa: ANN201
    """A ``pynvml`` module answering with one captured reading; ``calls`` records what was asked."""
    module = types.ModuleType("pynvml")
    module.NVMLError = real_pynvml.NVMLError
    module.calls = []
    cards = reading["cards"] if reading else []

    def init() -> None:
        module.calls.append("init")
        if init_error is not None:
            raise real_pynvml.NVMLError(init_error)

    def memory(handle: int) -> SimpleNamespace:
        card = cards[handle]
        if "memory_error" in card:
            raise real_pynvml.NVMLError(real_pynvml.NVML_ERROR_NOT_SUPPORTED)
        return SimpleNamespace(total=card["total"], free=card["free"], used=card["total"] - card["free"])

    def text(value: str) -> str | bytes:
        return value.encode() if names_as_bytes else value  # nvidia-ml-py before 11.515 gave bytes

    module.nvmlInit = init
    module.nvmlShutdown = lambda: module.calls.append("shutdown")
    module.nvmlSystemGetDriverVersion = lambda: text(reading["driver"])
    module.nvmlDeviceGetCount = lambda: len(cards)
    module.nvmlDeviceGetHandleByIndex = lambda index: index
    module.nvmlDeviceGetName = lambda handle: text(cards[handle]["name"])
    module.nvmlDeviceGetMemoryInfo = memory
    return module


@pytest.mark.parametrize("names_as_bytes", [False, True])
def test_two_rtx_4090s_read_through_nvml(monkeypatch: pytest.MonkeyPatch, names_as_bytes: bool) -> None:
    module = fake_pynvml(READINGS["2x-rtx4090"], names_as_bytes=names_as_bytes)
    monkeypatch.setitem(sys.modules, "pynvml", module)

    gpus = nvidia._read_nvml()

    assert gpus == [
        GpuInfo(vendor="nvidia", name="NVIDIA GeForce RTX 4090", total_bytes=25757220864,
                free_bytes=25225592832, driver="550.163.01", source="nvml"),
        GpuInfo(vendor="nvidia", name="NVIDIA GeForce RTX 4090", total_bytes=25757220864,
                free_bytes=25275924480, driver="550.163.01", source="nvml"),
    ]
    # the same cards as nvidia-smi printed them (MiB), from the same machine
    smi = nvidia.parse_nvidia_smi_csv((FIXTURES / "nvidia-smi-2x-rtx4090.csv").read_text())
    assert [(g.total_bytes, g.free_bytes) for g in smi] == [(g.total_bytes, g.free_bytes) for g in gpus]
    assert module.calls == ["init", "shutdown"]


def test_a_unified_memory_card_has_no_memory_figures_rather_than_zero(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pynvml", fake_pynvml(READINGS["gb10-unified"]))
    (gpu,) = nvidia._read_nvml()
    assert (gpu.name, gpu.total_bytes, gpu.free_bytes, gpu.driver) == ("NVIDIA GB10", None, None, "580.126.09")


def test_a_driver_that_is_not_loaded_is_unavailable_with_nvmls_words(monkeypatch: pytest.MonkeyPatch) -> None:
    module = fake_pynvml(None, init_error=real_pynvml.NVML_ERROR_DRIVER_NOT_LOADED)
    monkeypatch.setitem(sys.modules, "pynvml", module)
    with pytest.raises(nvidia.NvidiaUnavailable, match="^NVIDIA driver library: Driver Not Loaded$"):
        nvidia._read_nvml()
    assert module.calls == ["init"]


def _cuda_build(folder: Path, *backends: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("libllama.so", "libggml-base.so", "libggml-cpu.so", *(f"libggml-{b}.so" for b in backends)):
        (folder / name).write_bytes(b"\x7fELF")
    return folder


def _never_ask() -> bool:
    raise AssertionError("llama.cpp must not be loaded: the cards already tell")


def test_offload_is_decided_from_the_build_and_the_cards_without_loading_llama_cpp(tmp_path: Path) -> None:
    cuda = _cuda_build(tmp_path / "cuda", "cuda")
    nvml_cards = nvidia.gpus_from_nvml_values("550.163.01", [("NVIDIA GeForce RTX 4090", 25757220864, 25225592832)])
    radeon = [GpuInfo(vendor="amd", name="Navi 31 [Radeon RX 7900 XTX]", total_bytes=25753026560, source="sysfs")]

    def probe(lib: Path, gpus, listed: bool = True, ask=_never_ask):  # noqa: ANN001, ANN202
        return offload.probe_gpu_offload(cache_dir=tmp_path / "cache", lib_dirs=[lib], gpus=gpus,
                                         cards_listed=listed, ask=ask)

    yes, reason = probe(cuda, nvml_cards)
    assert (yes.supported, yes.backends, reason) == (True, ("cuda",), None)
    assert yes.how == "cuda build and an NVIDIA card whose driver answered"
    no, _ = probe(cuda, radeon)
    assert no.supported is False and no.how == "cuda build, but this computer has Navi 31 [Radeon RX 7900 XTX]"
    assert probe(cuda, [])[0].supported is False
    metal = _cuda_build(tmp_path / "metal", "metal")
    apple = [GpuInfo(vendor="apple", name="Apple M1 graphics", total_bytes=11453251584, unified_memory=True,
                     source="sysctl")]
    assert probe(metal, apple)[0].how == "metal build on Apple graphics"
    assert not (tmp_path / "cache").exists()  # an inferred answer is not a measured one: nothing cached

    # What the cards cannot settle is still asked (once, then cached).
    asked = []
    ask = lambda: asked.append(1) or True  # noqa: E731
    silent = [GpuInfo(vendor="nvidia", name="NVIDIA graphics (device 0x2504)", source="sysfs")]
    assert probe(cuda, silent, ask=ask)[0].how == "asked llama.cpp"  # an NVIDIA card, its driver silent
    vulkan = _cuda_build(tmp_path / "vulkan", "vulkan")
    assert probe(vulkan, radeon, ask=ask)[0].how == "asked llama.cpp"  # needs a Vulkan loader
    assert probe(vulkan, radeon)[0].how == "cached answer"
    assert probe(cuda, [], listed=False, ask=ask)[0].how == "asked llama.cpp"  # the listing failed
    assert len(asked) == 3


def test_a_linux_box_with_two_4090s_probes_without_asking_llama_cpp(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setitem(sys.modules, "pynvml", fake_pynvml(READINGS["2x-rtx4090"]))
    monkeypatch.setattr(amd, "gpus_from_sysfs", lambda root: [
        GpuInfo(vendor="nvidia", name="NVIDIA graphics (device 0x2684)", source="sysfs")] * 2)
    lib = _cuda_build(tmp_path / "lib", "cuda")
    monkeypatch.setattr(offload, "llama_lib_dirs", lambda: [lib])

    profile = probe_hardware(platform_name="linux", cache_dir=tmp_path / "cache")

    assert [g.source for g in profile.gpus] == ["nvml", "nvml"]
    assert profile.gpu_offload.supported is True and profile.gpu_offload.how.startswith("cuda build and")
    assert profile.unknown("gpu_free_memory") is None and profile.unknown("nvidia") is None


def test_a_cards_unknown_free_memory_is_noted_with_the_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pynvml", fake_pynvml(READINGS["gb10-unified"]))
    monkeypatch.setattr(amd, "gpus_from_sysfs", lambda root: [
        GpuInfo(vendor="amd", name="Raphael", total_bytes=536870912, unified_memory=True, source="sysfs"),
        GpuInfo(vendor="amd", name="Navi 31 [Radeon RX 7900 XTX]", total_bytes=25753026560, source="sysfs")])

    profile = probe_hardware(platform_name="linux")

    notes = [n.reason for n in profile.unknowns if n.what == "gpu_free_memory"]
    assert notes == [
        "NVIDIA GB10: free memory unknown (NVIDIA's driver (NVML) did not report its memory)",
        "Navi 31 [Radeon RX 7900 XTX]: free memory unknown (the system's device list (sysfs) does not say "
        "how much of its memory is in use)",
    ]  # the built-in Raphael shares the computer's memory: nothing to note


def test_the_probe_records_how_long_it_took() -> None:
    started = time.perf_counter()
    profile = probe_hardware()
    elapsed = time.perf_counter() - started
    assert 0 < profile.probe_seconds <= elapsed
    assert profile.to_dict()["probe_seconds"] == round(profile.probe_seconds, 4)
