"""Build and run llama.cpp's own ``llama-server`` for the engine benchmark only, never for the app.

Run: ``.venv/bin/python tests/bench/llama_server_build.py`` (prints the binary's path; builds it
the first time, ~10-20 min on 2 cores, then reuses it).

The sources are the llama.cpp vendored in llama-cpp-python's sdist at the version pyproject.toml
pins, configured through the sdist's own top-level CMakeLists.txt (as the wheel Hearth installs
is) with the same flags (``-DGGML_NATIVE=OFF``, Release, no curl): both benchmark sides then run
the same ggml kernels. Everything lives under ``~/.cache/hearth-dev/llama-server/`` (or
``$HEARTH_DEV_CACHE/llama-server``), outside the repository; nothing of it is committed.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tarfile
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PYTHON = Path(sys.executable)

# Same as packaging/dev.py's LLAMA_CMAKE_ARGS, plus what the wheel build gets from scikit-build-core
# (Release) and from the sdist's CMakeLists (no curl). The server's web UI is left out: its
# "prebuilt" option downloads assets from the Hub at build time, and the benchmark needs no UI.
CMAKE_FLAGS = [
    "-DGGML_NATIVE=OFF",
    "-DCMAKE_BUILD_TYPE=Release",
    "-DLLAMA_CURL=OFF",
    "-DLLAMA_BUILD_TOOLS=ON",
    "-DLLAMA_BUILD_SERVER=ON",
    "-DLLAMA_BUILD_TESTS=OFF",
    "-DLLAMA_BUILD_EXAMPLES=OFF",
    "-DLLAMA_BUILD_UI=OFF",
    "-DLLAMA_USE_PREBUILT_UI=OFF",
    "-DLLAVA_BUILD=OFF",
]


class LlamaServerBuildError(RuntimeError):
    """The benchmark's llama-server could not be fetched or built (a developer tool: plain text)."""


def pinned_version() -> str:
    """The llama-cpp-python version pinned in pyproject.toml.

    Raises LlamaServerBuildError if the pin is missing.
    """
    text = (REPO / "pyproject.toml").read_text(encoding="utf-8")
    match = re.search(r'"llama-cpp-python==([^"\s;]+)"', text)
    if not match:
        raise LlamaServerBuildError("pyproject.toml pins no llama-cpp-python==VERSION")
    return match.group(1)


def cache_root() -> Path:
    base = os.environ.get("HEARTH_DEV_CACHE")
    return (Path(base) if base else Path.home() / ".cache" / "hearth-dev") / "llama-server"


def binary_path(version: str | None = None) -> Path:
    """Where the built binary lives (it may not exist yet)."""
    version = version or pinned_version()
    return cache_root() / f"llama-cpp-python-{version}" / "build" / "bin" / "llama-server"


def cpu_variant(version: str | None = None) -> str:
    """The CPU kernel flags CMake chose for the benchmark build (from its log), or ""."""
    log = cache_root() / f"build-{version or pinned_version()}.log"
    if not log.is_file():
        return ""
    for line in log.read_text(encoding="utf-8", errors="replace").splitlines():
        if "Adding CPU backend variant" in line:
            return line.split(":", 1)[-1].strip().split(" ")[0]
    return ""


def _run(command: list[str], log: Path, cwd: Path | None = None) -> None:
    with log.open("a", encoding="utf-8") as out:
        out.write(f"$ {' '.join(command)}\n")
        out.flush()
        result = subprocess.run(command, cwd=cwd, stdout=out, stderr=subprocess.STDOUT)
    if result.returncode != 0:
        tail = log.read_text(encoding="utf-8", errors="replace")[-3000:]
        raise LlamaServerBuildError(f"{command[0]} failed (exit {result.returncode}); log {log}:\n{tail}")


def fetch_sdist(version: str, into: Path, log: Path) -> Path:
    """Download llama-cpp-python's sdist (never a wheel) once; return the .tar.gz.

    Raises LlamaServerBuildError if pip cannot fetch it.
    """
    found = sorted(into.glob(f"llama_cpp_python-{version}.tar.gz"))
    if found:
        return found[0]
    _run([str(PYTHON), "-m", "pip", "download", "--no-deps", "--no-binary", ":all:",
          f"llama-cpp-python=={version}", "-d", str(into)], log)
    found = sorted(into.glob(f"llama_cpp_python-{version}.tar.gz"))
    if not found:
        raise LlamaServerBuildError(f"pip download left no llama_cpp_python-{version}.tar.gz in {into}")
    return found[0]


