"""The check a model file must pass before llama.cpp is allowed to open it.

:func:`validate_model_file` runs the bounded, validating header reader (``wizard.gguf``) over
the whole header: magic, version, every count and length against the bytes left, tensor
shapes, types and offsets. llama.cpp's own loader has had overflows on malformed headers
(CVE-2024-21802 and others), so a file that fails here never reaches it.
"""

from __future__ import annotations

from pathlib import Path

from wizard.engine.errors import ModelFileError
from wizard.errors import HearthFileError
from wizard.gguf import GGUFError, GGUFHeader, read_gguf_header


def validate_model_file(path: Path) -> GGUFHeader:
    """Refuse a file llama.cpp should not be given; return its header when it is sound.

    Raises:
        ModelFileError: the file is missing, unreadable, not GGUF, of an unknown GGUF version,
            or its header is damaged or truncated.
    """
    path = Path(path)
    try:
        return read_gguf_header(path)
    except GGUFError as exc:
        raise ModelFileError(exc.user_message, hint=exc.hint, details=f"{path}: {exc.details}") from exc
    except HearthFileError as exc:
        if isinstance(exc.__cause__, FileNotFoundError):
            raise ModelFileError("The model file is not there any more.", details=exc.details) from exc
        raise ModelFileError("Hearth could not read the model file.", details=exc.details) from exc
