"""macOS: CPU, memory and Apple Silicon graphics from ``sysctl`` output.

One ``sysctl`` run prints every value needed (``sysctl hw machdep.cpu iogpu kern``);
``parse_sysctl`` turns its ``name: value`` lines into a dict and the other functions
are pure, so tests feed them real captured outputs.

Apple Silicon has no separate graphics memory: the GPU may use part of the RAM, up to
Metal's ``recommendedMaxWorkingSetSize``. llama.cpp prints that figure when it starts;
measured values (ggml_metal_init logs) are 11453.25 MB on 16 GiB machines (exactly 2/3),
14302.25 MB on 18 GiB (0.74), 26800.6 MB on 32 GiB (0.78), 30150.67 MB on 36 GiB (0.78)
and 115448.7 MB on 128 GiB (0.84). ``sudo sysctl iogpu.wired_limit_mb=N`` overrides it
(0 means "the default").
"""

from __future__ import annotations

import subprocess

from wizard.hardware.model import CpuInfo, GpuInfo

MIB = 1024 * 1024
GIB = 1024 * MIB
SYSCTL_ARGS = ["hw", "machdep.cpu", "iogpu", "kern.osproductversion"]

# Apple Silicon feature flags (hw.optional.*) -> Hearth's SIMD names.
_ARM_FLAGS = {
    "hw.optional.neon": "neon", "hw.optional.AdvSIMD": "neon",
    "hw.optional.arm.FEAT_DotProd": "dotprod", "hw.optional.arm.FEAT_I8MM": "i8mm",
    "hw.optional.arm.FEAT_BF16": "bf16", "hw.optional.arm.FEAT_FP16": "fp16",
    "hw.optional.arm.FEAT_SME": "sme", "hw.optional.arm.FEAT_SME2": "sme2",
}
# Intel Macs list features as words in machdep.cpu.features / leaf7_features.
_X86_WORDS = {
    "SSE3": "sse3", "SSSE3": "ssse3", "SSE4.1": "sse4_1", "SSE4.2": "sse4_2",
    "AVX1.0": "avx", "AVX2": "avx2", "FMA": "fma", "F16C": "f16c",
    "AVX512F": "avx512f", "AVX512BW": "avx512bw", "AVX512VL": "avx512vl",
}


def parse_sysctl(text: str) -> dict[str, str]:
    """``name: value`` lines (as ``sysctl -a`` / ``sysctl hw`` print them) into a dict."""
    values: dict[str, str] = {}
    for line in text.splitlines():
        name, sep, value = line.partition(":")
        name = name.strip()
        if sep and name and " " not in name:
            values[name] = value.strip()
    return values


def cpu_from_sysctl(values: dict[str, str], *, architecture: str | None = None) -> CpuInfo:
    """Model, cores (with Apple's performance cores) and SIMD features. Never raises."""
    flags = {ours for name, ours in _ARM_FLAGS.items() if values.get(name) == "1"}
    words = (values.get("machdep.cpu.features", "") + " "
             + values.get("machdep.cpu.leaf7_features", "")).split()
    flags |= {ours for word, ours in _X86_WORDS.items() if word in words}
    if architecture is None:
        architecture = "arm64" if values.get("hw.optional.arm64") == "1" else None
    return CpuInfo(
        model_name=values.get("machdep.cpu.brand_string") or None,
        architecture=architecture,
        physical_cores=_int(values.get("hw.physicalcpu")),
        logical_cores=_int(values.get("hw.logicalcpu")),
        performance_cores=_int(values.get("hw.perflevel0.physicalcpu"))
        if values.get("hw.nperflevels", "1") != "1" else None,
        simd=tuple(sorted(flags)),
    )


def memory_total_from_sysctl(values: dict[str, str]) -> int | None:
    return _int(values.get("hw.memsize"))


def metal_working_set_bytes(memsize: int, wired_limit_mb: int | None = None) -> int:
    """How much of the RAM the Apple GPU may use (see the module docstring for the data)."""
    if wired_limit_mb:
        return wired_limit_mb * MIB
    if memsize <= 16 * GIB:
        return memsize * 2 // 3
    return memsize * 74 // 100  # the lowest measured ratio above 16 GiB: never promise more


def apple_gpu_from_sysctl(values: dict[str, str]) -> GpuInfo | None:
    """The Apple Silicon GPU, sized by the Metal working-set limit; ``None`` on Intel Macs."""
    brand = values.get("machdep.cpu.brand_string", "")
    memsize = memory_total_from_sysctl(values)
    if values.get("hw.optional.arm64") != "1" and not brand.startswith("Apple"):
        return None
    wired = _int(values.get("iogpu.wired_limit_mb"))
    return GpuInfo(
        vendor="apple",
        name=f"{brand} graphics" if brand else "Apple graphics",
        total_bytes=metal_working_set_bytes(memsize, wired) if memsize else None,
        free_bytes=None,
        driver="Metal",
        unified_memory=True,
        source="sysctl",
    )


def read_sysctl(*, timeout: float = 3.0) -> dict[str, str]:
    """Run ``sysctl`` once. Unknown names (``iogpu`` on Intel Macs) are skipped by sysctl
    itself, so its exit code is ignored. Raises OSError or subprocess.TimeoutExpired."""
    result = subprocess.run(["sysctl", *SYSCTL_ARGS], capture_output=True, text=True,
                            timeout=timeout, check=False)
    return parse_sysctl(result.stdout)


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None
