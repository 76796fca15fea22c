"""Benchmark: time to first token through the whole agent (database, memory, prompt assembly).

Run: ``.venv/bin/python tests/bench/bench_agent_ttft.py [--turns 10] [--memories 20]``

One conversation of ``--turns`` turns on the tiny test model (n_ctx 2048, greedy, replies capped
at 48 tokens), with ``--memories`` remembered facts in the system prompt, after a warm-up
conversation. Prints per turn: time to first token, prompt tokens, tokens reused from the
engine's cache, and the ratio turn N / turn 1 (goal <= 1.2x: the prompt's beginning stays the
same, so the engine only reads the new part). Runs in a temporary HEARTH_HOME.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ["HEARTH_HOME"] = tempfile.mkdtemp(prefix="hearth-bench-agent-")

from tests.support.tiny_model import ensure_tiny_model  # noqa: E402
from wizard.agent import ChatSession, ConversationStore, MemoryStore, ModelTokenCounter  # noqa: E402
from wizard.engine import GenerationParams, LoadPlan, LocalEngine  # noqa: E402

QUESTIONS = ["Name the capital city of France.", "And of Germany?", "And of Italy?", "And of Spain?",
             "And of Portugal?", "And of Austria?", "And of Poland?", "And of Greece?", "And of Norway?",
             "And of Sweden?", "And of Finland?", "And of Ireland?"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--turns", type=int, default=10)
    parser.add_argument("--memories", type=int, default=20)
    args = parser.parse_args()
    model = ensure_tiny_model()
    params = GenerationParams(temperature=0.0, max_tokens=48)
    with LocalEngine(model, LoadPlan(n_ctx=2048, n_threads=2)) as engine, ConversationStore() as store:
        memories = MemoryStore(store)
        for number in range(args.memories):
            memories.add_fact(f"the user's friend number {number} lives in city number {number}")
        counter = ModelTokenCounter(model)

        def session() -> ChatSession:
            return ChatSession(store, engine, counter=counter, n_ctx=2048, model=model.stem, params=params)

        warm = session()
        for question in QUESTIONS[:3]:
            warm.send(question)

        chat = session()
        first = None
        print(f"{'turn':>4} {'ttft ms':>8} {'prompt':>7} {'cached':>7} {'vs turn 1':>9}")
        for turn in range(args.turns):
            result = chat.send(QUESTIONS[turn % len(QUESTIONS)])
            ttft = result.summary.time_to_first_token
            first = first or ttft
            print(f"{turn + 1:>4} {ttft * 1000:>8.0f} {result.summary.prompt_tokens:>7} "
                  f"{result.summary.cached_tokens or 0:>7} {ttft / first:>8.2f}x")
        print(f"turn {args.turns} / turn 1 time to first token: {ttft / first:.2f}x (goal <= 1.2x)")


if __name__ == "__main__":
    main()
