"""Frame timing the benches share: seconds per call, a percentile, and the tiny-model
benches' options and summary (the median over runs of each run's median and p99).

Imported as ``bench.frame_times`` (tests) or ``frame_times`` (a bench run as a script,
with bench/ on the path).
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np


def timed(
    call: Callable[[], Any], frames: int, sync: Callable[[], None] = lambda: None
) -> list[float]:
    """Seconds per call, each measured to its result being ready (on the host, or synced)."""
    out = []
    for _ in range(frames):
        start = time.perf_counter()
        call()
        sync()
        out.append(time.perf_counter() - start)
    return out


def percentile(values: list[float], q: float) -> float:
    """The value at share ``q`` of the sorted values (the nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def tiny_options(description: str) -> argparse.Namespace:
    """``--frames``, ``--runs``, ``--threads`` and ``--compile`` of a tiny-model bench."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--frames", type=int, default=120)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--compile", default="", help="a compile mode (e.g. eager)")
    return parser.parse_args()


def summary(run: Callable[[], list[float]], runs: int) -> tuple[float, float]:
    """The median over ``runs`` calls of ``run`` (seconds per frame) of each one's median
    and of each one's p99, in ms."""
    medians, p99s = [], []
    for _ in range(runs):
        t = np.array(run()) * 1000
        medians.append(float(np.median(t)))
        p99s.append(float(np.percentile(t, 99)))
    return statistics.median(medians), statistics.median(p99s)
