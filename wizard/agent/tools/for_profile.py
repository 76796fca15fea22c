"""The tools of one assistant profile: the recipe's tools with the folders the person granted.

Where things live, inside the profile folder: the notes (:data:`NOTES_FILE`) and the index of
the person's documents (:data:`DOCUMENT_INDEX_FILE`, the same file the chat window fills).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from wizard.agent.tools.base import Tool
from wizard.agent.tools.notes import NotesStore
from wizard.agent.tools.permissions import FolderPermissions
from wizard.agent.tools.registry import ToolContext, build_tools

if TYPE_CHECKING:
    from wizard.profiles import Profile

DOCUMENT_INDEX_FILE = "documents-index.sqlite"
NOTES_FILE = "notes.sqlite"
WRITES_TOOLS = ("write_file",)
# A recipe's tool that is more than one tool for the model: "notes" is write and search.
RECIPE_TOOL_PARTS = {"notes": ("notes_write", "notes_search")}

Confirm = Callable[[Path, str], bool]


def agent_tool_names(recipe_tool_names: list[str]) -> list[str]:
    """The tools the model sees for a recipe's ``[[tools]]`` names (``notes`` → write and search)."""
    return [part for name in recipe_tool_names for part in RECIPE_TOOL_PARTS.get(name, (name,))]


def _allow_without_asking(_path: Path, _preview: str) -> bool:
    return True


def tool_context_for_profile(profile: Profile, *, confirm: Confirm | None = None) -> ToolContext:
    """The folders, notes, documents index and confirmation the profile's tools work with.

    ``confirm(path, preview)`` asks the person before a file is written; it is replaced by
    "yes" only when the recipe says ``confirm_each_write = false`` (which the person accepted
    when setting the assistant up).

    Raises:
        NotesError, DocumentIndexError: a file in the profile folder cannot be opened.
    """
    from wizard.agent.documents.index import DocumentIndex  # the documents package imports tools

    recipe = profile.recipe
    names = set(agent_tool_names([tool.name for tool in recipe.tools]))
    read = [Path(folder.path) for tool in recipe.tools for folder in tool.read_folders]
    write = [Path(folder.path) for tool in recipe.tools for folder in tool.write_folders]
    asks = all(tool.confirm_each_write for tool in recipe.tools if tool.name in WRITES_TOOLS)
    return ToolContext(
        permissions=FolderPermissions(read=read, write=write) if read or write else None,
        notes=NotesStore(profile.folder / NOTES_FILE) if names & {"notes_write", "notes_search"} else None,
        documents=DocumentIndex(profile.folder / DOCUMENT_INDEX_FILE) if "documents_search" in names else None,
        confirm=confirm if asks else _allow_without_asking)


def tools_for_profile(profile: Profile, *, confirm: Confirm | None = None) -> dict[str, Tool]:
    """The profile's enabled tools, by name (empty if its recipe has none).

    Raises:
        UnknownToolError: a tool cannot be set up (e.g. write_file with no ``confirm`` given, or
            a file tool whose folders the person all refused).
        NotesError, DocumentIndexError: as :func:`tool_context_for_profile`.
    """
    names = agent_tool_names([tool.name for tool in profile.recipe.tools])
    if not names:
        return {}
    return build_tools(tool_context_for_profile(profile, confirm=confirm), names)
