"""Events: everything that happens to a performance, timestamped on its clock.

Inputs (OSC, MIDI, audio analysis, keys) only create events and put them in an
:class:`Inbox`; the frame loop drains it once per frame. Sources are named
``kind:detail`` strings, the same names patches use to map them:

=========================  =====================================================
``midi:cc:<ch>:<n>``       control change, channel 1–16; ``value`` 0..1 (7- or
                           14-bit), ``raw`` the integer as sent (for relative knobs)
``midi:nrpn:<ch>:<n>``     NRPN parameter; ``value`` 0..1, ``raw`` 0..16383
``midi:bend:<ch>``         pitch bend; ``value`` 0..1 (0.5 = centre)
``midi:note:<ch>:<n>``     note; ``value`` velocity 0..1 (0 = note off)
``midi:program:<ch>``      program change; ``raw`` the program number
``osc:<address>``          any OSC address that is not ``/performer/...``
``param:<name>``           a direct parameter set (``/performer/<name>``, a key)
``audio:<feature>``        audio analysis (``audio:low``, ``audio:onset`` ...)
=========================  =====================================================

The inbox has four bounded parts, so no kind of input can crowd out another:
continuous sources (latest value per source), commands (``command=True``: scene, learn,
record, tap, probe, key presses), other discrete events due now (notes, immediate
bundles) and scheduled events (OSC bundles time-tagged ahead). A flood of bundles,
immediate or future-dated, fills only its own part; commands always find room in
theirs, and the frame loop empties it at every tick. Everything drains together, in
time order. Drops are counted by part and logged at most once a second per part, with
how many lines were left out.
"""

from __future__ import annotations

import bisect
import heapq
import itertools
import logging
import math
import threading
import time
from collections import Counter, OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from performer.control.throttle import Throttle

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Event:
    time: float  # performance clock, seconds
    source: str  # see the table above
    value: Any  # normalised number, text, or a tuple for several values
    raw: int | None = None  # the integer a MIDI device sent, when there is one
    origin: str = ""  # who sent it ("udp:127.0.0.1:9001"): feedback skips the sender


class Inbox:
    """A bounded, thread-safe mailbox between input threads and the frame loop.

    Continuous sources coalesce: a flood of 10,000 fader moves leaves one event per
    source, the latest. Commands (``command=True``) queue in time order apart, up to
    ``max_commands``: nothing else goes there, so ten thousand bundles a second cannot
    keep out a record/stop. Other discrete ones (notes, immediate bundles) queue in time
    order, up to ``max_discrete``. Scheduled ones (``scheduled=True``: a bundle
    time-tagged in the future) wait apart, up to ``max_scheduled``; when that part is
    full, the one due last gives way to one due sooner (a flood of far-off bundles
    cannot keep out the performer's next cue). Past a bound, events are dropped and
    counted in :attr:`drops` by part.
    """

    def __init__(
        self,
        max_sources: int = 4096,
        max_discrete: int = 1024,
        max_scheduled: int = 256,
        max_commands: int = 64,  # a frame's worth of presses and cues, many times over
        clock: Callable[[], float] = time.monotonic,  # for the once-a-second drop lines
    ):
        self._lock = threading.Lock()
        self._latest: OrderedDict[str, Event] = OrderedDict()
        self._discrete: list[tuple[float, int, Event]] = []  # a heap by due time
        self._scheduled: list[tuple[float, int, Event]] = []  # sorted by due time
        self._commands: list[tuple[float, int, Event]] = []  # a heap by due time
        self._order = itertools.count()
        self._max_sources, self._max_discrete = max_sources, max_discrete
        self._max_scheduled, self._max_commands = max_scheduled, max_commands
        # "continuous", "discrete", "scheduled", "command"
        self.drops: Counter[str] = Counter()
        self._throttle = Throttle(1.0, max_keys=8, clock=clock)

    @property
    def dropped(self) -> int:
        """Events dropped so far, all parts together."""
        return sum(self.drops.values())

    def pending(self) -> int:
        """Events waiting, all parts together (not ``__len__``: an empty inbox is still
        an inbox, and ``inbox or Inbox()`` must not replace it)."""
        with self._lock:
            parts = (self._latest, self._discrete, self._scheduled, self._commands)
            return sum(len(part) for part in parts)

    def put(
        self,
        event: Event,
        coalesce: bool = True,
        *,
        scheduled: bool = False,
        command: bool = False,
    ) -> None:
        """Store ``event``: ``command=True`` for a command (never coalesced, its own
        part), ``scheduled=True`` for a bundle due later, ``coalesce=False`` for a note
        or an immediate bundle; by default the latest value per source is kept."""
        with self._lock:
            dropped = self._put(event, coalesce, scheduled, command)
        if dropped:  # logged outside the lock: a slow log handler never holds up a reader
            skipped = self._throttle.allow(dropped)
            if skipped is not None:
                log.warning(
                    "inbox full: dropped a %s event (%s; %d %s dropped so far%s)",
                    dropped,
                    event.source[:80],
                    self.drops[dropped],
                    dropped,
                    f", {skipped} more lines left out" if skipped else "",
                )

    def _put(self, event: Event, coalesce: bool, scheduled: bool, command: bool) -> str:
        """Store ``event``; returns the part that dropped one, or ''."""
        if command:
            return self._push(self._commands, self._max_commands, "command", event)
        if scheduled:
            dropped = ""
            if len(self._scheduled) >= self._max_scheduled:
                self.drops["scheduled"] += 1
                if event.time >= self._scheduled[-1][0]:
                    return "scheduled"
                self._scheduled.pop()  # the one due last gives way
                dropped = "scheduled"
            entry = (event.time, next(self._order), event)
            bisect.insort(self._scheduled, entry, key=lambda e: (e[0], e[1]))
            return dropped
        if not coalesce:
            return self._push(self._discrete, self._max_discrete, "discrete", event)
        self._latest.pop(event.source, None)
        self._latest[event.source] = event
        if len(self._latest) > self._max_sources:
            self._latest.popitem(last=False)
            self.drops["continuous"] += 1
            return "continuous"
        return ""

    def _push(
        self, heap: list[tuple[float, int, Event]], bound: int, part: str, event: Event
    ) -> str:
        """Onto a time-ordered part, unless it is full (then counted); the part or ''."""
        if len(heap) >= bound:
            self.drops[part] += 1
            return part
        heapq.heappush(heap, (event.time, next(self._order), event))
        return ""

    def drain(self, now: float = math.inf) -> list[Event]:
        """Everything due by ``now`` since the last drain, in time order (arrival order
        among the same time, whichever part they waited in)."""
        with self._lock:
            entries = [(event.time, -1, event) for event in self._latest.values()]
            self._latest.clear()
            for heap in (self._discrete, self._commands):
                while heap and heap[0][0] <= now:
                    entries.append(heapq.heappop(heap))
            due = bisect.bisect_right(self._scheduled, now, key=lambda e: e[0])
            entries += self._scheduled[:due]
            del self._scheduled[:due]
        entries.sort(key=lambda e: (e[0], e[1]))
        return [entry[2] for entry in entries]
