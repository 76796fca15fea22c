"""Running a profile's model: the engine its settings ask for, and the chat settings of its recipe.

:func:`engine_for` applies Hearth's settings (:mod:`wizard.settings`): the context size and
threads (automatic = the profile's load plan), the model chosen for this assistant, the
local API's fixed port and token, or another computer's AI server instead of a local model.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from wizard.engine.plan import GenerationParams, LoadPlan
from wizard.errors import HearthError
from wizard.profiles.errors import ProfileModelMissingError
from wizard.profiles.store import Profile

if TYPE_CHECKING:
    from wizard.engine.process import LocalEngine
    from wizard.engine.remote import RemoteEngine
    from wizard.settings import Settings

log = logging.getLogger(__name__)

PORT_BUSY_HINT = ("Close the other program, or choose another port in Hearth's settings "
                  "(Local API for other apps: Port).")


def engine_for(profile: Profile, *, settings: Settings | None = None, n_ctx: int | None = None,
               n_threads: int | None = None) -> LocalEngine | RemoteEngine:
    """A not started engine for the profile, as Hearth's settings say.

    ``settings`` default to the saved ones. ``n_ctx`` / ``n_threads`` (e.g. from the command
    line) win over the settings, which win over the profile's load plan.

    Returns a :class:`wizard.engine.RemoteEngine` when the settings say "another computer",
    else a :class:`wizard.engine.LocalEngine` (on the local API's port, with its token, when the
    local API is on; a free port and a fresh token otherwise).

    Raises:
        ProfileModelMissingError: local engine, and the profile has no model file or the file is gone.
        NoSecureStorageError, SecretStorageError: the local API is on and its token cannot be kept.
    """
    from wizard.engine.process import LocalEngine
    from wizard.engine.remote import RemoteEngine
    from wizard.settings import load_settings

    if settings is None:
        settings = load_settings().settings
    if settings.engine == "remote":
        plan = _plan(profile.load_plan or _automatic_plan(profile), settings, n_ctx, n_threads)
        return RemoteEngine(settings.remote_url, _remote_key(), plan=plan)
    model_path, chosen_plan = _model(profile, settings)
    if model_path is None:
        raise ProfileModelMissingError(f"The assistant \"{profile.name}\" has no model yet.")
    if not model_path.is_file():
        raise ProfileModelMissingError(
            f"The model file of \"{profile.name}\" is not where it was: {model_path}",
            hint="If it was moved or deleted, set a model again in the setup window.",
            details=str(model_path))
    plan = _plan(chosen_plan or profile.load_plan or _automatic_plan(profile), settings, n_ctx, n_threads)
    if not settings.local_api:
        return LocalEngine(model_path, plan)
    from wizard.settings_secrets import local_api_token

    return LocalEngine(model_path, plan, port=settings.local_api_port, token=local_api_token(),
                       port_busy_hint=PORT_BUSY_HINT)


def chat_settings(profile: Profile) -> tuple[str, GenerationParams]:
    """The system prompt (the recipe's persona) and the sampling settings of the recipe."""
    s = profile.recipe.sampling
    params = GenerationParams(temperature=s.temperature, top_p=s.top_p, top_k=s.top_k,
                              min_p=s.min_p, repeat_penalty=s.repeat_penalty,
                              max_tokens=s.max_tokens)
    return profile.recipe.persona.system_prompt, params


def _plan(plan: LoadPlan, settings: Settings, n_ctx: int | None, n_threads: int | None) -> LoadPlan:
    changes = {}
    context = n_ctx if n_ctx is not None else settings.context_size
    threads = n_threads if n_threads is not None else settings.threads
    if context is not None:
        changes["n_ctx"] = context
    if threads is not None:
        changes["n_threads"] = threads
    return replace(plan, **changes) if changes else plan


def _automatic_plan(profile: Profile) -> LoadPlan:
    return LoadPlan(n_ctx=max(2048, profile.recipe.model.min_context), n_threads=_threads())


def _model(profile: Profile, settings: Settings) -> tuple[Path | None, LoadPlan | None]:
    """The model file the settings choose for this profile (and its measured plan), else the profile's."""
    model_id = settings.model_for(profile.id)
    if model_id is None:
        return profile.model_path, None
    from wizard.models import ModelRegistry

    try:
        registry = ModelRegistry()
        installed = registry.get(model_id)
    except HearthError as exc:  # removed since, or the registry cannot be read: the profile's own model
        log.warning("model %r chosen for %s is not usable (%s); using the profile's", model_id, profile.id,
                    exc.user_message)
        return profile.model_path, None
    path = installed.file_in(registry.models_dir)
    if not path.is_file():
        log.warning("model %r chosen for %s is missing at %s; using the profile's", model_id, profile.id, path)
        return profile.model_path, None
    if profile.model_path is not None and path.resolve() == profile.model_path.resolve():
        return path, None  # the profile's own model: its own plan
    return path, _measured_plan(installed.fit)


def _measured_plan(fit: dict) -> LoadPlan | None:
    """The plan the check proved for this model (``store_verification``), if one passed."""
    figures = fit.get("plan") if isinstance(fit, dict) else None
    if not isinstance(figures, dict):
        return None
    try:
        return LoadPlan(**figures)
    except (TypeError, ValueError):
        return None


def _remote_key() -> str:
    from wizard.secrets import NoSecureStorageError, SecretStorageError
    from wizard.settings_secrets import remote_engine_key

    try:
        return remote_engine_key() or ""
    except (NoSecureStorageError, SecretStorageError) as exc:  # no key kept: servers without one still work
        log.warning("remote engine key unavailable: %s", exc)
        return ""


def _threads() -> int:
    import psutil

    return max(1, psutil.cpu_count(logical=False) or psutil.cpu_count() or 2)
