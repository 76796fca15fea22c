"""The agent: conversations, memory, prompt assembly and chat turns on top of wizard.engine.

- :mod:`wizard.agent.database` — the SQLite file (``data/hearth.db``), WAL, migrations;
- :mod:`wizard.agent.store` — conversations and messages: search, rename, delete;
- :mod:`wizard.agent.export` — Markdown / JSON exports labelled as AI-generated;
- :mod:`wizard.agent.memory` — remembered facts and conversation summaries;
- :mod:`wizard.agent.tokens` / :mod:`wizard.agent.context` — fitting the prompt in the context;
- :mod:`wizard.agent.chat` — one turn: save, assemble, stream, save.

Nothing here imports llama_cpp at import time (only :class:`~wizard.agent.tokens.ModelTokenCounter`
does, when created).
"""

from wizard.agent.chat import DEFAULT_SYSTEM_PROMPT, ChatSession, EmptyMessageError, TurnResult
from wizard.agent.context import MessageTooLongError, TurnNotice
from wizard.agent.database import DatabaseError, DatabaseTooNewError, database_path, open_database
from wizard.agent.export import ExportError, export_json, export_markdown, write_export
from wizard.agent.memory import (
    BadMemoryError,
    Memory,
    MemoryNotFoundError,
    MemoryPolicy,
    MemoryStore,
    detect_remember_request,
    summarize_conversation,
)
from wizard.agent.store import (
    BadTitleError,
    Conversation,
    ConversationNotFoundError,
    ConversationStore,
    Message,
    SearchHit,
)
from wizard.agent.tokens import EstimatingTokenCounter, ModelTokenCounter, counter_for

__all__ = [
    "DEFAULT_SYSTEM_PROMPT", "BadMemoryError", "BadTitleError", "ChatSession", "Conversation",
    "ConversationNotFoundError", "ConversationStore", "DatabaseError", "DatabaseTooNewError",
    "EmptyMessageError", "EstimatingTokenCounter", "ExportError", "Memory", "MemoryNotFoundError",
    "MemoryPolicy", "MemoryStore", "Message", "MessageTooLongError", "ModelTokenCounter", "SearchHit", "TurnNotice",
    "TurnResult", "counter_for", "database_path", "detect_remember_request", "export_json",
    "export_markdown", "open_database", "summarize_conversation", "write_export",
]
