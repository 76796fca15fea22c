"""Which line of a TOML file each key (and each list item) is on.

``tomllib`` gives values but no positions, and a person fixing a recipe needs a line
number. :func:`key_lines` scans the source text once, following TOML's own grammar for
tables, arrays of tables, dotted keys, strings (all four kinds), arrays and inline
tables, and maps each key path to the line where it is written. Paths use the same
shape as the parsed document: ``("tools", 1, "read_folders", 0)`` is the first folder
of the second ``[[tools]]`` table.

Only run it on text ``tomllib`` accepted: on broken TOML it gives up quietly and
returns what it found so far.
"""

from __future__ import annotations

import tomllib

Path_ = tuple[str | int, ...]

_BARE_KEY = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")
_MAX_DEPTH = 32


class _GiveUp(Exception):
    pass


class _Scanner:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.line = 1
        self.found: dict[Path_, int] = {}
        self.array_tables: dict[Path_, int] = {}

    # -- low-level cursor -------------------------------------------------------------
    def peek(self, ahead: int = 0) -> str:
        index = self.pos + ahead
        return self.text[index] if index < len(self.text) else ""

    def advance(self, count: int = 1) -> None:
        for _ in range(count):
            if self.pos >= len(self.text):
                raise _GiveUp
            if self.text[self.pos] == "\n":
                self.line += 1
            self.pos += 1

    def skip_blank(self, *, newlines: bool) -> None:
        """Skip spaces and tabs, comments, and (when ``newlines``) line ends."""
        while self.pos < len(self.text):
            char = self.peek()
            if char in " \t\r" or (newlines and char == "\n"):
                self.advance()
            elif char == "#":
                while self.pos < len(self.text) and self.peek() != "\n":
                    self.advance()
            else:
                return

    def record(self, path: Path_, line: int) -> None:
        self.found.setdefault(path, line)

    # -- grammar ----------------------------------------------------------------------
    def document(self) -> None:
        table: Path_ = ()
        while True:
            self.skip_blank(newlines=True)
            if self.pos >= len(self.text):
                return
            if self.peek() == "[":
                table = self.header()
            else:
                self.key_value(table, depth=0)

    def header(self) -> Path_:
        line = self.line
        is_array = self.peek(1) == "["
        self.advance(2 if is_array else 1)
        names = self.dotted_key()
        self.advance(2 if is_array else 1)
        parents = self.resolve(names[:-1])
        path = (*parents, names[-1])
        for end in range(1, len(names)):  # [a.b.c] also defines a and a.b here
            self.record(self.resolve(names[:end]), line)
        if not is_array:
            path = self.resolve(names)
            self.record(path, line)
            return path
        self.record(path, line)
        count = self.array_tables.get(path, 0) + 1
        self.array_tables[path] = count
        element = (*path, count - 1)
        self.record(element, line)
        return element

    def resolve(self, names: list[str]) -> Path_:
        """A header's dotted name with the current index of every array of tables in it."""
        path: Path_ = ()
        for name in names:
            path = (*path, name)
            if path in self.array_tables:
                path = (*path, self.array_tables[path] - 1)
        return path

    def key_value(self, table: Path_, *, depth: int) -> None:
        line = self.line
        names = self.dotted_key()
        for end in range(1, len(names) + 1):
            self.record((*table, *names[:end]), line)
        self.skip_blank(newlines=False)
        if self.peek() != "=":
            raise _GiveUp
        self.advance()
        self.skip_blank(newlines=False)
        self.value((*table, *names), depth=depth)

    def dotted_key(self) -> list[str]:
        names = []
        while True:
            self.skip_blank(newlines=False)
            names.append(self.simple_key())
            self.skip_blank(newlines=False)
            if self.peek() != ".":
                return names
            self.advance()

    def simple_key(self) -> str:
        char = self.peek()
        if char in "\"'":
            raw = self.string_literal()
            return tomllib.loads(f"k = {raw}")["k"]
        start = self.pos
        while self.peek() and self.peek() in _BARE_KEY:
            self.advance()
        if self.pos == start:
            raise _GiveUp
        return self.text[start:self.pos]

    def string_literal(self) -> str:
        """Consume one string of any kind and return its raw source text."""
        start = self.pos
        quote = self.peek()
        if self.peek(1) == quote and self.peek(2) == quote:  # multi-line
            self.advance(3)
            while not (self.peek() == quote and self.peek(1) == quote and self.peek(2) == quote):
                if quote == '"' and self.peek() == "\\":
                    self.advance()
                self.advance()
            self.advance(3)
            while self.peek() == quote:  # up to two quotes may close the content
                self.advance()
        else:
            self.advance()
            while self.peek() != quote:
                if self.peek() in ("", "\n"):
                    raise _GiveUp
                if quote == '"' and self.peek() == "\\":
                    self.advance()
                self.advance()
            self.advance()
        return self.text[start:self.pos]

    def value(self, path: Path_, *, depth: int) -> None:
        if depth > _MAX_DEPTH:
            raise _GiveUp
        char = self.peek()
        if char in "\"'":
            self.string_literal()
        elif char == "[":
            self.array(path, depth=depth + 1)
        elif char == "{":
            self.inline_table(path, depth=depth + 1)
        else:
            while self.peek() and self.peek() not in ",]}#\n" and not (
                    self.peek() in " \t\r" and self._scalar_ends()):
                self.advance()

    def _scalar_ends(self) -> bool:
        # Dates may hold one space ("1979-05-27 07:32:00"); anything else ends a scalar.
        rest = self.text[self.pos + 1:self.pos + 2]
        return not rest.isdigit()

    def array(self, path: Path_, *, depth: int) -> None:
        self.advance()  # [
        index = 0
        while True:
            self.skip_blank(newlines=True)
            if self.peek() == "]":
                self.advance()
                return
            self.record((*path, index), self.line)
            self.value((*path, index), depth=depth)
            index += 1
            self.skip_blank(newlines=True)
            if self.peek() == ",":
                self.advance()

    def inline_table(self, path: Path_, *, depth: int) -> None:
        self.advance()  # {
        while True:
            self.skip_blank(newlines=False)
            if self.peek() == "}":
                self.advance()
                return
            self.key_value(path, depth=depth)
            self.skip_blank(newlines=False)
            if self.peek() == ",":
                self.advance()


def key_lines(text: str) -> dict[Path_, int]:
    """Map every key path (and list item path) in ``text`` to its 1-based line number."""
    scanner = _Scanner(text)
    try:
        scanner.document()
    except (_GiveUp, tomllib.TOMLDecodeError, RecursionError):
        pass
    return scanner.found


def line_of(lines: dict[Path_, int], path: Path_) -> int | None:
    """The line of ``path``, or of its nearest written parent; None if none is known."""
    for end in range(len(path), 0, -1):
        line = lines.get(path[:end])
        if line is not None:
            return line
    return None
