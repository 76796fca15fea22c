"""Token generation with llama.cpp's low-level API, keeping the KV cache between requests.

Runs inside the engine process only (it imports llama_cpp, which is slow to import and can
crash). The loop is the one llama.cpp's own server runs: batch-decode the prompt, then per
token one ``llama_sampler_sample`` through llama.cpp's C sampler chain and one ``llama_decode``,
with no per-token Python work beyond a few ctypes calls (the high-level ``Llama`` API loses
10-30% on small models to its per-token Python).

Prefix reuse: the tokens in the KV cache are remembered; a new prompt is compared with them,
only the part after the longest common prefix is removed from the cache and decoded.

Stopping: :meth:`LlamaRunner.abort` (from any thread) makes the ``llama_decode`` in progress
return within one step of its compute graph, so a stop lands within milliseconds even in the
middle of a long prompt or a slow token. llama.cpp asks an abort callback between graph nodes;
a Python callback there would cost every token dearly, so the callback is libc's ``strlen``
reading a one-byte flag: C calling C, no Python, no lock.
"""

from __future__ import annotations

import codecs
import ctypes
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from wizard.engine.errors import EngineError, EngineRequestError, EngineStartError
from wizard.engine.plan import KV_CACHE_TYPES, GenerationParams, LoadPlan

PENALTY_LAST_N = 64
# ggml_log_level in the vendored ggml.h (llama_cpp/_logger.py's comment has older numbers).
_GGML_LOG_WARN, _GGML_LOG_ERROR, _GGML_LOG_CONT = 3, 4, 5
_log_state = {"keeping": False}
_DECODE_ABORTED = 2  # llama_decode's "aborted by the abort callback"


class _Aborted(Exception):
    """llama_decode stopped because :meth:`LlamaRunner.abort` was called."""


@dataclass
class GenerationStats:
    """What one generation cost, in llama-server's ``timings`` terms."""

    prompt_tokens: int = 0  # the whole prompt
    cached_tokens: int = 0  # reused from the KV cache, not evaluated again
    evaluated_tokens: int = 0  # prompt tokens decoded for this request
    prompt_ms: float = 0.0
    completion_tokens: int = 0
    predicted_ms: float = 0.0
    finish_reason: str = "stop"  # stop | length | cancelled

    def timings(self) -> dict:
        per_second = (self.completion_tokens / self.predicted_ms * 1000) if self.predicted_ms else 0.0
        return {
            "cache_n": self.cached_tokens,
            "prompt_n": self.evaluated_tokens,
            "prompt_ms": round(self.prompt_ms, 3),
            "predicted_n": self.completion_tokens,
            "predicted_ms": round(self.predicted_ms, 3),
            "predicted_per_second": round(per_second, 3),
        }


class StopMatcher:
    """Holds back text that might be the start of a stop string; cuts at the first match."""

    def __init__(self, stops: Sequence[str]) -> None:
        self.stops = [s for s in stops if s]
        self.pending = ""

    def feed(self, text: str) -> tuple[str, bool]:
        """(text safe to emit now, whether a stop string was reached)."""
        self.pending += text
        if not self.stops:
            out, self.pending = self.pending, ""
            return out, False
        cut = min((i for i in (self.pending.find(s) for s in self.stops) if i >= 0), default=-1)
        if cut >= 0:
            out, self.pending = self.pending[:cut], ""
            return out, True
        hold = 0
        for stop in self.stops:
            for size in range(min(len(stop) - 1, len(self.pending)), 0, -1):
                if self.pending.endswith(stop[:size]):
                    hold = max(hold, size)
                    break
        out = self.pending[: len(self.pending) - hold]
        self.pending = self.pending[len(out):]
        return out, False

    def flush(self) -> str:
        out, self.pending = self.pending, ""
        return out


def common_prefix_length(a: Sequence[int], b: Sequence[int]) -> int:
    n = min(len(a), len(b))
    i = 0
    while i < n and a[i] == b[i]:
        i += 1
    return i


