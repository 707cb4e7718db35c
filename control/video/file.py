"""A video file as a source: frame-exact offline, on the performance clock live.

Offline, ``frame_at(n)`` is frame ``n`` of the file (looped), so a render at the file's
fps gets input frame N for output frame N. Live, the thread shows frame
``floor((now - start) * fps)`` (looped) and decodes the next one ahead while it waits.
Each loop reopens the file, so a file re-rendered in place is picked up, and one that
vanished is noticed (the last frame is held, one line is logged, it is retried).
"""

from __future__ import annotations

import math
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
from performer.control.clock import Clock
from performer.control.video.frames import InputFrame, SourceLost, VideoSourceError, one_line
from performer.control.video.source import VideoSource

#: Decoding forward this many frames costs less than a seek to a keyframe (roughly a GOP).
SEEK_AHEAD = 30
#: floor(t * fps) of a time computed as n / fps lands on n despite rounding.
_EPSILON = 1e-6
#: How long the live thread sleeps at most between looks at the clock.
POLL_S = 0.005


class FileDecoder:
    """Random access to a file's frames by index, cheapest when read in order."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._container: Any = None
        self._stream: Any = None
        self._frames: Any = None
        self._start_pts = 0
        self._next = 0
        self._last: np.ndarray | None = None
        self._open()
        stream: Any = self._stream
        self.fps = Fraction(stream.average_rate or stream.guessed_rate or 30)
        self.size = (stream.codec_context.width, stream.codec_context.height)
        self.frames = stream.frames or self._count_frames()
        if self.frames <= 0:
            raise VideoSourceError(f"cannot decode {self.path}: it has no video frames")
        self.frame_at(0)  # an undecodable file fails here, at open

    def index_at(self, seconds: float) -> int:
        """The frame (not looped) on show ``seconds`` after the file started."""
        return math.floor(seconds * self.fps + _EPSILON)

    def frame_at(self, index: int) -> np.ndarray:
        """Frame ``index`` (looped) as H×W×3 uint8 RGB."""
        index %= self.frames
        if self._last is not None and index == self._next - 1:
            return self._last
        if index < self._next:  # back to an earlier frame, the loop's wrap included
            self._reopen()
        if index > self._next + SEEK_AHEAD:
            self._seek(index)
        while True:
            frame = self._decode_next()
            found = self._index_of(frame)
            self._next = found + 1
            if found >= index:  # a file with gaps gives the next frame it has
                self._last = frame.to_ndarray(format="rgb24")
                return self._last

    def close(self) -> None:
        self._close()

    # -- the container -------------------------------------------------------------
    def _open(self) -> None:
        import av

        try:
            self._container = av.open(str(self.path))
        except (av.FFmpegError, OSError) as error:
            raise VideoSourceError(f"cannot decode {self.path}: {one_line(error)}") from None
        if not self._container.streams.video:
            self._close()
            raise VideoSourceError(f"cannot decode {self.path}: it has no video stream")
        stream = self._container.streams.video[0]
        self._stream = stream
        self._start_pts = stream.start_time or 0
        self._frames = self._container.decode(stream)
        self._next = 0
        self._last = None

    def _reopen(self) -> None:
        self._close()
        try:
            self._open()
        except VideoSourceError as gone:  # it was there at start: it went away
            raise SourceLost(str(gone)) from None

    def _close(self) -> None:
        container, self._container = self._container, None
        if container is not None:
            container.close()

    def _count_frames(self) -> int:
        import av

        with av.open(str(self.path)) as counting:
            return sum(1 for p in counting.demux(counting.streams.video[0]) if p.size)

    def _seek(self, index: int) -> None:
        target = self._start_pts + int(index / self.fps / self._stream.time_base)
        self._container.seek(target, stream=self._stream, backward=True)
        self._frames = self._container.decode(self._stream)
        self._next = -1  # unknown until the next frame's pts says

    def _decode_next(self) -> Any:
        import av

        if self._container is None:
            raise SourceLost(f"{self.path} is closed")
        try:
            return next(self._frames)
        except StopIteration:
            raise SourceLost(f"{self.path} ended before frame {self._next}") from None
        except (av.FFmpegError, OSError) as error:
            raise SourceLost(f"cannot decode {self.path}: {one_line(error)}") from None

    def _index_of(self, frame: Any) -> int:
        if frame.pts is None:
            return max(self._next, 0)
        return round((frame.pts - self._start_pts) * self._stream.time_base * self.fps)


class FileSource(VideoSource):
    """A file played live on the clock, looped unless ``loop=False`` (then it holds)."""

    def __init__(
        self,
        name: str,
        clock: Clock,
        path: str | Path,
        loop: bool = True,
        start_time: float | None = None,
    ) -> None:
        super().__init__(name, clock)
        self.path = Path(path)
        self.loop = loop
        #: The performance time of the file's frame 0 (None: the clock's at start()).
        self.start_time = start_time
        self._decoder: FileDecoder | None = None
        self._offline: FileDecoder | None = None
        self._ahead: InputFrame | None = None

    @property
    def fps(self) -> Fraction:
        return self._file().fps

    @property
    def frames(self) -> int:
        return self._file().frames

    def index_at(self, seconds: float) -> int:
        return self._file().index_at(seconds)

    def frame_at(self, index: int) -> np.ndarray:
        """Offline: frame ``index`` of the file (looped), frame-exact, on the caller's thread."""
        if self._offline is None:
            self._offline = FileDecoder(self.path)
        return self._offline.frame_at(index)

    def start(self) -> None:
        if self.start_time is None:
            self.start_time = self.clock.now()
        super().start()

    def stop(self) -> None:
        super().stop()
        if self._offline is not None:
            self._offline.close()
            self._offline = None

    def _file(self) -> FileDecoder:
        if self._decoder is not None:
            return self._decoder
        if self._offline is None:
            self._offline = FileDecoder(self.path)
        return self._offline

    def _open(self) -> None:
        self._decoder = FileDecoder(self.path)
        self._ahead = None

    def _close(self) -> None:
        if self._decoder is not None:
            self._decoder.close()

    def _read(self) -> InputFrame | None:
        assert self._decoder is not None and self.start_time is not None
        fps = self._decoder.fps
        due = math.floor((self.clock.now() - self.start_time) * fps + _EPSILON)
        coming = self._number
        if due < coming - 1:  # the clock went back (a restart): follow it
            coming = self._number = max(due, 0)
        if due < coming:  # not due yet: have it decoded, then look at the clock again
            if self._ahead is None or self._ahead.number != coming:
                self._ahead = self._picture(coming)
            wait = float(self.start_time + coming / fps) - self.clock.now()
            self._stopping.wait(min(max(wait, 0.0), POLL_S))
            return None
        if self._ahead is not None and self._ahead.number == due:
            picture = self._ahead
        else:
            self._slot.skip(due - coming)  # it fell behind: these were never shown
            picture = self._picture(due)
        self._ahead = None
        return picture

    def _picture(self, number: int) -> InputFrame:
        assert self._decoder is not None and self.start_time is not None
        frames = self._decoder.frames
        index = number % frames if self.loop else min(number, frames - 1)
        image = self._decoder.frame_at(index)
        time = self.start_time + float(number / self._decoder.fps)
        return InputFrame(image, number, index, time)
