"""How long reading a GGUF header takes with a large vocabulary (string arrays skipped in C).

    .venv/bin/python tests/bench/bench_gguf_header.py [--runs 15]

Builds the header of a Qwen2.5-7B-shaped file (28 layers, 151,936 tokens, 151,387 merges,
a token-type array: ~5 MB of header, the size real Qwen GGUFs have) with
tests/wizard/gguf_builder.py. The tokens and merges are the real SmolLM2 ones (read from the
test model's header), repeated to that count, so the string lengths are a real vocabulary's.
The file is written sparse (header, then a hole as large as the weights). Then it times, best
and median of ``--runs`` (CPU time of this process, so other work on the machine counts less):

- ``read_gguf_header`` on that file and on the real tiny model (49,152 tokens);
- the same with the C fast path switched off (every string walked one by one in Python,
  as the reader did before), to show what it saves;
- the one-time cost of compiling the fast path's pattern (paid by the first large
  vocabulary a process reads).
"""

from __future__ import annotations

import argparse
import re
import statistics
import struct
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from tests.support.tiny_model import ensure_tiny_model  # noqa: E402
from tests.wizard.gguf_builder import llama_like  # noqa: E402
from wizard.gguf import read_gguf_header, reader  # noqa: E402

N_VOCAB, N_MERGES = 151_936, 151_387


def real_strings(model: Path, key: str) -> list[str]:
    """The strings of one array in the tiny model's header, in order."""
    data = model.read_bytes()[: read_gguf_header(model).data_offset]
    at = data.index(key.encode()) + len(key) + 4  # the key, then its value type (array)
    _, count = struct.unpack_from("<IQ", data, at)
    pos, out = at + 12, []
    for _ in range(count):
        (length,) = struct.unpack_from("<Q", data, pos)
        out.append(data[pos + 8: pos + 8 + length].decode("utf-8", errors="replace"))
        pos += 8 + length
    return out


def qwen_like_file(folder: Path, model: Path) -> Path:
    tokens, merges = real_strings(model, "tokenizer.ggml.tokens"), real_strings(model, "tokenizer.ggml.merges")
    built = llama_like(arch="qwen2", n_layer=28, n_embd=3584, n_head=28, n_head_kv=4, n_ff=18944,
                       n_vocab=N_VOCAB, context_length=32768, weight_type="q4_k", extra={
                           "tokenizer.ggml.model": "gpt2",
                           "tokenizer.ggml.tokens": (tokens * 4)[:N_VOCAB],
                           "tokenizer.ggml.token_type": [1] * N_VOCAB,
                           "tokenizer.ggml.merges": (merges * 4)[:N_MERGES],
                       })
    path = folder / "qwen-like-Q4_K_M.gguf"
    with path.open("wb") as handle:
        handle.write(built.header)
        handle.truncate(built.file_size)
    return path


def timed(read, runs: int) -> tuple[float, float]:
    seconds = []
    for _ in range(runs):
        started = time.process_time()
        read()
        seconds.append(time.process_time() - started)
    return min(seconds), statistics.median(seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    tiny = ensure_tiny_model()
    with tempfile.TemporaryDirectory() as folder:
        big = qwen_like_file(Path(folder), tiny)
        header = read_gguf_header(big)
        print(f"{big.name}: {header.data_offset / 1e6:.1f} MB header, {header.file_size / 1e9:.1f} GB file, "
              f"{header.metadata['tokenizer.ggml.tokens'].length} tokens, "
              f"{header.metadata['tokenizer.ggml.merges'].length} merges")
        reader._short_string_run.cache_clear()
        re.purge()
        started = time.process_time()
        reader._short_string_run()
        compile_ms = (time.process_time() - started) * 1000
        print(f"  compiling the fast path's pattern (once per process): {compile_ms:.1f} ms")
        print(f"  {'file':<34} {'fast path (C)':>20} {'one by one':>20} {'speed-up':>9}")
        for path in (big, tiny):
            fast = timed(lambda path=path: read_gguf_header(path), args.runs)
            kept = reader.STRING_RUN
            reader.STRING_RUN = 1 << 62  # no run is ever long enough: the old walk, string by string
            try:
                slow = timed(lambda path=path: read_gguf_header(path), args.runs)
            finally:
                reader.STRING_RUN = kept
            print(f"  {path.name:<34} {fast[0] * 1000:8.1f} ms (med {fast[1] * 1000:5.1f}) "
                  f"{slow[0] * 1000:8.1f} ms (med {slow[1] * 1000:5.1f}) {slow[0] / fast[0]:8.1f}x")
    print("  (best and median CPU ms of", args.runs, "runs)")


if __name__ == "__main__":
    main()
