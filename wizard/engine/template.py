"""Render a model's chat template safely, or refuse it.

Chat templates come from inside model files, so they are untrusted code. They are rendered
only in Jinja2's ImmutableSandboxedEnvironment (jinja2>=3.1.6; CVE-2024-34359 was a template
running shell commands), and refused outright when they so much as name a private attribute:
first by a scan of the whole template (which also covers branches a sample conversation would
not reach), then by the sandbox at every render.

The clock a template can read (``strftime_now``) is frozen when the template is loaded, so a
date at the top of the prompt never changes between turns and the KV cache prefix stays
reusable.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

import jinja2
import jinja2.ext
from jinja2 import nodes
from jinja2.exceptions import SecurityError, TemplateError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from wizard.engine.errors import ChatTemplateError, NoChatTemplateError, UnsafeTemplateError

CHATML = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)

# Architectures whose every chat model uses one format, and the special tokens that must be in
# the vocabulary to be sure. Anything else without a template is refused, never guessed.
KNOWN_FORMATS: dict[str, tuple[str, tuple[str, ...]]] = {
    "qwen2": (CHATML, ("<|im_start|>", "<|im_end|>")),
    "qwen2moe": (CHATML, ("<|im_start|>", "<|im_end|>")),
    "qwen3": (CHATML, ("<|im_start|>", "<|im_end|>")),
    "qwen3moe": (CHATML, ("<|im_start|>", "<|im_end|>")),
}

_SAMPLE_CONVERSATION = (
    {"role": "user", "content": "Hello."},
    {"role": "assistant", "content": "Hello! How can I help?"},
    {"role": "user", "content": "Tell me a fact."},
)


class _StrictSandbox(ImmutableSandboxedEnvironment):
    """The immutable sandbox, raising at once on an unsafe attribute instead of returning an
    undefined value that only raises when used."""

    def unsafe_undefined(self, obj: Any, attribute: str) -> jinja2.Undefined:
        raise SecurityError(f"access to attribute {attribute!r} of a {type(obj).__name__} is unsafe")


def _tojson(value: Any, ensure_ascii: bool = False, indent: int | None = None,
            separators: Any = None, sort_keys: bool = False) -> str:
    # Jinja's own tojson escapes <, >, & for HTML; chat templates expect plain JSON.
    return json.dumps(value, ensure_ascii=ensure_ascii, indent=indent, separators=separators,
                      sort_keys=sort_keys)


def _environment() -> _StrictSandbox:
    # What Hugging Face's transformers renders templates with, in the strict sandbox.
    env = _StrictSandbox(trim_blocks=True, lstrip_blocks=True, extensions=[jinja2.ext.loopcontrols])
    env.filters["tojson"] = _tojson
    return env


def _raise_exception(message: str) -> None:
    raise TemplateError(message)


def find_unsafe_names(source: str) -> list[str]:
    """Private or dunder names the template tries to reach (``x.__class__``, ``x['_y']``).

    Raises:
        ChatTemplateError: the template is not valid Jinja.
    """
    try:
        tree = _environment().parse(source)
    except TemplateError as exc:
        raise ChatTemplateError("The model file's chat template is broken.", details=str(exc)) from exc
    found = []
    for node in tree.find_all((nodes.Getattr, nodes.Getitem)):
        if isinstance(node, nodes.Getattr):
            name = node.attr
        else:
            name = node.arg.value if isinstance(node.arg, nodes.Const) else None
        if isinstance(name, str) and name.startswith("_"):
            found.append(name)
    return found


class ChatTemplate:
    """A model's chat template, checked and ready to turn messages into prompt text.

    Raises (constructor):
        UnsafeTemplateError: the template tries to reach private attributes (a sandbox escape).
        ChatTemplateError: the template is not valid Jinja or cannot render a simple chat.
    """

    def __init__(self, source: str, *, bos_token: str = "", eos_token: str = "",
                 origin: str = "model file", now: datetime | None = None) -> None:
        self.source = source
        self.origin = origin
        unsafe = find_unsafe_names(source)
        if unsafe:
            raise UnsafeTemplateError(
                "This model file contains instructions that try to break out of their safe box, "
                "so Hearth will not use it.",
                details=f"chat template reaches for {sorted(set(unsafe))}",
            )
        frozen_now = now or datetime.now()
        env = _environment()
        env.globals.update(
            raise_exception=_raise_exception,
            strftime_now=lambda fmt: frozen_now.strftime(fmt),
        )
        self._constants = {"bos_token": bos_token, "eos_token": eos_token}
        try:
            self._template = env.from_string(source)
        except TemplateError as exc:
            raise ChatTemplateError("The model file's chat template is broken.", details=str(exc)) from exc
        self.render(list(_SAMPLE_CONVERSATION))

    def render(self, messages: Sequence[Mapping[str, Any]], *, add_generation_prompt: bool = True,
               tools: list | None = None) -> str:
        """The prompt text for ``messages``.

        Raises:
            UnsafeTemplateError: the sandbox stopped the template reaching something unsafe.
            ChatTemplateError: the template refused this conversation (e.g. roles must alternate).
        """
        try:
            return self._template.render(
                messages=[dict(m) for m in messages],
                add_generation_prompt=add_generation_prompt,
                tools=tools,
                **self._constants,
            )
        except SecurityError as exc:
            raise UnsafeTemplateError(
                "This model file contains instructions that try to break out of their safe box, "
                "so Hearth will not use it.",
                details=str(exc),
            ) from exc
        except TemplateError as exc:
            raise ChatTemplateError(
                "The model could not read this conversation.", details=str(exc)) from exc


def choose_template(source: str | None, *, architecture: str, has_special_token: Callable[[str], bool],
                    bos_token: str = "", eos_token: str = "") -> ChatTemplate:
    """The model's own template, or the one format its architecture is known to use.

    Raises:
        NoChatTemplateError: no template in the file and no certain format for ``architecture``.
        UnsafeTemplateError, ChatTemplateError: as :class:`ChatTemplate`.
    """
    if source and source.strip():
        return ChatTemplate(source, bos_token=bos_token, eos_token=eos_token)
    known = KNOWN_FORMATS.get(architecture)
    if known and all(has_special_token(token) for token in known[1]):
        return ChatTemplate(known[0], bos_token=bos_token, eos_token=eos_token,
                            origin=f"known format for {architecture}")
    raise _no_template(architecture)


def check_template_before_loading(metadata: Mapping[str, Any]) -> None:
    """The check made on a model file's header before llama.cpp may open the file.

    The template in the header is scanned and rendered in the sandbox exactly as the engine
    will render it (without the vocabulary, so with empty BOS/EOS texts). A file without a
    template passes only if its architecture has a known format; the engine process then checks
    that format's special tokens once the vocabulary is loaded.

    Raises:
        UnsafeTemplateError, ChatTemplateError: as :class:`ChatTemplate`.
        NoChatTemplateError: no template and no known format for the architecture.
    """
    source = metadata.get("tokenizer.chat_template")
    if isinstance(source, str) and source.strip():
        ChatTemplate(source)
        return
    architecture = metadata.get("general.architecture")
    architecture = architecture if isinstance(architecture, str) else ""
    if architecture not in KNOWN_FORMATS:
        raise _no_template(architecture)


def _no_template(architecture: str) -> NoChatTemplateError:
    return NoChatTemplateError(
        "This model file does not say how to hold a conversation with it, so Hearth cannot "
        "chat with it without risking nonsense answers.",
        details=f"no tokenizer.chat_template; architecture {architecture!r} has no certain format",
    )
