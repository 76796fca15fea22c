"""Windows: graphics memory from the display-adapter registry keys, CPU name and features.

WMI's ``Win32_VideoController.AdapterRAM`` is a 32-bit number: every card with 4 GB or
more reads as ~4 GB. The driver also writes the true size as a 64-bit
``HardwareInformation.qwMemorySize`` under the display class key (what DXGI's
``DedicatedVideoMemory`` reports), so Hearth reads that with ``winreg`` — no WMI, no
PowerShell, a few milliseconds.

``parse_reg_query`` reads the text of ``reg query <key> /s`` into the same shape as
``winreg`` gives, so a consultant's captured output (and the tests) go through the same
``gpus_from_display_class``.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Iterable, Mapping

from wizard.hardware.model import GpuInfo

DISPLAY_CLASS_KEY = r"SYSTEM\CurrentControlSet\Control\Class\{4d36e968-e325-11ce-bfc1-08002be10318}"
CPU_KEY = r"HARDWARE\DESCRIPTION\System\CentralProcessor\0"
_VENDOR_IDS = {"10de": "nvidia", "1002": "amd", "1022": "amd", "8086": "intel",
               "106b": "apple", "5143": "other"}  # 5143: Qualcomm Adreno
_SOFTWARE_ADAPTERS = ("microsoft basic display", "microsoft basic render", "remote display",
                      "hyper-v video", "virtual display", "parsec", "sudovda")
# IsProcessorFeaturePresent() constants (winnt.h) -> Hearth's SIMD names.
PROCESSOR_FEATURES = {
    13: "sse3", 36: "ssse3", 37: "sse4_1", 38: "sse4_2", 39: "avx", 40: "avx2",
    41: "avx512f", 19: "neon", 43: "dotprod", 46: "sve", 47: "sve2",
}

SMALL_DEDICATED_BYTES = 2 * 1024**3
RegistryValue = int | str | bytes | list[str]


def parse_reg_query(text: str) -> list[dict[str, RegistryValue]]:
    """Each subkey's values from ``reg query … /s`` text: REG_SZ → str, REG_DWORD/QWORD →
    int, REG_BINARY → bytes, REG_MULTI_SZ → list. Never raises."""
    adapters: list[dict[str, RegistryValue]] = []
    current: dict[str, RegistryValue] | None = None
    for raw in text.splitlines():
        line = raw.rstrip()
        if line.upper().startswith("HKEY_"):
            current = {"__key__": line.rsplit("\\", 1)[-1]}
            adapters.append(current)
            continue
        match = re.match(r"^\s+(.+?)\s{4}(REG_[A-Z_]+)\s{4}(.*)$", line) or re.match(
            r"^\s+(.+?)\s{4}(REG_[A-Z_]+)$", line)
        if match is None or current is None:
            continue
        name, kind = match.group(1), match.group(2)
        value = match.group(3) if match.lastindex == 3 else ""
        current[name] = _reg_value(kind, value)
    return adapters


def gpus_from_display_class(adapters: Iterable[Mapping[str, RegistryValue]]) -> list[GpuInfo]:
    """Graphics cards from display-adapter subkeys (0000, 0001 …), skipping software adapters.

    Memory is ``HardwareInformation.qwMemorySize`` (64-bit; some drivers store it as 8
    little-endian bytes), else the 32-bit ``MemorySize`` only when it is below 4 GiB (at
    the cap it is not a reading). Never raises.
    """
    gpus = []
    for values in adapters:
        name = _as_text(values.get("DriverDesc"))
        if not name or any(word in name.lower() for word in _SOFTWARE_ADAPTERS):
            continue
        total = _as_int(values.get("HardwareInformation.qwMemorySize"))
        if total is None:
            small = _as_int(values.get("HardwareInformation.MemorySize"))
            total = small if small is not None and small < 0xFFF00000 else None
        vendor = _vendor(_as_text(values.get("MatchingDeviceId")), name)
        gpus.append(GpuInfo(
            vendor=vendor,
            name=name,
            total_bytes=total,
            free_bytes=None,
            driver=_as_text(values.get("DriverVersion")) or None,
            # integrated Radeon/Intel graphics report a small reserved slice as "dedicated"
            unified_memory=vendor in ("amd", "intel") and total is not None
            and total <= SMALL_DEDICATED_BYTES,
            source="registry",
        ))
    return gpus


def simd_from_processor_features(present: Callable[[int], bool]) -> tuple[str, ...]:
    """SIMD names for the features ``IsProcessorFeaturePresent`` reports."""
    return tuple(sorted({name for code, name in PROCESSOR_FEATURES.items() if present(code)}))


def read_display_class() -> list[dict[str, RegistryValue]]:
    """Every display-adapter subkey's values via ``winreg``. Raises OSError off Windows
    or when the key cannot be opened."""
    if sys.platform != "win32":
        raise OSError("the Windows registry exists only on Windows")
    import winreg

    adapters = []
    with winreg.OpenKey(winreg.HKEY_LOCAL_MACHINE, DISPLAY_CLASS_KEY) as root:
        index = 0
        while True:
            try:
                sub = winreg.EnumKey(root, index)
            except OSError:
                break
            index += 1
            if not sub.isdigit():
                continue  # "Properties" and similar are not adapters
            try:
                with winreg.OpenKey(root, sub) as key:
                    adapters.append({"__key__": sub, **_values(winreg, key)})
            except OSError:
                continue  # access denied on one adapter must not hide the others
    return adapters


def read_cpu_name() -> str | None:
    """``ProcessorNameString`` from the registry. Raises OSError off Windows."""
    if sys.platform != "win32":
        raise OSError("the Windows registry exists only on Windows")
    import winreg

    with winreg.OpenKey(winreg.HKEY_LOCAL_MACHINE, CPU_KEY) as key:
        value, _kind = winreg.QueryValueEx(key, "ProcessorNameString")
    return str(value).strip() or None


def read_simd() -> tuple[str, ...]:
    """SIMD features through kernel32. Raises OSError off Windows."""
    if sys.platform != "win32":
        raise OSError("IsProcessorFeaturePresent exists only on Windows")
    import ctypes

    kernel32 = ctypes.windll.kernel32  # type: ignore[attr-defined]
    return simd_from_processor_features(lambda code: bool(kernel32.IsProcessorFeaturePresent(code)))


def _values(winreg: object, key: object) -> dict[str, RegistryValue]:
    values: dict[str, RegistryValue] = {}
    index = 0
    while True:
        try:
            name, value, _kind = winreg.EnumValue(key, index)  # type: ignore[attr-defined]
        except OSError:
            return values
        values[name] = value
        index += 1


def _reg_value(kind: str, text: str) -> RegistryValue:
    text = text.strip()
    try:
        if kind in ("REG_DWORD", "REG_QWORD"):
            return int(text, 16) if text.lower().startswith("0x") else int(text)
        if kind == "REG_BINARY":
            return bytes.fromhex(text.replace(" ", ""))
    except ValueError:
        return text
    if kind == "REG_MULTI_SZ":
        return [part for part in text.split("\\0") if part]
    return text


def _as_int(value: RegistryValue | None) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value > 0 else None
    if isinstance(value, bytes) and 0 < len(value) <= 8:
        number = int.from_bytes(value, "little")
        return number if number > 0 else None
    return None


def _as_text(value: RegistryValue | None) -> str:
    if isinstance(value, list):
        return value[0] if value else ""
    return value.strip() if isinstance(value, str) else ""


def _vendor(matching_device_id: str, name: str) -> str:
    match = re.search(r"ven_([0-9a-f]{4})", matching_device_id.lower())
    if match and match.group(1) in _VENDOR_IDS:
        return _VENDOR_IDS[match.group(1)]
    lowered = name.lower()
    for word, vendor in (("nvidia", "nvidia"), ("radeon", "amd"), ("amd", "amd"),
                         ("intel", "intel")):
        if word in lowered:
            return vendor
    return "other"
