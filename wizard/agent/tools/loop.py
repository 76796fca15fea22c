"""The tool loop: the model either answers or calls one tool, until it answers or runs out of steps.

Each request constrains the model's output (OpenAI's ``response_format`` with a JSON schema,
which Hearth's engine turns into a llama.cpp grammar) to exactly one of::

    {"answer": "..."}
    {"tool": "<an enabled tool>", "arguments": {...that tool's arguments...}}

so even a very small model produces a call that parses and names a real tool. The call is then
checked (the tool must be enabled; arguments must have the right names and types), run, and
its result — or its error, in plain words — goes back to the model as a ``tool`` message. A
permission refusal is such an error: the model is told, nothing happens. After ``max_steps``
tool calls the loop ends with a plain notice, whatever the model wants next.

Servers that ignore ``response_format`` still work: a reply that is not JSON is taken as the
answer.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import re
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from wizard.agent.tools.base import Tool, ToolError, ToolOutput, error_text
from wizard.agent.tools.permissions import PathNotAllowed
from wizard.engine.client import ChatStream
from wizard.engine.plan import GenerationParams
from wizard.errors import HearthError

log = logging.getLogger(__name__)

DEFAULT_MAX_STEPS = 4
MAX_RESULT_CHARS = 8000
DEFAULT_PARAMS = GenerationParams(temperature=0.3, max_tokens=600)
STEP_LIMIT_NOTICE = ("I stopped after using my tools {steps} times without reaching an answer. "
                     "Please ask again in other words, or ask for a smaller part of it.")

Cancel = threading.Event | Callable[[], bool] | None


class ChatEngine(Protocol):
    """Anything that streams a chat reply: EngineClient, LocalEngine."""

    def stream_chat(self, messages: Sequence[dict], *, params: GenerationParams | None = None,
                    cancel: Cancel = None) -> ChatStream: ...


@dataclass(frozen=True)
class LoopStep:
    """One tool call and what came of it. ``outcome``: ok | error | refused | invalid;
    ``sources``: the files the tool drew on (a search's matching files, the file read)."""

    tool: str
    arguments: dict
    result: str
    outcome: str
    sources: tuple[str, ...] = ()


@dataclass
class LoopResult:
    """How the loop ended (``stopped``: answered | step_limit | cancelled), the answer to show,
    the tool steps taken, the files the answer may cite, and the messages added to the
    conversation (assistant calls and tool results, then the answer)."""

    answer: str
    stopped: str
    steps: list[LoopStep] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    new_messages: list[dict] = field(default_factory=list)


def reply_schema(tools: Mapping[str, Tool]) -> dict:
    """The JSON schema of one reply: an answer, or a call of one of ``tools``."""
    choices: list[dict] = [{"type": "object", "properties": {"answer": {"type": "string"}},
                            "required": ["answer"], "additionalProperties": False}]
    for tool in tools.values():
        choices.append({"type": "object",
                        "properties": {"tool": {"const": tool.name}, "arguments": tool.parameters},
                        "required": ["tool", "arguments"], "additionalProperties": False})
    return {"anyOf": choices}


def instructions(tools: Mapping[str, Tool]) -> str:
    """The text telling the model how to reply and which tools it has."""
    lines = ["Reply with exactly one JSON object.",
             'To answer the person: {"answer": "your answer"}']
    if tools:
        lines.append('To use a tool: {"tool": "tool name", "arguments": {...}}')
        lines.append("Tools:")
        for tool in tools.values():
            example = json.dumps({"tool": tool.name, "arguments": tool.example})
            lines.append(f"- {tool.name}: {tool.description} Example: {example}")
        lines.append("After a tool result, answer with what it found. If you used a document, name its file.")
    return "\n".join(lines)


def with_instructions(messages: Sequence[dict], tools: Mapping[str, Tool]) -> list[dict]:
    """``messages`` with the tool instructions added to the system message (or a new one first).

    The instructions stay the same between turns, so the engine's prompt cache keeps working.
    """
    text = instructions(tools)
    messages = [dict(m) for m in messages]
    if messages and messages[0].get("role") == "system":
        messages[0]["content"] = f"{messages[0].get('content') or ''}\n\n{text}".strip()
        return messages
    return [{"role": "system", "content": text}, *messages]


def run_tool_loop(engine: ChatEngine, messages: Sequence[dict], tools: Mapping[str, Tool] | Sequence[Tool], *,
                  max_steps: int = DEFAULT_MAX_STEPS, params: GenerationParams | None = None,
                  cancel: Cancel = None, on_step: Callable[[LoopStep], None] | None = None) -> LoopResult:
    """Let the model answer ``messages`` (never modified), using ``tools``, in at most ``max_steps`` calls.

    Raises:
        EngineError and its subclasses: the model could not be reached or failed (nothing the
            person typed is lost; the caller keeps ``messages``). Tool failures never raise:
            the model sees them as results.
    """
    if not isinstance(tools, Mapping):
        tools = {tool.name: tool for tool in tools}
    schema = json.dumps(reply_schema(tools))
    request_params = dataclasses.replace(params or DEFAULT_PARAMS, json_schema=schema)
    conversation = with_instructions(messages, tools)
    result = LoopResult(answer="", stopped="answered")
    while True:
        if _cancelled(cancel):
            result.stopped = "cancelled"
            return result
        stream = engine.stream_chat(conversation, params=request_params, cancel=cancel)
        for _ in stream:
            pass
        summary = stream.summary
        if summary.finish_reason == "cancelled":
            result.stopped = "cancelled"
            return result
        reply = parse_reply(summary.text)
        if "answer" in reply:
            result.answer = reply["answer"]
            result.new_messages.append({"role": "assistant", "content": result.answer})
            return result
        if len(result.steps) >= max_steps:
            result.stopped = "step_limit"
            result.answer = STEP_LIMIT_NOTICE.format(steps=len(result.steps))
            result.new_messages.append({"role": "assistant", "content": result.answer})
            return result
        step = run_call(reply, tools)
        result.steps.append(step)
        for source in step.sources:
            if source not in result.sources:
                result.sources.append(source)
        if on_step:
            on_step(step)
        call_text = summary.text.strip()
        tool_message = {"role": "tool", "name": step.tool or "unknown",
                        "content": f"Result of {step.tool or 'the call'}:\n{step.result}"}
        conversation += [{"role": "assistant", "content": call_text}, tool_message]
        result.new_messages += [{"role": "assistant", "content": call_text}, tool_message]


def parse_reply(text: str) -> dict:
    """``{"answer": str}`` or ``{"tool": name, "arguments": ...}`` (or ``{"invalid": why}``)."""
    stripped = text.strip()
    try:
        value = json.loads(stripped)
    except ValueError:
        partial = re.match(r'\s*\{\s*"answer"\s*:\s*"((?:[^"\\]|\\.)*)', stripped, flags=re.DOTALL)
        if partial:  # the answer was cut off by the token limit: keep what was written
            try:
                return {"answer": json.loads(f'"{partial.group(1)}"') + " …"}
            except ValueError:
                return {"answer": partial.group(1) + " …"}
        if stripped.startswith("{"):
            return {"invalid": "That reply was not complete JSON."}
        return {"answer": stripped}  # a server without constrained output: plain text is the answer
    if isinstance(value, dict):
        if isinstance(value.get("answer"), str):
            return {"answer": value["answer"]}
        if isinstance(value.get("tool"), str):
            return {"tool": value["tool"], "arguments": value.get("arguments", {})}
    return {"invalid": "Reply with one JSON object: an answer or a tool call."}


def run_call(reply: dict, tools: Mapping[str, Tool]) -> LoopStep:
    """Check and run one parsed call; every failure becomes a plain result for the model."""
    if "invalid" in reply:
        return LoopStep("", {}, f"Error: {reply['invalid']}", "invalid")
    name, arguments = reply["tool"], reply["arguments"]
    tool = tools.get(name)
    if tool is None:
        available = ", ".join(tools) or "none"
        return LoopStep(name, {}, f"Error: there is no tool called {name!r}. Tools: {available}.", "invalid")
    try:
        checked = check_arguments(tool, arguments)
    except ToolError as exc:
        return LoopStep(name, {}, error_text(exc), "invalid")
    try:
        output = tool.run(checked)
    except PathNotAllowed as exc:
        return LoopStep(name, checked, error_text(exc), "refused")
    except HearthError as exc:
        return LoopStep(name, checked, error_text(exc), "error")
    except Exception:  # noqa: BLE001 - a tool bug must not end the person's conversation
        log.exception("tool %s failed", name)
        return LoopStep(name, checked, "Error: the tool failed unexpectedly.", "error")
    if isinstance(output, str):
        output = ToolOutput(output)
    text = output.text
    if len(text) > MAX_RESULT_CHARS:
        text = text[:MAX_RESULT_CHARS] + "\n[… cut]"
    return LoopStep(name, checked, text, "ok", tuple(output.sources))


def check_arguments(tool: Tool, arguments: object) -> dict:
    """The arguments the tool declared, with the right JSON types; unknown names are dropped.

    Raises:
        ToolError: not an object, a required argument missing, or a wrong type or length.
    """
    if not isinstance(arguments, dict):
        raise ToolError(f"The arguments for {tool.name} must be a JSON object.")
    properties = tool.parameters.get("properties", {})
    checked = {}
    for name in tool.parameters.get("required", ()):
        if name not in arguments:
            raise ToolError(f"{tool.name} needs {name!r}.")
    for name, spec in properties.items():
        if name not in arguments:
            continue
        value = arguments[name]
        if spec.get("type") == "string":
            if not isinstance(value, str):
                raise ToolError(f"{name!r} must be text.")
            if "maxLength" in spec and len(value) > spec["maxLength"]:
                raise ToolError(f"{name!r} is too long (at most {spec['maxLength']} characters).")
        checked[name] = value
    return checked


def _cancelled(cancel: Cancel) -> bool:
    if cancel is None:
        return False
    return cancel.is_set() if isinstance(cancel, threading.Event) else bool(cancel())
