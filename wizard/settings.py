"""Hearth-wide settings: one small TOML file the person may read and edit.

    loaded = load_settings()            # never raises for a missing or damaged file
    if loaded.notice: show(loaded.notice)
    save_settings(loaded.settings.changed(theme="dark"))

The file is ``settings.toml`` in the config folder, written atomically (temp file, fsync,
``os.replace``). A damaged file is copied aside (``settings.toml.damaged-…``) and the
defaults are used; a file with some bad values keeps the good ones. Either way
:attr:`LoadedSettings.notice` says so in plain words.

Secrets are never in the file: :mod:`wizard.settings_secrets` keeps them in the keyring.
"""

from __future__ import annotations

import logging
import os
import shutil
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from wizard.errors import HearthError, HearthFileError, HearthValueError
from wizard.paths import hearth_paths

log = logging.getLogger(__name__)

SETTINGS_FILE = "settings.toml"
SCHEMA_VERSION = 1
THEMES: tuple[str, ...] = ("system", "light", "dark")
ENGINES: tuple[str, ...] = ("local", "remote")
CONTEXT_RANGE = (512, 1_048_576)
THREADS_RANGE = (1, 256)
PORT_RANGE = (1024, 65535)
DEFAULT_LOCAL_API_PORT = 8731

Theme = Literal["system", "light", "dark"]
Engine = Literal["local", "remote"]


class SettingsError(HearthValueError):
    """A setting has a value Hearth cannot use; nothing was saved."""

    default_hint = "Change the value and try again."


@dataclass(frozen=True)
class Settings:
    """Every Hearth-wide setting. ``None`` for context size and threads means "automatic".

    ``profile_models`` maps a profile id to the installed model id it should use (a sorted
    tuple of pairs so the dataclass stays hashable and frozen); see :meth:`model_for`.
    """

    context_size: int | None = None
    threads: int | None = None
    engine: Engine = "local"
    remote_url: str = ""
    local_api: bool = False
    local_api_port: int = DEFAULT_LOCAL_API_PORT
    theme: Theme = "system"
    hub_mirror: str = ""  # a Hugging Face mirror to download models from; "" = huggingface.co
    profile_models: tuple[tuple[str, str], ...] = field(default=())

    def __post_init__(self) -> None:
        problems = _problems(self)
        if problems:
            raise SettingsError(problems[0][1], details="; ".join(f"{k}: {m}" for k, m in problems))

    def changed(self, **changes: Any) -> Settings:
        """A copy with ``changes``. Raises: SettingsError (an unusable value)."""
        if "profile_models" in changes and isinstance(changes["profile_models"], Mapping):
            changes["profile_models"] = _pairs(changes["profile_models"])
        return replace(self, **changes)

    def model_for(self, profile_id: str) -> str | None:
        """The model id chosen for ``profile_id``, or None (the profile's own choice)."""
        return dict(self.profile_models).get(profile_id)

    def with_model_for(self, profile_id: str, model_id: str | None) -> Settings:
        """A copy choosing ``model_id`` for the profile (None: forget the choice)."""
        chosen = dict(self.profile_models)
        if model_id is None:
            chosen.pop(profile_id, None)
        else:
            chosen[profile_id] = model_id
        return replace(self, profile_models=_pairs(chosen))

    @property
    def local_api_address(self) -> str:
        return f"http://127.0.0.1:{self.local_api_port}/v1"


@dataclass(frozen=True)
class LoadedSettings:
    settings: Settings
    path: Path
    notice: HearthError | None = None  # set when the file was damaged or had unusable values


