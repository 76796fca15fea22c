"""Constrained output in the real engine on the real tiny model: a JSON schema (OpenAI's
``response_format``) or a GBNF grammar limits which tokens the model may pick, so its output
always parses, whatever the sampling seed."""

from __future__ import annotations

import json

import pytest

from tests.wizard.engine.conftest import raw_request
from wizard.engine import EngineRequestError, GenerationParams, LocalEngine
from wizard.engine.constrain import grammar_from_request, schema_to_gbnf

pytestmark = pytest.mark.slow

SCHEMA = {"anyOf": [
    {"type": "object", "properties": {"answer": {"type": "string", "maxLength": 120}},
     "required": ["answer"], "additionalProperties": False},
    {"type": "object", "properties": {
        "tool": {"const": "calculator"},
        "arguments": {"type": "object", "properties": {"expression": {"type": "string", "maxLength": 40}},
                      "required": ["expression"], "additionalProperties": False}},
     "required": ["tool", "arguments"], "additionalProperties": False},
]}
PROMPTS = [
    [{"role": "system", "content": 'Reply with JSON: {"answer": "..."} or '
                                   '{"tool": "calculator", "arguments": {"expression": "1+1"}}'},
     {"role": "user", "content": "What is 17 times 23?"}],
    [{"role": "user", "content": "Write a poem about the sea."}],  # no hint of JSON at all
]


def matches_schema(value: object) -> bool:
    if not isinstance(value, dict):
        return False
    if set(value) == {"answer"}:
        return isinstance(value["answer"], str) and len(value["answer"]) <= 120
    if set(value) == {"tool", "arguments"} and value["tool"] == "calculator":
        arguments = value["arguments"]
        return (isinstance(arguments, dict) and set(arguments) == {"expression"}
                and isinstance(arguments["expression"], str) and len(arguments["expression"]) <= 40)
    return False


@pytest.mark.parametrize("prompt", PROMPTS, ids=["asked-for-json", "not-asked"])
def test_every_sampled_reply_matches_the_schema(engine: LocalEngine, prompt: list[dict]) -> None:
    for seed in range(4):
        params = GenerationParams(temperature=1.0, seed=seed, max_tokens=150, json_schema=json.dumps(SCHEMA))
        summary = engine.client().chat(prompt, params=params)
        assert summary.finish_reason == "stop", summary.text
        assert matches_schema(json.loads(summary.text)), summary.text


def test_any_json_object_and_a_raw_grammar(engine: LocalEngine) -> None:
    body = {"messages": PROMPTS[0], "temperature": 1.0, "seed": 3, "max_tokens": 60,
            "response_format": {"type": "json_object"}}
    status, _, payload = raw_request(engine.port, "POST", "/v1/chat/completions",
                                     {"Host": "127.0.0.1", "Authorization": f"Bearer {engine.token}",
                                      "Content-Type": "application/json"}, json.dumps(body).encode())
    assert status == 200
    choice = json.loads(payload)["choices"][0]
    assert choice["message"]["content"].startswith("{")
    if choice["finish_reason"] == "stop":
        assert isinstance(json.loads(choice["message"]["content"]), dict)
    grammar = 'root ::= ("yes" | "no") "."'
    for seed in range(4):
        params = GenerationParams(temperature=1.0, seed=seed, max_tokens=10, grammar=grammar)
        assert engine.client().chat(PROMPTS[0], params=params).text in ("yes.", "no.")


def test_free_text_still_works_after_a_constrained_reply(engine: LocalEngine) -> None:
    engine.client().chat(PROMPTS[0], params=GenerationParams(temperature=0, max_tokens=40,
                                                              json_schema=json.dumps(SCHEMA)))
    text = engine.client().chat(PROMPTS[1], params=GenerationParams(temperature=0, max_tokens=20)).text
    assert text and not text.lstrip().startswith("{")


def test_a_broken_grammar_is_a_plain_request_error(engine: LocalEngine) -> None:
    with pytest.raises(EngineRequestError) as caught:
        engine.client().chat(PROMPTS[0], params=GenerationParams(max_tokens=5, grammar="root ::= (unclosed"))
    assert caught.value.user_message == "The requested answer format is not valid."
    assert engine.client().chat(PROMPTS[0], params=GenerationParams(temperature=0, max_tokens=5)).text


@pytest.mark.parametrize("body,message", [
    ({"response_format": {"type": "xml"}}, "does not know"),
    ({"response_format": "json"}, "must be a JSON object"),
    ({"response_format": {"type": "json_schema", "json_schema": {}}}, "needs a schema"),
    ({"response_format": {"type": "json_schema", "schema": [1]}}, "must be a JSON object"),
    ({"response_format": {"type": "json_schema", "schema": {"$ref": "https://example.com/s.json"}}},
     "could not be used"),
    ({"response_format": {"type": "json_object"}, "grammar": "root ::= \"a\""}, "not both"),
    ({"grammar": 5}, "must be text"),
    ({"grammar": "root ::= \"a\"" + " " * 300_000}, "too large"),
])
def test_request_checks(body: dict, message: str) -> None:
    with pytest.raises(EngineRequestError, match=message):
        grammar_from_request(body)


def test_schema_strings_never_hold_raw_control_characters() -> None:
    grammar = schema_to_gbnf({"type": "object", "properties": {"a": {"type": "string"}}})
    char_rules = [line for line in grammar.splitlines() if line.startswith("char ::=")]
    assert char_rules == [r'char ::= [^"\\\x7F\x00-\x1F] | [\\] (["\\/bfnrt] | "u" [0-9a-fA-F]{4})']
    assert grammar_from_request({"response_format": {"type": "text"}}) is None
    assert grammar_from_request({}) is None


def test_params_send_openai_response_format() -> None:
    body = GenerationParams(json_schema='{"type": "object"}').to_request()
    assert body["response_format"] == {"type": "json_schema",
                                       "json_schema": {"name": "reply", "strict": True, "schema": {"type": "object"}}}
    assert "grammar" not in body
    assert GenerationParams(grammar='root ::= "x"').to_request()["grammar"] == 'root ::= "x"'
