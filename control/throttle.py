"""One log line per kind of problem per interval, however often the problem comes.

A show's inputs come from the network and from patches: a bad value can arrive at
every tick, from any number of senders. Keyed by the *kind* of problem (not by who
sent it, which a sender can vary at will), the log stays readable and the next line
says how many were left out.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter, OrderedDict
from collections.abc import Callable
from typing import Any


class Throttle:
    """At most one line per key per ``interval`` seconds; keys are bounded (oldest go)."""

    def __init__(
        self,
        interval: float = 1.0,
        max_keys: int = 256,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.interval, self.max_keys, self.clock = interval, max_keys, clock
        self._lock = threading.Lock()
        self._last: OrderedDict[str, tuple[float, int]] = OrderedDict()  # key -> (when, left out)

    def allow(self, key: str) -> int | None:
        """How many lines of ``key`` were left out since the last one, if one may be
        written now; None when this one is to be left out."""
        now = self.clock()
        with self._lock:
            last = self._last.get(key)
            if last is not None and 0.0 <= now - last[0] < self.interval:
                self._last[key] = (last[0], last[1] + 1)
                return None
            self._last[key] = (now, 0)
            self._last.move_to_end(key)
            if len(self._last) > self.max_keys:
                self._last.popitem(last=False)
            return 0 if last is None else last[1]

    def log(
        self,
        logger: logging.Logger,
        level: int,
        key: str,
        message: str,
        *args: Any,
        exc_info: bool = False,
    ) -> bool:
        """Write ``message % args`` unless ``key`` was written less than ``interval`` ago;
        returns whether it was written."""
        skipped = self.allow(key)
        if skipped is None:
            return False
        if skipped:
            message += " (%d more like it left out)"
            args = (*args, skipped)
        logger.log(level, message, *args, exc_info=exc_info)
        return True


class RateLog:
    """A :class:`Throttle` bound to one logger, counting each kind: ``log(kind, message,
    *args)`` writes at most one line a second per kind, ending with how many so far."""

    def __init__(self, logger: logging.Logger, interval: float = 1.0, max_kinds: int = 256):
        self.logger = logger
        self.counts: Counter[str] = Counter()
        self._throttle = Throttle(interval, max_keys=max_kinds)

    def __call__(
        self, kind: str, message: str, *args: object, level: int = logging.WARNING
    ) -> bool:
        """Count one ``kind``; log it unless it was logged within the interval."""
        self.counts[kind] += 1  # a lost increment under a race only miscounts a log line
        if self._throttle.allow(kind) is None:
            return False
        self.logger.log(level, message + " (%d so far)", *args, self.counts[kind])
        return True
