"""NVIDIA graphics cards: NVML (nvidia-ml-py) first, ``nvidia-smi`` output as the fallback.

NVML answers in a few milliseconds; nvidia-smi is a separate program that can take a
few hundred (it loads the same library, then initialises every card), so it is only
run when NVML itself is missing or fails.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterable

from wizard.hardware.model import GpuInfo

MIB = 1024 * 1024
NVIDIA_SMI_QUERY = [
    "--query-gpu=name,memory.total,memory.free,driver_version",
    "--format=csv,noheader,nounits",
]


class NvidiaUnavailable(Exception):
    """No NVIDIA driver answered; ``str(exc)`` is the reason in plain words."""


def parse_nvidia_smi_csv(text: str) -> list[GpuInfo]:
    """Cards from ``nvidia-smi --query-gpu=name,memory.total,memory.free,driver_version
    --format=csv,noheader,nounits`` output (memory in MiB).

    ``[N/A]`` / ``[Not Supported]`` (e.g. the unified-memory GB10) become ``None``; lines
    that are not four fields (error text, blank lines) are skipped. Never raises.
    """
    gpus = []
    for line in text.splitlines():
        fields = [field.strip() for field in line.rsplit(",", 3)]
        if len(fields) != 4 or not fields[0] or fields[0].startswith(("NVIDIA-SMI", "Failed")):
            continue
        name, total, free, driver = fields
        total_bytes, free_bytes = _mib(total), _mib(free)
        if total_bytes is None and free_bytes is None and not _is_version(driver):
            continue  # not a data line
        gpus.append(GpuInfo(
            vendor="nvidia", name=name, total_bytes=total_bytes, free_bytes=free_bytes,
            driver=driver if _is_version(driver) else None, source="nvidia-smi",
        ))
    return gpus


def gpus_from_nvml_values(driver: str | None, cards: Iterable[tuple[str, int | None, int | None]]
                          ) -> list[GpuInfo]:
    """Cards from NVML readings: ``(name, total_bytes, free_bytes)`` per card."""
    return [
        GpuInfo(vendor="nvidia", name=name, total_bytes=total, free_bytes=free,
                driver=driver, source="nvml")
        for name, total, free in cards
    ]


def read_nvidia_gpus(*, smi_timeout: float = 3.0) -> list[GpuInfo]:
    """Every NVIDIA card, through NVML or else nvidia-smi.

    Raises:
        NvidiaUnavailable: neither answered (the message says why, for both).
    """
    try:
        return _read_nvml()
    except NvidiaUnavailable as nvml_failed:
        nvml_reason = str(nvml_failed)
    smi = shutil.which("nvidia-smi")
    if smi is None:
        raise NvidiaUnavailable(f"{nvml_reason}; nvidia-smi not found")
    try:
        result = subprocess.run([smi, *NVIDIA_SMI_QUERY], capture_output=True, text=True,
                                timeout=smi_timeout, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise NvidiaUnavailable(f"{nvml_reason}; nvidia-smi did not answer ({exc})") from exc
    if result.returncode != 0:
        message = (result.stdout + result.stderr).strip().splitlines()
        detail = message[0] if message else f"exit code {result.returncode}"
        raise NvidiaUnavailable(f"{nvml_reason}; nvidia-smi failed: {detail}")
    return parse_nvidia_smi_csv(result.stdout)


def _read_nvml() -> list[GpuInfo]:
    try:
        import pynvml
    except ImportError as exc:
        raise NvidiaUnavailable("nvidia-ml-py is not installed") from exc
    try:
        pynvml.nvmlInit()
    except pynvml.NVMLError as exc:
        raise NvidiaUnavailable(f"NVIDIA driver library: {exc}") from exc
    try:
        driver = _text(pynvml.nvmlSystemGetDriverVersion())
        cards = []
        for index in range(pynvml.nvmlDeviceGetCount()):
            handle = pynvml.nvmlDeviceGetHandleByIndex(index)
            name = _text(pynvml.nvmlDeviceGetName(handle))
            try:
                memory = pynvml.nvmlDeviceGetMemoryInfo(handle)
                total, free = int(memory.total), int(memory.free)
            except pynvml.NVMLError:  # unified-memory parts (GB10, Jetson) report no VRAM
                total = free = None
            cards.append((name, total, free))
        return gpus_from_nvml_values(driver, cards)
    except pynvml.NVMLError as exc:
        raise NvidiaUnavailable(f"NVIDIA driver library: {exc}") from exc
    finally:
        try:
            pynvml.nvmlShutdown()
        except pynvml.NVMLError:
            pass


def _mib(value: str) -> int | None:
    try:
        return int(float(value) * MIB)
    except ValueError:
        return None


def _is_version(value: str) -> bool:
    return bool(value) and all(part.isdigit() for part in value.split("."))


def _text(value: str | bytes) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else value
