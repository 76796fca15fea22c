"""``hearth recommend`` run for real in a subprocess on this machine."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import psutil

from wizard.catalog import load_catalog

REPO = Path(__file__).resolve().parents[2]


def _recommend(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "app", "recommend", *args], cwd=REPO, capture_output=True,
                          text=True, timeout=120, env=dict(os.environ))


def test_json_ranks_the_whole_catalog_for_this_machine() -> None:
    result = _recommend("--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    ids = [o["id"] for o in data["options"]]
    assert sorted(ids) == sorted(load_catalog().ids()) and data["left_out"] == []
    best = data["options"][0]
    assert data["best"] == best["id"] and "recommended" in best["badges"]
    assert best["verdict"] in ("runs comfortably", "runs, but tight")
    assert best["estimate"]["ram_bytes"] <= psutil.virtual_memory().total
    for option in data["options"]:
        assert option["verdict"] in ("runs comfortably", "runs, but tight", "too big for this computer")
        assert option["reason"] and option["speed"] and option["tokens_per_second"] > 0
        assert {"weights_bytes", "kv_bytes", "total_bytes"} <= set(option["estimate"])


def test_a_recipe_narrows_the_list_and_says_why() -> None:
    result = _recommend("--recipe", "study-buddy")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith('For the assistant "Study buddy":')
    assert " 1. " in result.stdout and "[recommended" in result.stdout and "Speed:" in result.stdout
    assert "Speed worked out from processor" in result.stdout or "Speed worked out from Apple" in result.stdout


def test_a_missing_recipe_is_a_plain_error(tmp_path: Path) -> None:
    result = _recommend("--recipe", "no-such-recipe")
    assert result.returncode == 1 and result.stderr.startswith("Error: ") and "Traceback" not in result.stderr
    bad = tmp_path / "bad.toml"
    bad.write_text("this is = = not toml\n")
    broken = _recommend("--recipe", str(bad))
    assert broken.returncode == 1 and "Traceback" not in broken.stderr
