"""Can this llama.cpp build put model layers on a graphics card?

The authoritative answer is ``llama_cpp.llama_supports_gpu_offload()``, but importing
llama_cpp costs ~0.3–0.5 s and loads the whole engine into the calling process. So:

1. llama-cpp-python ships each ggml backend as its own library next to ``libllama``
   (``libggml-cpu``, ``libggml-cuda``, ``libggml-metal`` …). Listing that folder (no
   import) tells which GPU backends the build has. A build with only the CPU backend
   cannot offload: that answer needs no import at all (the common case, and this one).
2. A build with a GPU backend may still have no usable device (CUDA build, no NVIDIA
   driver), so llama.cpp itself is asked — once. The answer is cached in Hearth's cache
   folder, keyed by the backend libraries (name, size, mtime) and the graphics cards the
   probe saw, so a new build, driver or card asks again.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import sys
from collections.abc import Callable, Iterable
from pathlib import Path

from wizard.hardware.model import GpuOffload

CACHE_FILE_NAME = "llama-gpu-offload.json"
# ggml backend library stem -> what Hearth calls it. RPC and BLAS are not graphics cards.
GPU_BACKENDS = {
    "cuda": "cuda", "metal": "metal", "vulkan": "vulkan", "hip": "rocm", "sycl": "sycl",
    "opencl": "opencl", "musa": "musa", "cann": "cann", "kompute": "kompute",
}
_LIB_SUFFIXES = (".so", ".dylib", ".dll")


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


def ask_llama_cpp() -> bool:
    """The real answer from llama.cpp (imports llama_cpp: ~0.3 s). Raises whatever the
    import raises (ImportError, OSError when the library cannot load)."""
    import llama_cpp

    return bool(llama_cpp.llama_supports_gpu_offload())


def probe_gpu_offload(
    *,
    cache_dir: Path,
    gpu_names: Iterable[str] = (),
    lib_dirs: Iterable[Path] | None = None,
    ask: Callable[[], bool] = ask_llama_cpp,
) -> tuple[GpuOffload, str | None]:
    """The offload answer and, when it is unknown, the reason. Never raises."""
    folders = llama_lib_dirs() if lib_dirs is None else list(lib_dirs)
    backends, cpu_split, files = scan_backends(folders)
    if not files:
        return GpuOffload(supported=None, how="llama.cpp not found"), \
            "llama.cpp (llama-cpp-python) is not installed"
    if cpu_split and not backends:
        return GpuOffload(supported=False, backends=(), how="cpu-only build"), None

    key = fingerprint(files, gpu_names)
    cache_file = cache_dir / CACHE_FILE_NAME
    cached = _read_cache(cache_file)
    if cached.get("fingerprint") == key and isinstance(cached.get("supported"), bool):
        return GpuOffload(supported=cached["supported"], backends=backends,
                          how="cached answer"), None
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
