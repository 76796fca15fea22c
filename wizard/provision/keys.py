"""What provisioning sets up besides the profile: integration secrets, and the local API's switch and token.

Secrets come only from environment variables named in the answer file (``[secrets]``) and
go only to the keyring, under the recipe's id (the setup window keeps them the same way).
Secrets the answer file does not supply are named in the log: the person enters them in
Hearth later. ``local_api = true`` turns the local API on in Hearth's settings, the one
switch the engine and the Settings window follow, and makes sure its token is in the keyring.
"""

from __future__ import annotations

import os
from collections.abc import Callable

from wizard.errors import HearthError
from wizard.provision.answers import Answers
from wizard.provision.errors import ProvisionError
from wizard.recipes.schema import Recipe

Step = Callable[[str], None]
ENTER_LATER = "open Hearth and choose Set up again… to enter it"


def secrets_from_environment(recipe: Recipe, answers: Answers) -> dict[str, str]:
    """The values of the secrets the answer file supplies, read from their environment variables.

    Raises:
        ProvisionError: a secret the recipe does not ask for, or an environment variable that is not set.
    """
    values: dict[str, str] = {}
    for name, variable in answers.secrets:
        if name not in recipe.secret_names:
            asked = ", ".join(recipe.secret_names) or "none"
            raise ProvisionError(f"The answer file gives the secret \"{name}\", which the recipe \"{recipe.name}\" "
                                 "does not ask for.", hint=f"The secrets the recipe asks for: {asked}.")
        value = os.environ.get(variable, "")
        if not value:
            raise ProvisionError(f"The secret \"{name}\" should come from the environment variable {variable}, "
                                 "which is not set (or empty).",
                                 hint=f"Set {variable} before running hearth provision, or take the line out of "
                                      "[secrets] so the person enters it in Hearth.")
        values[name] = value
    return values


def secret_lines(recipe: Recipe, supplied: dict[str, str], answers: Answers) -> list[str]:
    """One plain line per secret the recipe needs: where it comes from, or that it must be entered later."""
    variables = dict(answers.secrets)
    lines = []
    for integration in recipe.integrations:
        for name in integration.secrets:
            if name in supplied:
                lines.append(f"Secret \"{name}\" for {integration.name}: from the environment variable "
                             f"{variables[name]}, to be kept in this computer's keyring")
            else:
                lines.append(f"Secret \"{name}\" for {integration.name}: not in the answer file, so it is not "
                             f"set up; until the person enters it ({ENTER_LATER}), {integration.name} "
                             "cannot be used")
    return lines


def store_secrets(recipe: Recipe, values: dict[str, str], step: Step) -> None:
    """Put the secrets in the keyring (never anywhere else).

    Raises:
        ProvisionError: there is no secure keyring, or it refused; say which secret.
    """
    from wizard.secrets import set_secret

    for name, value in values.items():
        try:
            set_secret(recipe.id, name, value)
        except HearthError as exc:
            raise ProvisionError(f"The secret \"{name}\" could not be kept: {exc.user_message}",
                                 hint="Start and unlock this computer's keyring (for example GNOME Keyring) and "
                                      "run hearth provision again, or take the secret out of [secrets].",
                                 details=exc.details) from exc
        step(f"Kept the secret \"{name}\" in this computer's keyring")


def ensure_local_api_token() -> None:
    """Make sure the local API has its token in the keyring (a new one is made if there is none).

    Raises:
        ProvisionError: no secure keyring: the local API could never be used, so nothing is set up.
    """
    from wizard.settings_secrets import local_api_token

    try:
        local_api_token()
    except HearthError as exc:
        raise ProvisionError("The local API cannot be turned on: its token must be kept in this computer's "
                             f"keyring, and {exc.user_message[0].lower() + exc.user_message[1:]}",
                             hint="Start and unlock the keyring (for example GNOME Keyring) and run hearth "
                                  "provision again, or write local_api = false.", details=exc.details) from exc


def local_api_change(answers: Answers, was_on_for_this_profile: bool):
    """The settings to save for the answer file's ``local_api``, or None when they stay as they are.

    On: turned on. Off: turned off only if these answers turned it on before (a person who
    turned it on in Settings keeps it).
    """
    from wizard.settings import load_settings

    settings = load_settings().settings
    if answers.local_api and not settings.local_api:
        return settings.changed(local_api=True)
    if not answers.local_api and was_on_for_this_profile and settings.local_api:
        return settings.changed(local_api=False)
    return None
