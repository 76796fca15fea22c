"""Running a profile's model: the engine with its load plan, and the chat settings of its recipe."""

from __future__ import annotations

from dataclasses import replace

from wizard.engine.plan import GenerationParams, LoadPlan
from wizard.profiles.errors import ProfileModelMissingError
from wizard.profiles.store import Profile


def engine_for(profile: Profile, *, n_ctx: int | None = None, n_threads: int | None = None):  # -> LocalEngine
    """A not started :class:`wizard.engine.LocalEngine` for the profile's model and load plan.

    ``n_ctx`` / ``n_threads`` override the plan's values.

    Raises:
        ProfileModelMissingError: the profile has no model file, or the file is gone.
    """
    from wizard.engine.process import LocalEngine

    if profile.model_path is None:
        raise ProfileModelMissingError(f"The assistant \"{profile.name}\" has no model yet.")
    if not profile.model_path.is_file():
        raise ProfileModelMissingError(
            f"The model file of \"{profile.name}\" is not where it was: {profile.model_path}",
            hint="If it was moved or deleted, set a model again in the setup window.",
            details=str(profile.model_path))
    plan = profile.load_plan or LoadPlan(n_ctx=max(2048, profile.recipe.model.min_context),
                                         n_threads=_threads())
    changes = {}
    if n_ctx is not None:
        changes["n_ctx"] = n_ctx
    if n_threads is not None:
        changes["n_threads"] = n_threads
    return LocalEngine(profile.model_path, replace(plan, **changes) if changes else plan)


def chat_settings(profile: Profile) -> tuple[str, GenerationParams]:
    """The system prompt (the recipe's persona) and the sampling settings of the recipe."""
    s = profile.recipe.sampling
    params = GenerationParams(temperature=s.temperature, top_p=s.top_p, top_k=s.top_k,
                              min_p=s.min_p, repeat_penalty=s.repeat_penalty,
                              max_tokens=s.max_tokens)
    return profile.recipe.persona.system_prompt, params


def _threads() -> int:
    import psutil

    return max(1, psutil.cpu_count(logical=False) or psutil.cpu_count() or 2)
