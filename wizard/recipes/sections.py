"""Checking each section of a recipe ([model], [persona], [[tools]] …) into its dataclass.

Each function returns the section's value, or None after recording its problems on the
:class:`~wizard.recipes.checks.Checker`; none of them raises for bad input.
"""

from __future__ import annotations

import difflib
import re
from pathlib import Path
from typing import Any

from wizard.recipes import folders as folder_rules
from wizard.recipes.checks import Checker, looks_like_secret_value
from wizard.recipes.problems import found, shown
from wizard.recipes.schema import (
    MEMORY_KINDS, TOOL_NAMES, TOOLS_READING_FOLDERS, TOOLS_WRITING_FOLDERS, Folder, Integration,
    Memory, ModelNeeds, Persona, Sampling, Tool,
)

MAX_FOLDERS_PER_LIST = 16
MAX_INTEGRATIONS = 8
MAX_SECRETS_PER_INTEGRATION = 8

_FAMILY_RE = re.compile(r"[a-z0-9][a-z0-9.-]{0,31}")
_INTEGRATION_RE = re.compile(r"[a-z][a-z0-9_-]{0,39}")
_SECRET_NAME_RE = re.compile(r"[a-z][a-z0-9_]{0,63}")

MODEL_KEYS = ("min_context", "capabilities", "preferred_families", "min_size")
PERSONA_KEYS = ("system_prompt", "greeting")
SAMPLING_KEYS = ("temperature", "top_p", "top_k", "min_p", "repeat_penalty", "max_tokens")
TOOL_KEYS = ("name", "read_folders", "write_folders", "confirm_each_write")
MEMORY_KEYS = ("enabled", "remember")
DOCUMENTS_KEYS = ("folders",)
INTEGRATION_KEYS = ("name", "purpose", "secrets")


def model(doc: dict[str, Any], check: Checker) -> ModelNeeds | None:
    from wizard.catalog import KNOWN_CAPABILITIES, SIZE_BANDS

    table = check.table(doc, ("model",), MODEL_KEYS) or {}
    bands = [band for band, _, _ in SIZE_BANDS]
    min_context = check.number(table, ("model", "min_context"), minimum=512, maximum=131072,
                               default=2048, whole=True)
    capabilities = check.text_list(table, ("model", "capabilities"), max_items=8,
                                   choices=sorted(KNOWN_CAPABILITIES), default=("chat",))
    families = check.text_list(table, ("model", "preferred_families"), max_items=8,
                               pattern=_FAMILY_RE, what="a model family like \"qwen\"")
    min_size = "tiny"
    if "min_size" in table:
        value = table["min_size"]
        if value not in bands:
            check.problem(("model", "min_size"), f"expected one of {', '.join(bands)}, "
                          f"found {found(value)}")
            min_size = None
        else:
            min_size = value
    if None in (min_context, capabilities, families, min_size):
        return None
    needs = ModelNeeds(min_context=int(min_context), capabilities=frozenset({"chat", *capabilities}),
                       preferred_families=families, min_size=min_size)
    _compare_with_catalog(needs, check)
    return needs


def _compare_with_catalog(needs: ModelNeeds, check: Checker) -> None:
    """Notes (not errors) when no model in Hearth's list could ever meet the needs."""
    from wizard.catalog import load_catalog
    from wizard.errors import HearthError

    try:
        catalog = load_catalog()
    except HearthError:
        return  # the catalog's own checks report that; a recipe stays usable with a custom model
    families = {entry.family for entry in catalog.entries}
    for index, family in enumerate(needs.preferred_families):
        if family not in families:
            check.problem(("model", "preferred_families", index), f"no model in Hearth's list is "
                          f"of the \"{family}\" family (known: {', '.join(sorted(families))})",
                          warning=True)
    if not any(needs.accepts(entry) for entry in catalog.entries):
        check.problem(("model",), "no model in Hearth's list meets all of these needs; you will "
                      "have to choose a model file yourself", warning=True)


