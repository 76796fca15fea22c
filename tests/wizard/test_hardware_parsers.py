"""Each hardware parser fed the real outputs in tests/wizard/fixtures/hardware (see its README)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from wizard.hardware import amd, apple, linux_cpu, nvidia, windows
from wizard.hardware.model import GpuInfo
from wizard.hardware.system import windows_version

FIXTURES = Path(__file__).parent / "fixtures" / "hardware"
MIB = 1024**2
GIB = 1024**3


def fixture(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


# --- Linux /proc ---------------------------------------------------------------------

def test_this_machines_cpuinfo_gives_model_cores_and_x86_features() -> None:
    cpu = linux_cpu.parse_cpuinfo(fixture("linux-x86_64-xeon-cpuinfo.txt"))
    assert cpu.model_name == "Intel(R) Xeon(R) Processor"
    assert (cpu.logical_cores, cpu.physical_cores) == (2, 2)
    assert {"avx", "avx2", "fma", "f16c", "avx512f", "avx512_vnni", "amx_int8"} <= set(cpu.simd)
    assert "neon" not in cpu.simd and "sve" not in cpu.simd
    assert list(cpu.simd) == sorted(cpu.simd)


def test_graviton3_cpuinfo_names_the_core_and_finds_sve() -> None:
    cpu = linux_cpu.parse_cpuinfo(fixture("linux-aarch64-graviton3-cpuinfo.txt"))
    assert cpu.model_name == "ARM Neoverse V1"  # aarch64 has no "model name": from CPU part 0xd40
    assert cpu.logical_cores == 2
    assert cpu.physical_cores is None  # no "core id" lines on ARM: the probe asks psutil
    assert {"neon", "sve", "i8mm", "bf16", "dotprod", "fp16"} <= set(cpu.simd)
    assert "sve2" not in cpu.simd and "avx2" not in cpu.simd


def test_rk3399_cpuinfo_has_neon_and_nothing_newer() -> None:
    cpu = linux_cpu.parse_cpuinfo(fixture("linux-aarch64-rk3399-cpuinfo.txt"))
    assert cpu.model_name == "ARM Cortex-A53"
    assert cpu.simd == ("neon",)


@pytest.mark.parametrize("garbage", ["", "\x00\xff\x10", "processor\n\n\n", "flags: : :"])
def test_cpuinfo_garbage_gives_nothing_rather_than_an_error(garbage: str) -> None:
    cpu = linux_cpu.parse_cpuinfo(garbage)
    assert cpu.model_name is None and cpu.physical_cores is None


def test_meminfo_values_are_bytes() -> None:
    memory = linux_cpu.parse_meminfo(fixture("linux-x86_64-meminfo.txt"))
    assert memory.total_bytes == 24684096 * 1024
    assert memory.available_bytes == 23301364 * 1024
    assert (memory.swap_total_bytes, memory.swap_free_bytes) == (0, 0)
    assert linux_cpu.parse_meminfo("MemTotal: lots\n").total_bytes is None


def test_os_release_pretty_name() -> None:
    text = 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\n'
    assert linux_cpu.parse_os_release(text) == "Debian GNU/Linux 12 (bookworm)"
    assert linux_cpu.parse_os_release('NAME=Fedora\nVERSION="40 (Workstation)"\n') == \
        "Fedora 40 (Workstation)"
    assert linux_cpu.parse_os_release("") is None


# --- NVIDIA --------------------------------------------------------------------------

def test_nvidia_smi_two_different_cards() -> None:
    gpus = nvidia.parse_nvidia_smi_csv(fixture("nvidia-smi-rtx4080super-rtx3060.csv"))
    assert [g.name for g in gpus] == ["NVIDIA GeForce RTX 4080 SUPER", "NVIDIA GeForce RTX 3060"]
    assert gpus[0].total_bytes == 16376 * MIB and gpus[0].free_bytes == 15172 * MIB
    assert gpus[1].total_bytes == 12288 * MIB and gpus[1].free_bytes == 1278 * MIB
    assert {g.driver for g in gpus} == {"581.29"}
    assert all(g.vendor == "nvidia" and g.source == "nvidia-smi" and not g.unified_memory
               for g in gpus)


def test_nvidia_smi_two_4090s() -> None:
    gpus = nvidia.parse_nvidia_smi_csv(fixture("nvidia-smi-2x-rtx4090.csv"))
    assert len(gpus) == 2 and all(g.total_bytes == 24564 * MIB for g in gpus)
    assert gpus[0].driver == "550.163.01"


def test_nvidia_smi_unified_memory_card_reports_unknown_memory_not_zero() -> None:
    (gpu,) = nvidia.parse_nvidia_smi_csv(fixture("nvidia-smi-gb10-unified.csv"))
    assert gpu.name == "NVIDIA GB10"
    assert gpu.total_bytes is None and gpu.free_bytes is None
    assert gpu.driver == "580.126.09"


def test_nvidia_smi_error_text_is_not_a_card() -> None:
    assert nvidia.parse_nvidia_smi_csv(fixture("nvidia-smi-driver-failed.txt")) == []
    assert nvidia.parse_nvidia_smi_csv("a, b, c, d\n\n,,,\n") == []


def test_nvml_readings_become_cards() -> None:
    (gpu,) = nvidia.gpus_from_nvml_values("550.54.14", [("NVIDIA GeForce RTX 3060", 12 * GIB, 11 * GIB)])
    assert gpu == GpuInfo(vendor="nvidia", name="NVIDIA GeForce RTX 3060", total_bytes=12 * GIB,
                          free_bytes=11 * GIB, driver="550.54.14", source="nvml")


# --- AMD / sysfs ---------------------------------------------------------------------

def _card(root: Path, name: str, vendor: str, device: str, files: dict[str, str]) -> Path:
    """A /sys/class/drm/cardN entry laid out as the kernel does: cardN/device -> the PCI device."""
    pci = root / "devices" / f"0000:{len(list((root / 'devices').glob('*'))) + 3:02x}:00.0"
    pci.mkdir(parents=True)
    (pci / "vendor").write_text(vendor + "\n")
    (pci / "device").write_text(device + "\n")
    for file_name, text in files.items():
        (pci / file_name).write_text(text + "\n")
    card = root / "class" / "drm" / name
    card.mkdir(parents=True)
    (card / "device").symlink_to(pci)
    return pci


def _amd_tree(tmp_path: Path) -> Path:
    (tmp_path / "devices").mkdir()
    drivers = tmp_path / "bus" / "pci" / "drivers" / "amdgpu"
    drivers.mkdir(parents=True)
    apu = _card(tmp_path, "card0", "0x1002", "0x164e",
                {"mem_info_vram_total": "536870912", "mem_info_vram_used": "17227776"})
    dgpu = _card(tmp_path, "card1", "0x1002", "0x744c",
                 {"mem_info_vram_total": "25753026560", "mem_info_vram_used": "1048576"})
    for pci in (apu, dgpu):
        (pci / "driver").symlink_to(drivers)
    drm = tmp_path / "class" / "drm"
    (drm / "card1-DP-1").mkdir()  # a connector, not a card
    (drm / "renderD128").symlink_to(dgpu)  # second node of the same card
    _card(tmp_path, "card2", "0x1af4", "0x1050", {})  # virtio GPU: not a vendor we size
    return drm


def test_amd_sysfs_tree_gives_the_rx7900xtx_and_the_integrated_raphael(tmp_path: Path) -> None:
    drm = _amd_tree(tmp_path)
    gpus = amd.gpus_from_sysfs(drm, pci_ids=fixture("pci-ids-excerpt.txt"))
    assert [g.name for g in gpus] == ["Raphael", "Navi 31 [Radeon RX 7900 XT/7900 XTX]"]
    apu, dgpu = gpus
    assert dgpu.total_bytes == 25753026560 and dgpu.free_bytes == 25753026560 - 1048576
    assert not dgpu.unified_memory
    assert apu.total_bytes == 536870912 and apu.unified_memory
    assert {g.vendor for g in gpus} == {"amd"} and {g.driver for g in gpus} == {"amdgpu"}
    assert {g.source for g in gpus} == {"sysfs"}


def test_amd_sysfs_prefers_the_drivers_product_name_and_lists_nvidia_without_memory(
        tmp_path: Path) -> None:
    (tmp_path / "devices").mkdir()
    _card(tmp_path, "card0", "0x1002", "0x744c", {"product_name": "AMD Radeon RX 7900 XTX",
                                                  "mem_info_vram_total": "25753026560"})
    _card(tmp_path, "card1", "0x10de", "0x2504", {})
    gpus = amd.gpus_from_sysfs(tmp_path / "class" / "drm", pci_ids="")
    assert gpus[0].name == "AMD Radeon RX 7900 XTX" and gpus[0].free_bytes is None
    assert gpus[1].vendor == "nvidia" and gpus[1].name == "NVIDIA graphics (device 0x2504)"
    assert gpus[1].total_bytes is None


def test_pci_ids_lookup() -> None:
    text = fixture("pci-ids-excerpt.txt")
    assert amd.pci_device_name(text, "0x1002", "0x744C") == "Navi 31 [Radeon RX 7900 XT/7900 XTX]"
    assert amd.pci_device_name(text, "0x1002", "0xffff") is None
    assert amd.pci_device_name(text, "0x1003", "0x744c") is None


# --- Apple ---------------------------------------------------------------------------

def test_m1_16gb_cpu_memory_and_metal_limit() -> None:
    values = apple.parse_sysctl(fixture("macos-m1-16gb-sysctl.txt"))
    cpu = apple.cpu_from_sysctl(values)
    assert cpu.model_name == "Apple M1" and cpu.architecture == "arm64"
    assert (cpu.physical_cores, cpu.logical_cores, cpu.performance_cores) == (8, 8, 4)
    assert {"neon", "dotprod", "fp16"} <= set(cpu.simd)
    assert "i8mm" not in cpu.simd and "bf16" not in cpu.simd  # the M2 added those
    assert apple.memory_total_from_sysctl(values) == 16 * GIB
    gpu = apple.apple_gpu_from_sysctl(values)
    assert gpu is not None and gpu.vendor == "apple" and gpu.unified_memory
    # llama.cpp printed "recommendedMaxWorkingSetSize = 11453.25 MB" on 16 GB machines
    assert gpu.total_bytes == pytest.approx(11453.25e6, rel=1e-4)


def test_m2_24gb_has_i8mm_and_about_three_quarters_for_the_gpu() -> None:
    values = apple.parse_sysctl(fixture("macos-m2-24gb-sysctl.txt"))
    cpu = apple.cpu_from_sysctl(values)
    assert {"i8mm", "bf16"} <= set(cpu.simd)
    gpu = apple.apple_gpu_from_sysctl(values)
    assert gpu is not None and gpu.name == "Apple M2 graphics"
    assert 0.7 * 24 * GIB < gpu.total_bytes < 0.78 * 24 * GIB


def test_m3_max_raised_wired_limit_overrides_the_default() -> None:
    values = apple.parse_sysctl(fixture("macos-m3max-64gb-sysctl.txt"))
    cpu = apple.cpu_from_sysctl(values)
    assert (cpu.physical_cores, cpu.performance_cores) == (16, 12)
    gpu = apple.apple_gpu_from_sysctl(values)
    assert gpu is not None and gpu.total_bytes == 57344 * MIB


@pytest.mark.parametrize(("ram_gib", "measured_bytes"), [
    (16, 11453.25e6), (18, 14302.25e6), (32, 26800.60e6), (36, 30150.67e6), (128, 115448725504),
])
def test_metal_default_never_promises_more_than_llama_cpp_measured(ram_gib: int,
                                                                  measured_bytes: float) -> None:
    estimate = apple.metal_working_set_bytes(ram_gib * GIB)
    assert estimate <= measured_bytes * 1.0001
    assert estimate >= measured_bytes * 0.85  # and does not throw much of it away either


def test_intel_mac_has_no_apple_gpu_but_keeps_its_features() -> None:
    values = apple.parse_sysctl(
        "machdep.cpu.brand_string: Intel(R) Core(TM) i7-8700B CPU @ 3.20GHz\n"
        "machdep.cpu.features: FPU VME SSE3 SSSE3 FMA SSE4.1 SSE4.2 AVX1.0 F16C\n"
        "machdep.cpu.leaf7_features: RDWRFSGS BMI1 AVX2 SMEP BMI2\n"
        "hw.physicalcpu: 6\nhw.logicalcpu: 12\nhw.memsize: 68719476736\n")
    assert apple.apple_gpu_from_sysctl(values) is None
    cpu = apple.cpu_from_sysctl(values, architecture="x86_64")
    assert set(cpu.simd) == {"sse3", "ssse3", "fma", "sse4_1", "sse4_2", "avx", "f16c", "avx2"}
    assert cpu.performance_cores is None


# --- Windows -------------------------------------------------------------------------

def test_registry_rx7900xt_reads_the_64_bit_size() -> None:
    (gpu,) = windows.gpus_from_display_class(windows.parse_reg_query(fixture("windows-reg-rx7900xt.txt")))
    assert gpu.name == "AMD Radeon RX 7900 XT" and gpu.vendor == "amd"
    assert gpu.total_bytes == 0x4FF000000 and gpu.total_bytes > 4 * GIB  # past WMI's 4 GB cap
    assert not gpu.unified_memory and gpu.source == "registry"


def test_registry_two_cards() -> None:
    gpus = windows.gpus_from_display_class(
        windows.parse_reg_query(fixture("windows-reg-arc-b60-rx6800xt.txt")))
    assert [(g.vendor, g.total_bytes) for g in gpus] == [("intel", 24 * GIB), ("amd", 16 * GIB)]
    assert not any(g.unified_memory for g in gpus)


def test_registry_french_output_with_an_integrated_radeon() -> None:
    adapters = windows.parse_reg_query(fixture("windows-reg-rtx4080s-radeon-igpu-fr.txt"))
    assert [a["__key__"] for a in adapters] == ["0000", "0001"]
    nvidia_card, igpu = windows.gpus_from_display_class(adapters)
    assert nvidia_card.vendor == "nvidia" and nvidia_card.total_bytes == 16376 * MIB
    assert igpu.vendor == "amd" and igpu.total_bytes == 512 * MIB and igpu.unified_memory


def test_registry_values_as_winreg_returns_them() -> None:
    adapters = [
        {"DriverDesc": "NVIDIA GeForce RTX 3060", "MatchingDeviceId": "pci\\ven_10de&dev_2504",
         "HardwareInformation.qwMemorySize": (12 * GIB).to_bytes(8, "little"),
         "DriverVersion": "31.0.15.5585"},
        {"DriverDesc": "Microsoft Basic Display Adapter", "HardwareInformation.qwMemorySize": GIB},
        {"DriverDesc": "NVIDIA GeForce GTX 1080", "HardwareInformation.MemorySize": 0xFFF00000},
        {"DriverDesc": "Intel(R) UHD Graphics 620", "HardwareInformation.MemorySize": 128 * MIB},
    ]
    rtx, gtx, uhd = windows.gpus_from_display_class(adapters)
    assert (rtx.total_bytes, rtx.driver) == (12 * GIB, "31.0.15.5585")
    assert gtx.total_bytes is None  # the 32-bit value at its cap is not a reading
    assert uhd.vendor == "intel" and uhd.total_bytes == 128 * MIB and uhd.unified_memory


def test_windows_processor_features_and_version() -> None:
    assert windows.simd_from_processor_features({13, 39, 40, 41}.__contains__) == (
        "avx", "avx2", "avx512f", "sse3")
    assert windows_version("10.0.22631") == "11 (build 22631)"
    assert windows_version("10.0.19045") == "10 (build 19045)"


@pytest.mark.skipif(os.name == "nt", reason="checks the refusal off Windows")
def test_windows_readers_refuse_politely_elsewhere() -> None:
    for read in (windows.read_display_class, windows.read_cpu_name, windows.read_simd):
        with pytest.raises(OSError):
            read()
