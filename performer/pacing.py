"""The display's pace: one picture per slot of a fixed rate, and a stall noticed once.

A real display that misses a refresh just shows the next one: it never draws the
missed ones afterwards. Headless play keeps that rule. Slots sit at ``start + k / fps``;
a picture goes out in the first slot that is free when the loop comes round. The slots
that went by while the process could not run (SIGSTOP, a swapped-out VM, a debugger)
are skipped, not made up with a burst of draws 5 ms apart, and the slots start again
from the present: two pictures are never less than half a period apart. A gap of
``stall`` seconds or more between two pictures is logged once, with its length.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

log = logging.getLogger(__name__)

# A gap between pictures that a performer sees as the show stopping. Shorter hitches
# (a slow frame, a garbage collection) are the ordinary life of a loaded machine.
STALL_S = 0.5


class StallWatch:
    """Tells of a gap of ``stall`` seconds or more between two pictures, once per gap."""

    def __init__(self, stall: float = STALL_S):
        self.stall = stall
        self.stalls = 0
        self.longest = 0.0
        self._last: float | None = None

    def drawn(self, now: float) -> float:
        """A picture went out at ``now``; returns the gap before it when it was a stall
        (and logs it), else 0."""
        last, self._last = self._last, now
        if last is None or now - last < self.stall:
            return 0.0
        gap = now - last
        self.stalls += 1
        self.longest = max(self.longest, gap)
        log.warning("display stalled for %.1f s; resuming at the present", gap)
        return gap


class Pacer:
    """Slots at ``fps`` from ``start``: ``wait`` returns when the next free one has come."""

    def __init__(self, fps: float, start: float, stall: float = STALL_S):
        if not fps > 0:
            raise ValueError(f"fps must be positive, got {fps!r}")
        self.period = 1.0 / fps
        self.start = start
        self.watch = StallWatch(stall)
        self._slot = -1  # the last slot a picture went out in

    @property
    def next_at(self) -> float:
        """When the next free slot begins."""
        return self.start + (self._slot + 1) * self.period

    def due(self, now: float) -> float:
        """Seconds until the next free slot (0 or less: draw now)."""
        return self.next_at - now

    def wait(self, now: Callable[[], float], sleep: Callable[[float], None]) -> float:
        """Sleep until the next free slot; returns the time to draw at. After a stall the
        slots that went by are skipped: the picture goes out now, in the present slot."""
        while (left := self.due(now())) > 0:
            sleep(min(0.005, left))
        t = now()
        late = -self.due(t)
        slot = self._slot + 1
        if late > 0.5 * self.period:
            # late for its slot: the slots that went by are skipped, and the next ones
            # start again from now, so the next picture is a whole period away
            slot += round(late / self.period)
            self.start = t - slot * self.period
        self._slot = slot
        self.watch.drawn(t)
        return t
