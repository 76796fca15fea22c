"""``hearth doctor`` run for real in a subprocess, and with every hardware source broken."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import psutil
import pytest

from wizard import __version__
from wizard.paths import hearth_paths

REPO = Path(__file__).resolve().parents[2]
TOP_LEVEL_KEYS = {"hearth_version", "os", "memory", "cpu", "gpus", "gpu_offload", "disk", "power",
                  "unknowns", "probe_seconds", "summary"}


def _doctor(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "app", "doctor", *args], cwd=REPO,
                          capture_output=True, text=True, timeout=120, env=dict(os.environ))


def test_doctor_json_is_stable_and_matches_this_machine() -> None:
    result = _doctor("--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)

    assert set(data) == TOP_LEVEL_KEYS
    assert data["hearth_version"] == __version__
    assert set(data["memory"]) == {"total_bytes", "available_bytes", "swap_total_bytes",
                                   "swap_free_bytes"}
    assert set(data["cpu"]) == {"model_name", "architecture", "physical_cores", "logical_cores",
                                "performance_cores", "simd"}
    assert set(data["disk"]) == {"models_dir", "measured_path", "free_bytes", "total_bytes"}
    assert set(data["gpu_offload"]) == {"supported", "backends", "how"}
    assert set(data["summary"]) == {"headline", "meaning", "details"}
    for gpu in data["gpus"]:
        assert set(gpu) == {"vendor", "name", "total_bytes", "free_bytes", "driver",
                            "unified_memory", "source"}

    assert isinstance(data["memory"]["total_bytes"], int)
    assert data["memory"]["total_bytes"] == pytest.approx(psutil.virtual_memory().total, rel=0.03)
    assert data["cpu"]["logical_cores"] == os.cpu_count()
    models = hearth_paths().models  # the test's own HEARTH_HOME reached the subprocess
    assert data["disk"]["models_dir"] == str(models)
    assert isinstance(data["disk"]["free_bytes"], int)
    assert data["disk"]["total_bytes"] == shutil.disk_usage(data["disk"]["measured_path"]).total
    assert all(set(note) == {"what", "reason"} for note in data["unknowns"])
    assert data["summary"]["headline"].endswith(" free")


def test_doctor_text_speaks_plainly() -> None:
    result = _doctor()
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert out.startswith("Your computer\n")
    for label in ("System:", "Processor:", "Memory:", "Graphics:", "GPU offload:",
                  "Models folder:", "Power:"):
        assert f"  {label}" in out
    assert str(hearth_paths().models) in out
    assert "Traceback" not in out + result.stderr
    with pytest.raises(json.JSONDecodeError):
        json.loads(out)


def test_doctor_with_every_source_broken_still_answers(monkeypatch: pytest.MonkeyPatch,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    from app.commands import doctor
    from wizard.hardware import amd, linux_cpu, nvidia, offload, system

    def broken(*args: object, **kwargs: object) -> object:
        raise OSError("broken for the test")

    for module, name in ((linux_cpu, "read_text"), (nvidia, "read_nvidia_gpus"),
                         (amd, "gpus_from_sysfs"), (system, "memory_from_psutil"),
                         (system, "disk_info"), (system, "power_info"),
                         (offload, "probe_gpu_offload")):
        monkeypatch.setattr(module, name, broken)

    assert doctor.run(argparse.Namespace(json=True)) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["memory"]["total_bytes"] is None
    assert {"memory", "disk", "battery", "gpu_offload"} <= {n["what"] for n in data["unknowns"]}

    assert doctor.run(argparse.Namespace(json=False)) == 0
    text = capsys.readouterr().out
    assert "Memory:        unknown total" in text
    assert "Could not check" in text and "broken for the test" in text


def test_doctor_is_listed_in_help() -> None:
    result = subprocess.run([sys.executable, "-m", "app", "--help"], cwd=REPO, capture_output=True,
                            text=True, timeout=60, env=dict(os.environ))
    assert result.returncode == 0 and "doctor" in result.stdout
