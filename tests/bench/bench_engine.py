"""Benchmark: Hearth's engine (child process + HTTP + client) vs llama-server and llama-cpp-python.

Run: ``.venv/bin/python tests/bench/bench_engine.py [--runs 5] [--tokens 256]``
(the first run builds llama-server, 10-20 min on 2 cores; see tests/bench/llama_server_build.py)

Prints, on the tiny test model with the same context, threads and batch size, each side warmed
up first, same prompt, temperature 0, same max tokens:
1. streamed decode tokens/s through Hearth's full stack vs (a) llama.cpp's own ``llama-server``
   built from the llama.cpp sources vendored in the pinned llama-cpp-python sdist with the
   wheel's flags (same kernels) — goal >= 1.0x; and (b) llama-cpp-python's high-level
   ``Llama.create_chat_completion(stream=True)`` — goal >= 1.1x;
2. time to first token at turn 1 vs turn 10 of one conversation — goal <= 1.2x;
3. cancel latency: from setting the cancel event (on another thread, as the window's Stop does)
   to the stream ending in the client, and to the engine no longer generating (its /health says
   not busy), while it writes the answer and while it reads a long prompt — target ~100 ms.
Decode speed is measured as a client sees it: (tokens - 1) / (time of last - time of first);
Hearth and llama-server are read by the same client (wizard.engine.EngineClient). The sides
run interleaved, in a rotating order (A B C, B C A, ...), so a noisy neighbour hits all alike.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.bench.machine_noise import OtherWork  # noqa: E402
from tests.bench.llama_server_build import LlamaServer, binary_path, cpu_variant, ensure_llama_server  # noqa: E402
from tests.support.tiny_model import ensure_tiny_model  # noqa: E402
from wizard.engine import EngineClient, GenerationParams, LoadPlan, LocalEngine  # noqa: E402

QUIET_CORES = 0.3
PROMPT = [{"role": "user", "content": "Write a very long story about a dragon who learns to bake bread."}]
FOLLOW_UPS = ["Name the capital city of France.", "And of Germany?", "And of Italy?", "And of Spain?",
              "And of Portugal?", "And of Austria?", "And of Poland?", "And of Greece?", "And of Norway?",
              "And of Sweden?"]


def client_decode_rate(client: LocalEngine | EngineClient, max_tokens: int) -> tuple[float, int]:
    """Hearth's engine or llama-server, read by the same streaming client code."""
    stream = client.stream_chat(PROMPT, params=GenerationParams(temperature=0.0, max_tokens=max_tokens))
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


def cancel_latency(engine: LocalEngine, during: str, number: int) -> tuple[float, float, int]:
    """(ms to the stream's end in the client, ms until the engine stops generating, tokens received)
    after a cancel set on another thread ``during`` "decode" (after 5 tokens) or "prompt" (50 ms
    into reading a ~1600-token prompt, never cached: it starts with ``number``)."""
    cancel = threading.Event()
    if during == "decode":
        messages, wait_for_tokens = PROMPT, 5
    else:
        words = " ".join(f"w{i}" for i in range(420))
        messages, wait_for_tokens = [{"role": "user", "content": f"Text {number}: {words}. Summarise it."}], 0
    stream = engine.stream_chat(messages, params=GenerationParams(temperature=0.0, max_tokens=400), cancel=cancel)
    received, tokens_seen, ended = [], threading.Event(), {}

    def consume() -> None:
        for piece in stream:
            received.append(piece)
            if len(received) >= wait_for_tokens:
                tokens_seen.set()
        ended["at"] = time.perf_counter()

    reader = threading.Thread(target=consume)
    reader.start()
    client = engine.client()
    if during == "decode":
        tokens_seen.wait(60)
    else:
        while not client.health()["busy"]:
            time.sleep(0.002)
        time.sleep(0.05)
    cancelled_at = time.perf_counter()
    cancel.set()
    while client.health()["busy"]:
        time.sleep(0.002)
    server_stopped = time.perf_counter()
    reader.join(60)
    return (ended["at"] - cancelled_at) * 1000, (server_stopped - cancelled_at) * 1000, len(received)


