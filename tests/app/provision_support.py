"""Running ``hearth provision`` in tests: the real command in its own process, and what it left."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from wizard.paths import hearth_paths

REPO_ROOT = Path(__file__).resolve().parents[2]


def hearth(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "app", *args], cwd=REPO_ROOT, env=dict(os.environ),
                          text=True, capture_output=True, timeout=300)


def profiles() -> list[str]:
    root = hearth_paths().data / "profiles"
    return sorted(p.name for p in root.iterdir()) if root.is_dir() else []


def files_of(folder: Path) -> dict[str, int]:
    return {p.name: p.stat().st_mtime_ns for p in folder.iterdir()}


def answers(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "answers.toml"
    path.write_text(text, encoding="utf-8")
    return path
