"""Constrained output: turn a request's ``response_format`` or ``grammar`` into llama.cpp GBNF.

Runs in the engine process (the JSON-schema converter ships with llama-cpp-python). Accepted,
as OpenAI and llama-server spell them:

- ``"response_format": {"type": "json_schema", "json_schema": {"schema": {...}}}`` (OpenAI);
  ``{"type": "json_schema", "schema": {...}}`` and ``{"type": "json_object", "schema": {...}}``
  (llama-server); ``{"type": "json_object"}`` alone means any JSON object;
- ``"grammar": "<GBNF>"`` (llama-server).
"""

from __future__ import annotations

import json

from wizard.engine.errors import EngineRequestError

MAX_SCHEMA_CHARS = 64 * 1024
MAX_GRAMMAR_CHARS = 256 * 1024

# Any JSON object (llama.cpp's grammars/json.gbnf, without the leading whitespace).
JSON_OBJECT_GBNF = r'''
root   ::= object
value  ::= object | array | string | number | ("true" | "false" | "null") ws
object ::= "{" ws ( string ":" ws value ("," ws string ":" ws value)* )? "}" ws
array  ::= "[" ws ( value ("," ws value)* )? "]" ws
string ::= "\"" ( [^"\\\x7F\x00-\x1F] | "\\" (["\\bfnrt] | "u" [0-9a-fA-F]{4}) )* "\"" ws
number ::= ("-"? ([0-9] | [1-9] [0-9]{0,15})) ("." [0-9]+)? ([eE] [-+]? [0-9] [1-9]{0,15})? ws
ws ::= | " " | "\n" [ \t]{0,20}
'''

STRICT_CHAR_RULE = r'char ::= [^"\\\x7F\x00-\x1F] | [\\] (["\\/bfnrt] | "u" [0-9a-fA-F]{4})'


def grammar_from_request(body: dict) -> str | None:
    """The GBNF grammar a chat request asks for, or None for free text.

    Raises:
        EngineRequestError: the format is unknown, the schema is not valid or too large, or
            both a grammar and a response format were given.
    """
    grammar = body.get("grammar")
    response_format = body.get("response_format")
    schema_grammar = _from_response_format(response_format) if response_format is not None else None
    if grammar is not None:
        if schema_grammar is not None:
            raise EngineRequestError("Ask for either a grammar or a response format, not both.")
        if not isinstance(grammar, str) or not grammar.strip():
            raise EngineRequestError("The grammar must be text.")
        if len(grammar) > MAX_GRAMMAR_CHARS:
            raise EngineRequestError("The grammar is too large.", details=f"{len(grammar)} characters")
        return grammar
    return schema_grammar


def _from_response_format(response_format: object) -> str | None:
    if not isinstance(response_format, dict):
        raise EngineRequestError("The response format must be a JSON object.")
    kind = response_format.get("type", "text")
    if kind == "text":
        return None
    if kind not in ("json_object", "json_schema"):
        raise EngineRequestError(f"Hearth's engine does not know the response format {kind!r}.")
    schema = response_format.get("schema")
    wrapper = response_format.get("json_schema")
    if schema is None and isinstance(wrapper, dict):
        schema = wrapper.get("schema")
    if schema is None:
        if kind == "json_schema":
            raise EngineRequestError("A json_schema response format needs a schema.")
        return JSON_OBJECT_GBNF
    return schema_to_gbnf(schema)


def schema_to_gbnf(schema: object) -> str:
    """llama.cpp GBNF accepting exactly the JSON texts that match ``schema``.

    Raises:
        EngineRequestError: the schema is not a JSON object, too large, or not convertible
            (remote ``$ref`` are never fetched).
    """
    if not isinstance(schema, dict):
        raise EngineRequestError("The JSON schema must be a JSON object.")
    text = json.dumps(schema)
    if len(text) > MAX_SCHEMA_CHARS:
        raise EngineRequestError("The JSON schema is too large.", details=f"{len(text)} characters")
    from llama_cpp.llama_grammar import json_schema_to_gbnf  # only the engine process loads llama_cpp

    try:
        grammar = json_schema_to_gbnf(text)
    except (ValueError, KeyError, TypeError, AssertionError, RecursionError) as exc:
        raise EngineRequestError("The JSON schema could not be used.", details=repr(exc)) from exc
    # llama-cpp-python 0.3.36's converter lets a string hold raw control characters (a raw
    # newline), which JSON forbids; llama.cpp's own converter excludes them. Use that rule.
    lines = [STRICT_CHAR_RULE if line.startswith("char ::= ") else line for line in grammar.splitlines()]
    return "\n".join(lines) + "\n"
