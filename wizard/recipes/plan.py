"""Apply = plan, then commit: what a recipe would change, and making it so.

:func:`plan_recipe` compares a checked recipe with the profile already on disk (if any)
and lists every change: the profile folder, each permission (folders to read, write or
search, tools, memory, secrets to ask for, the local API), the changed settings, and the
model it needs. :func:`apply_plan` writes the profile atomically, and refuses when the
recipe asks for a permission not granted before unless the caller says the person agreed
(``hearth recipe apply --yes`` on the command line; the window asks with
``plan.new_permissions``). Applying the same recipe twice changes nothing.

A profile is ``<data>/profiles/<recipe id>/`` with ``recipe.toml`` (the recipe exactly as
applied) and ``profile.json`` (what was granted; written last, so it always describes a
complete profile). Other files there (conversations, memory) are never touched.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Collection
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from wizard.errors import HearthError, HearthFileError
from wizard.paths import hearth_paths
from wizard.recipes.schema import Recipe

PROFILE_FILE = "profile.json"
RECIPE_FILE = "recipe.toml"
PROFILE_SCHEMA = 1

_DESCRIBE = {
    "read": "read files in {target}",
    "write": "write files in {target} (asking you before each one)",
    "write_without_asking": "WRITE FILES IN {target} WITHOUT ASKING YOU FIRST",
    "documents": "make the documents in {target} searchable",
    "tool": "use the {target} tool",
    "memory": "remember {target} between conversations",
    "secret": "keep the secret \"{target}\" in this computer's keyring (you will be asked for it)",
    "local_api": "offer a local connection other apps on this computer can use (off until you "
                 "turn it on)",
}
_MEMORY_WORDS = {"facts": "facts you ask it to remember", "preferences": "how you like answers",
                 "conversation_summaries": "short summaries of past conversations"}


class ConsentNeeded(HearthError, PermissionError):
    """Applying would grant permissions the person has not agreed to yet."""

    default_hint = ("Read the list above. To agree, run the same command again with --yes "
                    "(or choose Allow in the window).")

    def __init__(self, permissions: Collection[Permission]) -> None:
        self.permissions = tuple(permissions)
        count = len(self.permissions)
        super().__init__(f"This recipe asks for {count} new permission{'s' if count != 1 else ''}"
                         ", and nothing was changed.",
                         details="\n".join(p.describe() for p in self.permissions))


@dataclass(frozen=True, order=True)
class Permission:
    """One thing a recipe lets the assistant do; ``target`` is a folder, tool or name."""

    kind: str
    target: str = ""

    def describe(self) -> str:
        target = _MEMORY_WORDS.get(self.target, self.target) if self.kind == "memory" else self.target
        return _DESCRIBE[self.kind].format(target=target)

    @property
    def loud(self) -> bool:
        """True for permissions the plan must stress (writes nobody confirms)."""
        return self.kind == "write_without_asking"


def permissions_of(recipe: Recipe) -> tuple[Permission, ...]:
    """Every permission ``recipe`` asks for, sorted, without duplicates."""
    wanted: set[Permission] = set()
    for tool in recipe.tools:
        wanted.add(Permission("tool", tool.name))
        wanted.update(Permission("read", str(f.path)) for f in tool.read_folders)
        kind = "write" if tool.confirm_each_write else "write_without_asking"
        wanted.update(Permission(kind, str(f.path)) for f in tool.write_folders)
    wanted.update(Permission("documents", str(f.path)) for f in recipe.document_folders)
    if recipe.memory.enabled:
        wanted.update(Permission("memory", kind) for kind in recipe.memory.remember)
    wanted.update(Permission("secret", name) for name in recipe.secret_names)
    if recipe.local_api_offered:
        wanted.add(Permission("local_api"))
    return tuple(sorted(wanted))


def profile_settings(recipe: Recipe) -> dict[str, Any]:
    """What ``profile.json`` stores about a recipe, as plain JSON values."""
    return {
        "recipe_id": recipe.id,
        "name": recipe.name,
        "description": recipe.description,
        "model_needs": {"min_context": recipe.model.min_context,
                        "capabilities": sorted(recipe.model.capabilities),
                        "preferred_families": list(recipe.model.preferred_families),
                        "min_size": recipe.model.min_size},
        "persona": asdict(recipe.persona),
        "sampling": asdict(recipe.sampling),
        "tools": [{"name": t.name, "read_folders": [str(f.path) for f in t.read_folders],
                   "write_folders": [str(f.path) for f in t.write_folders],
                   "confirm_each_write": t.confirm_each_write} for t in recipe.tools],
        "memory": {"enabled": recipe.memory.enabled, "remember": list(recipe.memory.remember)},
        "document_folders": [str(f.path) for f in recipe.document_folders],
        "integrations": [{"name": i.name, "purpose": i.purpose, "secrets": list(i.secrets)}
                         for i in recipe.integrations],
        "local_api_offered": recipe.local_api_offered,
    }


@dataclass(frozen=True)
class RecipePlan:
    """Everything applying one recipe would change; show :meth:`lines` before applying."""

    recipe: Recipe
    profile_dir: Path
    exists: bool
    unchanged: bool
    permissions: tuple[Permission, ...]
    new_permissions: tuple[Permission, ...]
    removed_permissions: tuple[Permission, ...]
    changed_settings: tuple[str, ...]
    recipe_sha256: str

    @property
    def secrets_to_ask(self) -> tuple[str, ...]:
        return tuple(p.target for p in self.permissions if p.kind == "secret")

    def lines(self, *, with_model: bool = True) -> list[str]:
        """The plan in plain words, one change per line.

        The last line (``with_model``) is the model setup would pick for this computer; callers
        that already chose the model leave it out and say which one themselves.
        """
        r = self.recipe
        if self.unchanged:
            return [f"\"{r.name}\" is already set up exactly like this in {self.profile_dir}.",
                    "Nothing to change."]
        verb = "Update" if self.exists else "Create"
        out = [f"{verb} the assistant \"{r.name}\" in {self.profile_dir}"]
        loud = [p for p in self.permissions if p.loud]
        for permission in loud:
            out.append(f"!! WARNING: it may {permission.describe()}: confirm_each_write = false.")
        out.append("It may:" if self.permissions else "It asks for no permissions.")
        for p in self.permissions:
            mark = "  + (new) " if self.exists and p in self.new_permissions else "  - "
            out.append(f"{mark}{p.describe()}")
        for p in self.removed_permissions:
            out.append(f"  x (no longer) {p.describe()}")
        for change in self.changed_settings:
            out.append(f"  ~ changed: {change}")
        if with_model:
            out.append("Model: " + _model_line(r))
        return out


def _model_line(recipe: Recipe) -> str:
    """The model setup would pick for this computer (Hearth's recommendation) and the disk it needs."""
    needs = recipe.model
    text = (f"needs at least {needs.min_context} tokens of context, "
            f"{', '.join(sorted(needs.capabilities))}, size {needs.min_size} or larger")
    try:
        from wizard.catalog import load_catalog
        from wizard.hardware import probe_hardware
        from wizard.recommend import recommend

        catalog = load_catalog()
        if not any(needs.accepts(e) for e in catalog.entries):
            return text + "; no model in Hearth's list meets this, choose a model file yourself"
        best = recommend(probe_hardware(), catalog, needs).best
    except HearthError:
        return text
    if best is None:
        return (text + "; no model in Hearth's list that meets this fits in this computer's memory: "
                "choose a smaller model file yourself, or use a computer with more memory")
    entry = best.entry
    return (f"{text}; for this computer setup would pick {entry.name} (it {best.verdict}, "
            f"{best.speed}), {_download_words(entry)}")


def _download_words(entry) -> str:
    """Whether ``entry`` is already installed, else how much it downloads and whether the disk has room."""
    from wizard.download.disk import existing_folder, safety_margin
    from wizard.download.errors import format_gb
    from wizard.models import ModelRegistry

    try:
        registry = ModelRegistry()
        for model in registry.list():
            same = (model.sha256 == entry.sha256.lower() if entry.sha256 else
                    (model.source.repo, model.source.filename) == (entry.repo, entry.file))
            if same and model.file_in(registry.models_dir).is_file():
                return f"already installed ({model.file_in(registry.models_dir)}): nothing to download"
    except HearthError:
        pass  # a damaged list of installed models: the model would be downloaded again
    if not entry.size_bytes:
        return "to download (its size is not known yet)"
    models = hearth_paths().models
    try:
        free = shutil.disk_usage(existing_folder(models)).free
    except OSError:
        return f"downloads {format_gb(entry.size_bytes)} into {models}"
    needed = entry.size_bytes + safety_margin(entry.size_bytes)
    if needed > free:
        return (f"downloads {format_gb(entry.size_bytes)} into {models}, but there is NOT ENOUGH DISK SPACE: "
                f"it needs {format_gb(needed)} with room to spare and only {format_gb(free)} is free there; "
                f"free at least {format_gb(needed - free)} first")
    return (f"downloads {format_gb(entry.size_bytes)} into {models} "
            f"({format_gb(free)} free there, enough)")


def profiles_dir() -> Path:
    return hearth_paths().data / "profiles"


def read_profile(profile_dir: Path) -> dict[str, Any] | None:
    """The stored ``profile.json``, or None when there is none (or it is unreadable)."""
    try:
        data = json.loads((profile_dir / PROFILE_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def plan_recipe(recipe: Recipe) -> RecipePlan:
    """Compare ``recipe`` with its profile on disk; nothing is written."""
    profile_dir = profiles_dir() / recipe.id
    sha = hashlib.sha256(recipe.source_text.encode("utf-8")).hexdigest()
    wanted = permissions_of(recipe)
    old = read_profile(profile_dir)
    settings = profile_settings(recipe)
    if old is None:
        return RecipePlan(recipe, profile_dir, False, False, wanted, wanted, (), (), sha)
    granted = {Permission(p.get("kind", ""), p.get("target", ""))
               for p in old.get("permissions", []) if isinstance(p, dict)}
    changes = tuple(_flat_diff(old.get("settings", {}), settings))
    unchanged = (old.get("recipe_sha256") == sha and set(wanted) == granted and not changes)
    return RecipePlan(recipe, profile_dir, True, unchanged, wanted,
                      tuple(p for p in wanted if p not in granted),
                      tuple(sorted(granted - set(wanted))), changes, sha)


def _flat_diff(old: Any, new: Any, prefix: str = "") -> list[str]:
    if isinstance(old, dict) and isinstance(new, dict):
        out: list[str] = []
        for key in sorted(set(old) | set(new)):
            name = f"{prefix}.{key}" if prefix else key
            out += _flat_diff(old.get(key), new.get(key), name)
        return out
    if old == new:
        return []
    def short(value: Any) -> str:
        text = json.dumps(value, ensure_ascii=False)
        return text if len(text) <= 60 else text[:57] + "…"
    return [f"{prefix}: {short(old)} -> {short(new)}"]


def apply_plan(plan: RecipePlan, *, allow: bool | Collection[Permission] = False) -> Path:
    """Create or update the profile; return its folder.

    ``allow`` is True when the person agreed to every new permission, or the collection
    of permissions they agreed to.

    Raises:
        ConsentNeeded: a new permission was not agreed to; nothing was written.
        HearthFileError: the profile could not be written; the old one is left as it was.
    """
    if plan.unchanged:
        return plan.profile_dir
    agreed = set(plan.new_permissions) if allow is True else set(allow or ())
    missing = [p for p in plan.new_permissions if p not in agreed]
    if missing:
        raise ConsentNeeded(missing)
    profile = {
        "schema_version": PROFILE_SCHEMA,
        "recipe_sha256": plan.recipe_sha256,
        "applied_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "permissions": [{"kind": p.kind, "target": p.target} for p in plan.permissions],
        "settings": profile_settings(plan.recipe),
    }
    files = {RECIPE_FILE: plan.recipe.source_text,
             PROFILE_FILE: json.dumps(profile, indent=2, ensure_ascii=False) + "\n"}
    root = plan.profile_dir.parent
    try:
        root.mkdir(parents=True, exist_ok=True)
        scratch = Path(tempfile.mkdtemp(prefix=f".applying-{plan.recipe.id}-", dir=root))
        try:
            for name, text in files.items():
                with (scratch / name).open("w", encoding="utf-8", newline="\n") as handle:
                    handle.write(text)
                    handle.flush()
                    os.fsync(handle.fileno())
            if not plan.profile_dir.exists():
                os.replace(scratch, plan.profile_dir)  # the whole profile appears at once
            else:
                for name in (RECIPE_FILE, PROFILE_FILE):  # profile.json last: it commits
                    os.replace(scratch / name, plan.profile_dir / name)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
    except OSError as exc:
        raise HearthFileError(f"Hearth could not save the assistant \"{plan.recipe.name}\".",
                              hint="Check that the disk is not full and try again; the "
                                   "previous setup was kept.",
                              details=f"{plan.profile_dir}: {exc}") from exc
    return plan.profile_dir
