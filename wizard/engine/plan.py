"""What the engine is asked to do: how to load a model and how to sample a reply."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

# llama.cpp's ggml_type numbers for the KV cache types a plan may ask for.
KV_CACHE_TYPES = {"f16": 1, "q8_0": 8, "q4_0": 2}


@dataclass(frozen=True)
class LoadPlan:
    """How to load a model. The fit planner (wizard.fit) will produce these.

    ``kv_type`` is one of :data:`KV_CACHE_TYPES`; a quantized KV cache needs flash attention,
    which is then switched on.
    """

    n_ctx: int = 2048
    n_gpu_layers: int = 0
    n_threads: int = 2
    kv_type: str = "f16"
    n_batch: int = 512
    flash_attn: bool = False

    def __post_init__(self) -> None:
        if self.kv_type not in KV_CACHE_TYPES:
            raise ValueError(f"kv_type must be one of {sorted(KV_CACHE_TYPES)}, not {self.kv_type!r}")
        if self.n_ctx < 16 or self.n_threads < 1 or self.n_batch < 1:
            raise ValueError(f"impossible load plan: {self!r}")


@dataclass(frozen=True)
class GenerationParams:
    """Sampling settings for one reply, in OpenAI's terms plus llama.cpp's common extras.

    ``temperature`` 0 means greedy (always the most likely token). ``seed`` None means random.

    Constrained output: ``json_schema`` (the schema as JSON text, sent as OpenAI's
    ``response_format`` and understood by llama-server, vLLM and Ollama too) or ``grammar``
    (llama.cpp GBNF, llama-server's ``grammar`` field). The engine turns a schema into a grammar
    and only lets the model pick tokens the grammar allows.
    """

    temperature: float = 0.7
    top_p: float = 0.95
    top_k: int = 40
    min_p: float = 0.05
    repeat_penalty: float = 1.0
    seed: int | None = None
    max_tokens: int | None = None
    stop: tuple[str, ...] = field(default_factory=tuple)
    json_schema: str | None = None
    grammar: str | None = None

    def to_request(self) -> dict:
        """The request-body fields for an OpenAI-compatible ``/v1/chat/completions``.

        top_k, min_p and repeat_penalty are not OpenAI fields; llama-server, vLLM and Ollama's
        OpenAI endpoint accept them, so they are only sent when they differ from "off".
        """
        body: dict = {"temperature": self.temperature, "top_p": self.top_p}
        if self.top_k > 0:
            body["top_k"] = self.top_k
        if self.min_p > 0:
            body["min_p"] = self.min_p
        if self.repeat_penalty != 1.0:
            body["repeat_penalty"] = self.repeat_penalty
        if self.seed is not None:
            body["seed"] = self.seed
        if self.max_tokens is not None:
            body["max_tokens"] = self.max_tokens
        if self.stop:
            body["stop"] = list(self.stop)
        if self.json_schema is not None:
            body["response_format"] = {"type": "json_schema",
                                       "json_schema": {"name": "reply", "strict": True,
                                                       "schema": json.loads(self.json_schema)}}
        if self.grammar is not None:
            body["grammar"] = self.grammar
        return body
