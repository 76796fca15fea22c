"""Turn the wizard's answers into a profile on disk (the recipe applied, plus the setup).

The profile files themselves are :mod:`wizard.profiles`' business (Qt-free, shared with
``hearth provision``); this only maps the wizard's answers onto them. Folders the person
did not allow are taken out of the recipe before it is planned, so the profile never
grants them; ``setup.json`` lists them so the profile reads back the same way.
"""

from __future__ import annotations

from pathlib import Path

from app.ui.setup.state import SetupAnswers
from wizard.profiles import narrow_recipe, read_setup, save_profile
from wizard.recipes.plan import RecipePlan, plan_recipe

__all__ = ["finish_setup", "narrow_recipe", "read_setup", "setup_plan"]


def setup_plan(answers: SetupAnswers) -> RecipePlan:
    """What finishing would change (nothing is written)."""
    return plan_recipe(narrow_recipe(answers.recipe.recipe, answers.folders_allowed))


def finish_setup(answers: SetupAnswers) -> Path:
    """Store the secrets, then write the profile (recipe and setup together); return its folder.

    Finishing is the person's agreement to the permissions the last page listed.

    Raises:
        NoSecureStorageError, SecretStorageError: a secret could not be kept (nothing else was written).
        HearthFileError: the profile could not be written (no half-made profile is left).
    """
    recipe = answers.recipe.recipe
    for name in recipe.secret_names:
        value = answers.secret_values.get(name, "")
        if answers.session_only_secrets:
            answers.session_secrets.set(recipe.id, name, value)
        else:
            from wizard.secrets import set_secret

            set_secret(recipe.id, name, value)
    model = answers.model
    # the plan the check measured on this computer; the estimate only if no check ran
    load_plan = answers.check_plan or model.plan.engine_plan()
    profile_dir = save_profile(
        setup_plan(answers), allow=True, person_name=answers.person_name, model_name=model.name,
        model_path=answers.model_path, model_repo=model.entry.repo if model.entry else None,
        model_file=model.entry.file if model.entry else None, load_plan=load_plan,
        extra={"folders_refused": sorted(path for path, ok in answers.folders_allowed.items() if not ok),
               "secrets_kept_for_session_only": answers.session_only_secrets and bool(recipe.secret_names),
               "checked_tokens_per_second": answers.check_tokens_per_second,
               "checked_peak_ram_bytes": answers.check_peak_ram_bytes})
    answers.profile_dir = profile_dir
    return profile_dir
