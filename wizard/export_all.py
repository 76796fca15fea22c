"""“Export everything”: one zip file with every record Hearth keeps, in open formats.

    export_everything(Path("~/Hearth export.zip"), progress=print, cancel=event)

Inside the zip (all text, UTF-8)::

    README.txt                       what each file is
    conversations/NNNN-title.md      each conversation as Markdown (labelled AI-generated)
    conversations/NNNN-title.json    the same as JSON (format "hearth.conversation")
    memories.json                    every remembered fact and conversation summary
    profiles/ID/recipe.toml, profile.json, setup.json    each assistant as it was set up
    settings.toml                    Hearth's settings
    installed-models.json            which model files are installed (not the files)

Never inside: keys, tokens or passwords (they live in the keyring and are never read
here except to make sure none slipped into a file; a match is replaced by
``[secret removed]``), nor the model files themselves.

The zip is written to a temp name beside the target and renamed at the end: a cancelled or
failed export leaves nothing at the target (and an older file there is untouched).
"""

from __future__ import annotations

import json
import logging
import os
import re
import tempfile
import threading
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from wizard.agent.database import database_path
from wizard.agent.export import export_json, export_markdown
from wizard.agent.memory import MemoryStore
from wizard.agent.store import ConversationStore
from wizard.errors import HearthError, HearthFileError, StoppedByPerson
from wizard.paths import hearth_paths
from wizard.recipes.plan import profiles_dir
from wizard.settings import load_settings, render_settings
from wizard.settings_secrets import LOCAL_API_TOKEN, REMOTE_ENGINE_KEY

log = logging.getLogger(__name__)

PROFILE_FILES = ("recipe.toml", "profile.json", "setup.json")
REGISTRY_FILE = "installed-models.json"
SECRET_PLACEHOLDER = "[secret removed]"
Cancel = threading.Event | Callable[[], bool] | None

README = """\
Everything Hearth kept for you, exported on {date}.

conversations/   every conversation, twice: as Markdown (.md, readable in any text
                 editor) and as JSON (.json, for other programs). The replies were
                 written by an AI model and may be wrong; each file says which model.
memories.json    what Hearth remembered between conversations: facts you asked it to
                 remember and short summaries of past conversations.
profiles/        each assistant as it was set up: recipe.toml (the recipe),
                 profile.json (what you allowed it to do), setup.json (your name,
                 the model it uses and how it is loaded).
settings.toml    Hearth's settings.
installed-models.json   the list of model files installed (the files themselves are
                 not in this export: they are large and can be downloaded again).

Not in this export: passwords, keys and tokens. Hearth keeps those in your computer's
keyring and never writes them to a file.

{counts}
"""


class ExportCancelled(StoppedByPerson):
    """The person stopped the export; nothing was written at the target."""

    default_hint = "Start the export again when you are ready."


class ExportAllError(HearthFileError):
    """The export file could not be written; nothing was left at the target."""

    default_hint = "Choose another folder (for example your Documents folder) with free space and try again."


@dataclass(frozen=True)
class ExportProgress:
    done: int  # steps finished
    total: int
    message: str


@dataclass(frozen=True)
class ExportSummary:
    path: Path
    conversations: int
    memories: int
    profiles: int
    bytes_written: int


def _stopped(cancel: Cancel) -> bool:
    if isinstance(cancel, threading.Event):
        return cancel.is_set()
    return bool(cancel and cancel())


def _slug(title: str) -> str:
    words = re.sub(r"[^\w]+", "-", title.lower(), flags=re.UNICODE).strip("-")
    return words[:50].strip("-") or "conversation"


def known_secret_values() -> list[str]:
    """The secrets Hearth itself keeps, to make sure none is ever written into an export."""
    from wizard.secrets import HUB_TOKEN, get_secret

    values = []
    for owner, name in (REMOTE_ENGINE_KEY, LOCAL_API_TOKEN, HUB_TOKEN):
        try:
            value = get_secret(owner, name)
        except HearthError:  # no keyring: then no secret of ours can be anywhere either
            continue
        if value and len(value) >= 8:
            values.append(value)
    return values


def _profile_files() -> Iterator[tuple[str, Path]]:
    root = profiles_dir()
    if not root.is_dir():
        return
    for folder in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        for name in PROFILE_FILES:
            path = folder / name
            if path.is_file() and not path.is_symlink():
                yield f"profiles/{folder.name}/{name}", path


