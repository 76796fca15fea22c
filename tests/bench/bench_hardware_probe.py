"""How long probe_hardware() takes (goal: < 300 ms), next to what asking llama.cpp would cost.

A GPU build cannot exist here: its libraries are empty files in a temporary folder, laid out
as llama-cpp-python's CUDA wheel lays them out, which is all the probe looks at.

Run: .venv/bin/python tests/bench/bench_hardware_probe.py

Each "fresh process" figure is a new interpreter that imports wizard.hardware and probes
once, as the app and ``hearth doctor`` do; "warm" repeats the probe in one process.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
GOAL_SECONDS = 0.300
RUNS = 7

FRESH = """
import json, time
t0 = time.perf_counter()
from wizard.hardware import probe_hardware
t1 = time.perf_counter()
profile = probe_hardware()
t2 = time.perf_counter()
print(json.dumps({"import": t1 - t0, "probe": t2 - t1, "offload": profile.gpu_offload.how}))
"""
ASK_LLAMA = """
import json, time
t0 = time.perf_counter()
import llama_cpp
answer = llama_cpp.llama_supports_gpu_offload()
print(json.dumps({"ask": time.perf_counter() - t0, "answer": bool(answer)}))
"""


def _refuse() -> bool:
    raise AssertionError("llama.cpp was asked although the cards settle it")


def run_fresh(code: str, env: dict[str, str]) -> dict:
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True,
                         env=env, check=True, timeout=120)
    return json.loads(out.stdout.strip().splitlines()[-1])


def line(label: str, seconds: float) -> str:
    return f"  {label:<46} {seconds * 1000:7.1f} ms   {seconds / GOAL_SECONDS:5.2f} × goal"


def main() -> None:
    sys.path.insert(0, str(REPO))
    with tempfile.TemporaryDirectory() as home:
        env = {**os.environ, "HEARTH_HOME": home}
        fresh = [run_fresh(FRESH, env) for _ in range(RUNS)]
        asks = [run_fresh(ASK_LLAMA, env) for _ in range(3)]

        os.environ["HEARTH_HOME"] = home
        from wizard.hardware import offload, probe_hardware

        probe_hardware()
        warm = []
        for _ in range(RUNS):
            started = time.perf_counter()
            probe_hardware()
            warm.append(time.perf_counter() - started)

        # A GPU build (cannot exist here) answered from the cache: the cost of the cache path.
        lib = Path(home) / "fake-cuda-build"
        lib.mkdir()
        for name in ("libllama.so", "libggml-base.so", "libggml-cpu.so", "libggml-cuda.so"):
            (lib / name).write_bytes(b"\x7fELF")
        # The same build on a machine whose NVIDIA driver answered (a card read by NVML): the
        # first probe decides from the cards, with no cache and without asking llama.cpp.
        from wizard.hardware.nvidia import gpus_from_nvml_values

        card = gpus_from_nvml_values("550.163.01", [("NVIDIA GeForce RTX 4090", 25757220864, 25225592832)])
        inferred = []
        for _ in range(RUNS):
            started = time.perf_counter()
            answer, _ = offload.probe_gpu_offload(cache_dir=Path(home) / "empty", lib_dirs=[lib], gpus=card,
                                                  cards_listed=True, ask=_refuse)
            inferred.append(time.perf_counter() - started)
        offload.probe_gpu_offload(cache_dir=Path(home), lib_dirs=[lib], ask=lambda: True)
        cached = []
        for _ in range(RUNS):
            started = time.perf_counter()
            offload.probe_gpu_offload(cache_dir=Path(home), lib_dirs=[lib], ask=lambda: True)
            cached.append(time.perf_counter() - started)

    median = statistics.median
    print(f"Hardware probe on this machine ({RUNS} runs, medians; goal {GOAL_SECONDS * 1000:.0f} ms)")
    print(line("fresh process: import wizard.hardware", median(r["import"] for r in fresh)))
    print(line("fresh process: probe_hardware()", median(r["probe"] for r in fresh)))
    print(line("fresh process: import + probe", median(r["import"] + r["probe"] for r in fresh)))
    print(line("fresh process: import + probe (worst)", max(r["import"] + r["probe"] for r in fresh)))
    print(line("warm: probe_hardware() again", median(warm)))
    print(line("GPU build + NVIDIA card, first probe (no ask)", median(inferred)))
    print(f"  {'':<46} answer {answer.supported} ({answer.how})")
    print(line("GPU build, offload answer from the cache", median(cached)))
    print(line("for comparison: import llama_cpp + ask it", median(a["ask"] for a in asks)))
    print(f"  offload answered by: {fresh[0]['offload']!r}; llama.cpp says {asks[0]['answer']}")


if __name__ == "__main__":
    main()
