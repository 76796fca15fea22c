"""The real test model answers through the real llama-cpp-python build."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from tests.support import tiny_model as tiny


def test_the_tiny_model_is_the_verified_file(tiny_model: Path) -> None:
    assert tiny_model.stat().st_size == tiny.SIZE
    digest = hashlib.sha256(tiny_model.read_bytes()).hexdigest()
    assert digest == tiny.SHA256
    assert tiny_model.read_bytes()[:4] == b"GGUF"


@pytest.mark.slow
def test_llama_cpp_answers_a_chat_message_with_the_tiny_model(tiny_model: Path) -> None:
    from llama_cpp import Llama

    llm = Llama(model_path=str(tiny_model), n_ctx=512, n_threads=2, seed=7, verbose=False)
    try:
        assert "<|im_start|>" in llm.metadata.get("tokenizer.chat_template", "")
        reply = llm.create_chat_completion(
            messages=[{"role": "user", "content": "Name the capital city of France."}],
            max_tokens=24,
            temperature=0.0,
        )
    finally:
        llm.close()
    text = reply["choices"][0]["message"]["content"]
    assert reply["choices"][0]["message"]["role"] == "assistant"
    assert "paris" in text.lower(), text