def cancel_comparison(engine: LocalEngine, runs: int) -> None:
    print("\ncancel latency through Hearth (target ~100 ms), ms from cancel.set() on another thread:")
    for during in ("decode", "prompt"):
        cancel_latency(engine, during, 0)  # warm-up
        client_ms, server_ms, others = [], [], []
        for number in range(1, runs + 1):
            with OtherWork() as noise:
                to_client, to_server, _tokens = cancel_latency(engine, during, number)
            client_ms.append(to_client)
            server_ms.append(to_server)
            others.append(noise.cores)
        where = "while writing the answer" if during == "decode" else "while reading a long prompt"
        print(f"  {where:<30} stream ended {statistics.median(client_ms):6.1f} (max {max(client_ms):6.1f})   "
              f"engine stopped {statistics.median(server_ms):6.1f} (max {max(server_ms):6.1f})   "
              f"others {statistics.median(others):.1f} cores")


def text_bytes(library: Path) -> int | None:
    """Size of a shared library's code (binutils' ``size``), or None where that tool is missing."""
    import shutil
    import subprocess

    if not library.exists() or shutil.which("size") is None:
        return None
    out = subprocess.run(["size", str(library)], capture_output=True, text=True).stdout.splitlines()
    return int(out[1].split()[0]) if len(out) > 1 else None


def kernel_note() -> str:
    """Evidence that the wheel and the benchmark's llama-server run the same ggml CPU kernels."""
    import llama_cpp

    wheel = text_bytes(Path(llama_cpp.__file__).parent / "lib" / "libggml-cpu.so")
    built = text_bytes(binary_path().parent / "libggml-cpu.so")
    sizes = f"; libggml-cpu.so code {wheel} bytes (wheel) vs {built} (llama-server)" if wheel and built else ""
    return (f"wheel: {llama_cpp.llama_print_system_info().decode().strip()}\n"
            f"  llama-server build: ggml-cpu variant {cpu_variant() or '?'}{sizes}")


