"""What a tool is: a name, a description and an argument schema for the model, and a function."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from wizard.errors import HearthError, HearthValueError


class ToolError(HearthValueError):
    """A tool could not do what the model asked; its message is shown to the model as the result."""

    default_hint = "The assistant can try again differently."


@dataclass(frozen=True)
class ToolOutput:
    """A tool's text for the model, and the files it drew on (for citing them to the person)."""

    text: str
    sources: tuple[str, ...] = ()


@dataclass(frozen=True)
class Tool:
    """One capability offered to the model.

    ``parameters`` is the JSON schema of the arguments object; every string in it should carry a
    ``maxLength`` so a small model's constrained output always ends. ``run`` takes the arguments
    (already checked against the schema's required names and types) and returns the result text
    or a :class:`ToolOutput`; it raises :class:`ToolError` or another ``HearthError`` for
    anything the model should be told.
    """

    name: str
    description: str
    parameters: dict
    run: Callable[[dict], str | ToolOutput]
    example: dict = field(default_factory=dict)


def error_text(error: HearthError) -> str:
    """A tool failure as the model (and the person reading along) sees it."""
    return f"Error: {error.user_message}"
