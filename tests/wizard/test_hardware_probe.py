"""probe_hardware() on this real machine, with every source broken, and on other systems
simulated by feeding the real captured outputs in fixtures/hardware to its readers."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import psutil
import pytest

from wizard.hardware import (
    HardwareProfile,
    amd,
    apple,
    linux_cpu,
    nvidia,
    offload,
    probe_hardware,
    system,
    windows,
)
from wizard.hardware.model import GpuInfo
from wizard.paths import hearth_paths

FIXTURES = Path(__file__).parent / "fixtures" / "hardware"
REPO = Path(__file__).resolve().parents[2]
GIB = 1024**3
linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")


def test_the_real_probe_agrees_with_psutil_and_the_os() -> None:
    profile = probe_hardware()

    total = psutil.virtual_memory().total
    assert profile.memory.total_bytes == pytest.approx(total, rel=0.03)
    assert profile.memory.available_bytes is not None
    assert 0 < profile.memory.available_bytes <= profile.memory.total_bytes
    assert profile.memory.swap_total_bytes == pytest.approx(psutil.swap_memory().total, rel=0.03)
    assert profile.cpu.logical_cores == os.cpu_count()
    assert profile.cpu.physical_cores == psutil.cpu_count(logical=False)
    assert profile.cpu.model_name

    models = hearth_paths().models
    assert profile.disk.models_dir == str(models)
    measured = Path(profile.disk.measured_path)
    assert measured.exists() and (measured == models or measured in models.parents)
    usage = shutil.disk_usage(measured)
    assert profile.disk.total_bytes == usage.total
    assert profile.disk.free_bytes == pytest.approx(usage.free, abs=512 * 1024**2)

    assert profile.os.name in {"Linux", "macOS", "Windows"}
    assert all(note.what and note.reason for note in profile.unknowns)
    assert json.loads(json.dumps(profile.to_dict()))["memory"]["total_bytes"] == \
        profile.memory.total_bytes


@linux_only
def test_the_real_probe_reports_avx2_exactly_when_proc_cpuinfo_does() -> None:
    flags = set()
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith(("flags", "Features")):
            flags |= set(line.partition(":")[2].split())
    profile = probe_hardware()
    assert ("avx2" in profile.cpu.simd) == ("avx2" in flags)
    assert ("avx512f" in profile.cpu.simd) == ("avx512f" in flags)
    assert ("neon" in profile.cpu.simd) == ("asimd" in flags)


def test_gpu_offload_matches_llama_cpp_itself_without_importing_it() -> None:
    """The probe's answer equals llama_supports_gpu_offload(), and the probe (run in a fresh
    interpreter) did not load llama_cpp to get it on this CPU-only build."""
    code = ("import json, sys\n"
            "from wizard.hardware import probe_hardware\n"
            "p = probe_hardware()\n"
            "loaded = 'llama_cpp' in sys.modules\n"
            "import llama_cpp\n"
            "print(json.dumps([p.gpu_offload.supported, p.gpu_offload.how, loaded,\n"
            "                  bool(llama_cpp.llama_supports_gpu_offload())]))\n")
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True,
                            text=True, timeout=120, env=dict(os.environ), check=True)
    supported, how, loaded, truth = json.loads(result.stdout.strip().splitlines()[-1])
    assert supported is truth
    gpu_backends, cpu_split, _ = offload.scan_backends(offload.llama_lib_dirs())
    if cpu_split and not gpu_backends:  # this machine's build
        assert (how, loaded) == ("cpu-only build", False)


@pytest.mark.skipif(shutil.which("nvidia-smi") is not None, reason="this machine has NVIDIA tools")
def test_without_nvidia_the_reason_names_both_routes_tried() -> None:
    with pytest.raises(nvidia.NvidiaUnavailable) as caught:
        nvidia.read_nvidia_gpus()
    assert "nvidia-smi not found" in str(caught.value)


def _raise(exc: BaseException):  # noqa: ANN202
    def fail(*args: object, **kwargs: object) -> object:
        raise exc
    return fail


def _returns(value: object):  # noqa: ANN202
    return lambda *args, **kwargs: value


@pytest.mark.parametrize("breakage", ["raise", "garbage"])
def test_every_source_broken_still_gives_a_profile_with_reasons(
        monkeypatch: pytest.MonkeyPatch, breakage: str) -> None:
    if breakage == "raise":
        bad = {
            (linux_cpu, "read_text"): _raise(PermissionError(13, "Permission denied", "/proc/x")),
            (nvidia, "read_nvidia_gpus"): _raise(RuntimeError("driver crashed")),
            (amd, "gpus_from_sysfs"): _raise(OSError("sysfs vanished")),
            (system, "memory_from_psutil"): _raise(OSError("psutil broken")),
            (system, "physical_cores_from_psutil"): _raise(OSError("psutil broken")),
            (system, "disk_info"): _raise(OSError(5, "Input/output error")),
            (system, "power_info"): _raise(AttributeError("no battery API")),
            (system, "os_info"): _raise(ValueError("odd platform")),
            (offload, "probe_gpu_offload"): _raise(ImportError("llama_cpp broke")),
            (apple, "read_sysctl"): _raise(FileNotFoundError(2, "No such file", "sysctl")),
            (windows, "read_display_class"): _raise(OSError("registry locked")),
            (windows, "read_cpu_name"): _raise(OSError("registry locked")),
            (windows, "read_simd"): _raise(OSError("no kernel32")),
        }
    else:
        bad = {
            (linux_cpu, "read_text"): _returns("\x00\xffnot a proc file: at all\n\n:::"),
            (nvidia, "read_nvidia_gpus"): _returns(None),
            (amd, "gpus_from_sysfs"): _returns("garbage"),
            (system, "memory_from_psutil"): _returns(42),
            (system, "physical_cores_from_psutil"): _returns("many"),
            (system, "disk_info"): _returns(None),
            (system, "power_info"): _returns([]),
            (system, "os_info"): _returns(object()),
            (offload, "probe_gpu_offload"): _returns(("yes", None)),
            (apple, "read_sysctl"): _returns("hw.memsize: lots"),
            (windows, "read_display_class"): _returns([{"DriverDesc": 7}]),
            (windows, "read_cpu_name"): _returns(12),
            (windows, "read_simd"): _returns("avx2"),
        }
    for (module, name), replacement in bad.items():
        monkeypatch.setattr(module, name, replacement)

    for platform_name in ("linux", "darwin", "win32", "freebsd14"):
        profile = probe_hardware(platform_name=platform_name)
        assert isinstance(profile, HardwareProfile)
        assert profile.memory.total_bytes is None
        assert profile.disk.free_bytes is None
        assert profile.gpu_offload.supported is None
        noted = {note.what for note in profile.unknowns}
        assert {"memory", "disk", "battery", "gpu_offload"} <= noted, (platform_name, noted)
        assert all(note.reason for note in profile.unknowns)
        json.dumps(profile.to_dict())  # still a clean JSON document


def test_broken_reader_reason_is_specific(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(system, "disk_info", _raise(PermissionError(13, "Permission denied")))
    monkeypatch.setattr(nvidia, "read_nvidia_gpus", _raise(nvidia.NvidiaUnavailable(
        "NVIDIA driver library: Driver Not Loaded; nvidia-smi not found")))
    monkeypatch.setattr(amd, "gpus_from_sysfs", _returns([]))
    profile = probe_hardware(platform_name="linux")
    assert profile.unknown("disk").reason == "[Errno 13] Permission denied"
    # sysfs answered and shows no NVIDIA card: a missing NVIDIA driver is not worth a note
    assert profile.unknown("nvidia") is None


def test_a_linux_box_with_nvidia_and_amd_cards(monkeypatch: pytest.MonkeyPatch,
                                              tmp_path: Path) -> None:
    """What cannot exist here (the cards) comes from real captured outputs."""
    smi = (FIXTURES / "nvidia-smi-rtx4080super-rtx3060.csv").read_text()
    monkeypatch.setattr(nvidia, "read_nvidia_gpus", lambda: nvidia.parse_nvidia_smi_csv(smi))
    sysfs = [
        GpuInfo(vendor="nvidia", name="NVIDIA graphics (device 0x2782)", source="sysfs"),
        GpuInfo(vendor="amd", name="Raphael", total_bytes=536870912, unified_memory=True,
                    source="sysfs"),
    ]
    monkeypatch.setattr(amd, "gpus_from_sysfs", _returns(sysfs))
    profile = probe_hardware(platform_name="linux")
    assert [g.name for g in profile.gpus] == [
        "NVIDIA GeForce RTX 4080 SUPER", "NVIDIA GeForce RTX 3060", "Raphael"]
    assert profile.unknown("nvidia") is None


def test_a_linux_box_whose_nvidia_driver_does_not_answer(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(amd, "gpus_from_sysfs", _returns([
        GpuInfo(vendor="nvidia", name="NVIDIA graphics (device 0x2504)", source="sysfs")]))
    profile = probe_hardware(platform_name="linux")
    assert [g.vendor for g in profile.gpus] == ["nvidia"]
    note = profile.unknown("nvidia")
    assert note is not None and note.reason  # e.g. NVML not found; nvidia-smi not found


def test_a_mac_from_real_sysctl_output(monkeypatch: pytest.MonkeyPatch) -> None:
    text = (FIXTURES / "macos-m1-16gb-sysctl.txt").read_text()
    monkeypatch.setattr(apple, "read_sysctl", lambda: apple.parse_sysctl(text))
    monkeypatch.setattr(system, "memory_from_psutil", _raise(OSError("not on a Mac")))
    profile = probe_hardware(platform_name="darwin")
    assert profile.cpu.model_name == "Apple M1" and profile.cpu.performance_cores == 4
    assert profile.memory.total_bytes == 16 * GIB  # from hw.memsize when psutil fails
    (gpu,) = profile.gpus
    assert gpu.vendor == "apple" and gpu.total_bytes == 16 * GIB * 2 // 3


def test_a_windows_pc_from_real_registry_output(monkeypatch: pytest.MonkeyPatch) -> None:
    text = (FIXTURES / "windows-reg-rtx4080s-radeon-igpu-fr.txt").read_text()
    monkeypatch.setattr(windows, "read_display_class", lambda: windows.parse_reg_query(text))
    monkeypatch.setattr(windows, "read_cpu_name", _returns("AMD Ryzen 7 7800X3D 8-Core Processor"))
    monkeypatch.setattr(windows, "read_simd", lambda: windows.simd_from_processor_features(
        {13, 36, 37, 38, 39, 40, 41}.__contains__))
    profile = probe_hardware(platform_name="win32")
    assert profile.cpu.model_name == "AMD Ryzen 7 7800X3D 8-Core Processor"
    assert {"avx2", "avx512f"} <= set(profile.cpu.simd)
    assert [(g.vendor, g.total_bytes) for g in profile.gpus] == [
        ("nvidia", 16376 * 1024**2), ("amd", 512 * 1024**2)]
    if nvidia_unavailable_here():
        assert profile.unknown("nvidia") is not None  # the card is listed, its driver silent


def nvidia_unavailable_here() -> bool:
    try:
        nvidia.read_nvidia_gpus()
    except nvidia.NvidiaUnavailable:
        return True
    return False


# --- can this llama.cpp offload? -------------------------------------------------------

def test_this_cpu_only_build_is_known_without_asking(tmp_path: Path) -> None:
    answer, reason = offload.probe_gpu_offload(cache_dir=tmp_path, ask=_raise(AssertionError(
        "must not import llama_cpp for a CPU-only build")))
    backends, cpu_split, files = offload.scan_backends(offload.llama_lib_dirs())
    assert files, "llama-cpp-python's libraries were not found"
    assert cpu_split and backends == ()
    assert (answer.supported, answer.how, reason) == (False, "cpu-only build", None)


def _fake_build(folder: Path, *backends: str) -> Path:
    """A llama-cpp-python lib folder as a CUDA/Vulkan wheel lays it out (cannot exist here)."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("libllama.so", "libggml.so", "libggml-base.so", "libggml-cpu.so",
                 *(f"libggml-{b}.so" for b in backends)):
        (folder / name).write_bytes(b"\x7fELF")
    return folder


