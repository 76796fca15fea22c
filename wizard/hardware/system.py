"""What every operating system answers the same way: disk, battery, OS name, memory via psutil."""

from __future__ import annotations

import platform
import shutil
import sys
from pathlib import Path

from wizard.hardware.model import DiskInfo, MemoryInfo, OsInfo, PowerInfo


def nearest_existing(path: Path) -> Path:
    """``path`` or its closest parent that exists (models/ may not exist before setup)."""
    current = path.expanduser().absolute()
    while not current.exists() and current.parent != current:
        current = current.parent
    return current


def disk_info(models_dir: Path) -> DiskInfo:
    """Free and total space on the disk that holds ``models_dir``. Raises OSError."""
    measured = nearest_existing(models_dir)
    usage = shutil.disk_usage(measured)
    return DiskInfo(models_dir=str(models_dir), measured_path=str(measured),
                    free_bytes=int(usage.free), total_bytes=int(usage.total))


def power_info() -> PowerInfo:
    """Battery state via psutil. No battery (a desktop) means not on battery."""
    import psutil

    sensors = getattr(psutil, "sensors_battery", None)
    battery = sensors() if sensors is not None else None
    if battery is None:
        return PowerInfo(has_battery=False, on_battery=False, battery_percent=None)
    plugged = battery.power_plugged
    return PowerInfo(
        has_battery=True,
        on_battery=None if plugged is None else not plugged,
        battery_percent=round(float(battery.percent), 1),
    )


def memory_from_psutil() -> MemoryInfo:
    import psutil

    virtual = psutil.virtual_memory()
    swap = psutil.swap_memory()
    return MemoryInfo(total_bytes=int(virtual.total), available_bytes=int(virtual.available),
                      swap_total_bytes=int(swap.total), swap_free_bytes=int(swap.free))


def physical_cores_from_psutil() -> int | None:
    import psutil

    return psutil.cpu_count(logical=False)


def os_info(*, linux_pretty_name: str | None = None) -> OsInfo:
    """The operating system in the words its users know ("Windows 11", "macOS 14.5")."""
    kernel = platform.release()
    if sys.platform == "darwin":
        return OsInfo(name="macOS", version=platform.mac_ver()[0], kernel=f"Darwin {kernel}")
    if sys.platform == "win32":
        return OsInfo(name="Windows", version=windows_version(platform.version()),
                      kernel=platform.version())
    if sys.platform.startswith("linux"):
        return OsInfo(name="Linux", version=linux_pretty_name or "", kernel=kernel)
    return OsInfo(name=platform.system(), version=platform.version(), kernel=kernel)


def windows_version(version: str) -> str:
    """"10.0.22631" → "11 (build 22631)": Windows 11 still calls itself 10.0."""
    parts = version.split(".")
    if len(parts) >= 3 and parts[2].isdigit():
        build = int(parts[2])
        major = "11" if parts[0] == "10" and build >= 22000 else parts[0]
        return f"{major} (build {build})"
    return version
