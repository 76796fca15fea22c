"""What can go wrong reading a GGUF header, each with a plain sentence for the person.

``GGUFNeedMoreBytes`` is not a damaged file: it says a *prefix* (the first bytes fetched
by an HTTP Range request) ended before the header did, and how many bytes to fetch.
Every other error here means the file itself is damaged or is not a model file.
"""

from __future__ import annotations

from wizard.errors import HearthError

DAMAGED = "This model file is damaged or is not a model file Hearth can use."
DAMAGED_HINT = "Download the model again, or choose a different model."


class GGUFError(HearthError, ValueError):
    """Base of every problem reading a GGUF model header."""

    default_hint = DAMAGED_HINT

    def __init__(self, user_message: str = DAMAGED, *, hint: str | None = None, details: str = "") -> None:
        super().__init__(user_message, hint=hint, details=details)


class GGUFNeedMoreBytes(GGUFError):
    """The bytes given are only the start of the file and the header goes on past them.

    ``needed`` is the smallest prefix length that could get the reader further; fetch at
    least that many bytes (doubling what you had is a good rule) and read again.
    """

    def __init__(self, *, needed: int, have: int, details: str = "") -> None:
        super().__init__(
            "Hearth needs more of the model file to read its description.",
            hint="Hearth will fetch more of the file and try again.",
            details=details or f"header continues past the {have} bytes given; need at least {needed}",
        )
        self.needed = needed
        self.have = have


class GGUFMalformedError(GGUFError):
    """The file is damaged: whatever the exact reason, llama.cpp must not see it."""


class GGUFBadMagicError(GGUFMalformedError):
    """The file does not start with the four letters GGUF."""

    def __init__(self, *, details: str = "") -> None:
        super().__init__(
            "This file is not a model file Hearth can use (it is not in the GGUF format).",
            hint="Choose a file whose name ends in .gguf, or let Hearth download a model for you.",
            details=details,
        )


class GGUFVersionError(GGUFMalformedError):
    """The GGUF version is not 2 or 3."""

    def __init__(self, *, details: str = "") -> None:
        super().__init__(
            "This model file uses a format version Hearth cannot read.",
            hint="Download a recent version of the model, or choose a different model.",
            details=details,
        )


class GGUFTruncatedError(GGUFMalformedError):
    """The file ends in the middle of its header (an incomplete download, usually)."""

    def __init__(self, *, details: str = "") -> None:
        super().__init__(
            "This model file is incomplete: it ends before its own description does.",
            hint="The download was probably interrupted. Download the model again.",
            details=details,
        )


class GGUFLengthError(GGUFMalformedError):
    """A count or length in the header is larger than the bytes left in the file."""


class GGUFMetadataError(GGUFMalformedError):
    """A metadata entry has an unknown type, an empty or repeated key, or a bad value."""


class GGUFTensorError(GGUFMalformedError):
    """A tensor description is impossible: bad shape, unknown type, or bad offset."""
