"""``probe_hardware()``: ask every source once, fail soft, return one frozen profile.

Each source is read through a module attribute (``linux_cpu.read_text``,
``nvidia.read_nvidia_gpus`` …) and wrapped so that whatever it raises or returns
becomes, at worst, an ``Unknown`` note: the probe itself never raises.
"""

from __future__ import annotations

import logging
import os
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from wizard.hardware import amd, apple, linux_cpu, nvidia, offload, system, windows
from wizard.hardware.model import (
    CpuInfo,
    DiskInfo,
    GpuInfo,
    GpuOffload,
    HardwareProfile,
    MemoryInfo,
    Notes,
    OsInfo,
    PowerInfo,
)

if TYPE_CHECKING:
    from wizard.paths import HearthPaths

log = logging.getLogger(__name__)
T = TypeVar("T")

PROC_CPUINFO = Path("/proc/cpuinfo")
PROC_MEMINFO = Path("/proc/meminfo")
OS_RELEASE = Path("/etc/os-release")


def probe_hardware(*, models_dir: Path | None = None, cache_dir: Path | None = None,
                   platform_name: str | None = None) -> HardwareProfile:
    """Look at this computer. Never raises.

    Takes ~20 ms here (tests/bench/bench_hardware_probe.py; goal < 300 ms). The one slow
    step, asking llama.cpp about GPU offload (0.3–0.5 s), happens only for a GPU build
    whose answer the cards found cannot settle, on its first probe (then it is cached;
    see ``offload``).

    ``models_dir`` / ``cache_dir`` default to ``hearth_paths()``; ``platform_name``
    (``sys.platform``) is for tests.
    """
    started = time.perf_counter()
    notes = Notes()
    plat = platform_name or sys.platform
    if models_dir is None or cache_dir is None:
        paths = _soft(notes, "paths", _hearth_paths, None)
        models_dir = models_dir or (paths.models if paths else Path.home())
        cache_dir = cache_dir or (paths.cache if paths else None)

    if plat.startswith("linux"):
        cpu, memory, gpus, os_fields = _probe_linux(notes)
    elif plat == "darwin":
        cpu, memory, gpus, os_fields = _probe_macos(notes)
    elif plat == "win32":
        cpu, memory, gpus, os_fields = _probe_windows(notes)
    else:
        cpu = _generic_cpu(notes, model_name=platform.processor() or None, simd=())
        memory = _soft(notes, "memory", system.memory_from_psutil, MemoryInfo(), MemoryInfo)
        gpus, os_fields = [], None
        notes.add("gpu", f"graphics cards are not checked on {plat}")

    os_info = _soft(notes, "os", lambda: system.os_info(linux_pretty_name=os_fields),
                    OsInfo(name=platform.system()), OsInfo)
    disk = _soft(notes, "disk", lambda: system.disk_info(models_dir),
                 DiskInfo(models_dir=str(models_dir)), DiskInfo)
    power = _soft(notes, "battery", system.power_info, PowerInfo(), PowerInfo)
    gpu_offload = _probe_offload(notes, cache_dir, gpus)
    _note_unknown_free_memory(notes, gpus)

    return HardwareProfile(
        os=os_info, memory=memory, cpu=cpu, gpus=tuple(gpus), gpu_offload=gpu_offload,
        disk=disk, power=power, unknowns=tuple(notes.items),
        probe_seconds=time.perf_counter() - started,
    )


def _probe_linux(notes: Notes) -> tuple[CpuInfo, MemoryInfo, list[GpuInfo], str | None]:
    cpuinfo = _soft(notes, "cpu", lambda: linux_cpu.parse_cpuinfo(
        linux_cpu.read_text(PROC_CPUINFO)), None, linux_cpu.CpuInfoFields)
    cpu = _generic_cpu(
        notes,
        model_name=cpuinfo.model_name if cpuinfo else None,
        simd=cpuinfo.simd if cpuinfo else (),
        physical_cores=cpuinfo.physical_cores if cpuinfo else None,
    )
    memory = _soft(notes, "memory", lambda: linux_cpu.parse_meminfo(
        linux_cpu.read_text(PROC_MEMINFO)), MemoryInfo(), MemoryInfo)
    if not memory.total_bytes:
        memory = _soft(notes, "memory", system.memory_from_psutil, MemoryInfo(), MemoryInfo)
    pretty = _soft(notes, "os", lambda: linux_cpu.parse_os_release(
        linux_cpu.read_text(OS_RELEASE)), None, (str, type(None)))

    sysfs = _soft(notes, "gpu", lambda: _gpu_list(amd.gpus_from_sysfs(amd.DRM_ROOT)), None)
    nvidia_seen = sysfs is None or any(gpu.vendor == "nvidia" for gpu in sysfs)
    gpus = _merge_nvidia(notes, sysfs or [], must_explain=nvidia_seen)
    return cpu, memory, gpus, pretty


def _probe_macos(notes: Notes) -> tuple[CpuInfo, MemoryInfo, list[GpuInfo], None]:
    values = _soft(notes, "sysctl", apple.read_sysctl, {}, dict)
    parsed = apple.cpu_from_sysctl(values, architecture=platform.machine() or None)
    cpu = _generic_cpu(notes, model_name=parsed.model_name, simd=parsed.simd,
                       physical_cores=parsed.physical_cores,
                       performance_cores=parsed.performance_cores)
    memory = _soft(notes, "memory", system.memory_from_psutil, MemoryInfo(), MemoryInfo)
    memsize = apple.memory_total_from_sysctl(values)
    if memsize and not memory.total_bytes:
        memory = MemoryInfo(total_bytes=memsize)
    gpu = apple.apple_gpu_from_sysctl(values)
    if gpu is None:
        notes.add("gpu", "graphics cards on Intel Macs are not checked yet")
    return cpu, memory, [gpu] if gpu else [], None


