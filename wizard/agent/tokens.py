"""Counting tokens to fit a conversation into the model's context window.

Two counters with one interface (``count(text) -> int``, ``message_overhead``):

- :class:`ModelTokenCounter` — exact: the model file's own tokenizer, loaded by llama.cpp with
  ``vocab_only`` (no weights: ~0.25 s and a few MB for a 49k vocabulary). Used whenever the model
  is a local file.
- :class:`EstimatingTokenCounter` — for remote servers, where Hearth has no tokenizer: a
  deliberately high estimate by character class, checked against SmolLM2's real tokenizer:
  ASCII letters 1 token per 2 (English averages ~4.8 characters per token, German ~2.3),
  digits, punctuation and whitespace 1 token each run-character, other characters 0.7 token per
  UTF-8 byte (Chinese ~2 tokens a character, Russian ~0.4 a byte).

Either way, chat-template markup costs ``message_overhead`` tokens per message (ChatML's
``<|im_start|>role\\n … <|im_end|>\\n`` is 5; 8 leaves room for longer templates).
"""

from __future__ import annotations

import ctypes
import functools
import math
import threading
from pathlib import Path
from typing import Protocol

MESSAGE_OVERHEAD = 8


class TokenCounter(Protocol):
    message_overhead: int

    def count(self, text: str) -> int: ...


class EstimatingTokenCounter:
    """A conservative token estimate when no tokenizer is at hand (never below the truth for
    the scripts measured; see the module docstring)."""

    message_overhead = MESSAGE_OVERHEAD

    def count(self, text: str) -> int:
        letters = other = 0.0
        for char in text:
            code = ord(char)
            if code < 128:
                if char.isalpha():
                    letters += 1
                else:
                    other += 1
            else:
                other += 0.7 * len(char.encode("utf-8"))
        return math.ceil(letters / 2 + other)


def _quiet_log(level: int, text: bytes, user_data: ctypes.c_void_p) -> None:
    pass


_quiet_log_callback = None  # llama.cpp keeps the pointer for the life of the process: so must we


def _silence_llama_logs(ll) -> None:
    global _quiet_log_callback
    if _quiet_log_callback is None:
        _quiet_log_callback = ll.llama_log_callback(_quiet_log)
    ll.llama_log_set(_quiet_log_callback, ctypes.c_void_p(0))


class ModelTokenCounter:
    """The model file's real tokenizer (llama.cpp, vocabulary only). Thread-safe.

    Raises (constructor): OSError if llama.cpp cannot read the file's vocabulary.
    """

    message_overhead = MESSAGE_OVERHEAD

    def __init__(self, model_path: Path) -> None:
        import llama_cpp as ll

        self._ll = ll
        _silence_llama_logs(ll)
        ll.llama_backend_init()
        params = ll.llama_model_default_params()
        params.vocab_only = True
        self._model = ll.llama_model_load_from_file(str(model_path).encode(), params)
        if not self._model:
            raise OSError(f"llama.cpp could not read the vocabulary of {model_path}")
        self._vocab = ll.llama_model_get_vocab(self._model)
        self._lock = threading.Lock()
        self.count = functools.lru_cache(maxsize=4096)(self._count)  # history is counted every turn

    def _count(self, text: str) -> int:
        data = text.encode("utf-8")
        capacity = len(data) + 8
        with self._lock:
            while True:
                array = (self._ll.llama_token * capacity)()
                count = self._ll.llama_tokenize(self._vocab, data, len(data), array, capacity, False, False)
                if count >= 0:
                    return count
                capacity = -count

    def close(self) -> None:
        with self._lock:
            if self._model:
                self._ll.llama_model_free(self._model)
                self._model = None


def counter_for(model_path: Path | None) -> TokenCounter:
    """The exact counter for a local model file, else (or if it cannot be read) the estimate."""
    if model_path is not None:
        try:
            return ModelTokenCounter(model_path)
        except (OSError, ImportError):
            pass
    return EstimatingTokenCounter()