class LlamaRunner:
    """One loaded model and context; generates one reply at a time (the caller serialises).

    Raises (constructor):
        EngineStartError: llama.cpp could not load the model or create the context.
    """

    def __init__(self, model_path: Path, plan: LoadPlan) -> None:
        import llama_cpp as ll

        self._ll = ll
        _keep_only_llama_warnings(ll)
        ll.llama_backend_init()
        model_params = ll.llama_model_default_params()
        model_params.n_gpu_layers = plan.n_gpu_layers
        self.model = ll.llama_model_load_from_file(str(model_path).encode(), model_params)
        if not self.model:
            raise EngineStartError("The AI model could not be loaded.", details=f"llama.cpp refused {model_path}")
        ctx_params = ll.llama_context_default_params()
        ctx_params.n_ctx = plan.n_ctx
        ctx_params.n_batch = plan.n_batch
        ctx_params.n_ubatch = plan.n_batch
        ctx_params.n_threads = plan.n_threads
        ctx_params.n_threads_batch = plan.n_threads
        ctx_params.type_k = ctx_params.type_v = KV_CACHE_TYPES[plan.kv_type]
        quantized_kv = plan.kv_type != "f16"
        ctx_params.flash_attn_type = (ll.LLAMA_FLASH_ATTN_TYPE_ENABLED if plan.flash_attn or quantized_kv
                                      else ll.LLAMA_FLASH_ATTN_TYPE_DISABLED)
        self.ctx = ll.llama_init_from_model(self.model, ctx_params)
        if not self.ctx:
            ll.llama_model_free(self.model)
            raise EngineStartError("There is not enough memory to run this model with these settings.",
                                   details=f"llama_init_from_model failed for {plan!r}")
        self.plan = plan
        self.n_ctx = ll.llama_n_ctx(self.ctx)
        self.n_batch = plan.n_batch
        self.vocab = ll.llama_model_get_vocab(self.model)
        self.n_vocab = ll.llama_vocab_n_tokens(self.vocab)
        self.memory = ll.llama_get_memory(self.ctx)
        self.batch = ll.llama_batch_init(self.n_batch, 0, 1)
        # One token at a time while answering: a batch whose fixed fields are set once.
        self._one = ll.llama_batch_init(1, 0, 1)
        self._one.n_tokens = 1
        self._one.n_seq_id[0] = 1
        self._one.seq_id[0][0] = 0
        self._one.logits[0] = True
        self._one_token, self._one_pos = self._one.token, self._one.pos
        self.kv_tokens: list[int] = []
        self._piece_buffer = ctypes.create_string_buffer(256)
        # b"" carry on, b"x" stop: strlen(flag) is the abort callback's answer
        self._abort_flag = ctypes.create_string_buffer(2)
        ll.llama_set_abort_callback(self.ctx, _flag_reader(ll), ctypes.cast(self._abort_flag, ctypes.c_void_p))

    def abort(self) -> None:
        """Stop the generation in progress as soon as possible (safe from any thread)."""
        self._abort_flag.value = b"x"

    def close(self) -> None:
        ll = self._ll
        if self.ctx:
            ll.llama_batch_free(self.batch)
            ll.llama_batch_free(self._one)
            ll.llama_free(self.ctx)
            ll.llama_model_free(self.model)
            self.ctx = self.model = None

    # -- model facts -------------------------------------------------------------------------

    def metadata(self, key: str) -> str | None:
        size = 4096
        while True:
            buffer = ctypes.create_string_buffer(size)
            length = self._ll.llama_model_meta_val_str(self.model, key.encode(), buffer, size)
            if length < 0:
                return None
            if length < size:
                return buffer.raw[:length].decode("utf-8", errors="replace")
            size = length + 1

    def token_text(self, token: int) -> str:
        if token < 0:
            return ""
        return self._piece(token, special=True).decode("utf-8", errors="replace")

    @property
    def bos_token(self) -> int:
        return self._ll.llama_vocab_bos(self.vocab)

    @property
    def eos_token(self) -> int:
        return self._ll.llama_vocab_eos(self.vocab)

    def tokenize(self, text: str, *, add_bos: bool = True) -> list[int]:
        data = text.encode("utf-8")
        capacity = len(data) + 8
        while True:
            array = (self._ll.llama_token * capacity)()
            count = self._ll.llama_tokenize(self.vocab, data, len(data), array, capacity, False, True)
            if count >= 0:
                break
            capacity = -count
        tokens = list(array[:count])
        bos = self.bos_token
        if add_bos and self._ll.llama_vocab_get_add_bos(self.vocab) and bos >= 0 and tokens[:1] != [bos]:
            tokens.insert(0, bos)
        return tokens

    def is_single_special_token(self, text: str) -> bool:
        return len(self.tokenize(text, add_bos=False)) == 1

    # -- generation --------------------------------------------------------------------------

    def generate(self, prompt: list[int], params: GenerationParams, should_stop: Callable[[], bool],
                 stats: GenerationStats) -> Iterator[str]:
        """Yield the reply's text pieces; ``stats`` is filled in as it goes.

        Raises:
            EngineRequestError: the prompt does not fit in the context.
            EngineError: llama.cpp failed to decode.
        """
        ll = self._ll
        if not prompt:
            raise EngineRequestError("There is nothing to answer.")
        if len(prompt) >= self.n_ctx:
            raise EngineRequestError(
                "This conversation is too long for the model's memory.",
                details=f"context_length_exceeded: prompt has {len(prompt)} tokens, context is {self.n_ctx}",
            )
        started = time.perf_counter()
        self._abort_flag.value = b""
        common = min(common_prefix_length(self.kv_tokens, prompt), len(prompt) - 1)
        if not ll.llama_memory_seq_rm(self.memory, 0, common, -1):
            ll.llama_memory_clear(self.memory, True)  # a model whose memory cannot be cut (recurrent)
            common = 0
        del self.kv_tokens[common:]
        stats.prompt_tokens, stats.cached_tokens = len(prompt), common
        stats.evaluated_tokens = len(prompt) - common
        for start in range(common, len(prompt), self.n_batch):
            if should_stop():
                stats.finish_reason = "cancelled"
                return
            try:
                self._decode(prompt[start:start + self.n_batch], start)
            except _Aborted:
                stats.finish_reason = "cancelled"
                stats.prompt_ms = (time.perf_counter() - started) * 1000
                return
        prompt_done = time.perf_counter()
        stats.prompt_ms = (prompt_done - started) * 1000
        yield from self._sample_loop(prompt, params, should_stop, stats, prompt_done)

    def _sample_loop(self, prompt: list[int], params: GenerationParams, should_stop: Callable[[], bool],
                     stats: GenerationStats, prompt_done: float) -> Iterator[str]:
        ll = self._ll
        room = self.n_ctx - len(prompt)
        budget = room if params.max_tokens is None else min(params.max_tokens, room)
        sampler = self._make_sampler(params, prompt)
        utf8 = codecs.getincrementaldecoder("utf-8")(errors="replace")
        stopper = StopMatcher(params.stop)
        stats.finish_reason = "length"
        hit_stop = False
        try:
            while stats.completion_tokens < budget:
                token = ll.llama_sampler_sample(sampler, self.ctx, -1)
                if ll.llama_vocab_is_eog(self.vocab, token):
                    stats.finish_reason = "stop"
                    break
                stats.completion_tokens += 1
                text, hit_stop = stopper.feed(utf8.decode(self._piece(token, special=False)))
                if text:
                    yield text
                if hit_stop:
                    stats.finish_reason = "stop"
                    break
                if should_stop():
                    stats.finish_reason = "cancelled"
                    break
                if stats.completion_tokens >= budget:
                    break
                try:
                    self._decode_one(token)
                except _Aborted:
                    stats.finish_reason = "cancelled"
                    break
            if not hit_stop and stats.finish_reason != "cancelled":
                tail = stopper.feed(utf8.decode(b"", final=True))[0] + stopper.flush()
                if tail:
                    yield tail
        finally:
            ll.llama_sampler_free(sampler)
            stats.predicted_ms = (time.perf_counter() - prompt_done) * 1000

    def _make_sampler(self, params: GenerationParams, history: list[int]):
        ll = self._ll
        chain = ll.llama_sampler_chain_init(ll.llama_sampler_chain_default_params())
        if params.repeat_penalty != 1.0:
            ll.llama_sampler_chain_add(chain, ll.llama_sampler_init_penalties(
                self.n_vocab, PENALTY_LAST_N, params.repeat_penalty, 0.0, 0.0))
            for token in history[-PENALTY_LAST_N:]:  # before the grammar joins: it must not see them
                ll.llama_sampler_accept(chain, token)
        if params.grammar is not None:
            # First after the penalties, on the whole vocabulary: cutting to top-k first could leave
            # no token the grammar allows.
            grammar = ll.llama_sampler_init_grammar(self.vocab, params.grammar.encode(), b"root")
            if not grammar:
                ll.llama_sampler_free(chain)
                raise EngineRequestError("The requested answer format is not valid.",
                                         details="llama.cpp could not parse the grammar")
            ll.llama_sampler_chain_add(chain, grammar)
        if params.temperature <= 0:
            ll.llama_sampler_chain_add(chain, ll.llama_sampler_init_greedy())
        else:
            if params.top_k > 0:
                ll.llama_sampler_chain_add(chain, ll.llama_sampler_init_top_k(params.top_k))
            if params.top_p < 1.0:
                ll.llama_sampler_chain_add(chain, ll.llama_sampler_init_top_p(params.top_p, 1))
            if params.min_p > 0:
                ll.llama_sampler_chain_add(chain, ll.llama_sampler_init_min_p(params.min_p, 1))
            ll.llama_sampler_chain_add(chain, ll.llama_sampler_init_temp(params.temperature))
            seed = ll.LLAMA_DEFAULT_SEED if params.seed is None else params.seed & 0xFFFFFFFF
            ll.llama_sampler_chain_add(chain, ll.llama_sampler_init_dist(seed))
        return chain

    def _decode_one(self, token: int) -> None:
        position = len(self.kv_tokens)
        self._one_token[0] = token
        self._one_pos[0] = position
        result = self._ll.llama_decode(self.ctx, self._one)
        if result != 0:
            self._decode_failed(result, position)
        self.kv_tokens.append(token)

    def _decode(self, tokens: Sequence[int], first_position: int) -> None:
        batch = self.batch
        count = len(tokens)
        batch.n_tokens = count
        for i, token in enumerate(tokens):
            batch.token[i] = token
            batch.pos[i] = first_position + i
            batch.n_seq_id[i] = 1
            batch.seq_id[i][0] = 0
            batch.logits[i] = False
        batch.logits[count - 1] = True
        result = self._ll.llama_decode(self.ctx, batch)
        if result != 0:
            self._decode_failed(result, first_position)
        self.kv_tokens.extend(tokens)

    def _decode_failed(self, result: int, first_position: int) -> None:
        if result == _DECODE_ABORTED and self._abort_flag.value:
            # llama.cpp took the aborted batch out of the cache already; make sure of it
            self._ll.llama_memory_seq_rm(self.memory, 0, first_position, -1)
            raise _Aborted()
        # A failed decode may leave part of the batch in the cache: start clean next time.
        self._ll.llama_memory_clear(self.memory, True)
        self.kv_tokens.clear()
        raise EngineError("The AI model stopped working on this reply.", details=f"llama_decode returned {result}")

    def _piece(self, token: int, *, special: bool) -> bytes:
        buffer = self._piece_buffer
        length = self._ll.llama_token_to_piece(self.vocab, token, buffer, len(buffer), 0, special)
        if length < 0:
            buffer = ctypes.create_string_buffer(-length)
            length = self._ll.llama_token_to_piece(self.vocab, token, buffer, len(buffer), 0, special)
        return buffer.raw[:length]