def persona(doc: dict[str, Any], check: Checker) -> Persona | None:
    table = check.table(doc, ("persona",), PERSONA_KEYS, required=True)
    if table is None:
        return None
    prompt = check.text(table, ("persona", "system_prompt"), max_length=4000, one_line=False)
    greeting = check.text(table, ("persona", "greeting"), max_length=500, one_line=False)
    return Persona(system_prompt=prompt, greeting=greeting) if prompt and greeting else None


def sampling(doc: dict[str, Any], check: Checker) -> Sampling | None:
    table = check.table(doc, ("sampling",), SAMPLING_KEYS) or {}
    d = Sampling()
    p = ("sampling",)
    values = {
        "temperature": check.number(table, (*p, "temperature"), minimum=0, maximum=2,
                                    default=d.temperature),
        "top_p": check.number(table, (*p, "top_p"), minimum=0.01, maximum=1, default=d.top_p),
        "top_k": check.number(table, (*p, "top_k"), minimum=0, maximum=1000, default=d.top_k,
                              whole=True),
        "min_p": check.number(table, (*p, "min_p"), minimum=0, maximum=1, default=d.min_p),
        "repeat_penalty": check.number(table, (*p, "repeat_penalty"), minimum=1, maximum=2,
                                       default=d.repeat_penalty),
        "max_tokens": check.number(table, (*p, "max_tokens"), minimum=16, maximum=8192,
                                   default=d.max_tokens, whole=True),
    }
    if any(v is None for v in values.values()):
        return None
    return Sampling(temperature=float(values["temperature"]), top_p=float(values["top_p"]),
                    top_k=int(values["top_k"]), min_p=float(values["min_p"]),
                    repeat_penalty=float(values["repeat_penalty"]),
                    max_tokens=int(values["max_tokens"]))


class FolderGrants:
    """Resolves folder lists, reporting each refused folder on its own line."""

    def __init__(self, check: Checker, *, home: Path | None) -> None:
        self.check = check
        self.home = home
        self.seen: set[Path] = set()

    def folders(self, table: dict[str, Any], path: tuple[str | int, ...]) -> tuple[Folder, ...] | None:
        written = self.check.text_list(table, path, max_items=MAX_FOLDERS_PER_LIST)
        if written is None:
            return None
        out: list[Folder] = []
        ok = True
        for index, text in enumerate(written):
            try:
                real, exists = folder_rules.resolve(text, home=self.home)
            except folder_rules.FolderProblem as problem:
                written_text = shown(text, limit=folder_rules.MAX_FOLDER_TEXT)
                self.check.problem((*path, index), f"\"{written_text}\": {problem.message}")
                ok = False
                continue
            if not exists:
                self.check.problem((*path, index), f"\"{text}\" ({real}) does not exist on this "
                                   "computer yet; it is used once it does", warning=True)
            self.seen.add(real)
            out.append(Folder(written=text, path=real, exists=exists))
        return tuple(out) if ok else None


def documents(doc: dict[str, Any], check: Checker, grants: FolderGrants) -> tuple[Folder, ...] | None:
    table = check.table(doc, ("documents",), DOCUMENTS_KEYS) or {}
    return grants.folders(table, ("documents", "folders"))


