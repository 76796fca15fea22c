"""Logging to a rotating file in Hearth's log folder.

Tracebacks belong here, not on a person's screen. The file is capped (5 files of 1 MB)
so a long-running install never fills the disk with logs.
"""

from __future__ import annotations

import logging
import logging.handlers
from pathlib import Path

from wizard.paths import hearth_paths

LOG_FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"
MAX_BYTES = 1_000_000
BACKUP_COUNT = 4

_HANDLER_NAME = "hearth-file"


def setup_logging(level: int = logging.INFO, *, log_file: Path | None = None) -> Path:
    """Send log records to a rotating file; return its path.

    Safe to call more than once: an earlier Hearth file handler is replaced, so a
    changed ``HEARTH_HOME`` (tests, portable mode) moves the log with it.
    """
    path = log_file or hearth_paths().log_file
    path.parent.mkdir(parents=True, exist_ok=True)
    root = logging.getLogger()
    for handler in list(root.handlers):
        if handler.get_name() == _HANDLER_NAME:
            root.removeHandler(handler)
            handler.close()
    handler = logging.handlers.RotatingFileHandler(
        path, maxBytes=MAX_BYTES, backupCount=BACKUP_COUNT, encoding="utf-8"
    )
    handler.set_name(_HANDLER_NAME)
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    root.addHandler(handler)
    root.setLevel(level)
    logging.captureWarnings(True)
    return path
