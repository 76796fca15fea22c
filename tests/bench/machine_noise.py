"""How much CPU other work on the machine took while a benchmark measured something.

On a shared 2-core machine one other busy process can halve a measured speed. Benchmarks
wrap each measurement in :class:`OtherWork` and print ``cores`` beside it, so a reader can
tell a slow side from a noisy moment.
"""

from __future__ import annotations

import time

import psutil


def _system_busy_seconds() -> float:
    times = psutil.cpu_times()
    busy = times.user + times.system
    for name in ("nice", "irq", "softirq", "steal"):  # guest time is already inside user
        busy += getattr(times, name, 0.0)
    return busy


def _own_seconds() -> float:
    """CPU seconds of this process and all its children (dead ones included), e.g. engine processes."""
    me = psutil.Process()
    total = 0.0
    times = me.cpu_times()
    total += times.user + times.system + times.children_user + times.children_system
    for child in me.children(recursive=True):
        try:
            times = child.cpu_times()
        except psutil.Error:
            continue
        total += times.user + times.system
    return total


class OtherWork:
    """Context manager; afterwards ``cores`` is the average number of cores used by everything
    outside this process tree during the block (0.0 on a quiet machine)."""

    def __init__(self) -> None:
        self.cores = 0.0

    def __enter__(self) -> OtherWork:
        self._start = (time.monotonic(), _system_busy_seconds(), _own_seconds())
        return self

    def __exit__(self, *exc_info: object) -> None:
        began, busy, own = self._start
        wall = time.monotonic() - began
        if wall > 0:
            others = (_system_busy_seconds() - busy) - (_own_seconds() - own)
            self.cores = max(0.0, others / wall)
