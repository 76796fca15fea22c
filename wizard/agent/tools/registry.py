"""The tools an assistant may be given, by name. There is no shell tool and no network tool."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from wizard.agent.tools.base import Tool
from wizard.agent.tools.calculator import calculator_tool
from wizard.agent.tools.datetime_tool import datetime_tool, local_now
from wizard.agent.tools.files import documents_search_tool, read_file_tool, write_file_tool
from wizard.agent.tools.notes import NotesStore, notes_search_tool, notes_write_tool
from wizard.agent.tools.permissions import FolderPermissions
from wizard.errors import HearthValueError

if TYPE_CHECKING:  # the documents package imports tools.permissions: no cycle at run time
    from wizard.agent.documents.index import DocumentIndex

TOOL_NAMES = ("calculator", "datetime", "notes_write", "notes_search", "documents_search", "read_file",
              "write_file")


class UnknownToolError(HearthValueError):
    """A recipe asked for a tool Hearth does not have, or one it cannot set up."""

    default_hint = f"The tools Hearth has are: {', '.join(TOOL_NAMES)}."


@dataclass
class ToolContext:
    """What the tools of one assistant work with. ``confirm(path, preview)`` asks the person
    before any file is written; without it write_file cannot be enabled."""

    permissions: FolderPermissions | None = None
    notes: NotesStore | None = None
    documents: DocumentIndex | None = None
    confirm: Callable[[Path, str], bool] | None = None
    clock: Callable[[], datetime] = local_now


def build_tools(context: ToolContext, enabled: Iterable[str]) -> dict[str, Tool]:
    """The enabled tools, by name, in a fixed order.

    Raises:
        UnknownToolError: a name is not one of :data:`TOOL_NAMES`, or what it needs is missing
            (no granted folder for read_file, no confirm for write_file …).
    """
    wanted = list(dict.fromkeys(enabled))
    unknown = [name for name in wanted if name not in TOOL_NAMES]
    if unknown:
        raise UnknownToolError(f"Hearth has no tool called {unknown[0]!r}.")

    def need(thing: object, name: str, what: str) -> None:
        if thing is None:
            raise UnknownToolError(f"The {name} tool cannot be turned on: {what}.")

    tools: dict[str, Tool] = {}
    for name in TOOL_NAMES:
        if name not in wanted:
            continue
        if name == "calculator":
            tools[name] = calculator_tool()
        elif name == "datetime":
            tools[name] = datetime_tool(clock=context.clock)
        elif name in ("notes_write", "notes_search"):
            need(context.notes, name, "there is no place to keep notes")
            tools[name] = (notes_write_tool if name == "notes_write" else notes_search_tool)(context.notes)
        elif name == "documents_search":
            need(context.documents, name, "no documents were indexed")
            tools[name] = documents_search_tool(context.documents)
        elif name == "read_file":
            need(context.permissions, name, "no folder was granted")
            tools[name] = read_file_tool(context.permissions)
        else:
            need(context.permissions, name, "no folder was granted")
            need(context.confirm, name, "Hearth has no way to ask you before saving")
            tools[name] = write_file_tool(context.permissions, context.confirm)
    return tools
