"""One error hierarchy for everything Hearth can tell a person went wrong.

Every error carries two sentences written for someone who has never seen a terminal:
``user_message`` (what happened) and ``hint`` (what to do about it). Technical detail
goes in ``details`` and in the log file, never in the main message.

Subclasses also inherit the matching builtin (``OSError``, ``ValueError`` …) so code
that catches builtins keeps working, as huggingface_hub does with its own errors.
"""

from __future__ import annotations


class HearthError(Exception):
    """Base of every error Hearth shows to a person.

    Args:
        user_message: one or two plain sentences saying what happened.
        hint: what the person can do next; empty when there is nothing to do.
        details: technical detail for the "Details" expander and the log.
    """

    default_hint = "If this keeps happening, the log file has the details."

    def __init__(self, user_message: str, *, hint: str | None = None, details: str = "") -> None:
        super().__init__(user_message)
        self.user_message = user_message
        self.hint = self.default_hint if hint is None else hint
        self.details = details

    def for_terminal(self) -> str:
        """The message and hint as the command line prints them."""
        lines = [f"Error: {self.user_message}"]
        if self.hint:
            lines.append(self.hint)
        return "\n".join(lines)


class StoppedByPerson(HearthError):
    """Base of the errors that only say the person stopped the work (Cancel, Pause, Back): an
    outcome to show, not a failure to log with a traceback."""


class HearthFileError(HearthError, OSError):
    """A file or folder could not be read, written or found."""

    default_hint = "Check that the file is still there and that you may open it."

    def __init__(self, user_message: str, *, hint: str | None = None, details: str = "") -> None:
        HearthError.__init__(self, user_message, hint=hint, details=details)


class HearthValueError(HearthError, ValueError):
    """Something the person or a file gave us does not make sense."""


class HearthNetworkError(HearthError, ConnectionError):
    """A server could not be reached or stopped answering."""

    default_hint = "Check your internet connection and try again; nothing was lost."
