"""Machine noise: a fixed CPU workload timed several times, and the load average."""

from __future__ import annotations

import hashlib
import os
import statistics
import time
from typing import Any


def _work() -> float:
    """A fixed mix of interpreter and C work; its duration in seconds."""
    started = time.perf_counter()
    total = 0
    for i in range(2_500_000):
        total += i * i % 7
    hashlib.sha256(b"x" * 64_000_000).digest()
    return time.perf_counter() - started


def calibrate(rounds: int = 7) -> dict[str, Any]:
    """Seconds of each round (after one warm-up), their coefficient of variation, load."""
    _work()
    times = [_work() for _ in range(rounds)]
    mean = statistics.mean(times)
    return {
        "rounds_s": [round(t, 4) for t in times],
        "cv_pct": round(100 * statistics.pstdev(times) / mean, 2) if mean else 0.0,
        "loadavg_1m": round(os.getloadavg()[0], 2),
    }


def wait_for_quiet(
    threshold_pct: float = 20.0, max_wait: float = 120.0, window: float = 0.5
) -> float:
    """Wait until other processes use under `threshold_pct` of one core; seconds waited.

    The machine may be shared (tests of other work running); a measured run started while
    it is busy measures the neighbours too. Gives up after `max_wait` seconds.
    """
    from bench.measure import machine_busy

    started = time.perf_counter()
    while True:
        before = machine_busy()
        time.sleep(window)
        busy_pct = 100 * (machine_busy() - before) / window
        waited = time.perf_counter() - started
        if busy_pct < threshold_pct or waited >= max_wait:
            return waited
