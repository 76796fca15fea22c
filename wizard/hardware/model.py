"""What Hearth knows about the computer: small frozen dataclasses, JSON-ready.

Every field that could not be read is ``None`` and the reason is one ``Unknown`` note
in ``HardwareProfile.unknowns``; nothing here is ever a guess presented as a reading.
Sizes are bytes (int) everywhere.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Unknown:
    """Something the probe could not find out, and why (shown by ``hearth doctor``)."""

    what: str  # e.g. "nvidia", "cpu", "battery"
    reason: str  # plain words, e.g. "nvidia-smi not found"


@dataclass(frozen=True)
class MemoryInfo:
    total_bytes: int | None = None
    available_bytes: int | None = None
    swap_total_bytes: int | None = None
    swap_free_bytes: int | None = None


@dataclass(frozen=True)
class CpuInfo:
    model_name: str | None = None
    architecture: str | None = None  # platform.machine(): x86_64, arm64, AMD64 …
    physical_cores: int | None = None
    logical_cores: int | None = None
    performance_cores: int | None = None  # Apple Silicon P-cores; None elsewhere
    simd: tuple[str, ...] = ()  # normalised, sorted: avx2, avx512f, fma, neon, sve …


@dataclass(frozen=True)
class GpuInfo:
    vendor: str  # "nvidia", "amd", "apple", "intel" or "other"
    name: str
    total_bytes: int | None = None  # what a model may use (Apple: the Metal working-set limit)
    free_bytes: int | None = None
    driver: str | None = None
    unified_memory: bool = False  # shares the computer's RAM (Apple Silicon, most iGPUs)
    source: str = ""  # where the numbers came from: nvml, nvidia-smi, sysfs, sysctl, registry


@dataclass(frozen=True)
class GpuOffload:
    """Whether the installed llama.cpp can put model layers on a graphics card."""

    supported: bool | None = None
    backends: tuple[str, ...] = ()  # GPU backends present in the build: cuda, metal, vulkan …
    how: str = ""  # how we know: "cpu-only build", "asked llama.cpp", "cached answer"


@dataclass(frozen=True)
class DiskInfo:
    models_dir: str = ""  # where models live
    measured_path: str = ""  # the nearest existing folder, actually measured
    free_bytes: int | None = None
    total_bytes: int | None = None


@dataclass(frozen=True)
class PowerInfo:
    has_battery: bool | None = None
    on_battery: bool | None = None
    battery_percent: float | None = None


@dataclass(frozen=True)
class OsInfo:
    name: str = ""  # "Linux", "macOS", "Windows"
    version: str = ""  # "Debian GNU/Linux 12 (bookworm)", "14.5", "11 (build 22631)"
    kernel: str = ""


@dataclass(frozen=True)
class HardwareProfile:
    """Everything the probe found, plus what it could not find out."""

    os: OsInfo
    memory: MemoryInfo
    cpu: CpuInfo
    gpus: tuple[GpuInfo, ...]
    gpu_offload: GpuOffload
    disk: DiskInfo
    power: PowerInfo
    unknowns: tuple[Unknown, ...] = ()
    probe_seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data with stable keys (tuples become lists, bytes stay ints)."""
        data = asdict(self)
        data["cpu"]["simd"] = list(self.cpu.simd)
        data["gpu_offload"]["backends"] = list(self.gpu_offload.backends)
        data["gpus"] = [asdict(gpu) for gpu in self.gpus]
        data["unknowns"] = [asdict(note) for note in self.unknowns]
        data["probe_seconds"] = round(self.probe_seconds, 4)
        return data

    def unknown(self, what: str) -> Unknown | None:
        """The first note about ``what``, if the probe left one."""
        return next((note for note in self.unknowns if note.what == what), None)


@dataclass
class Notes:
    """Collects ``Unknown`` notes while a probe runs (mutable helper, never returned)."""

    items: list[Unknown] = field(default_factory=list)

    def add(self, what: str, reason: str) -> None:
        self.items.append(Unknown(what=what, reason=reason))
