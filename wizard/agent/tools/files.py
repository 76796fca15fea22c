"""read_file, write_file and documents_search: the tools that touch the person's files.

read_file only opens files inside granted folders; write_file only writes inside folders granted
for writing, and only after ``confirm(path, preview)`` — the person's answer in a dialog —
returns True. Both go through :mod:`wizard.agent.tools.permissions`.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from wizard.agent.documents.extract import DocumentSkipped, extract, is_supported
from wizard.agent.tools.base import Tool, ToolError, ToolOutput
from wizard.agent.tools.permissions import FolderPermissions, write_file_exclusively

if TYPE_CHECKING:  # the documents package imports tools.permissions: no cycle at run time
    from wizard.agent.documents.index import DocumentIndex

MAX_READ_BYTES = 50 * 1024 * 1024
MAX_SHOWN_CHARS = 6000  # small models have small contexts
MAX_WRITE_CHARS = 100_000
PREVIEW_CHARS = 2000
# The most the model may write in one call. The reply grammar nests one rule per character up to
# a string's maxLength, and llama.cpp refuses the whole grammar (measured: 1000 works, 1500 does
# not), so with a longer limit the assistant could not answer anything.
MAX_WRITTEN_BY_MODEL = 1000

Confirm = Callable[[Path, str], bool]


def read_file_tool(permissions: FolderPermissions) -> Tool:
    def run(arguments: dict) -> ToolOutput:
        real, fd = permissions.open_for_reading(arguments["path"])
        with os.fdopen(fd, "rb") as handle:
            data = handle.read(MAX_READ_BYTES + 1)
        if len(data) > MAX_READ_BYTES:
            raise ToolError("That file is too large to read.")
        if not is_supported(real):
            raise ToolError("Hearth can only read text, Markdown, PDF, Word (.docx) and OpenDocument (.odt) files.")
        try:
            text = extract(real, data=data).text
        except DocumentSkipped as exc:
            raise ToolError(exc.user_message) from exc
        if len(text) > MAX_SHOWN_CHARS:
            text = text[:MAX_SHOWN_CHARS] + f"\n[… showing the first {MAX_SHOWN_CHARS} of {len(text)} characters]"
        return ToolOutput(f"Contents of {real}:\n{text}", sources=(str(real),))

    return Tool(name="read_file", description="Read a file from the folders the person allowed.",
                parameters={"type": "object", "properties": {"path": {"type": "string", "maxLength": 200}},
                            "required": ["path"], "additionalProperties": False},
                run=run, example={"path": "notes.txt"})


def write_file_tool(permissions: FolderPermissions, confirm: Confirm) -> Tool:
    def run(arguments: dict) -> ToolOutput:
        content = arguments["content"]
        if len(content) > MAX_WRITE_CHARS:
            raise ToolError(f"That text is too long to save (over {MAX_WRITE_CHARS} characters).")
        target = permissions.resolve_for_writing(arguments["path"])
        preview = content if len(content) <= PREVIEW_CHARS else content[:PREVIEW_CHARS] + "\n[…]"
        if target.exists():
            preview = f"(This replaces the existing file.)\n{preview}"
        if not confirm(target, preview):
            return ToolOutput(f"The person did not allow saving {target.name}. Nothing was written.")
        if permissions.resolve_for_writing(arguments["path"]) != target:  # changed while the dialog was open
            raise ToolError("The folder changed while you were being asked. Nothing was written.")
        try:
            write_file_exclusively(target, content.encode("utf-8"))
        except OSError as exc:
            raise ToolError(f"Saving {target.name} failed: the disk refused ({exc.strerror or exc}).") from exc
        return ToolOutput(f"Saved {target}.", sources=(str(target),))

    return Tool(name="write_file",
                description="Save text to a file in the allowed folder (the person is asked first).",
                parameters={"type": "object",
                            "properties": {"path": {"type": "string", "maxLength": 200},
                                           "content": {"type": "string", "maxLength": MAX_WRITTEN_BY_MODEL}},
                            "required": ["path", "content"], "additionalProperties": False},
                run=run, example={"path": "shopping.txt", "content": "milk\neggs"})


def documents_search_tool(index: DocumentIndex) -> Tool:
    def run(arguments: dict) -> ToolOutput:
        hits = index.search(arguments["query"])
        if not hits:
            return ToolOutput("No passage in the person's documents matches.")
        lines = [f"[{n}] {hit.path} ({hit.location}): {hit.snippet}" for n, hit in enumerate(hits, 1)]
        return ToolOutput("\n".join(lines) + "\nName the file you used in your answer.",
                          sources=tuple(dict.fromkeys(hit.path for hit in hits)))

    return Tool(name="documents_search", description="Search the person's documents for passages.",
                parameters={"type": "object", "properties": {"query": {"type": "string", "maxLength": 100}},
                            "required": ["query"], "additionalProperties": False},
                run=run, example={"query": "insurance deductible"})