def _memories_document(store: ConversationStore) -> dict:
    memories = MemoryStore(store).list()
    return {
        "format": "hearth.memories", "format_version": 1,
        "exported": datetime.now(UTC).isoformat(timespec="seconds"),
        "memories": [{"id": m.id, "kind": m.kind, "content": m.content, "profile": m.profile,
                      "created": m.created, "updated": m.updated, "conversation": m.conversation,
                      "source_conversation": m.source_conversation} for m in memories],
    }


def export_everything(target: Path, *, progress: Callable[[ExportProgress], None] | None = None,
                      cancel: Cancel = None, database: Path | None = None,
                      also_hide: Iterable[str] = ()) -> ExportSummary:
    """Write the zip to ``target`` (a ``.zip`` file path, replaced only when complete).

    ``also_hide``: more secret values to keep out (e.g. ones kept for this session only).

    Raises:
        ExportCancelled: ``cancel`` was set; nothing was written at ``target``.
        ExportAllError: the zip could not be written; nothing was left at ``target``.
        DatabaseError: the conversation file could not be opened.
    """
    target = Path(target).expanduser()
    report = progress or (lambda _event: None)
    secrets = sorted({*known_secret_values(), *(v for v in also_hide if v and len(v) >= 8)}, key=len, reverse=True)

    def clean(text: str) -> str:
        for value in secrets:
            text = text.replace(value, SECRET_PLACEHOLDER)
        return text

    database = database or database_path()
    store = ConversationStore(path=database) if database.is_file() else None
    try:
        conversations = store.list() if store else []
        profile_files = list(_profile_files())
        registry = hearth_paths().data / REGISTRY_FILE
        total = len(conversations) + len(profile_files) + 3
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            handle, temp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".partial", dir=target.parent)
            os.close(handle)
        except OSError as exc:
            raise ExportAllError(f"Hearth could not create the export file in {target.parent}.",
                                 details=str(exc)) from exc
        temp = Path(temp_name)
        try:
            counts = _write_zip(temp, store, conversations, profile_files, registry, clean, report, cancel, total)
            os.replace(temp, target)
        except BaseException:
            temp.unlink(missing_ok=True)
            raise
    finally:
        if store is not None:
            store.close()
    size = target.stat().st_size
    report(ExportProgress(total, total, "Done"))
    log.info("exported everything to %s (%d bytes)", target, size)
    return ExportSummary(target, len(conversations), counts["memories"], counts["profiles"], size)


def _write_zip(temp: Path, store: ConversationStore | None, conversations: list, profile_files: list,
               registry: Path, clean: Callable[[str], str], report: Callable[[ExportProgress], None],
               cancel: Cancel, total: int) -> dict[str, int]:
    done = 0
    counts = {"memories": 0, "profiles": len({name.split("/")[1] for name, _ in profile_files})}

    def step(message: str) -> None:
        nonlocal done
        if _stopped(cancel):
            raise ExportCancelled("The export was stopped. No export file was made.")
        report(ExportProgress(done, total, message))
        done += 1

    try:
        with zipfile.ZipFile(temp, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            def put(name: str, text: str) -> None:
                archive.writestr(name, clean(text).encode("utf-8"))

            for conversation in conversations:
                step(f"Conversation “{conversation.title or 'untitled'}”")
                stem = f"conversations/{conversation.id:04d}-{_slug(conversation.title)}"
                put(stem + ".md", export_markdown(store, conversation.id))
                put(stem + ".json", json.dumps(export_json(store, conversation.id), ensure_ascii=False, indent=2))
            step("Memories")
            memories = _memories_document(store) if store else {"format": "hearth.memories", "format_version": 1,
                                                                  "memories": []}
            counts["memories"] = len(memories["memories"])
            put("memories.json", json.dumps(memories, ensure_ascii=False, indent=2))
            for name, path in profile_files:
                step(f"Assistant “{name.split('/')[1]}”")
                put(name, path.read_text(encoding="utf-8", errors="replace"))
            step("Settings")
            put("settings.toml", render_settings(load_settings().settings))
            if registry.is_file():
                put(REGISTRY_FILE, registry.read_text(encoding="utf-8", errors="replace"))
            step("Read-me")
            put("README.txt", README.format(
                date=datetime.now(UTC).strftime("%Y-%m-%d"),
                counts=f"{len(conversations)} conversations, {counts['memories']} memories, "
                       f"{counts['profiles']} assistants."))
        with temp.open("rb") as written:  # durable before it takes the target's name
            os.fsync(written.fileno())
    except OSError as exc:
        raise ExportAllError("Hearth could not write the export file.", details=f"{temp}: {exc}") from exc
    return counts
