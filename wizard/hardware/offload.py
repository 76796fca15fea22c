"""Can this llama.cpp build put model layers on a graphics card?

The authoritative answer is ``llama_cpp.llama_supports_gpu_offload()``, but importing
llama_cpp costs ~0.3–0.5 s and loads the whole engine into the calling process. So:

1. llama-cpp-python ships each ggml backend as its own library next to ``libllama``
   (``libggml-cpu``, ``libggml-cuda``, ``libggml-metal`` …). Listing that folder (no
   import) tells which GPU backends the build has. A build with only the CPU backend
   cannot offload: that answer needs no import at all (the common case, and this one).
2. A build with a GPU backend may still have no usable device (CUDA build, no NVIDIA
   driver). Most cases are clear from the cards the probe already found
   (:func:`infer_offload`): a CUDA build with an NVIDIA card whose driver answered, a
   Metal build on Apple graphics, or a build whose backends drive none of the cards in a
   complete listing. Only what stays unclear (a Vulkan or ROCm build, whose runtime
   libraries may be missing; an NVIDIA card whose driver did not answer) makes llama.cpp
   itself be asked — once. That answer is cached in Hearth's cache folder, keyed by the
   backend libraries (name, size, mtime) and the graphics cards the probe saw, so a new
   build, driver or card asks again; a cached answer wins over an inferred one.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import sys
from collections.abc import Callable, Iterable
from pathlib import Path

from wizard.hardware.model import GpuInfo, GpuOffload

CACHE_FILE_NAME = "llama-gpu-offload.json"
# ggml backend library stem -> what Hearth calls it. RPC and BLAS are not graphics cards.
GPU_BACKENDS = {
    "cuda": "cuda", "metal": "metal", "vulkan": "vulkan", "hip": "rocm", "sycl": "sycl",
    "opencl": "opencl", "musa": "musa", "cann": "cann", "kompute": "kompute",
}
_LIB_SUFFIXES = (".so", ".dylib", ".dll")
# GPU backend -> the card vendors it can drive; None: any graphics card. Backends not listed
# (cann, musa) drive hardware the probe does not recognise, so they are never ruled out.
BACKEND_VENDORS: dict[str, frozenset[str] | None] = {
    "cuda": frozenset({"nvidia"}), "metal": frozenset({"apple"}), "rocm": frozenset({"amd"}),
    "sycl": frozenset({"intel"}), "vulkan": None, "opencl": None, "kompute": None,
}
_DRIVER_SOURCES = ("nvml", "nvidia-smi")  # the NVIDIA driver itself answered for the card


def llama_lib_dirs() -> list[Path]:
    """Folders that may hold llama.cpp's libraries, without importing llama_cpp."""
    roots: list[Path] = []
    try:
        spec = importlib.util.find_spec("llama_cpp")
    except (ImportError, ValueError):
        spec = None
    if spec is not None and spec.submodule_search_locations:
        roots.extend(Path(location) for location in spec.submodule_search_locations)
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:  # PyInstaller: --collect-all llama_cpp puts it under the bundle
        roots.append(Path(bundle) / "llama_cpp")
    return [folder for root in roots for folder in (root / "lib", root) if folder.is_dir()]


def scan_backends(lib_dirs: Iterable[Path]) -> tuple[tuple[str, ...], bool, list[Path]]:
    """``(gpu_backends, has_separate_cpu_backend, library_files)`` from the folders.

    ``has_separate_cpu_backend`` tells that backends are split into their own libraries,
    which is what makes "no GPU library" mean "no GPU support".
    """
    backends: set[str] = set()
    cpu_split = False
    files: list[Path] = []
    for folder in lib_dirs:
        try:
            entries = sorted(folder.iterdir())
        except OSError:
            continue
        for entry in entries:
            name = entry.name.lower()
            if not any(suffix in name for suffix in _LIB_SUFFIXES):
                continue
            stem = name.removeprefix("lib").split(".", 1)[0]
            if not (stem.startswith("ggml") or stem.startswith("llama")):
                continue
            files.append(entry)
            kind = stem.removeprefix("ggml-") if stem.startswith("ggml-") else ""
            if kind == "cpu" or kind.startswith("cpu-"):
                cpu_split = True
            elif kind in GPU_BACKENDS:
                backends.add(GPU_BACKENDS[kind])
    return tuple(sorted(backends)), cpu_split, files


