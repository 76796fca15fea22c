"""The "Your computer" card's words, for this machine and for machines built from real outputs."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import psutil

from wizard.hardware import apple, nvidia, probe_hardware
from wizard.hardware.model import (
    CpuInfo,
    DiskInfo,
    GpuOffload,
    HardwareProfile,
    MemoryInfo,
    OsInfo,
    PowerInfo,
    Unknown,
)
from wizard.hardware.summary import gigabytes, summarize, usable_model_memory

FIXTURES = Path(__file__).parent / "fixtures" / "hardware"
GIB = 1024**3


def _profile(*, ram_gib: float, free_gib: float, gpus=(), offload: bool | None = False,
             on_battery: bool = False, unknowns=()) -> HardwareProfile:  # noqa: ANN001
    return HardwareProfile(
        os=OsInfo(name="Linux"), memory=MemoryInfo(total_bytes=int(ram_gib * GIB)),
        cpu=CpuInfo(), gpus=tuple(gpus), gpu_offload=GpuOffload(supported=offload),
        disk=DiskInfo(free_bytes=int(free_gib * GIB)),
        power=PowerInfo(has_battery=on_battery, on_battery=on_battery), unknowns=tuple(unknowns))


def test_gigabytes_are_said_the_way_the_box_says_them() -> None:
    assert gigabytes(16 * GIB) == "16 GB"
    assert gigabytes(int(15.6 * GIB)) == "16 GB"  # what a "16 GB" laptop reports
    assert gigabytes(GIB // 2) == "0.5 GB"
    assert gigabytes(int(7.5 * GIB)) == "7.5 GB"
    assert gigabytes(120 * GIB) == "120 GB"


def test_this_machine() -> None:
    profile = probe_hardware()
    card = summarize(profile)
    ram = gigabytes(psutil.virtual_memory().total)
    assert card.headline.startswith(f"{ram} memory, ")
    assert card.headline.endswith(f"{gigabytes(profile.disk.free_bytes)} free")
    if not profile.gpus:
        assert "no graphics card" in card.headline
        assert "Hearth will use the processor" in card.meaning


def test_a_desktop_with_an_rtx_3060() -> None:
    (rtx3060,) = [g for g in nvidia.parse_nvidia_smi_csv(
        (FIXTURES / "nvidia-smi-rtx4080super-rtx3060.csv").read_text()) if "3060" in g.name]
    profile = _profile(ram_gib=16, free_gib=120, gpus=[rtx3060], offload=True)
    card = summarize(profile)
    assert card.headline == "16 GB memory, graphics card with 12 GB, 120 GB free"
    assert "12–14 billion" in card.meaning and "graphics card makes answers come quickly" in card.meaning
    assert card.details == ()

    cpu_build = summarize(replace(profile, gpu_offload=GpuOffload(supported=False)))
    assert cpu_build.headline == ("16 GB memory, graphics card with 12 GB (not used by this "
                                  "version of Hearth), 120 GB free")
    assert "7–8 billion" in cpu_build.meaning  # sized by memory alone


def test_a_16gb_m1() -> None:
    gpu = apple.apple_gpu_from_sysctl(apple.parse_sysctl(
        (FIXTURES / "macos-m1-16gb-sysctl.txt").read_text()))
    card = summarize(_profile(ram_gib=16, free_gib=200, gpus=[gpu], offload=True))
    assert card.headline == "16 GB memory, Apple chip (graphics share the memory), 200 GB free"
    assert "7–8 billion" in card.meaning and "Apple" in card.meaning


def test_a_small_laptop_on_battery_with_a_full_disk() -> None:
    card = summarize(_profile(ram_gib=8, free_gib=3.2, on_battery=True,
                              unknowns=[Unknown("battery", "x")]))
    assert card.headline == "8 GB memory, no graphics card, 3.2 GB free"
    assert "3–4 billion" in card.meaning
    assert len(card.details) == 3
    assert "battery" in card.details[0] and "almost full" in card.details[1]


def test_unknown_memory_means_start_small() -> None:
    profile = replace(_profile(ram_gib=0, free_gib=50), memory=MemoryInfo())
    assert usable_model_memory(profile) is None
    card = summarize(profile)
    assert card.headline == "no graphics card, 50 GB free"
    assert "small AI model to be safe" in card.meaning
