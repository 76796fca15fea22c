"""Chat templates from model files are rendered in Jinja's sandbox, or refused."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import jinja2
import pytest

from tests.wizard.engine.gguf_edit import read_gguf_string
from wizard.engine.errors import ChatTemplateError, NoChatTemplateError, UnsafeTemplateError
from wizard.engine.template import CHATML, ChatTemplate, choose_template, find_unsafe_names


def cve_2024_34359_payload(marker: Path) -> str:
    """The published payload of CVE-2024-34359, running ``touch marker`` through os.popen."""
    return (
        "{% for x in ().__class__.__base__.__subclasses__() %}"
        "{% if 'warning' in x.__name__ %}"
        "{{ x()._module.__builtins__['__import__']('os').popen('touch " + str(marker) + "').read() }}"
        "{% endif %}{% endfor %}"
    )


def test_the_cve_payload_really_runs_a_command_outside_the_sandbox(tmp_path: Path) -> None:
    # Proves the payload used below is live: plain Jinja runs it.
    marker = tmp_path / "pwned"
    jinja2.Environment().from_string(cve_2024_34359_payload(marker)).render()
    assert marker.exists()


@pytest.mark.parametrize("payload", [
    "CVE",
    "{{ self.__init__.__globals__.__builtins__.__import__('os').popen('touch MARKER') }}",
    "{{ cycler.__init__.__globals__.os.popen('touch MARKER').read() }}",
    "{{ joiner.__init__.__globals__['os'].popen('touch MARKER') }}",
    "{{ lipsum['__globals__']['os'].popen('touch MARKER') }}",
])
def test_escaping_templates_are_refused_and_run_nothing(tmp_path: Path, payload: str) -> None:
    marker = tmp_path / "pwned"
    source = cve_2024_34359_payload(marker) if payload == "CVE" else payload.replace("MARKER", str(marker))
    with pytest.raises(UnsafeTemplateError) as caught:
        ChatTemplate(source)
    assert "safe box" in caught.value.user_message
    assert "__" in caught.value.details
    assert not marker.exists()


def test_an_escape_hidden_from_the_scan_is_stopped_by_the_sandbox(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    source = ("{% set name = '__cla' ~ 'ss__' %}{% set cls = messages[name] %}"
              "{{ cls['__ba' ~ 'se__']['__subcla' ~ 'sses__']() }}{{ 'touch " + str(marker) + "' }}")
    assert find_unsafe_names(source) == []
    with pytest.raises(UnsafeTemplateError) as caught:
        ChatTemplate(source)
    assert "__class__" in caught.value.details
    assert not marker.exists()


def test_the_tiny_models_own_template_renders_chatml(tiny_model: Path) -> None:
    template = ChatTemplate(read_gguf_string(tiny_model, "tokenizer.chat_template"))
    text = template.render([{"role": "user", "content": "Hi <b>&</b>"}])
    assert text.endswith("<|im_start|>user\nHi <b>&</b><|im_end|>\n<|im_start|>assistant\n")
    assert text.startswith("<|im_start|>system\n")


def test_helpers_templates_use_work_and_the_clock_is_frozen() -> None:
    source = ("{{ strftime_now('%Y-%m-%d %H:%M:%S') }}|{{ bos_token }}|{{ messages | tojson }}|"
              "{% for m in messages %}{% if loop.index > 1 %}{% break %}{% endif %}{{ m.role }}{% endfor %}")
    template = ChatTemplate(source, bos_token="<s>", now=datetime(2024, 7, 26, 9, 30, 0))
    messages = [{"role": "user", "content": "é <tag>"}, {"role": "assistant", "content": "x"}]
    first = template.render(messages)
    assert first == '2024-07-26 09:30:00|<s>|[{"role": "user", "content": "é <tag>"}, ' \
                    '{"role": "assistant", "content": "x"}]|user'
    assert template.render(messages) == first


def test_raise_exception_becomes_a_plain_refusal_of_that_conversation() -> None:
    source = ("{% if messages[0]['role'] == 'system' %}{{ raise_exception('System role not supported') }}"
              "{% endif %}{% for m in messages %}{{ m.content }}{% endfor %}")
    template = ChatTemplate(source)
    with pytest.raises(ChatTemplateError) as caught:
        template.render([{"role": "system", "content": "x"}])
    assert caught.value.details == "System role not supported"


def test_broken_template_syntax_is_a_plain_error() -> None:
    with pytest.raises(ChatTemplateError) as caught:
        ChatTemplate("{% for m in messages %}{{ m.content }")
    assert caught.value.user_message == "The model file's chat template is broken."


def test_no_template_uses_chatml_only_where_the_architecture_is_certain() -> None:
    chosen = choose_template(None, architecture="qwen2", has_special_token=lambda t: True)
    assert chosen.source == CHATML and chosen.origin == "known format for qwen2"
    for architecture, has_tokens in (("qwen2", False), ("llama", True), ("", True)):
        with pytest.raises(NoChatTemplateError) as caught:
            choose_template("", architecture=architecture, has_special_token=lambda t, h=has_tokens: h)
        assert "does not say how to hold a conversation" in caught.value.user_message
