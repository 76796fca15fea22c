"""Token counting: the model's own tokenizer, and the estimate never below it."""

from __future__ import annotations

from pathlib import Path

import pytest

from wizard.agent.tokens import EstimatingTokenCounter, ModelTokenCounter, counter_for

SAMPLES = {
    "english": "Remember that my daughter is called Ana. What should I get her for her birthday?",
    "code": "def f(x):\n    return {k: v**2 for k, v in x.items() if v > 0}  # squares\n",
    "digits": "3.14159 2718281828 1234567890 0.5 1e-9 42",
    "german": "Die Straßenbahnhaltestelle befindet sich gegenüber dem Rathaus.",
    "russian": "Привет, как дела? Я хотел бы узнать, какая завтра будет погода.",
    "chinese": "你好，我想知道明天北京的天气怎么样。请帮我预订一张火车票。",
    "japanese": "こんにちは、明日の東京の天気を教えてください。",
    "arabic": "مرحبا، كيف حالك؟ أريد أن أعرف حالة الطقس غدا.",
    "emoji": "🙂🎉🔥 great!!! 👍🏽",
    "whitespace": "a    b\n\n\n\t\tc   " * 3,
}


@pytest.fixture(scope="module")
def real(tiny_model: Path) -> ModelTokenCounter:
    counter = ModelTokenCounter(tiny_model)
    yield counter
    counter.close()


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_the_estimate_is_never_below_the_real_count(real: ModelTokenCounter, name: str) -> None:
    text = SAMPLES[name]
    assert EstimatingTokenCounter().count(text) >= real.count(text) > 0


def test_the_real_counter_counts_like_the_model(real: ModelTokenCounter) -> None:
    assert real.count("") == 0
    assert real.count("Paris") == 1
    assert real.count("Paris " * 50) >= 50


def test_an_unreadable_model_falls_back_to_the_estimate(tmp_path: Path) -> None:
    broken = tmp_path / "broken.gguf"
    broken.write_bytes(b"GGUF" + b"\x00" * 100)
    assert isinstance(counter_for(broken), EstimatingTokenCounter)
    assert isinstance(counter_for(None), EstimatingTokenCounter)


AFTER_A_COUNTER_IS_GONE = """
import gc, sys
from pathlib import Path
import llama_cpp as ll
from wizard.agent.tokens import ModelTokenCounter
counter = ModelTokenCounter(Path(sys.argv[1]))
counter.close(); del counter; gc.collect()
ll.llama_model_load_from_file(b"/nonexistent/model.gguf", ll.llama_model_default_params())  # llama.cpp logs
print("ALIVE")
"""


def test_llama_cpp_can_still_log_after_a_counter_is_gone(tiny_model: Path) -> None:
    """llama.cpp keeps the log callback's address for the whole process; freeing it crashed Python."""
    import os
    import subprocess
    import sys

    result = subprocess.run([sys.executable, "-c", AFTER_A_COUNTER_IS_GONE, str(tiny_model)], capture_output=True,
                            text=True, timeout=120, env=dict(os.environ), cwd=Path(__file__).resolve().parents[3])
    assert result.returncode == 0, result.stderr[-2000:]
    assert "ALIVE" in result.stdout
