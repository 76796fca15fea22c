"""Logging to a rotating file in Hearth's log folder.

Tracebacks belong here, not on a person's screen. The file is capped (5 files of 1 MB)
so a long-running install never fills the disk with logs.

The window opens its log file only after it has been drawn (``logging.handlers`` and the
file cost ~10 ms before the first paint): :func:`hold_early_records` keeps what is logged
until then in memory, and :func:`setup_logging` writes it to the file first. Should the
file never be opened (a crash before the first paint), it is tried once more at exit.
"""

from __future__ import annotations

import atexit
import logging
from collections import deque
from pathlib import Path

LOG_FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"
MAX_BYTES = 1_000_000
BACKUP_COUNT = 4
EARLY_LIMIT = 5_000  # records held before the file is open; the oldest go first beyond that

_HANDLER_NAME = "hearth-file"


class _HeldRecords(logging.Handler):
    """Keeps the records logged before the log file is open (and, should it never open, is
    their quiet end instead of logging's last resort: sys.stderr may itself write to the log)."""

    def __init__(self) -> None:
        super().__init__()
        self.records: deque[logging.LogRecord] = deque(maxlen=EARLY_LIMIT)
        self.forward_to: logging.Handler | None = None  # the file, once open

    def emit(self, record: logging.LogRecord) -> None:
        if self.forward_to is not None:  # a thread that took the root's handlers before this one left
            self.forward_to.handle(record)
        else:
            self.records.append(record)

    def hand_over(self, handler: logging.Handler, level: int) -> None:
        """Give ``handler`` the records held so far (of ``level`` or above), then every later one."""
        with self.lock:  # a thread that logs meanwhile waits, so its record comes after these
            for record in self.records:
                if record.levelno >= level:
                    handler.handle(record)
            self.records.clear()
            self.forward_to = handler


_held: _HeldRecords | None = None


def hold_early_records(level: int = logging.INFO) -> None:
    """Keep log records in memory until :func:`setup_logging` opens the file (or the process ends)."""
    global _held
    if _held is not None:
        return
    _held = _HeldRecords()
    root = logging.getLogger()
    root.addHandler(_held)
    root.setLevel(level)
    atexit.register(_open_at_exit)


def _open_at_exit() -> None:
    if _held is not None:
        try:
            setup_logging(logging.getLogger().level)
        except OSError:
            pass  # nowhere to write: the records go with the process


def setup_logging(level: int = logging.INFO, *, log_file: Path | None = None) -> Path:
    """Send log records to a rotating file; return its path. Records held until now go in first.

    Safe to call more than once: an earlier Hearth file handler is replaced, so a
    changed ``HEARTH_HOME`` (tests, portable mode) moves the log with it.

    Raises:
        OSError: the log folder or file cannot be written (held records stay held).
    """
    global _held
    from logging.handlers import RotatingFileHandler

    from wizard.paths import hearth_paths

    path = log_file or hearth_paths().log_file
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = RotatingFileHandler(
        path, maxBytes=MAX_BYTES, backupCount=BACKUP_COUNT, encoding="utf-8"
    )
    handler.set_name(_HANDLER_NAME)
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    root = logging.getLogger()
    for old in list(root.handlers):
        if old.get_name() == _HANDLER_NAME:
            root.removeHandler(old)
            old.close()
    if _held is not None:
        root.removeHandler(_held)
        _held.hand_over(handler, level)
        _held = None
    root.addHandler(handler)
    root.setLevel(level)
    logging.captureWarnings(True)
    return path