def fingerprint(files: Iterable[Path], gpu_names: Iterable[str]) -> str:
    """A short hash of the libraries (name, size, mtime) and the graphics cards seen."""
    parts = []
    for path in files:
        try:
            info = path.stat()
        except OSError:
            continue
        parts.append(f"{path.name}:{info.st_size}:{info.st_mtime_ns}")
    parts.extend(f"gpu:{name}" for name in sorted(gpu_names))
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:32]


def infer_offload(backends: Iterable[str], gpus: Iterable[GpuInfo], *, cards_listed: bool
                  ) -> tuple[bool | None, str]:
    """``(answer, how)`` from the build's GPU backends and the cards the probe found, without
    loading llama.cpp; ``(None, "")`` when only llama.cpp itself can tell.

    ``cards_listed``: the probe listed this computer's graphics cards completely (no card
    source failed), so "no card of this kind" is a finding rather than a gap.
    """
    backends, gpus = tuple(backends), tuple(gpus)
    if "cuda" in backends and any(g.vendor == "nvidia" and g.source in _DRIVER_SOURCES for g in gpus):
        return True, "cuda build and an NVIDIA card whose driver answered"
    if "metal" in backends and any(g.vendor == "apple" for g in gpus):
        return True, "metal build on Apple graphics"

    def could_drive(backend: str) -> bool:
        if backend not in BACKEND_VENDORS:
            return True
        vendors = BACKEND_VENDORS[backend]
        return any(vendors is None or g.vendor in vendors for g in gpus)

    if cards_listed and backends and not any(could_drive(b) for b in backends):
        found = ", ".join(g.name for g in gpus) or "no graphics card"
        return False, f"{'/'.join(backends)} build, but this computer has {found}"
    return None, ""


def ask_llama_cpp() -> bool:
    """The real answer from llama.cpp (imports llama_cpp: ~0.3 s). Raises whatever the
    import raises (ImportError, OSError when the library cannot load)."""
    import llama_cpp

    return bool(llama_cpp.llama_supports_gpu_offload())


def probe_gpu_offload(
    *,
    cache_dir: Path,
    gpu_names: Iterable[str] = (),
    gpus: Iterable[GpuInfo] = (),
    cards_listed: bool = False,
    lib_dirs: Iterable[Path] | None = None,
    ask: Callable[[], bool] = ask_llama_cpp,
) -> tuple[GpuOffload, str | None]:
    """The offload answer and, when it is unknown, the reason. Never raises.

    ``gpus`` / ``cards_listed``: the cards the probe found, for :func:`infer_offload`;
    ``gpu_names`` (default: their names) key the cache.
    """
    gpus = tuple(gpus)
    folders = llama_lib_dirs() if lib_dirs is None else list(lib_dirs)
    backends, cpu_split, files = scan_backends(folders)
    if not files:
        return GpuOffload(supported=None, how="llama.cpp not found"), \
            "llama.cpp (llama-cpp-python) is not installed"
    if cpu_split and not backends:
        return GpuOffload(supported=False, backends=(), how="cpu-only build"), None

    key = fingerprint(files, tuple(gpu_names) or [g.name for g in gpus])
    cache_file = cache_dir / CACHE_FILE_NAME
    cached = _read_cache(cache_file)
    if cached.get("fingerprint") == key and isinstance(cached.get("supported"), bool):
        return GpuOffload(supported=cached["supported"], backends=backends,
                          how="cached answer"), None
    inferred, how = infer_offload(backends, gpus, cards_listed=cards_listed)
    if inferred is not None:
        return GpuOffload(supported=inferred, backends=backends, how=how), None
    try:
        supported = ask()
    except Exception as exc:  # a broken build must not break the probe
        return GpuOffload(supported=None, backends=backends, how="llama.cpp did not answer"), \
            f"llama.cpp could not be asked: {type(exc).__name__}: {exc}"
    _write_cache(cache_file, {"fingerprint": key, "supported": supported,
                              "backends": list(backends)})
    return GpuOffload(supported=supported, backends=backends, how="asked llama.cpp"), None


def _read_cache(path: Path) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _write_cache(path: Path, data: dict) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        temp.write_text(json.dumps(data), encoding="utf-8")
        os.replace(temp, path)
    except OSError:
        pass  # a read-only cache only costs the next probe one more question
