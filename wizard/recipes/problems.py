"""Problems found in a recipe, and the error that carries all of them.

Every problem names the file, the line, the key and what was expected, in words a
person who has never edited a settings file can act on::

    office.toml:12: sampling.temperature: expected a number from 0 to 2, found "hot"
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Any

from wizard.errors import HearthValueError

KeyPath = tuple[str | int, ...]

# Characters that change how text is shown without being visible (Trojan Source, CVE-2021-42574).
# Joiners and the left/right marks stay allowed: emoji and right-to-left languages need them.
_INVISIBLE = frozenset("\u200b\u2028\u2029\u202a\u202b\u202c\u202d\u202e\u2060"
                       "\u2066\u2067\u2068\u2069\ufeff")


def is_unsafe_char(char: str, *, allow_newlines: bool = False) -> bool:
    """True for control characters, direction overrides and other invisible characters."""
    if char in "\n\t" and allow_newlines:
        return False
    if char == "\t":
        return False
    return char in _INVISIBLE or unicodedata.category(char) in ("Cc", "Cs", "Co", "Cn")


def shown(text: str, *, limit: int = 40) -> str:
    """``text`` safe to print: unsafe characters as \\u escapes, cut to ``limit`` characters."""
    cut = text[:limit]
    out = "".join(f"\\u{ord(c):04x}" if is_unsafe_char(c) or c == "\n" else c for c in cut)
    return out + ("…" if len(text) > limit else "")


def found(value: Any) -> str:
    """How a value is described after "found": quoted text, a number, "a list" …"""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f"\"{shown(value)}\"" if value else "empty text"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a table"
    return "a date or time"


def key_label(path: KeyPath) -> str:
    """``("tools", 1, "read_folders")`` -> ``tools[2].read_folders`` (items counted from 1)."""
    label = ""
    for part in path:
        if isinstance(part, int):
            label += f"[{part + 1}]"
        else:
            name = part if part.replace("_", "").replace("-", "").isalnum() else f"\"{shown(part)}\""
            label += ("." if label else "") + name
    return label


@dataclass(frozen=True)
class RecipeProblem:
    """One thing wrong (or worth knowing, when ``warning``) in a recipe file."""

    file: str
    line: int | None
    key: str
    message: str
    warning: bool = False

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        parts = [where]
        if self.key:
            parts.append(self.key)
        parts.append(("note: " if self.warning else "") + self.message)
        return ": ".join(parts)

    def plain(self) -> str:
        """For the window: "line 12, `sampling.temperature`: expected …"."""
        where = [] if self.line is None else [f"line {self.line}"]
        if self.key:
            where.append(f"`{self.key}`")
        prefix = ", ".join(where)
        return f"{prefix}: {self.message}" if prefix else self.message


class RecipeError(HearthValueError):
    """A recipe cannot be used; ``problems`` lists every reason (errors first, then notes)."""

    default_hint = ("Each problem names the line and the setting to change; recipes/README.md "
                    "in Hearth's folder describes every setting.")

    def __init__(self, file: str, problems: list[RecipeProblem]) -> None:
        self.problems = tuple(problems)
        errors = [p for p in problems if not p.warning]
        count = len(errors)
        noun = "problem" if count == 1 else "problems"
        super().__init__(f"The recipe \"{file}\" has {count} {noun}, so Hearth did not use it.",
                         details="\n".join(str(p) for p in problems))
        self.file = file

    def for_terminal(self) -> str:
        lines = [str(p) for p in self.problems]
        lines.append(f"Error: {self.user_message}")
        if self.hint:
            lines.append(self.hint)
        return "\n".join(lines)