def _pairs(mapping: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
    return tuple(sorted((str(k), str(v)) for k, v in mapping.items()))


def _whole_number(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _problems(settings: Settings) -> list[tuple[str, str]]:
    """(setting name, plain message) for every unusable value."""
    out: list[tuple[str, str]] = []
    low, high = CONTEXT_RANGE
    if settings.context_size is not None and (not _whole_number(settings.context_size)
                                              or not low <= settings.context_size <= high):
        out.append(("context_size", f"The context size must be “automatic” or a whole number from {low:,} "
                                    f"to {high:,} tokens."))
    low, high = THREADS_RANGE
    if settings.threads is not None and (not _whole_number(settings.threads) or not low <= settings.threads <= high):
        out.append(("threads", f"The number of threads must be “automatic” or a whole number from {low} to {high}."))
    if settings.engine not in ENGINES:
        out.append(("engine", "The engine must be “local” (this computer) or “remote” (another computer)."))
    if not isinstance(settings.remote_url, str) or (settings.remote_url and remote_url_problem(settings.remote_url)):
        out.append(("remote_url", remote_url_problem(str(settings.remote_url)) or "The server address is not text."))
    elif settings.engine == "remote" and not settings.remote_url:
        out.append(("engine", "Type the address of the other computer's AI server to use it."))
    if not isinstance(settings.local_api, bool):
        out.append(("local_api", "The local API setting must be on (true) or off (false)."))
    low, high = PORT_RANGE
    if not _whole_number(settings.local_api_port) or not low <= settings.local_api_port <= high:
        out.append(("local_api_port", f"The local API port must be a whole number from {low} to {high}."))
    if settings.theme not in THEMES:
        out.append(("theme", "The theme must be “system”, “light” or “dark”."))
    if not isinstance(settings.hub_mirror, str) or (settings.hub_mirror and hub_mirror_problem(settings.hub_mirror)):
        out.append(("hub_mirror", hub_mirror_problem(str(settings.hub_mirror)) or "The mirror address is not text."))
    if not isinstance(settings.profile_models, tuple) or not all(
            isinstance(p, tuple) and len(p) == 2 and all(isinstance(x, str) and x for x in p)
            for p in settings.profile_models):
        out.append(("profile_models", "The models chosen for assistants must be names of installed models."))
    return out


def remote_url_problem(url: str) -> str | None:
    """A plain sentence saying what is wrong with a server address, or None when it is usable."""
    try:
        parts = urlsplit(url.strip())
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        return "The server address has a port that is not a number (for example http://192.168.1.20:8080/v1)."
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "The server address must start with http:// or https:// (for example http://192.168.1.20:8080/v1)."
    if parts.username or parts.password:
        return "Do not put a password in the server address; type the key in the Key box instead."
    return None


def hub_mirror_problem(url: str) -> str | None:
    """A plain sentence saying what is wrong with a download mirror's address, or None when usable."""
    example = "(for example https://hf-mirror.example.org)"
    try:
        parts = urlsplit(url.strip())
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        return f"The mirror address has a port that is not a number {example}."
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return f"The mirror address must start with https:// or http:// {example}."
    if parts.username or parts.password:
        return "Do not put a password in the mirror address; add a Hugging Face access token instead."
    if parts.query or parts.fragment:
        return f"The mirror address is only the server's address, without ? or # {example}."
    return None


def download_endpoint(chosen: str | None = None, *, settings: Settings | None = None) -> str | None:
    """Where to download models from: ``chosen`` (a command's --endpoint, an answer file's mirror)
    if given, else the mirror in the settings, else ``None`` (huggingface_hub's default:
    ``HF_ENDPOINT``, else huggingface.co)."""
    if chosen:
        return chosen.strip().rstrip("/")
    mirror = (settings or load_settings().settings).hub_mirror
    return mirror.strip().rstrip("/") or None


# ---- the file -------------------------------------------------------------------------------

def settings_path() -> Path:
    return hearth_paths().config / SETTINGS_FILE


def _toml_string(value: str) -> str:
    import json  # only when saving

    return json.dumps(value, ensure_ascii=False)  # a JSON string is a valid TOML basic string


def render_settings(settings: Settings) -> str:
    """The settings as the TOML text Hearth writes (with a comment for each value)."""
    def number(value: int | None) -> str:
        return '"automatic"' if value is None else str(value)
    lines = [
        "# Hearth's settings. You may edit this file while Hearth is closed.",
        "# Keys and tokens are never stored here: they are in this computer's keyring.",
        f"schema_version = {SCHEMA_VERSION}",
        "",
        f"context_size = {number(settings.context_size)}  # \"automatic\" or a number of tokens",
        f"threads = {number(settings.threads)}  # \"automatic\" or a number",
        f"engine = {_toml_string(settings.engine)}  # \"local\" or \"remote\"",
        f"remote_url = {_toml_string(settings.remote_url)}",
        f"local_api = {'true' if settings.local_api else 'false'}",
        f"local_api_port = {settings.local_api_port}",
        f"theme = {_toml_string(settings.theme)}  # \"system\", \"light\" or \"dark\"",
        f"hub_mirror = {_toml_string(settings.hub_mirror)}  # download models from this mirror; \"\" = huggingface.co",
        "",
        "[profile_models]  # assistant = the installed model it uses",
    ]
    lines += [f"{_toml_string(k)} = {_toml_string(v)}" for k, v in settings.profile_models]
    return "\n".join(lines) + "\n"


def _from_document(document: Mapping[str, Any]) -> tuple[Settings, list[str]]:
    """Settings from a parsed file, keeping every good value; the problems in plain words."""
    values: dict[str, Any] = {}
    problems: list[str] = []
    known = {f.name for f in fields(Settings)}
    for key, value in document.items():
        if key == "schema_version":
            continue
        if key not in known:
            problems.append(f"“{key}” is not a setting Hearth knows (it was ignored)")
            continue
        if key in ("context_size", "threads") and value == "automatic":
            value = None
        elif key == "profile_models":
            value = tuple(sorted(value.items())) if isinstance(value, Mapping) else value
        values[key] = value
    while True:  # drop the unusable values until the rest make valid settings
        candidate = object.__new__(Settings)
        for item in fields(Settings):
            object.__setattr__(candidate, item.name, values.get(item.name, item.default))
        found = [(key, message) for key, message in _problems(candidate) if key in values]
        if not found:
            return Settings(**values), problems
        for key, message in found:
            values.pop(key, None)
            problems.append(f"{key}: {message}")


def load_settings(path: Path | None = None) -> LoadedSettings:
    """The saved settings, or the defaults. Never raises for the file's content.

    A file that is not TOML (or from a newer Hearth) is copied aside and the defaults are
    used; unusable values fall back to their defaults. Both set ``notice``.
    """
    path = Path(path) if path is not None else settings_path()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return LoadedSettings(Settings(), path)
    except (OSError, UnicodeDecodeError) as exc:
        return LoadedSettings(Settings(), path, HearthFileError(
            "Hearth could not read its settings file, so it is using the standard settings for now.",
            hint=f"Check that you may open {path}.", details=str(exc)))
    try:
        import tomllib  # here: a first run has no file to read

        document = tomllib.loads(text)
        version = document.get("schema_version", SCHEMA_VERSION)
        if not _whole_number(version) or version > SCHEMA_VERSION:
            raise ValueError(f"schema_version {version!r}")
    except ValueError as exc:
        backup = _keep_damaged_copy(path)
        where = f" A copy of the damaged file is at {backup}." if backup else ""
        log.warning("settings file %s damaged (%s); using defaults", path, exc)
        return LoadedSettings(Settings(), path, HearthFileError(
            "Hearth's settings file was damaged, so Hearth is using the standard settings." + where,
            hint="Check your settings again and save them.", details=str(exc)))
    settings, problems = _from_document(document)
    if not problems:
        return LoadedSettings(settings, path)
    log.warning("settings file %s: %s", path, "; ".join(problems))
    return LoadedSettings(settings, path, HearthValueError(
        "Some of Hearth's settings could not be used, so those are back to their standard values.",
        hint="Check your settings and save them again.", details="; ".join(problems)))


def _keep_damaged_copy(path: Path) -> Path | None:
    backup = path.with_name(f"{path.name}.damaged-{time.strftime('%Y%m%d-%H%M%S')}")
    try:
        shutil.copy2(path, backup)
    except OSError:
        return None
    return backup


def save_settings(settings: Settings, path: Path | None = None) -> Path:
    """Write ``settings`` atomically: the file is always the old or the new one, never half.

    Raises:
        HearthFileError: the file could not be written (the old one is untouched).
    """
    path = Path(path) if path is not None else settings_path()
    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with temp.open("w", encoding="utf-8", newline="\n") as handle:
            handle.write(render_settings(settings))
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
    except OSError as exc:
        if temp.is_file():
            temp.unlink()
        raise HearthFileError("Hearth could not save your settings.",
                              hint="Check that the disk is not full, then try again. Your earlier "
                                   "settings are still in force.", details=f"{path}: {exc}") from exc
    return path
