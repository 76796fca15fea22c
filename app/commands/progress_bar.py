"""A one-line terminal progress bar fed by :class:`wizard.download.DownloadProgress` events.

On a terminal the line is redrawn in place (``\\r``); when output goes to a file or a
pipe only state changes and a line every few seconds are written, so logs stay short.
"""

from __future__ import annotations

import shutil
import sys
import time
from typing import TextIO

from wizard.download.progress import DownloadProgress

_UNITS = ("B", "kB", "MB", "GB", "TB")
PIPE_INTERVAL = 5.0


def human_bytes(size: float) -> str:
    """``123456789`` -> ``"123.5 MB"`` (powers of 1000, as file managers show)."""
    value, unit = float(size), _UNITS[0]
    for unit in _UNITS:
        if abs(value) < 1000 or unit == _UNITS[-1]:
            break
        value /= 1000
    return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"


def human_duration(seconds: float | None) -> str:
    if seconds is None:
        return "--:--"
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"


_LABELS = {"waiting": "Waiting", "downloading": "Downloading", "verifying": "Checking",
           "paused": "Paused", "done": "Done", "failed": "Failed"}


def render(event: DownloadProgress, width: int = 80) -> str:
    """The bar as text, at most ``width`` characters."""
    label = _LABELS[event.state]
    if event.bytes_total:
        figures = f"{human_bytes(event.bytes_done)} / {human_bytes(event.bytes_total)}"
    else:
        figures = human_bytes(event.bytes_done)
    if event.state == "downloading":
        figures += f"  {human_bytes(event.speed)}/s  ETA {human_duration(event.eta)}"
    elif event.message:
        figures += f"  {event.message}"
    bar_width = max(10, min(40, width - len(label) - len(figures) - 10))
    filled = int(bar_width * min(1.0, event.fraction))
    line = f"{label:<11} [{'#' * filled}{'.' * (bar_width - filled)}] {event.fraction:4.0%}  {figures}"
    return line[:width]


class TerminalProgressBar:
    """Callable that draws events on ``stream`` (stderr by default)."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        self.interactive = bool(getattr(self.stream, "isatty", lambda: False)())
        self._last_state: str | None = None
        self._last_line_time = 0.0
        self._open_line = False

    def __call__(self, event: DownloadProgress) -> None:
        if self.stream is None:
            return
        now = time.monotonic()
        changed = event.state != self._last_state
        self._last_state = event.state
        if self.interactive:
            width = shutil.get_terminal_size((80, 20)).columns - 1
            self.stream.write("\r" + render(event, width).ljust(width))
            self._open_line = True
            if event.state in ("done", "failed", "paused"):
                self.stream.write("\n")
                self._open_line = False
        elif changed or now - self._last_line_time >= PIPE_INTERVAL:
            self.stream.write(render(event, 120).rstrip() + "\n")
            self._last_line_time = now
        self.stream.flush()

    def finish(self) -> None:
        """End an open line (e.g. before printing an error)."""
        if self._open_line:
            self.stream.write("\n")
            self.stream.flush()
            self._open_line = False
