"""Exports to Markdown and JSON: labelled as AI-generated, and every message comes back exactly."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import pytest

from wizard.agent.export import ExportError, parse_markdown_export, write_export
from wizard.agent.store import ConversationStore

TRICKY = [
    ("user", "# Not a heading of the export\n\n---\n\n**AI** · fake speaker line"),
    ("assistant", "<!-- hearth:message role=user status=complete chars=3 -->\nhi!\n\n"),
    ("user", "Ünïcödé 你好 🙂 and a trailing space "),
    ("assistant", "```python\nprint('code')\n```\n\n> quoted"),
]


@pytest.fixture
def conversation(tmp_path: Path) -> tuple[ConversationStore, int]:
    store = ConversationStore()
    conversation = store.create(title="Tricky things", model="TinyModel.Q4")
    for role, content in TRICKY:
        store.add_message(conversation.id, role, content, model="TinyModel.Q4" if role == "assistant" else "")
    last = store.add_message(conversation.id, "assistant", "cut off in the mid", model="Other-7B", status="partial")
    yield store, conversation.id, last
    store.close()


def test_json_export_round_trips_and_is_labelled(conversation, tmp_path: Path) -> None:
    store, conversation_id, last = conversation
    target = write_export(store, conversation_id, tmp_path / "chat.json")
    data = json.loads(target.read_text(encoding="utf-8"))

    assert next(iter(data)) == "notice"  # the label comes first
    today = datetime.now(timezone.utc).date().isoformat()
    assert data["notice"].startswith("AI-generated")
    assert "TinyModel.Q4" in data["notice"] and "Other-7B" in data["notice"] and today in data["notice"]
    assert data["ai_generated"] is True and data["models"] == ["TinyModel.Q4", "Other-7B"]
    assert (data["format"], data["format_version"]) == ("hearth.conversation", 1)
    assert data["conversation"]["title"] == "Tricky things"
    assert [(m["role"], m["content"]) for m in data["messages"]] == [*TRICKY, ("assistant", "cut off in the mid")]
    assert data["messages"][-1]["status"] == "partial" and data["messages"][-1]["model"] == "Other-7B"
    assert set(data["messages"][0]) == {"role", "content", "created", "model", "status", "prompt_tokens",
                                        "completion_tokens"}


def test_markdown_export_round_trips_and_is_labelled(conversation, tmp_path: Path) -> None:
    store, conversation_id, _ = conversation
    target = write_export(store, conversation_id, tmp_path / "chat.md")
    text = target.read_text(encoding="utf-8")

    head = text.split("\n")[:4]
    assert head[0] == "# Tricky things"
    today = datetime.now(timezone.utc).date().isoformat()
    assert "AI-generated" in head[2] and "TinyModel.Q4" in head[2] and today in head[2]
    assert "unfinished" in text  # the partial reply says so
    parsed = parse_markdown_export(text)
    assert [(m["role"], m["content"]) for m in parsed] == [*TRICKY, ("assistant", "cut off in the mid")]
    assert [m["status"] for m in parsed][-1] == "partial"


def test_export_to_an_impossible_place_is_a_plain_error(conversation, tmp_path: Path) -> None:
    store, conversation_id, _ = conversation
    with pytest.raises(ExportError) as caught:
        write_export(store, conversation_id, tmp_path / "no" / "such" / "folder" / "chat.md")
    assert "chat.md" in caught.value.user_message
    assert not list(tmp_path.glob("**/.chat.md.*"))
