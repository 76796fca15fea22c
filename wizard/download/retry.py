"""How hard a download tries again, shared by the metadata requests and the transfer."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

StopCheck = Callable[[], "str | None"]  # returns "cancel", "pause" or None
RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try. ``attempts`` counts retries after failures in a row without any new byte
    (so up to ``attempts + 1`` tries)."""

    attempts: int = 8
    # A server not reached even once for this download (refused, no such name: a mistyped mirror
    # address, say) is given up on after this many retries, so 4 tries (~7 s of waits, not the
    # ~2 minutes of 8 retries).
    unreachable_attempts: int = 3
    backoff: float = 1.0  # first wait in seconds, doubled after each failure
    max_backoff: float = 30.0
    stall_timeout: float = 30.0  # no byte for this long = a stalled connection
    connect_timeout: float = 20.0

    def wait_after(self, failures: int) -> float:
        """Seconds to wait after the ``failures``-th failure in a row (1, 2, …)."""
        return min(self.max_backoff, self.backoff * 2 ** (failures - 1))


def never_stop() -> str | None:
    return None


def sleep_unless_stopped(seconds: float, should_stop: StopCheck) -> str | None:
    """Wait ``seconds`` unless stopped; return the stop reason, if any (checked every 50 ms)."""
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        if reason := should_stop():
            return reason
        time.sleep(min(0.05, left))
    return should_stop()
