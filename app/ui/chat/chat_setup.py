"""What the chat window needs to know about one assistant, read from its profile."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from wizard.agent.chat import DEFAULT_SYSTEM_PROMPT
from wizard.agent.memory import MemoryPolicy
from wizard.agent.tools.base import Tool
from wizard.agent.tools.for_profile import DOCUMENT_INDEX_FILE
from wizard.engine import GenerationParams, LocalEngine

Confirm = Callable[[Path, str], bool]

__all__ = ["DOCUMENT_INDEX_FILE", "ChatSetup"]


@dataclass
class ChatSetup:
    """One assistant: its names, how it talks, and how to start its engine (not started)."""

    make_engine: Callable[[], LocalEngine]
    profile_id: str = ""
    assistant: str = "Hearth"
    person_name: str = ""
    model_name: str = ""
    greeting: str = ""
    system_prompt: str = DEFAULT_SYSTEM_PROMPT
    params: GenerationParams = field(default_factory=GenerationParams)
    document_folders: tuple[Path, ...] = ()
    document_index: Path | None = None
    # the assistant's tools, given the way to ask the person before a file is saved; None: no tools
    make_tools: Callable[[Confirm], dict[str, Tool]] | None = None
    memory: MemoryPolicy = field(default_factory=MemoryPolicy)  # what it may remember (the recipe's [memory])

    @classmethod
    def from_profile(cls, profile, *, n_ctx: int | None = None, n_threads: int | None = None) -> ChatSetup:
        """Everything from ``profile`` (a :class:`wizard.profiles.Profile`); the engine is made on demand.

        Raises (from ``make_engine``): ProfileModelMissingError. (From ``make_tools``):
        UnknownToolError, NotesError, DocumentIndexError.
        """
        from wizard.agent.tools.for_profile import tools_for_profile
        from wizard.profiles import chat_settings, engine_for

        system_prompt, params = chat_settings(profile)
        recipe = profile.recipe
        folders = tuple(Path(f.path) for f in recipe.document_folders)
        return cls(
            make_engine=lambda: engine_for(profile, n_ctx=n_ctx, n_threads=n_threads),
            profile_id=profile.id, assistant=profile.name, person_name=profile.person_name,
            model_name=profile.model_name or (profile.model_path.stem if profile.model_path else ""),
            greeting=recipe.persona.greeting, system_prompt=system_prompt, params=params,
            document_folders=folders,
            document_index=profile.folder / DOCUMENT_INDEX_FILE if folders else None,
            make_tools=(lambda confirm: tools_for_profile(profile, confirm=confirm)) if recipe.tools else None,
            memory=MemoryPolicy.from_recipe(recipe.memory))