def decode_comparison(sides: dict, runs: int, tokens: int) -> None:
    """Warm each side up, then run them interleaved in a rotating order; print the table."""
    for name, run in sides.items():  # the first generation after loading is slower
        run(32)
    rates: dict[str, list[float]] = {name: [] for name in sides}
    busiest: list[float] = []  # per run: the most cores other work took during any side
    names = list(sides)
    for number in range(runs):
        order = names[number % len(names):] + names[:number % len(names)]
        parts, noise = [], []
        for name in order:
            with OtherWork() as others:
                rate, count = sides[name](tokens)
            rates[name].append(rate)
            noise.append(others.cores)
            parts.append(f"{name} {rate:5.1f} ({count} tok, others {others.cores:.1f} cores)")
        busiest.append(max(noise))
        print(f"  run {number + 1}: " + "   ".join(parts))
    hearth = rates["hearth"]
    labels = {"hearth": "Hearth full stack (LocalEngine)", "llama-server": "llama.cpp llama-server, same build",
              "high-level": "llama-cpp-python create_chat_completion"}
    goals = {"llama-server": 1.0, "high-level": 1.1}
    print(f"\nstreamed decode, tok/s, median of {runs} interleaved runs of {tokens} tokens:")
    print(f"  {'side':<42}{'tok/s':>7}{'min':>7}{'max':>7}{'Hearth/side':>13}{'paired':>8}")
    for name in names:
        median = statistics.median(rates[name])
        line = f"  {labels[name]:<42}{median:7.1f}{min(rates[name]):7.1f}{max(rates[name]):7.1f}"
        if name != "hearth":
            paired = statistics.median(h / o for h, o in zip(hearth, rates[name]) if o)
            line += f"{statistics.median(hearth) / median:12.2f}x{paired:7.2f}x"
        print(line)
    print("  ('Hearth/side': ratio of the medians; 'paired': median over runs of Hearth's rate / the other "
          "side's rate in the same run)")
    quiet = [run for run, cores in enumerate(busiest) if cores < QUIET_CORES]
    chosen = quiet or list(range(runs))
    where = (f"over the {len(quiet)} quiet runs (other work < {QUIET_CORES} cores during every side)" if quiet
             else f"over all runs; none was quiet (other work >= {QUIET_CORES} cores): mostly noise")
    for name in names[1:]:
        paired = statistics.median(rates["hearth"][r] / rates[name][r] for r in chosen if rates[name][r])
        verdict = "met" if paired >= goals[name] else "NOT met"
        print(f"  verdict Hearth / {name}: {paired:.2f}x paired {where}; goal >= {goals[name]:.1f}x: {verdict}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--tokens", type=int, default=256)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--n-ctx", type=int, default=2048)
    parser.add_argument("--no-llama-server", action="store_true", help="skip side (a) (no build)")
    parser.add_argument("--cancel-only", action="store_true", help="measure only the cancel latency")
    args = parser.parse_args()
    if args.cancel_only:
        with LocalEngine(ensure_tiny_model(), LoadPlan(n_ctx=args.n_ctx, n_threads=args.threads)) as engine:
            cancel_comparison(engine, args.runs)
        return
    model = ensure_tiny_model()
    plan = LoadPlan(n_ctx=args.n_ctx, n_threads=args.threads)
    server_binary = None if args.no_llama_server else ensure_llama_server()
    print(f"model {model.name}, n_ctx {plan.n_ctx}, threads {plan.n_threads}, batch {plan.n_batch}, "
          f"f16 KV, no flash attention; load average before {os.getloadavg()[0]:.2f}")
    print("  " + kernel_note())

    from llama_cpp import Llama

    llm = Llama(model_path=str(model), n_ctx=plan.n_ctx, n_threads=plan.n_threads,
                n_threads_batch=plan.n_threads, n_batch=plan.n_batch, verbose=False)
    with LocalEngine(model, plan) as engine:
        sides = {"hearth": lambda n: client_decode_rate(engine, n)}
        server = None
        if server_binary is not None:
            server = LlamaServer(server_binary, model, n_ctx=plan.n_ctx, n_threads=plan.n_threads,
                                 n_batch=plan.n_batch)
            server.start()
            client = EngineClient(server.base_url)
            sides["llama-server"] = lambda n: client_decode_rate(client, n)
        sides["high-level"] = lambda n: high_level_decode_rate(llm, n)
        try:
            decode_comparison(sides, args.runs, args.tokens)
        finally:
            if server is not None:
                server.stop()
            llm.close()

        conversations = [ttft_by_turn(engine, number) for number in range(1, args.runs + 1)]
        print(f"\ntime to first token through Hearth, one conversation of {len(FOLLOW_UPS)} turns "
              f"(median of {args.runs} conversations):")
        medians = []
        for turn in range(len(FOLLOW_UPS)):
            ttft = statistics.median(rows[turn][0] for rows in conversations)
            prompt_ms = statistics.median(rows[turn][3] for rows in conversations)
            _, prompt_tokens, evaluated, _ = conversations[0][turn]
            medians.append(ttft)
            print(f"  turn {turn + 1:2d}: time to first token {ttft * 1000:6.1f} ms (server prompt "
                  f"{prompt_ms:5.1f} ms)   prompt {prompt_tokens:4d} tokens, evaluated {evaluated:3d}")
        ratio = medians[-1] / medians[0]
        print(f"  turn 1 {medians[0] * 1000:.1f} ms   turn 10 {medians[-1] * 1000:.1f} ms   ratio {ratio:.2f}x "
              f"(goal <= 1.2x: {'met' if ratio <= 1.2 else 'NOT met'})")
        cancel_comparison(engine, args.runs)
    print(f"load average after {os.getloadavg()[0]:.2f} (2 cores shared with other work: sides were interleaved "
          "so noise hits each alike, but absolute numbers move with the load)")


if __name__ == "__main__":
    main()
