"""Linux: CPU from /proc/cpuinfo, memory from /proc/meminfo, the distribution from /etc/os-release.

The ``parse_*`` functions are pure (text in, values out) so tests feed them real captured
files; the ``read_*`` functions only open the files. py-cpuinfo is not used: it takes
more than a second, reading the file takes a millisecond.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from wizard.hardware.model import MemoryInfo

# /proc/cpuinfo flag -> Hearth's name. x86 "flags", ARM "Features". Only what matters
# for llama.cpp's kernels is kept; the rest of the (long) list is noise to a reader.
_X86_FLAGS = {
    "pni": "sse3", "ssse3": "ssse3", "sse4_1": "sse4_1", "sse4_2": "sse4_2",
    "avx": "avx", "avx2": "avx2", "fma": "fma", "f16c": "f16c",
    "avx512f": "avx512f", "avx512bw": "avx512bw", "avx512vl": "avx512vl",
    "avx512_vnni": "avx512_vnni", "avx512_bf16": "avx512_bf16", "avx_vnni": "avx_vnni",
    "amx_tile": "amx_tile", "amx_int8": "amx_int8", "amx_bf16": "amx_bf16",
}
_ARM_FEATURES = {
    "asimd": "neon", "asimdhp": "fp16", "asimddp": "dotprod", "i8mm": "i8mm",
    "bf16": "bf16", "sve": "sve", "sve2": "sve2", "sme": "sme",
}
# Common ARM cores by (implementer, part); aarch64 /proc/cpuinfo has no "model name".
_ARM_PARTS = {
    ("0x41", "0xd03"): "ARM Cortex-A53", ("0x41", "0xd08"): "ARM Cortex-A72",
    ("0x41", "0xd0b"): "ARM Cortex-A76", ("0x41", "0xd0c"): "ARM Neoverse N1",
    ("0x41", "0xd40"): "ARM Neoverse V1", ("0x41", "0xd49"): "ARM Neoverse N2",
    ("0x41", "0xd4f"): "ARM Neoverse V2", ("0x61", "0x022"): "Apple M1",
    ("0xc0", "0xac3"): "Ampere AmpereOne", ("0x51", "0x001"): "Qualcomm Oryon",
}


@dataclass(frozen=True)
class CpuInfoFields:
    """What /proc/cpuinfo says; ``None`` where the file does not say it."""

    model_name: str | None
    logical_cores: int | None
    physical_cores: int | None
    simd: tuple[str, ...]


def parse_cpuinfo(text: str) -> CpuInfoFields:
    """Model name, core counts and SIMD features from /proc/cpuinfo text (x86 or ARM).

    Never raises: text that is not a cpuinfo gives fields of ``None`` and no features.
    """
    blocks = [_fields(block) for block in text.split("\n\n")]
    processors = [b for b in blocks if "processor" in b]
    first = processors[0] if processors else (blocks[0] if blocks else {})

    model = first.get("model name") or first.get("hardware") or first.get("cpu model")
    if not model:
        part = (first.get("cpu implementer", ""), first.get("cpu part", ""))
        model = _ARM_PARTS.get(part)
        if model is None and all(part):
            model = f"ARM processor (implementer {part[0]}, part {part[1]})"

    cores = {(b.get("physical id", "0"), b["core id"]) for b in processors if "core id" in b}
    words = set(first.get("flags", "").split()) | set(first.get("features", "").split())
    table = _X86_FLAGS if "flags" in first else _ARM_FEATURES
    simd = tuple(sorted({ours for theirs, ours in table.items() if theirs in words}))
    return CpuInfoFields(
        model_name=model or None,
        logical_cores=len(processors) or None,
        physical_cores=len(cores) or None,
        simd=simd,
    )


def parse_meminfo(text: str) -> MemoryInfo:
    """RAM and swap from /proc/meminfo text (values there are KiB). Never raises."""
    values: dict[str, int] = {}
    for line in text.splitlines():
        key, _, rest = line.partition(":")
        parts = rest.split()
        if parts and parts[0].isdigit():
            scale = 1024 if parts[1:2] == ["kB"] else 1
            values[key.strip()] = int(parts[0]) * scale
    return MemoryInfo(
        total_bytes=values.get("MemTotal"),
        available_bytes=values.get("MemAvailable"),
        swap_total_bytes=values.get("SwapTotal"),
        swap_free_bytes=values.get("SwapFree"),
    )


def parse_os_release(text: str) -> str | None:
    """The distribution's PRETTY_NAME (or NAME VERSION) from /etc/os-release text."""
    values = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep:
            values[key.strip()] = value.strip().strip('"').strip("'")
    pretty = values.get("PRETTY_NAME") or " ".join(
        v for v in (values.get("NAME"), values.get("VERSION")) if v
    )
    return pretty or None


def read_text(path: str | Path) -> str:
    """The file's text. Raises OSError if it cannot be read."""
    return Path(path).read_text(encoding="utf-8", errors="replace")


def _fields(block: str) -> dict[str, str]:
    fields: dict[str, str] = {}
    for line in block.splitlines():
        key, sep, value = line.partition(":")
        if sep:
            fields.setdefault(key.strip().lower(), value.strip())
    return fields
