"""What can go wrong with a profile (a configured assistant), in plain words."""

from __future__ import annotations

from wizard.errors import HearthError


class ProfileNotFoundError(HearthError, LookupError):
    """No profile has that name (or that folder holds no profile)."""

    default_hint = "Run `hearth profile list` to see the assistants set up on this computer."


class ProfileDamagedError(HearthError, ValueError):
    """A file of the profile is missing or broken; the message says which."""

    default_hint = ("Set the assistant up again (the setup window, `hearth recipe apply` or "
                    "`hearth provision`); your conversations are kept.")

    def __init__(self, user_message: str, *, file: str = "", hint: str | None = None,
                 details: str = "") -> None:
        super().__init__(user_message, hint=hint, details=details)
        self.file = file


class ProfileModelMissingError(HearthError, FileNotFoundError):
    """The profile has no model file yet, or the file is gone."""

    default_hint = ("Choose a model again in the setup window, or run `hearth chat --model "
                    "FILE.gguf` with a model file you have.")

    def __init__(self, user_message: str, *, hint: str | None = None, details: str = "") -> None:
        HearthError.__init__(self, user_message, hint=hint, details=details)
