"""The shape every video sink shares: a send thread fed one newest frame at a time.

``send()`` only swaps the frame into a one-slot handoff and returns; the thread writes
it out. A backend overrides ``_open(width, height)``, ``_send(frame)`` and ``_close``.
A sink that fails mid-show is reported in one line at most every ``REPORT_EVERY_S``,
is reopened on a later frame, and the show goes on.
"""

from __future__ import annotations

import logging
import threading
import time

import numpy as np

log = logging.getLogger(__name__)

REPORT_EVERY_S = 10.0
REOPEN_AFTER_S = 1.0
JOIN_TIMEOUT_S = 5.0


class VideoSinkError(Exception):
    """A sink cannot be opened or named: one line that says what and why."""


class VideoSink:
    def __init__(self, name: str, fps: float = 30.0) -> None:
        self.name = name
        self.fps = fps
        self.sent = 0
        self.dropped = 0  # frames replaced before the thread could send them
        self.failures = 0
        self._wake = threading.Condition()
        self._frame: np.ndarray | None = None
        self._stopping = False
        self._thread: threading.Thread | None = None
        self._size: tuple[int, int] | None = None
        self._failed_at = -float("inf")
        self._reported_at = -float("inf")
        self._unreported = 0

    def start(self, width: int, height: int) -> None:
        """Open for ``width`` × ``height`` frames (raises VideoSinkError) and start sending."""
        if self._thread is not None:
            return
        self._open(width, height)
        self._size = (width, height)
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name=f"output {self.name}", daemon=True)
        self._thread.start()

    def send(self, frame: np.ndarray, now: float) -> None:
        """Hand over an H×W×3 uint8 RGB frame; returns at once. ``now`` is for the log."""
        with self._wake:
            if self._frame is not None:
                self.dropped += 1
            self._frame = frame
            self._wake.notify()

    def stop(self) -> None:
        """Send nothing more and close; safe to call twice."""
        thread, self._thread = self._thread, None
        if thread is None:
            return
        with self._wake:
            self._stopping = True
            self._wake.notify()
        thread.join(JOIN_TIMEOUT_S)
        if self._size is not None:
            self._close()
            self._size = None

    # -- what a backend overrides ------------------------------------------------
    def _open(self, width: int, height: int) -> None:
        raise NotImplementedError

    def _send(self, frame: np.ndarray) -> None:
        """Write one frame; raise VideoSinkError when the output fails."""
        raise NotImplementedError

    def _close(self) -> None:
        raise NotImplementedError

    # -- the thread ----------------------------------------------------------------
    def _run(self) -> None:
        while True:
            with self._wake:
                while self._frame is None and not self._stopping:
                    self._wake.wait()
                if self._stopping:
                    return
                frame, self._frame = self._frame, None
            assert frame is not None
            try:
                self._write(frame)
            except VideoSinkError as error:
                self._failed(error)

    def _write(self, frame: np.ndarray) -> None:
        size = (frame.shape[1], frame.shape[0])
        if size != self._size:  # a new size (or a failed sink): open it again
            if time.monotonic() - self._failed_at < REOPEN_AFTER_S:
                return
            if self._size is not None:
                self._close()
                self._size = None
            self._open(*size)
            self._size = size
        self._send(frame)
        self.sent += 1

    def _failed(self, error: VideoSinkError) -> None:
        self.failures += 1
        now = self._failed_at = time.monotonic()
        if self._size is not None:
            self._close()
            self._size = None
        if now - self._reported_at < REPORT_EVERY_S:
            self._unreported += 1
            return
        also = f" ({self._unreported} more failures since)" if self._unreported else ""
        log.warning("output %s failed: %s; retrying%s", self.name, error, also)
        self._reported_at, self._unreported = now, 0
