"""One log line per kind of problem per second, with a count: floods never flood the log.

The key is the kind of problem, never the sender, so fresh source ports or addresses
cannot defeat the limit; the number of kinds is fixed by the code that logs them.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import Counter


class RateLog:
    """``log(kind, message, *args)`` logs at most once per ``interval`` for each kind.

    Each line ends with how many times that kind happened so far, so the lines that were
    held back are still counted.
    """

    def __init__(self, logger: logging.Logger, interval: float = 1.0, max_kinds: int = 256):
        self.logger, self.interval, self.max_kinds = logger, interval, max_kinds
        self.counts: Counter[str] = Counter()
        self._last: dict[str, float] = {}
        self._lock = threading.Lock()

    def __call__(
        self, kind: str, message: str, *args: object, level: int = logging.WARNING
    ) -> bool:
        """Count one ``kind``; log it unless it was logged within the interval."""
        now = time.monotonic()
        with self._lock:
            self.counts[kind] += 1
            count = self.counts[kind]
            if now - self._last.get(kind, -math.inf) < self.interval:
                return False
            if len(self._last) >= self.max_kinds:  # kinds come from code, but stay bounded
                self._last.clear()
            self._last[kind] = now
        self.logger.log(level, message + " (%d so far)", *args, count)
        return True
