"""Hearth sends nothing to the Hub it was not asked to: no telemetry, no "agent" lookups."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.support.hub_mirror import HubMirror

REPO_ROOT = Path(__file__).resolve().parents[2]
REPO, FILE = "acme/tiny-GGUF", "tiny.Q4_1.gguf"

DOWNLOAD = """
import sys, threading
from pathlib import Path
from wizard.download import download_from_hub
download_from_hub(sys.argv[1], sys.argv[2], endpoint=sys.argv[3], models_dir=Path(sys.argv[4]),
                  progress=lambda event: None, cancel=threading.Event())
import huggingface_hub.constants as constants
print("TELEMETRY OFF", constants.HF_HUB_DISABLE_TELEMETRY)
"""


def test_a_download_asks_the_hub_for_the_file_and_nothing_else(hub_mirror: HubMirror, tiny_model: Path,
                                                               tmp_path: Path) -> None:
    hub_mirror.add_repo(REPO, {FILE: tiny_model})
    env = {key: value for key, value in os.environ.items() if key != "HF_HUB_DISABLE_TELEMETRY"}
    env["HF_ENDPOINT"] = hub_mirror.url  # where huggingface_hub would send its own lookups
    result = subprocess.run([sys.executable, "-c", DOWNLOAD, REPO, FILE, hub_mirror.url, str(tmp_path)],
                            cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "TELEMETRY OFF True" in result.stdout
    paths = [request["path"] for request in hub_mirror.requests]
    assert any(path.endswith(FILE) for path in paths)
    assert all(path.startswith((f"/api/models/{REPO}", f"/{REPO}/")) for path in paths), paths
