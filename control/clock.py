"""The performance clock: seconds since the performance began, passed in, never global.

``MonotonicClock`` for live play, ``FakeClock`` for tests and offline rendering (it
only moves when told). The audio device's clock will be a third implementation.
"""

from __future__ import annotations

import time
from typing import Protocol


class Clock(Protocol):
    def now(self) -> float:
        """Seconds on the performance clock."""
        ...


class MonotonicClock:
    def __init__(self) -> None:
        self._start = time.perf_counter()

    def restart(self) -> None:
        """Back to 0: the performance starts now (after loading, not before it)."""
        self._start = time.perf_counter()

    def now(self) -> float:
        return time.perf_counter() - self._start


class FakeClock:
    """A clock that stands still until ``advance()`` or ``set()`` moves it."""

    def __init__(self, start: float = 0.0) -> None:
        self._now = start

    def now(self) -> float:
        return self._now

    def advance(self, seconds: float) -> float:
        if seconds < 0:
            raise ValueError(f"a clock cannot go back ({seconds} s)")
        self._now += seconds
        return self._now

    def set(self, seconds: float) -> None:
        self._now = seconds
