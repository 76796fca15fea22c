"""Benchmark: Hearth's engine (child process + HTTP + client) vs llama-cpp-python's high-level API.

Run: ``.venv/bin/python tests/bench/bench_engine.py [--runs 3] [--tokens 256]``

Prints, on the tiny test model with the same context and threads, each side warmed up first:
1. streamed decode tokens/s through Hearth's full stack vs ``Llama.create_chat_completion``
   (stream=True) — goal >= 1.1x;
2. time to first token at turn 1 vs turn 10 of one conversation — goal <= 1.2x.
Decode speed is measured as the client sees it: (tokens - 1) / (time of last - time of first).
(The comparison with llama.cpp's own llama-server needs it built from the sdist; not done here.)
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.support.tiny_model import ensure_tiny_model  # noqa: E402
from wizard.engine import GenerationParams, LoadPlan, LocalEngine  # noqa: E402

PROMPT = [{"role": "user", "content": "Write a very long story about a dragon who learns to bake bread."}]
FOLLOW_UPS = ["Name the capital city of France.", "And of Germany?", "And of Italy?", "And of Spain?",
              "And of Portugal?", "And of Austria?", "And of Poland?", "And of Greece?", "And of Norway?",
              "And of Sweden?"]


def hearth_decode_rate(engine: LocalEngine, max_tokens: int) -> tuple[float, int]:
    stream = engine.stream_chat(PROMPT, params=GenerationParams(temperature=0.0, max_tokens=max_tokens))
    for _ in stream:
        pass
    return stream.summary.tokens_per_second or 0.0, stream.summary.completion_tokens


def high_level_decode_rate(llm, max_tokens: int) -> tuple[float, int]:
    first = last = None
    count = 0
    for chunk in llm.create_chat_completion(messages=PROMPT, temperature=0.0, max_tokens=max_tokens,
                                            stream=True):
        if chunk["choices"][0]["delta"].get("content"):
            last = time.perf_counter()
            first = first or last
            count += 1
    return ((count - 1) / (last - first) if count > 1 else 0.0), count


def ttft_by_turn(engine: LocalEngine, conversation: int) -> list[tuple[float, int, int, float]]:
    """(time to first token, prompt tokens, prompt tokens evaluated, server prompt ms) per turn.

    Each conversation starts with its own words, so its turn 1 is not already in the cache
    (only the system prompt every conversation shares is, as in real use).
    """
    messages: list[dict] = []
    rows = []
    for turn, question in enumerate(FOLLOW_UPS):
        if turn == 0:
            question = f"This is conversation number {conversation}. {question}"
        messages.append({"role": "user", "content": question})
        stream = engine.stream_chat(messages, params=GenerationParams(temperature=0.0, max_tokens=48))
        reply = "".join(stream)
        summary = stream.summary
        rows.append((summary.time_to_first_token or 0.0, summary.prompt_tokens or 0,
                     summary.server_timings.get("prompt_n", -1), summary.server_timings.get("prompt_ms", -1.0)))
        messages.append({"role": "assistant", "content": reply})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--tokens", type=int, default=256)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--n-ctx", type=int, default=2048)
    args = parser.parse_args()
    model = ensure_tiny_model()
    plan = LoadPlan(n_ctx=args.n_ctx, n_threads=args.threads)
    print(f"model {model.name}, n_ctx {plan.n_ctx}, threads {plan.n_threads}, "
          f"load average before {os.getloadavg()[0]:.2f}")

    from llama_cpp import Llama

    llm = Llama(model_path=str(model), n_ctx=plan.n_ctx, n_threads=plan.n_threads,
                n_threads_batch=plan.n_threads, n_batch=plan.n_batch, verbose=False)
    with LocalEngine(model, plan) as engine:
        hearth_decode_rate(engine, 32)  # warm-up: the first generation after loading is slower
        high_level_decode_rate(llm, 32)
        hearth_rates, high_rates = [], []
        for run in range(args.runs):  # alternate, so a noisy neighbour hits both sides alike
            rate, n = hearth_decode_rate(engine, args.tokens)
            hearth_rates.append(rate)
            high, m = high_level_decode_rate(llm, args.tokens)
            high_rates.append(high)
            print(f"  run {run + 1}: hearth {rate:6.1f} tok/s ({n} tokens)   high-level {high:6.1f} tok/s ({m} tokens)")
        hearth, high = statistics.median(hearth_rates), statistics.median(high_rates)
        print(f"decode tok/s (median of {args.runs}): hearth full stack {hearth:.1f}   "
              f"llama-cpp-python create_chat_completion {high:.1f}   ratio {hearth / high:.2f}x (goal >= 1.1x)")

        llm.close()
        conversations = [ttft_by_turn(engine, number) for number in range(1, args.runs + 1)]
        medians = []
        for turn in range(len(FOLLOW_UPS)):
            ttft = statistics.median(rows[turn][0] for rows in conversations)
            prompt_ms = statistics.median(rows[turn][3] for rows in conversations)
            _, prompt_tokens, evaluated, _ = conversations[0][turn]
            medians.append(ttft)
            print(f"  turn {turn + 1:2d}: time to first token {ttft * 1000:6.1f} ms (server prompt "
                  f"{prompt_ms:5.1f} ms)   prompt {prompt_tokens:4d} tokens, evaluated {evaluated:3d}")
        print(f"time to first token (median of {args.runs} conversations): turn 1 {medians[0] * 1000:.1f} ms   "
              f"turn 10 {medians[-1] * 1000:.1f} ms   ratio {medians[-1] / medians[0]:.2f}x (goal <= 1.2x)")
    print(f"load average after {os.getloadavg()[0]:.2f} (other work on this machine skews both sides)")


if __name__ == "__main__":
    main()