def tools(doc: dict[str, Any], check: Checker, grants: FolderGrants, *,
           has_documents: bool) -> tuple[Tool, ...] | None:
    tables = check.array_of_tables(doc, "tools", max_items=len(TOOL_NAMES))
    tools: list[Tool] = []
    ok = True
    for index, table in enumerate(tables):
        p: tuple[str | int, ...] = ("tools", index)
        check.unknown_keys(table, p, TOOL_KEYS)
        name = check.text(table, (*p, "name"), max_length=40)
        if name is None:
            ok = False
            continue
        if name not in TOOL_NAMES:
            close = difflib.get_close_matches(name, TOOL_NAMES, n=1)
            maybe = f" Did you mean \"{close[0]}\"?" if close else ""
            check.problem((*p, "name"), f"\"{name}\" is not a tool Hearth has.{maybe} Tools: "
                          f"{', '.join(TOOL_NAMES)}")
            ok = False
            continue
        if any(tool.name == name for tool in tools):
            check.problem((*p, "name"), f"the tool \"{name}\" is listed twice")
            ok = False
            continue
        read = grants.folders(table, (*p, "read_folders"))
        write = grants.folders(table, (*p, "write_folders"))
        confirm = check.boolean(table, (*p, "confirm_each_write"), default=True)
        if read is None or write is None or confirm is None:
            ok = False  # already reported; the rules below may still find more
        for key, allowed, folders in (("read_folders", TOOLS_READING_FOLDERS, read),
                                      ("write_folders", TOOLS_WRITING_FOLDERS, write)):
            verb = key.split("_")[0]
            if key in table and name not in allowed:
                check.problem((*p, key), f"the tool \"{name}\" does not {verb} folders; remove "
                              f"this line" + (" (documents_search uses the [documents] folders)"
                                              if name == "documents_search" else ""))
                ok = False
            elif name in allowed and folders == ():
                check.problem((*p, key) if key in table else p,
                              f"the tool \"{name}\" needs at least one folder in {key}")
                ok = False
        if "confirm_each_write" in table and name not in TOOLS_WRITING_FOLDERS:
            check.problem((*p, "confirm_each_write"), f"the tool \"{name}\" does not write files; "
                          "remove this line")
            ok = False
        if name == "documents_search" and not has_documents:
            check.problem((*p, "name"), "documents_search needs folders to search: add them "
                          "under [documents] folders")
            ok = False
        if ok:
            tools.append(Tool(name=name, read_folders=read or (), write_folders=write or (),
                              confirm_each_write=bool(confirm)))
    return tuple(tools) if ok else None


def memory(doc: dict[str, Any], check: Checker) -> Memory | None:
    table = check.table(doc, ("memory",), MEMORY_KEYS) or {}
    enabled = check.boolean(table, ("memory", "enabled"), default=False)
    remember = check.text_list(table, ("memory", "remember"), max_items=len(MEMORY_KINDS),
                               choices=MEMORY_KINDS)
    if enabled is None or remember is None:
        return None
    if enabled and not remember:
        check.problem(("memory", "remember") if "remember" in table else ("memory", "enabled"),
                      f"memory is on: say what it may remember, from {', '.join(MEMORY_KINDS)}")
        return None
    if not enabled and remember:
        check.problem(("memory", "remember"), "memory is off, so this list is not used",
                      warning=True)
        remember = ()
    return Memory(enabled=enabled, remember=remember)


def integrations(doc: dict[str, Any], check: Checker) -> tuple[Integration, ...] | None:
    tables = check.array_of_tables(doc, "integrations", max_items=MAX_INTEGRATIONS)
    out: list[Integration] = []
    ok = True
    for index, table in enumerate(tables):
        p: tuple[str | int, ...] = ("integrations", index)
        check.unknown_keys(table, p, INTEGRATION_KEYS)
        name = check.text(table, (*p, "name"), max_length=40, pattern=_INTEGRATION_RE,
                          what="a short name of lower-case letters, digits, _ and -")
        purpose = check.text(table, (*p, "purpose"), max_length=160)
        secrets = check.text_list(table, (*p, "secrets"), max_items=MAX_SECRETS_PER_INTEGRATION)
        if secrets is not None:
            for item_index, secret in enumerate(secrets):
                item = (*p, "secrets", item_index)
                if looks_like_secret_value(secret):
                    check.problem(item, "this looks like a secret value, not a name for one. "
                                  "Write a name such as \"mail_password\"; Hearth asks for the "
                                  "value and keeps it in the system's keyring")
                    ok = False
                elif not _SECRET_NAME_RE.fullmatch(secret):
                    check.problem(item, "expected a secret's name of lower-case letters, digits "
                                  f"and _, like \"mail_password\", found \"{secret[:40]}\"")
                    ok = False
        if name and any(i.name == name for i in out):
            check.problem((*p, "name"), f"the integration \"{name}\" is listed twice")
            ok = False
        if name is None or purpose is None or secrets is None:
            ok = False
            continue
        out.append(Integration(name=name, purpose=purpose, secrets=secrets))
    return tuple(out) if ok else None
