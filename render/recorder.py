"""The recorder: video (and audio) encoded on its own thread, so the show never waits.

The display loop hands over frames with their time on the performance clock; a bounded
queue carries them to the encoding thread. When the queue is full the frame is
dropped and counted (the picture on screen matters more than the file). A write error
(a full disk, a removed folder) stops the recording with a clear message and nothing
else: the performance goes on.
"""

from __future__ import annotations

import logging
import queue
import threading
from fractions import Fraction
from pathlib import Path

import numpy as np
from performer.render.video import VideoWriteError, VideoWriter

log = logging.getLogger(__name__)

# Frames sit at the moment they were shown, to a hundredth of a frame (a live display
# does not draw on the file's frame grid; rounding to it would move a frame by up to half).
SUBFRAMES = 100


class Recorder:
    def __init__(
        self,
        path: str | Path,
        width: int,
        height: int,
        fps: int,
        audio_rate: int | None = None,
        audio_channels: int = 2,
        max_queued: int = 64,
        preset: str = "ultrafast",  # live: the generator needs the CPU more than the file
    ):
        self.path = Path(path)
        self.fps = fps
        self.dropped = 0
        self.error: str | None = None  # why the recording stopped early, if it did
        self._writer = VideoWriter(
            path,
            width,
            height,
            Fraction(fps),
            preset=preset,
            audio_rate=audio_rate,
            audio_channels=audio_channels,
            zerolatency=True,
            subframes=SUBFRAMES,
        )
        self._queue: queue.Queue[tuple[str, np.ndarray, float] | None] = queue.Queue(max_queued)
        self._thread = threading.Thread(target=self._run, name="recorder", daemon=True)
        self._thread.start()

    @property
    def recording(self) -> bool:
        return self.error is None and self._thread.is_alive()

    @property
    def frames_written(self) -> int:
        return self._writer.frames_written

    def video(self, frame: np.ndarray, time: float) -> None:
        """Queue a frame shown at ``time`` seconds since the recording began."""
        self._put(("video", frame, time))

    def audio(self, samples: np.ndarray, time: float) -> None:
        """Queue audio whose first sample sounded at ``time`` seconds since it began."""
        rate = self._writer.audio_rate
        if rate:
            self._put(("audio", samples, round(time * rate)))

    def _put(self, item: tuple[str, np.ndarray, float]) -> None:
        if not self.recording:
            return
        try:
            self._queue.put_nowait(item)
        except queue.Full:
            self.dropped += 1

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:  # close()
                break
            kind, data, position = item
            try:
                if kind == "video":
                    self._writer.write(data, time=position)
                else:
                    self._writer.write_audio(data, start=round(position))
            except (VideoWriteError, OSError) as exc:
                self.error = str(exc)
                log.error("recording stopped: %s; the performance goes on", exc)
                break
        self._finish()

    def _finish(self) -> None:
        try:
            self._writer.close()
        except (VideoWriteError, OSError) as exc:
            if self.error is None:
                self.error = str(exc)
                log.error("recording could not be finished: %s", exc)

    def close(self) -> None:
        """Write what is queued and finish the file (safe twice)."""
        if self._thread.is_alive():
            self._queue.put(None)
            self._thread.join(timeout=30)
