"""The shape every video source shares: a reading thread, the newest frame, reopening.

A backend overrides ``_open``, ``_read`` and ``_close`` (STYLE.md 3). ``start()`` opens
on the caller's thread, so a source that cannot open fails there with one line; then a
thread reads. When a read raises :class:`SourceLost` the last frame is held, one line is
logged, and the thread reopens with a growing, bounded pause until the source returns.
"""

from __future__ import annotations

import logging
import threading

import numpy as np
from performer.control.clock import Clock
from performer.control.video.frames import InputFrame, NewestFrame, SourceLost, VideoSourceError

log = logging.getLogger(__name__)

#: Pauses between reopening attempts: doubling from the first to the last, then steady.
RETRY_FIRST_S = 0.25
RETRY_MAX_S = 4.0
#: How long stop() waits for the thread (a backend's read gives up sooner than this).
JOIN_TIMEOUT_S = 5.0


class VideoSource:
    """A source of input frames on its own thread; ``latest()`` never blocks."""

    def __init__(self, name: str, clock: Clock) -> None:
        self.name = name
        self.clock = clock
        self.lost = False  # True while the source is gone and its last frame is held
        self._slot = NewestFrame()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._number = 0

    # -- the public side ---------------------------------------------------------
    def start(self) -> None:
        """Open the source (raises VideoSourceError) and start reading it."""
        if self._thread is not None:
            return
        self._open()
        self._stopping.clear()
        self._thread = threading.Thread(target=self._run, name=f"input {self.name}", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop reading and close; safe to call twice."""
        thread, self._thread = self._thread, None
        if thread is None:
            return
        self._stopping.set()
        thread.join(JOIN_TIMEOUT_S)
        if thread.is_alive():
            log.warning("input %s: its reader did not stop in %.0f s", self.name, JOIN_TIMEOUT_S)
        else:
            self._close()

    def latest(self) -> InputFrame | None:
        """The newest frame (held while the source is lost), or None before the first."""
        return self._slot.peek()

    @property
    def dropped(self) -> int:
        """Frames that arrived but were replaced before anyone took them."""
        return self._slot.dropped

    @property
    def delivered(self) -> int:
        return self._slot.delivered

    def __enter__(self) -> VideoSource:
        self.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()

    # -- what a backend overrides ------------------------------------------------
    def _open(self) -> None:
        raise NotImplementedError

    def _read(self) -> np.ndarray | InputFrame | None:
        """The next H×W×3 uint8 RGB picture, or None when none came in a short while.

        A picture is numbered and timed on arrival; a backend that knows better (a
        file on the clock) returns a whole InputFrame. Raises SourceLost when the
        source is gone; never blocks for more than a few seconds.
        """
        raise NotImplementedError

    def _close(self) -> None:
        raise NotImplementedError

    # -- the thread ----------------------------------------------------------------
    def _publish(self, picture: np.ndarray | InputFrame) -> None:
        if isinstance(picture, np.ndarray):
            picture = InputFrame(picture, self._number, self._number, self.clock.now())
        self._number = picture.number + 1
        self._slot.put(picture)

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                picture = self._read()
            except SourceLost as lost:
                self._hold_and_reopen(lost)
                continue
            if picture is not None:
                self._publish(picture)

    def _hold_and_reopen(self, lost: SourceLost) -> None:
        self.lost = True
        log.warning("input %s lost (%s); holding its last frame until it returns", self.name, lost)
        self._close()
        pause = RETRY_FIRST_S
        while not self._stopping.wait(pause):
            try:
                self._open()
            except VideoSourceError:
                pause = min(pause * 2, RETRY_MAX_S)
                continue
            self.lost = False
            log.warning("input %s is back", self.name)
            return
