"""What a video source hands over: the newest input frame, through a one-slot handoff."""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np


class VideoSourceError(Exception):
    """A source cannot be opened or named: one line that says what and why."""


class SourceLost(VideoSourceError):
    """A running source stopped giving frames (camera unplugged, sender gone, file gone)."""


@dataclass(frozen=True)
class InputFrame:
    """One picture from a source.

    ``image`` is H×W×3 uint8 RGB, row 0 at the top, read-only (it is never reused, so
    a take may keep it). ``number`` counts the source's frames from its ``start()``;
    ``index`` is the frame's place in its file (``number`` modulo the file's length;
    equal to ``number`` for live sources); ``time`` is when it was due or arrived, on
    the performance clock.
    """

    image: np.ndarray
    number: int
    index: int
    time: float


class NewestFrame:
    """A one-slot handoff: the writer replaces, the reader peeks; never a queue.

    A frame replaced before any reader saw it counts as dropped.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._frame: InputFrame | None = None
        self._seen = True
        self.dropped = 0
        self.delivered = 0

    def put(self, frame: InputFrame) -> None:
        frame.image.flags.writeable = False
        with self._lock:
            if not self._seen:
                self.dropped += 1
            self._frame = frame
            self._seen = False
            self.delivered += 1

    def skip(self, frames: int) -> None:
        """Frames the source passed over without handing them out (it fell behind)."""
        with self._lock:
            self.dropped += frames

    def peek(self) -> InputFrame | None:
        with self._lock:
            self._seen = True
            return self._frame


def one_line(error: BaseException) -> str:
    """A library's error message on one line (FFmpeg's span several)."""
    return " ".join(str(error).split()) or type(error).__name__
