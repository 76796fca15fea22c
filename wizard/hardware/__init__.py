"""Know the machine: one frozen ``HardwareProfile`` from ``probe_hardware()``.

Each source has its own module with pure parsers fed by real captured outputs in the
tests: ``linux_cpu`` (/proc), ``nvidia`` (NVML / nvidia-smi), ``amd`` (sysfs),
``apple`` (sysctl), ``windows`` (registry), ``system`` (disk, battery, OS),
``offload`` (can this llama.cpp use a graphics card). ``summary`` turns a profile into
plain words for the wizard's "Your computer" card.
"""

from __future__ import annotations

from wizard.hardware.model import (
    CpuInfo,
    DiskInfo,
    GpuInfo,
    GpuOffload,
    HardwareProfile,
    MemoryInfo,
    OsInfo,
    PowerInfo,
    Unknown,
)
from wizard.hardware.probe import probe_hardware

__all__ = [
    "CpuInfo",
    "DiskInfo",
    "GpuInfo",
    "GpuOffload",
    "HardwareProfile",
    "MemoryInfo",
    "OsInfo",
    "PowerInfo",
    "Unknown",
    "probe_hardware",
]
