"""How many torch threads CPU work should use: one per core that other work leaves idle.

OpenMP threads spin while they wait for a descheduled sibling: on a 2-core machine shared with
other jobs, 2 threads trained 5x slower than 1, while on an idle machine 2 threads prefill about
1.7x faster than 1 (benchmarks/RESULTS.md).
"""

from __future__ import annotations

import os
import time
from pathlib import Path


def usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def idle_cores(interval_s: float = 0.3) -> float | None:
    """How many cores other work leaves idle, from /proc/stat over a short wait (None off Linux)."""

    def sample() -> tuple[int, int]:
        values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
        return sum(values), values[3] + values[4]  # all time, idle + iowait

    try:
        total_before, idle_before = sample()
        time.sleep(interval_s)
        total_after, idle_after = sample()
    except (OSError, ValueError, IndexError):
        return None
    if total_after <= total_before:
        return None
    return (os.cpu_count() or 1) * (idle_after - idle_before) / (total_after - total_before)


def cpu_threads(requested: int | None) -> int:
    """As asked, else one per idle usable core (at least one)."""
    if requested:
        return requested
    cores = usable_cores()
    idle = idle_cores()
    return cores if idle is None else max(1, min(cores, round(idle)))
