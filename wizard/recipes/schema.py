"""What a recipe is, once read and checked: frozen dataclasses and the closed lists.

A recipe is data only. Nothing in it can name a program to run, a URL to fetch or a
secret value: tools come from :data:`TOOL_NAMES`, folders are local paths, and
integrations name the secrets they need (the values live in the keyring).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SCHEMA_VERSION = 1

# The tools Hearth's agent has; a recipe can only switch these on.
TOOL_NAMES = ("notes", "documents_search", "calculator", "datetime", "read_file", "write_file")
TOOLS_READING_FOLDERS = frozenset({"read_file"})  # documents_search uses [documents]
TOOLS_WRITING_FOLDERS = frozenset({"write_file"})

# What the agent's memory may keep (see wizard/agent): things the person asked it to
# remember, how they like answers, and short summaries of past conversations.
MEMORY_KINDS = ("facts", "preferences", "conversation_summaries")


@dataclass(frozen=True)
class Folder:
    """A folder as written in the recipe and as it resolves on this computer."""

    written: str  # exactly as in the file, e.g. "{documents}/Invoices"
    path: Path  # absolute, placeholders and ~ expanded, symlinks resolved
    exists: bool

    def __str__(self) -> str:
        return str(self.path)


@dataclass(frozen=True)
class ModelNeeds:
    """What the model must offer; the recommender matches catalog entries against it."""

    min_context: int = 2048
    capabilities: frozenset[str] = frozenset({"chat"})
    preferred_families: tuple[str, ...] = ()
    min_size: str = "tiny"  # a size band name from wizard.catalog.SIZE_BANDS

    def accepts(self, entry: Any) -> bool:
        """True when a :class:`wizard.catalog.CatalogEntry` meets every need."""
        from wizard.catalog import SIZE_BANDS

        order = [name for name, _, _ in SIZE_BANDS]
        return (entry.header.context_length >= self.min_context
                and self.capabilities <= entry.capabilities
                and order.index(entry.size_band) >= order.index(self.min_size))

    def preference(self, entry: Any) -> int:
        """0 for the first preferred family, 1 for the second …, len(families) for others."""
        families = self.preferred_families
        return families.index(entry.family) if entry.family in families else len(families)


@dataclass(frozen=True)
class Persona:
    system_prompt: str
    greeting: str


@dataclass(frozen=True)
class Sampling:
    """Sampling settings, with the names llama-cpp-python and OpenAI servers use."""

    temperature: float = 0.7
    top_p: float = 0.95
    top_k: int = 40
    min_p: float = 0.05
    repeat_penalty: float = 1.1
    max_tokens: int = 512

    def as_kwargs(self) -> dict[str, float | int]:
        """Keyword arguments for ``create_chat_completion`` (llama-cpp-python)."""
        return {"temperature": self.temperature, "top_p": self.top_p, "top_k": self.top_k,
                "min_p": self.min_p, "repeat_penalty": self.repeat_penalty,
                "max_tokens": self.max_tokens}


@dataclass(frozen=True)
class Tool:
    name: str
    read_folders: tuple[Folder, ...] = ()
    write_folders: tuple[Folder, ...] = ()
    confirm_each_write: bool = True


@dataclass(frozen=True)
class Memory:
    enabled: bool = False
    remember: tuple[str, ...] = ()


@dataclass(frozen=True)
class Integration:
    name: str
    purpose: str
    secrets: tuple[str, ...]


@dataclass(frozen=True)
class Recipe:
    """One checked recipe. Build it with :func:`wizard.recipes.load_recipe`."""

    id: str
    name: str
    description: str
    for_whom: str
    model: ModelNeeds
    persona: Persona
    sampling: Sampling = Sampling()
    tools: tuple[Tool, ...] = ()
    memory: Memory = Memory()
    document_folders: tuple[Folder, ...] = ()
    integrations: tuple[Integration, ...] = ()
    local_api_offered: bool = False
    source: Path | None = None
    source_text: str = field(default="", repr=False, compare=False)

    def tool(self, name: str) -> Tool | None:
        return next((tool for tool in self.tools if tool.name == name), None)

    @property
    def writes_without_asking(self) -> tuple[Folder, ...]:
        """Folders a tool may write to without the person confirming each write."""
        return tuple(folder for tool in self.tools if not tool.confirm_each_write
                     for folder in tool.write_folders)

    @property
    def secret_names(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(s for integ in self.integrations for s in integ.secrets))

    def opening_messages(self) -> list[dict[str, str]]:
        """The conversation as it starts: the persona's system prompt and its greeting."""
        return [{"role": "system", "content": self.persona.system_prompt},
                {"role": "assistant", "content": self.persona.greeting}]