def _probe_windows(notes: Notes) -> tuple[CpuInfo, MemoryInfo, list[GpuInfo], None]:
    cpu = _generic_cpu(
        notes,
        model_name=_soft(notes, "cpu", windows.read_cpu_name, None, (str, type(None)))
        or platform.processor() or None,
        simd=_soft(notes, "cpu", windows.read_simd, (), tuple),
    )
    memory = _soft(notes, "memory", system.memory_from_psutil, MemoryInfo(), MemoryInfo)
    registry = _soft(notes, "gpu", lambda: _gpu_list(windows.gpus_from_display_class(
        windows.read_display_class())), None)
    nvidia_seen = registry is None or any(gpu.vendor == "nvidia" for gpu in registry)
    return cpu, memory, _merge_nvidia(notes, registry or [], must_explain=nvidia_seen), None


def _merge_nvidia(notes: Notes, others: list[GpuInfo], *, must_explain: bool) -> list[GpuInfo]:
    """NVIDIA's own figures replace the OS listing's entries for NVIDIA cards."""
    try:
        found = _gpu_list(nvidia.read_nvidia_gpus())
    except nvidia.NvidiaUnavailable as exc:
        if must_explain:  # a card is there (or we cannot tell) but its driver did not answer
            notes.add("nvidia", str(exc))
        return others
    except Exception as exc:  # noqa: BLE001 - one broken driver must not stop the probe
        notes.add("nvidia", _reason(exc))
        return others
    if not found:
        return others
    return found + [gpu for gpu in others if gpu.vendor != "nvidia"]


def _probe_offload(notes: Notes, cache_dir: Path | None, gpus: list[GpuInfo]) -> GpuOffload:
    def run() -> GpuOffload:
        if cache_dir is None:
            raise OSError("no cache folder")
        listed = not any(note.what in ("gpu", "nvidia") for note in notes.items)
        answer, reason = offload.probe_gpu_offload(cache_dir=cache_dir, gpus=gpus, cards_listed=listed)
        if reason:
            notes.add("gpu_offload", reason)
        return answer

    return _soft(notes, "gpu_offload", run, GpuOffload(), GpuOffload)


# Why a dedicated card's free memory is unknown, by where its figures came from.
_NO_FREE_MEMORY = {
    "nvml": "NVIDIA's driver (NVML) did not report its memory",
    "nvidia-smi": "nvidia-smi reported no free memory for it",
    "sysfs": "the system's device list (sysfs) does not say how much of its memory is in use",
    "registry": "Windows' registry gives only a card's total memory, so Hearth plans with the total",
}


def _note_unknown_free_memory(notes: Notes, gpus: list[GpuInfo]) -> None:
    """One note per dedicated card whose free memory is unknown (a shared one uses the computer's)."""
    for gpu in gpus:
        if gpu.free_bytes is None and not gpu.unified_memory:
            reason = _NO_FREE_MEMORY.get(gpu.source, "no source reported it")
            notes.add("gpu_free_memory", f"{gpu.name}: free memory unknown ({reason})")


def _generic_cpu(notes: Notes, *, model_name: str | None, simd: tuple[str, ...],
                 physical_cores: int | None = None,
                 performance_cores: int | None = None) -> CpuInfo:
    if physical_cores is None:
        physical_cores = _soft(notes, "cpu", system.physical_cores_from_psutil, None,
                               (int, type(None)))
    if not model_name:
        notes.add("cpu", "the processor did not report its name")
    return CpuInfo(
        model_name=model_name if isinstance(model_name, str) else None,
        architecture=platform.machine() or None,
        physical_cores=physical_cores if isinstance(physical_cores, int) else None,
        logical_cores=os.cpu_count(),
        performance_cores=performance_cores,
        simd=tuple(simd) if isinstance(simd, tuple) else (),
    )


def _hearth_paths() -> HearthPaths:
    from wizard.paths import hearth_paths  # late, so a broken paths module is one note

    return hearth_paths()


def _soft(notes: Notes, what: str, read: Callable[[], T], default: T,
          expect: type | tuple[type, ...] | None = None) -> T:
    """``read()``, or ``default`` plus a note saying why not (it raised, or it answered
    something that is not an ``expect``)."""
    try:
        result = read()
    except Exception as exc:  # noqa: BLE001 - every probe fails soft, by design
        log.debug("hardware probe %s failed", what, exc_info=True)
        notes.add(what, _reason(exc))
        return default
    if expect is not None and not isinstance(result, expect):
        notes.add(what, f"unexpected answer: {type(result).__name__}")
        return default
    return result


def _gpu_list(value: object) -> list[GpuInfo]:
    try:
        return [gpu for gpu in value if isinstance(gpu, GpuInfo)]  # type: ignore[attr-defined]
    except TypeError:
        return []


def _reason(exc: BaseException) -> str:
    if isinstance(exc, FileNotFoundError) and exc.filename:
        return f"{exc.filename} not found"
    text = str(exc) or type(exc).__name__
    return text if len(text) <= 200 else text[:197] + "..."
