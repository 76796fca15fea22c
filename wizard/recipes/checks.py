"""Typed reading of one parsed recipe document that collects every problem.

:class:`Checker` never raises for a bad value: it records a :class:`RecipeProblem`
(with the line from :mod:`wizard.recipes.lines`) and returns None, so one run reports
all problems at once. Only the first problem per key is kept.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Collection, Mapping
from typing import Any

from wizard.recipes.lines import line_of
from wizard.recipes.problems import KeyPath, RecipeProblem, found, is_unsafe_char, key_label, shown

MAX_DEPTH = 4  # recipe tables nest at most [[tools]] -> value list; 4 leaves room for mistakes
MAX_LIST_ITEMS = 64  # no list in a recipe needs more; huge lists are refused before anything else

# Keys that, holding text, mean someone wrote a secret into the file.
SECRET_LIKE_KEYS = frozenset({"value", "password", "passwd", "pass", "token", "secret", "api_key",
                              "apikey", "key", "access_token", "auth_token", "client_secret",
                              "private_key", "credentials", "pin", "bearer"})
_TOKEN_PREFIXES = ("sk-", "sk_", "ghp_", "gho_", "github_pat_", "xox", "hf_", "akia", "aiza",
                   "glpat-", "eyj")


def looks_like_secret_value(text: str) -> bool:
    """True for text shaped like an API key or token rather than a name for one."""
    lowered = text.lower()
    if lowered.startswith(_TOKEN_PREFIXES) and len(text) >= 12:
        return True
    return (len(text) >= 24 and not re.search(r"\s", text)
            and bool(re.search(r"\d", text)) and bool(re.search(r"[A-Za-z]", text))
            and text.count("_") < 3)


class Checker:
    def __init__(self, file: str, lines: Mapping[KeyPath, int]) -> None:
        self.file = file
        self.lines = lines
        self.problems: list[RecipeProblem] = []
        self._reported: set[KeyPath] = set()

    @property
    def failed(self) -> bool:
        return any(not p.warning for p in self.problems)

    def problem(self, path: KeyPath, message: str, *, warning: bool = False,
                line: int | None = None) -> None:
        if not warning:
            if path in self._reported:
                return
            self._reported.add(path)
        self.problems.append(RecipeProblem(
            file=self.file, line=line if line is not None else line_of(dict(self.lines), path),
            key=key_label(path), message=message, warning=warning))

    # -- whole-document guards --------------------------------------------------------
    def guard(self, document: Mapping[str, Any]) -> bool:
        """Depth, list sizes, unsafe characters and inline secrets anywhere; False = stop."""
        fatal = False
        stack: list[tuple[KeyPath, Any]] = [((), document)]
        while stack:
            path, value = stack.pop()
            if len(path) > MAX_DEPTH + 2:
                self.problem(path[:MAX_DEPTH + 2], "tables or lists are nested too deeply; "
                             "a recipe never needs more than a few levels")
                fatal = True
                continue
            if isinstance(value, dict):
                for key, item in value.items():
                    if any(is_unsafe_char(c) for c in key):
                        self.problem((*path, key), "this name contains invisible or control "
                                     "characters; type it again by hand")
                        continue
                    if key.lower() in SECRET_LIKE_KEYS and isinstance(item, str):
                        self.problem((*path, key), "this looks like a secret written into the "
                                     "recipe. A recipe may only name the secrets it needs (under "
                                     "[[integrations]] secrets); Hearth asks for the value and "
                                     "keeps it in the system's keyring. Remove this line")
                        continue
                    stack.append(((*path, key), item))
            elif isinstance(value, list):
                if len(value) > MAX_LIST_ITEMS:
                    self.problem(path, f"a list may have at most {MAX_LIST_ITEMS} items, this one "
                                 f"has {len(value)}")
                    fatal = True
                    continue
                stack.extend(((*path, index), item) for index, item in enumerate(value))
            elif isinstance(value, str):
                allow = path[-1:] and path[-1] in ("system_prompt", "greeting")
                bad = next((c for c in value if is_unsafe_char(c, allow_newlines=bool(allow))), None)
                if bad == "\n":
                    self.problem(path, "expected one line of text, found several lines")
                elif bad is not None:
                    self.problem(path, f"contains the invisible character U+{ord(bad):04X}, which "
                                 f"is not allowed here; found {found(value)}")
        return not fatal

    # -- tables -----------------------------------------------------------------------
    def table(self, parent: Mapping[str, Any], path: tuple[str, ...], allowed: Collection[str], *,
              required: bool = False) -> dict[str, Any] | None:
        """The table at ``path`` (None when absent or wrong); unknown keys reported."""
        key = path[-1]
        if key not in parent:
            if required:
                self.problem(path, f"the [{key_label(path)}] section is missing")
            return None
        value = parent[key]
        if not isinstance(value, dict):
            self.problem(path, f"expected a section [{key_label(path)}], found {found(value)}")
            return None
        self.unknown_keys(value, path, allowed)
        return value

    def unknown_keys(self, table: Mapping[str, Any], path: KeyPath, allowed: Collection[str]) -> None:
        for key in table:
            if key in allowed:
                continue
            close = difflib.get_close_matches(key, list(allowed), n=1, cutoff=0.6)
            maybe = f" Did you mean \"{close[0]}\"?" if close else ""
            known = ", ".join(sorted(allowed))
            self.problem((*path, key), f"\"{shown(key)}\" is not a setting Hearth knows here."
                         f"{maybe} Settings allowed here: {known}")

    def array_of_tables(self, parent: Mapping[str, Any], key: str, *,
                        max_items: int) -> list[dict[str, Any]]:
        value = parent.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            self.problem((key,), f"expected one or more [[{key}]] sections, found {found(value)}")
            return []
        if len(value) > max_items:
            self.problem((key,), f"at most {max_items} [[{key}]] sections are allowed, "
                         f"found {len(value)}")
            return []
        return value

    # -- values -----------------------------------------------------------------------
    def text(self, table: Mapping[str, Any], path: KeyPath, *, required: bool = True,
             max_length: int, one_line: bool = True, pattern: re.Pattern[str] | None = None,
             what: str = "", default: str | None = None) -> str | None:
        key = path[-1]
        if key not in table:
            if required:
                self.problem(path, "this setting is missing; it is required")
            return default
        value = table[key]
        if not isinstance(value, str):
            self.problem(path, f"expected text in quotes, found {found(value)}")
            return None
        if not value.strip():
            self.problem(path, "expected some text, found empty text")
            return None
        if len(value) > max_length:
            self.problem(path, f"expected at most {max_length} characters, found {len(value)}")
            return None
        if one_line and "\n" in value:
            self.problem(path, "expected one line of text, found several lines")
            return None
        if pattern is not None and not pattern.fullmatch(value):
            self.problem(path, f"expected {what}, found {found(value)}")
            return None
        return value.strip()

    def number(self, table: Mapping[str, Any], path: KeyPath, *, minimum: float, maximum: float,
               default: float, whole: bool = False) -> float | None:
        key = path[-1]
        if key not in table:
            return default
        value = table[key]
        kind = "a whole number" if whole else "a number"
        ok_type = isinstance(value, int) if whole else isinstance(value, (int, float))
        if isinstance(value, bool) or not ok_type or not (minimum <= value <= maximum):
            self.problem(path, f"expected {kind} from {minimum:g} to {maximum:g}, found {found(value)}")
            return None
        return value

    def boolean(self, table: Mapping[str, Any], path: KeyPath, *, default: bool) -> bool | None:
        key = path[-1]
        if key not in table:
            return default
        value = table[key]
        if not isinstance(value, bool):
            self.problem(path, f"expected true or false (without quotes), found {found(value)}")
            return None
        return value

    def text_list(self, table: Mapping[str, Any], path: KeyPath, *, max_items: int,
                  choices: Collection[str] | None = None, pattern: re.Pattern[str] | None = None,
                  what: str = "", default: tuple[str, ...] = ()) -> tuple[str, ...] | None:
        key = path[-1]
        if key not in table:
            return default
        value = table[key]
        if not isinstance(value, list):
            self.problem(path, f"expected a list in square brackets, like [\"a\", \"b\"], "
                         f"found {found(value)}")
            return None
        if len(value) > max_items:
            self.problem(path, f"expected at most {max_items} items, found {len(value)}")
            return None
        items: list[str] = []
        ok = True
        for index, item in enumerate(value):
            item_path = (*path, index)
            if not isinstance(item, str):
                self.problem(item_path, f"expected text in quotes, found {found(item)}")
                ok = False
            elif choices is not None and item not in choices:
                close = difflib.get_close_matches(item, list(choices), n=1)
                maybe = f" Did you mean \"{close[0]}\"?" if close else ""
                self.problem(item_path, f"\"{shown(item)}\" is not one Hearth knows.{maybe} "
                             f"Expected one of: {', '.join(choices)}")
                ok = False
            elif pattern is not None and not pattern.fullmatch(item):
                self.problem(item_path, f"expected {what}, found {found(item)}")
                ok = False
            elif item in items:
                self.problem(item_path, f"\"{shown(item)}\" is listed twice")
                ok = False
            else:
                items.append(item)
        return tuple(items) if ok else None