_log_callback = None  # llama.cpp keeps the pointer for the life of the process: so must we
_abort_callback = None


def _flag_reader(ll):
    """libc's strlen as a ``ggml_abort_callback``: true when the flag it is given is not empty."""
    global _abort_callback
    if _abort_callback is None:
        libc = ctypes.cdll.msvcrt if sys.platform == "win32" else ctypes.CDLL(None)
        _abort_callback = ll.ggml_abort_callback(ctypes.cast(libc.strlen, ctypes.c_void_p).value)
    return _abort_callback


def _keep_only_llama_warnings(ll) -> None:
    global _log_callback
    if _log_callback is None:
        _log_callback = ll.llama_log_callback(_log_errors_only)
    ll.llama_log_set(_log_callback, ctypes.c_void_p(0))


def _log_errors_only(level: int, text: bytes, user_data: ctypes.c_void_p) -> None:
    # llama.cpp's warnings and errors go to stderr, which the parent keeps as the "details" of a
    # failed start or a crash; its chatty info and debug lines are dropped.
    if level != _GGML_LOG_CONT:
        _log_state["keeping"] = level in (_GGML_LOG_WARN, _GGML_LOG_ERROR)
    if _log_state["keeping"]:
        sys.stderr.write(text.decode("utf-8", errors="replace"))
        sys.stderr.flush()
