"""The assistant's tools, their permission checks, and the loop that lets the model use them."""

from wizard.agent.tools.base import Tool, ToolError, ToolOutput
from wizard.agent.tools.loop import LoopResult, LoopStep, reply_schema, run_tool_loop
from wizard.agent.tools.notes import NotesStore
from wizard.agent.tools.permissions import FolderPermissions, PathNotAllowed, ToolFileNotFound
from wizard.agent.tools.registry import TOOL_NAMES, ToolContext, UnknownToolError, build_tools

__all__ = ["TOOL_NAMES", "FolderPermissions", "LoopResult", "LoopStep", "NotesStore", "PathNotAllowed", "Tool",
           "ToolContext", "ToolError", "ToolFileNotFound", "ToolOutput", "UnknownToolError", "build_tools",
           "reply_schema", "run_tool_loop"]
