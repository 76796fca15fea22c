"""Export a conversation to Markdown or JSON, labelled as AI-generated with the model and date.

JSON structure (``format`` "hearth.conversation", ``format_version`` 1)::

    {
      "notice": "AI-generated: ...",          # the label, first so every reader sees it
      "ai_generated": true,
      "models": ["SmolLM2-135M-Instruct.Q4_1"],  # every model that wrote a reply
      "exported": "2025-06-01T10:00:00.000+00:00",
      "format": "hearth.conversation", "format_version": 1,
      "conversation": {"id", "title", "created", "updated", "profile", "model"},
      "messages": [{"role": "user" | "assistant" | "system", "content", "created", "model",
                    "status": "complete" | "partial" | "failed",
                    "prompt_tokens", "completion_tokens"}]   # token counts may be null
    }

Markdown: a title, the AI-generated label, then each message under a bold speaker line. A
hidden HTML comment before each message (``<!-- hearth:message role=user chars=N -->``) gives
its exact length, so :func:`parse_markdown_export` reads every message back unchanged whatever
it contains.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from pathlib import Path

from wizard.agent.database import now_text
from wizard.agent.store import ConversationStore, Message
from wizard.errors import HearthFileError

JSON_FORMAT = "hearth.conversation"
JSON_FORMAT_VERSION = 1
SPEAKERS = {"user": "You", "assistant": "AI", "system": "Instructions"}
_MARKER = re.compile(r"<!-- hearth:message role=(\w+) status=(\w+) chars=(\d+) -->\n")


class ExportError(HearthFileError):
    """The export file could not be written."""

    default_hint = "Choose another folder (for example your Documents folder) and try again."


def _models(messages: list[Message], fallback: str) -> list[str]:
    models = []
    for message in messages:
        if message.role == "assistant" and message.model and message.model not in models:
            models.append(message.model)
    return models or ([fallback] if fallback else [])


def _notice(models: list[str], exported: str) -> str:
    names = ", ".join(models) or "an unknown model"
    return (f"AI-generated: the replies in this conversation were written by an AI model ({names}) "
            f"and may be wrong. Exported from Hearth on {exported[:10]}.")


def export_json(store: ConversationStore, conversation_id: int) -> dict:
    """The conversation as the documented JSON structure. Raises: ConversationNotFoundError."""
    conversation = store.get(conversation_id)
    messages = store.messages(conversation_id)
    models = _models(messages, conversation.model)
    exported = now_text()
    return {
        "notice": _notice(models, exported),
        "ai_generated": True,
        "models": models,
        "exported": exported,
        "format": JSON_FORMAT,
        "format_version": JSON_FORMAT_VERSION,
        "conversation": {"id": conversation.id, "title": conversation.title, "created": conversation.created,
                         "updated": conversation.updated, "profile": conversation.profile,
                         "model": conversation.model},
        "messages": [{"role": m.role, "content": m.content, "created": m.created, "model": m.model,
                      "status": m.status, "prompt_tokens": m.prompt_tokens,
                      "completion_tokens": m.completion_tokens} for m in messages],
    }


def export_markdown(store: ConversationStore, conversation_id: int) -> str:
    """The conversation as Markdown. Raises: ConversationNotFoundError."""
    conversation = store.get(conversation_id)
    messages = store.messages(conversation_id)
    exported = now_text()
    lines = [f"# {conversation.title or 'Conversation'}", "",
             f"> **{_notice(_models(messages, conversation.model), exported)}**",
             f"> Conversation started {conversation.created[:16].replace('T', ' ')} (UTC).", ""]
    for message in messages:
        speaker = SPEAKERS[message.role]
        if message.role == "assistant" and message.model:
            speaker += f" ({message.model})"
        if message.status != "complete":
            speaker += f" — {'unfinished' if message.status == 'partial' else 'failed'}"
        lines += [f"<!-- hearth:message role={message.role} status={message.status} "
                  f"chars={len(message.content)} -->",
                  f"**{speaker}** · {message.created[:16].replace('T', ' ')}", "",
                  message.content, "", "---", ""]
    return "\n".join(lines)


def parse_markdown_export(text: str) -> list[dict]:
    """The messages of a Markdown export: ``[{"role", "status", "content"}]``, content exact.

    Raises: ValueError if the text is not a Hearth Markdown export.
    """
    messages, position = [], 0
    while (match := _MARKER.search(text, position)) is not None:
        speaker_end = text.index("\n\n", match.end()) + 2
        length = int(match.group(3))
        messages.append({"role": match.group(1), "status": match.group(2),
                         "content": text[speaker_end:speaker_end + length]})
        position = speaker_end + length
    if not messages and "<!-- hearth:message" in text:
        raise ValueError("damaged Hearth export")
    return messages


def write_export(store: ConversationStore, conversation_id: int, target: Path) -> Path:
    """Write the export to ``target``; ``.json`` gives JSON, anything else Markdown. Atomic.

    Raises: ConversationNotFoundError, ExportError.
    """
    target = Path(target)
    if target.suffix.lower() == ".json":
        text = json.dumps(export_json(store, conversation_id), ensure_ascii=False, indent=2) + "\n"
    else:
        text = export_markdown(store, conversation_id)
    temporary = None
    try:
        handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
        with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as stream:
            stream.write(text)
        os.replace(temporary, target)
    except OSError as exc:
        if temporary is not None:
            Path(temporary).unlink(missing_ok=True)
        raise ExportError(f"Hearth could not save the conversation as {target.name}.",
                          details=f"{target}: {exc}") from exc
    return target