def ensure_llama_server(*, progress=print) -> Path:
    """Return the path of a built ``llama-server``, fetching and building it the first time.

    Raises LlamaServerBuildError if a step fails (the log file is named in the message).
    """
    version = pinned_version()
    binary = binary_path(version)
    if binary.is_file() and os.access(binary, os.X_OK):
        return binary
    root = cache_root()
    root.mkdir(parents=True, exist_ok=True)
    log = root / f"build-{version}.log"
    progress(f"building llama-server from llama-cpp-python {version}'s sdist (log: {log})")
    sdist = fetch_sdist(version, root, log)
    work = root / f"llama-cpp-python-{version}"
    source = work / f"llama_cpp_python-{version}"
    if not (source / "CMakeLists.txt").is_file():
        unpacking = Path(tempfile.mkdtemp(prefix="unpacking-", dir=root))
        try:
            with tarfile.open(sdist) as archive:
                archive.extractall(unpacking, filter="data")
            work.mkdir(parents=True, exist_ok=True)
            shutil.rmtree(source, ignore_errors=True)
            os.replace(unpacking / source.name, source)
        finally:
            shutil.rmtree(unpacking, ignore_errors=True)
    build = work / "build"
    generator = ["-G", "Ninja"] if shutil.which("ninja") else []
    _run(["cmake", "-S", str(source), "-B", str(build), *generator, *CMAKE_FLAGS], log)
    progress("compiling (10-20 minutes on 2 cores; later runs reuse the binary)")
    _run(["cmake", "--build", str(build), "--target", "llama-server", "--parallel", str(os.cpu_count() or 2)], log)
    if not binary.is_file():
        raise LlamaServerBuildError(f"the build finished but {binary} is missing; log {log}")
    return binary


class LlamaServer:
    """``llama-server`` on 127.0.0.1 with Hearth's load settings; a context manager.

    The settings mirror :class:`wizard.engine.LoadPlan` as Hearth's engine applies them
    (wizard/engine/generator.py): context, threads for decode and prompt, batch = ubatch,
    f16 KV cache, flash attention off, one slot. ``base_url`` ends in ``/v1``.
    """

    def __init__(self, binary: Path, model: Path, *, n_ctx: int, n_threads: int, n_batch: int) -> None:
        self.binary, self.model = binary, model
        self.args = ["-c", str(n_ctx), "-t", str(n_threads), "-tb", str(n_threads), "-b", str(n_batch),
                     "-ub", str(n_batch), "-ctk", "f16", "-ctv", "f16", "-fa", "off", "-np", "1"]
        self.process: subprocess.Popen | None = None
        self.base_url = ""
        self._log = tempfile.TemporaryFile(mode="w+", encoding="utf-8", errors="replace")

    def __enter__(self) -> LlamaServer:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def start(self, timeout: float = 120.0) -> None:
        """Start the server and wait until it has loaded the model.

        Raises LlamaServerBuildError if it exits or is not ready within ``timeout`` seconds.
        """
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        self.process = subprocess.Popen(
            [str(self.binary), "-m", str(self.model), "--host", "127.0.0.1", "--port", str(port), *self.args],
            stdout=self._log, stderr=subprocess.STDOUT)
        self.base_url = f"http://127.0.0.1:{port}/v1"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise LlamaServerBuildError(f"llama-server exited ({self.process.returncode}):\n{self.log()[-3000:]}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as response:
                    if json.load(response).get("status") == "ok":
                        break
            except (urllib.error.URLError, OSError, ValueError):
                pass
            time.sleep(0.2)
        else:
            self.stop()
            raise LlamaServerBuildError(f"llama-server was not ready within {timeout:.0f} s:\n{self.log()[-3000:]}")

    def log(self) -> str:
        self._log.seek(0)
        return self._log.read()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None


if __name__ == "__main__":
    try:
        print(ensure_llama_server())
    except LlamaServerBuildError as error:
        sys.exit(str(error))
