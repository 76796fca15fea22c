"""``hearth estimate`` run for real in a subprocess, on the real tiny model and on broken files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from wizard.fit import estimate_memory
from wizard.gguf import read_gguf_header

REPO = Path(__file__).resolve().parents[2]
KEYS = {"weights_bytes", "kv_bytes", "compute_bytes", "total_bytes", "ram_bytes", "gpu_bytes"}


def _estimate(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "app", "estimate", *args], cwd=REPO, capture_output=True,
                          text=True, timeout=120, env=dict(os.environ))


def test_json_has_the_estimate_of_the_real_file(tiny_model: Path) -> None:
    result = _estimate(str(tiny_model), "--ctx", "2048", "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert KEYS <= set(data)
    expected = estimate_memory(read_gguf_header(tiny_model), n_ctx=2048)
    assert {k: data[k] for k in KEYS} == {k: getattr(expected, k) for k in KEYS}
    assert data["total_bytes"] == data["ram_bytes"] + data["gpu_bytes"] and data["gpu_bytes"] == 0
    assert (data["architecture"], data["layers"], data["trained_context"], data["n_ctx"]) == ("llama", 30, 8192, 2048)


def test_gpu_layers_and_kv_type_move_memory(tiny_model: Path) -> None:
    on_card = json.loads(_estimate(str(tiny_model), "--gpu-layers", "-1", "--kv-type", "q8_0", "--json").stdout)
    on_cpu = json.loads(_estimate(str(tiny_model), "--kv-type", "q8_0", "--json").stdout)
    assert on_card["gpu_bytes"] > on_card["weights_bytes"] * 0.9 and on_card["n_gpu_layers"] == 31
    assert on_card["ram_bytes"] < on_cpu["ram_bytes"] and on_cpu["kv_type"] == "q8_0"
    assert on_cpu["n_ctx"] == 8192  # the model's own length by default


def test_text_speaks_plainly(tiny_model: Path) -> None:
    result = _estimate(str(tiny_model), "--ctx", "16384")
    assert result.returncode == 0, result.stderr
    assert "llama, 30 layers, trained for 8192 tokens" in result.stdout
    assert "Weights:" in result.stdout and "KV cache:" in result.stdout and "Total:" in result.stdout
    assert "trained for at most 8192 tokens" in result.stdout


@pytest.mark.parametrize(("content", "words"), [
    (None, "There is no model file at"),
    (b"", "incomplete"),
    (b"hello, this is a text file\n" * 50, "not in the GGUF format"),
    ("truncated", "incomplete"),
    ("folder", "is a folder"),
])
def test_broken_input_is_a_plain_error(tiny_model: Path, tmp_path: Path, content: object, words: str) -> None:
    path = tmp_path / "model.gguf"
    if content == "truncated":
        path.write_bytes(tiny_model.read_bytes()[:500_000])
    elif content == "folder":
        path.mkdir()
    elif content is not None:
        path.write_bytes(content)
    result = _estimate(str(path), "--json")
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.startswith("Error: ") and words in result.stderr, result.stderr
    assert "Traceback" not in result.stderr


def test_impossible_settings_are_plain_errors(tiny_model: Path) -> None:
    result = _estimate(str(tiny_model), "--ctx", "0")
    assert result.returncode == 1 and result.stderr.startswith("Error: ") and "Traceback" not in result.stderr
    wrong_type = _estimate(str(tiny_model), "--kv-type", "q2")
    assert wrong_type.returncode == 2 and "invalid choice" in wrong_type.stderr


def test_a_wrongly_typed_size_in_a_valid_file_is_a_plain_error(tmp_path: Path) -> None:
    from tests.wizard.gguf_builder import llama_like

    built = llama_like(extra={"llama.attention.key_length": "128"})  # text where a number belongs
    path = tmp_path / "odd.gguf"
    with path.open("wb") as handle:
        handle.write(built.header)
        handle.truncate(built.file_size)  # the (absent) weights as a sparse tail
    read_gguf_header(path)  # the file itself is sound GGUF

    for args in ((str(path), "--json"), (str(path),)):
        result = _estimate(*args)
        assert result.returncode == 1 and result.stdout == ""
        assert result.stderr.startswith("Error: Hearth could not read this model's sizes"), result.stderr
        assert "Traceback" not in result.stderr


UNEXPECTED = """
import sys
import wizard.gguf

def broken(path):
    raise RuntimeError("a mistake inside Hearth")

wizard.gguf.read_gguf_header = broken  # a bug Hearth does not know about yet
from app.__main__ import main
sys.exit(main(sys.argv[1:]))
"""


def test_an_unexpected_problem_is_one_plain_sentence_and_the_traceback_goes_to_the_log(
        tiny_model: Path, hearth_home: Path) -> None:
    from wizard.paths import hearth_paths

    result = subprocess.run([sys.executable, "-c", UNEXPECTED, "estimate", str(tiny_model)], cwd=REPO,
                            capture_output=True, text=True, timeout=120, env=dict(os.environ))
    log_file = hearth_paths().log_file
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr == ("Hearth hit a problem it did not expect and stopped; the details are in the "
                             f"log file at {log_file}.\n")
    log = log_file.read_text(encoding="utf-8")
    assert "Unexpected error in a command" in log and "Traceback" in log
    assert "RuntimeError: a mistake inside Hearth" in log
