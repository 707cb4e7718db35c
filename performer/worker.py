"""Slow work off the display thread: one chore at a time, on a thread of its own.

A command that writes a file (learn/save) or computes statistics (the probe) would
hold up the picture for as long as it takes. The display thread takes what the
chore needs (a copy, so the chore never races the show) and hands it over here.
A few chores may wait; past that a new one is refused in one line, so a flood of
commands from the network cannot grow the queue or delay the show.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)

WAITING = 4  # chores that may wait behind the one running


class Worker:
    """Runs chores in order on one thread, started with the first chore."""

    def __init__(self, name: str = "chores", waiting: int = WAITING):
        self.name = name
        self._queue: queue.Queue[tuple[str, Callable[[], None]] | None] = queue.Queue(waiting)
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self.refused = 0

    def run(self, what: str, chore: Callable[[], None]) -> bool:
        """Do ``chore`` on the worker's thread; False (said in one line) when too many wait."""
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name=self.name, daemon=True)
                self._thread.start()
        try:
            self._queue.put_nowait((what, chore))
        except queue.Full:
            self.refused += 1
            log.warning("busy: %s left undone (%d chores waiting)", what, self._queue.qsize())
            return False
        return True

    def stop(self, timeout: float = 10.0) -> None:
        """Finish the chores given so far, then end the thread (safe twice)."""
        with self._lock:
            thread, self._thread = self._thread, None
        if thread is None:
            return
        self._queue.put(None)  # blocks only while the queue is full: chores are short
        thread.join(timeout)

    def _loop(self) -> None:
        while (item := self._queue.get()) is not None:
            what, chore = item
            try:
                chore()
            except Exception:  # the show goes on; the chore's own report is the traceback
                log.exception("%s failed", what)
