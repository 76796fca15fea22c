"""Progress of a download as plain events, throttled so a window is not flooded.

The same :class:`DownloadProgress` events drive the GUI's progress bar and the
command line's. A reporter sends at most ``max_per_second`` "downloading" events, but
every change of state (waiting -> downloading -> verifying -> done …) goes out at once.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

State = Literal["waiting", "downloading", "verifying", "paused", "done", "failed"]
ProgressCallback = Callable[["DownloadProgress"], None]

SPEED_TIME_CONSTANT = 3.0  # seconds: how quickly the shown speed follows a change


@dataclass(frozen=True)
class DownloadProgress:
    """One snapshot of a download, for people.

    ``speed`` is smoothed bytes per second (0 until known); ``eta`` is seconds left, or
    ``None`` while unknown.
    """

    state: State
    bytes_done: int
    bytes_total: int
    speed: float = 0.0
    eta: float | None = None
    message: str = ""

    @property
    def fraction(self) -> float:
        return self.bytes_done / self.bytes_total if self.bytes_total else 0.0


class ProgressReporter:
    """Turns byte counts into throttled :class:`DownloadProgress` events.

    Args:
        callback: receives the events; ``None`` discards them.
        total: the file's size in bytes.
        max_per_second: cap on "same state" events.
        clock: ``time.monotonic`` unless a test needs another.
    """

    def __init__(self, callback: ProgressCallback | None, total: int, *, max_per_second: float = 10.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._callback = callback
        self.total = total
        self._interval = 1.0 / max_per_second
        self._clock = clock
        self._state: State | None = None
        self._message = ""
        self._last_sent = -math.inf
        self._speed = 0.0
        self._sample_time: float | None = None
        self._sample_bytes = 0
        self.done = 0
        self.last: DownloadProgress | None = None

    def start_counting(self, done: int) -> None:
        """Restart the speed measurement from ``done`` bytes (after a pause or a retry wait)."""
        self.done = done
        self._sample_time, self._sample_bytes = self._clock(), done

    def _measure(self, now: float) -> None:
        if self._sample_time is None:
            self.start_counting(self.done)
            return
        elapsed = now - self._sample_time
        if elapsed < 0.2:
            return
        rate = (self.done - self._sample_bytes) / elapsed
        weight = 1.0 - math.exp(-elapsed / SPEED_TIME_CONSTANT)
        self._speed = rate if self._speed == 0.0 else self._speed + weight * (rate - self._speed)
        self._sample_time, self._sample_bytes = now, self.done

    def bytes(self, done: int) -> None:
        """Record ``done`` bytes fetched so far; send a "downloading" event if one is due."""
        self.done = done
        now = self._clock()
        self._measure(now)
        if self._state == "downloading" and now - self._last_sent < self._interval:
            return
        self._send("downloading", self._message if self._state == "downloading" else "", now)

    def bytes_checked(self, done: int) -> None:
        """Record ``done`` bytes hashed (local check); a throttled "verifying" event."""
        self.done = done
        now = self._clock()
        if now - self._last_sent >= self._interval:
            self._send("verifying", self._message if self._state == "verifying" else "", now)

    def state(self, state: State, message: str = "", *, done: int | None = None) -> None:
        """Send a state change (never throttled)."""
        if done is not None:
            self.done = done
        self._send(state, message, self._clock())

    def _send(self, state: State, message: str, now: float) -> None:
        self._state, self._last_sent, self._message = state, now, message
        speed = self._speed if state == "downloading" else 0.0
        remaining = max(0, self.total - self.done)
        eta = remaining / speed if speed > 0 else (0.0 if state == "done" else None)
        event = DownloadProgress(state, self.done, self.total, speed, eta, message)
        self.last = event
        if self._callback is not None:
            self._callback(event)