def test_a_gpu_build_asks_llama_cpp_once_then_uses_the_cache(tmp_path: Path) -> None:
    lib = _fake_build(tmp_path / "lib", "cuda")
    asked: list[int] = []

    def ask() -> bool:
        asked.append(1)
        return True

    def probe(gpus: tuple[str, ...] = ("NVIDIA GeForce RTX 3060",)):  # noqa: ANN202
        return offload.probe_gpu_offload(cache_dir=tmp_path / "cache", gpu_names=gpus,
                                         lib_dirs=[lib], ask=ask)[0]

    first = probe()
    assert (first.supported, first.backends, first.how) == (True, ("cuda",), "asked llama.cpp")
    second = probe()
    assert (second.supported, second.how, len(asked)) == (True, "cached answer", 1)
    probe(("NVIDIA GeForce RTX 4090",))  # a different card: ask again
    assert len(asked) == 2
    (lib / "libggml-cuda.so").write_bytes(b"\x7fELF-a-new-build")  # a rebuilt library
    probe(("NVIDIA GeForce RTX 4090",))
    assert len(asked) == 3


def test_a_gpu_build_that_cannot_load_is_unknown_with_the_reason(tmp_path: Path) -> None:
    lib = _fake_build(tmp_path / "lib", "vulkan", "rpc")
    answer, reason = offload.probe_gpu_offload(
        cache_dir=tmp_path, lib_dirs=[lib], ask=_raise(OSError("libvulkan.so.1: cannot open")))
    assert answer.supported is None and answer.backends == ("vulkan",)
    assert reason is not None and "libvulkan.so.1" in reason
    assert not (tmp_path / offload.CACHE_FILE_NAME).exists()  # nothing cached from a failure


def test_no_llama_cpp_at_all(tmp_path: Path) -> None:
    answer, reason = offload.probe_gpu_offload(cache_dir=tmp_path, lib_dirs=[tmp_path])
    assert answer.supported is None and reason and "not installed" in reason


def test_the_real_question_agrees_with_the_cheap_answer_here() -> None:
    answer, _ = offload.probe_gpu_offload(cache_dir=hearth_paths().cache)
    assert offload.ask_llama_cpp() is answer.supported
