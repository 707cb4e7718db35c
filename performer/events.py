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
"""

from __future__ import annotations

import heapq
import itertools
import math
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any


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
    source, the latest. Discrete ones (notes, commands, bundles) queue in time order
    and wait until they are due (an OSC bundle time-tagged in the future), up to a
    bound; past it new ones are dropped and counted.
    """

    def __init__(self, max_sources: int = 4096, max_discrete: int = 1024):
        self._lock = threading.Lock()
        self._latest: OrderedDict[str, Event] = OrderedDict()
        self._discrete: list[tuple[float, int, Event]] = []  # a heap by due time
        self._order = itertools.count()
        self._max_sources, self._max_discrete = max_sources, max_discrete
        self.dropped = 0

    def put(self, event: Event, coalesce: bool = True) -> None:
        with self._lock:
            if not coalesce:
                if len(self._discrete) >= self._max_discrete:
                    self.dropped += 1
                    return
                heapq.heappush(self._discrete, (event.time, next(self._order), event))
                return
            self._latest.pop(event.source, None)
            if len(self._latest) >= self._max_sources:
                self._latest.popitem(last=False)
                self.dropped += 1
            self._latest[event.source] = event

    def drain(self, now: float = math.inf) -> list[Event]:
        """Everything due by ``now`` since the last drain, in time order."""
        with self._lock:
            events = list(self._latest.values())
            self._latest.clear()
            while self._discrete and self._discrete[0][0] <= now:
                events.append(heapq.heappop(self._discrete)[2])
        events.sort(key=lambda e: e.time)
        return events
