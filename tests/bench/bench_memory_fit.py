"""Predicted memory (wizard.fit) against the measured peak RSS of a real load + generate.

    .venv/bin/python tests/bench/bench_memory_fit.py

For the tiny test model at n_ctx 512, 2048 and 8192, each case runs in a fresh Python
process that records VmRSS after `import llama_cpp` (the baseline), loads the model
(2 threads, llama-cpp-python defaults otherwise), and generates 32 tokens:

- "full": after a prompt that fills the context to n_ctx - 40 tokens. This is the case
  the estimate predicts (a long conversation touches the whole KV cache and the
  attention part of the compute buffer), and the one the +-10% goal applies to.
- "short": after a five-word prompt, for contrast: the estimate is then an upper bound.

Peak RSS is the kernel's VmHWM (/proc/self/status), the high-water mark of resident
pages: anonymous memory actually written (KV cache, compute pages touched, Python) plus
file-backed pages of the memory-mapped model that were read. Reserved-but-untouched
memory (most of llama.cpp's logits buffer) is not in it. psutil's rss at the end is
printed beside it as a cross-check.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from tests.support.tiny_model import ensure_tiny_model  # noqa: E402
from wizard.fit import estimate_memory  # noqa: E402
from wizard.gguf import read_gguf_header  # noqa: E402

MiB = 1 << 20
CONTEXTS = (512, 2048, 8192)
GENERATED = 32

CHILD = r"""
import json, sys
import psutil

def vm(key):
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(key + ":"):
                return int(line.split()[1]) * 1024
    return 0

import llama_cpp
baseline = vm("VmRSS")
model, n_ctx, mode, generated = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
llm = llama_cpp.Llama(model, n_ctx=n_ctx, n_threads=2, verbose=False)
after_load = vm("VmRSS")
if mode == "full":
    prompt = llm.tokenize(b" The quick brown fox jumps over the lazy dog." * n_ctx, add_bos=True)
    llm.eval(prompt[: n_ctx - generated - 8])
else:
    llm.eval(llm.tokenize(b"The capital of France is", add_bos=True))
for _ in range(generated):
    llm.eval([llm.sample(temp=0.0)])
print(json.dumps({"baseline": baseline, "after_load": after_load, "peak": vm("VmHWM"),
                  "psutil_rss": psutil.Process().memory_info().rss, "n_tokens": llm.n_tokens}))
"""


def measure(model: Path, n_ctx: int, mode: str) -> dict:
    result = subprocess.run(
        [sys.executable, "-c", CHILD, str(model), str(n_ctx), mode, str(GENERATED)],
        capture_output=True, text=True, check=True, timeout=900,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    model = ensure_tiny_model()
    timings = []
    for _ in range(5):
        started = time.perf_counter()
        header = read_gguf_header(model)
        timings.append(time.perf_counter() - started)
    print(f"model: {model.name}  ({model.stat().st_size / MiB:.1f} MiB file, "
          f"{header.data_offset / MiB:.2f} MiB header with a {header.metadata['tokenizer.ggml.tokens'].length}-token "
          f"vocabulary)")
    print(f"read_gguf_header: best {min(timings) * 1000:.1f} ms, worst {max(timings) * 1000:.1f} ms of 5")
    print(f"{'n_ctx':>6} {'case':>5} {'predicted':>10} {'peak RSS':>9} {'ratio':>6} "
          f"{'pred-base':>10} {'peak-base':>10} {'ratio':>6} {'baseline':>9} {'rss end':>8}  (MiB)")
    worst = 0.0
    for n_ctx in CONTEXTS:
        estimate = estimate_memory(header, n_ctx=n_ctx)
        predicted = estimate.ram_bytes
        for mode in ("full", "short"):
            got = measure(model, n_ctx, mode)
            base = got["baseline"]
            ratio = predicted / got["peak"]
            above = (predicted - base) / (got["peak"] - base)
            if mode == "full":
                worst = max(worst, abs(ratio - 1))
            print(f"{n_ctx:>6} {mode:>5} {predicted / MiB:>10.1f} {got['peak'] / MiB:>9.1f} {ratio:>6.3f} "
                  f"{(predicted - base) / MiB:>10.1f} {(got['peak'] - base) / MiB:>10.1f} {above:>6.3f} "
                  f"{base / MiB:>9.1f} {got['psutil_rss'] / MiB:>8.1f}")
        parts = {k: round(getattr(estimate, k) / MiB, 1) for k in
                 ("weights_bytes", "kv_bytes", "compute_bytes", "overhead_bytes", "compute_reserved_bytes")}
        print(f"{'':>13}estimate parts (MiB): {parts}")
    print(f"largest |ratio - 1| for the full-context cases: {worst:.3f} (goal: <= 0.10)")


if __name__ == "__main__":
    main()
