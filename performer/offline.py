"""Offline rendering: every frame generated on a fake clock, encoded to a video file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from performer.control.clock import Clock, FakeClock
from performer.control.video import InputFrame
from performer.control.video.file import FileSource
from performer.frames import Frame
from performer.progress import progress
from performer.session import Session


class FrameExact:
    """A video file as the input of an offline render: each frame starts from the
    file's frame on show at the clock's time (looped, or held at its end), so at the
    file's fps frame N of the output starts from frame N of the file. Decoded on the
    caller's thread, on demand: nothing runs ahead of the fake clock."""

    def __init__(self, file: FileSource, clock: Clock):
        self.file, self.clock = file, clock
        self.frames = file.frames  # opens the file now: one line if it cannot be decoded
        self._last: InputFrame | None = None

    def latest(self) -> InputFrame:
        number = max(self.file.index_at(self.clock.now()), 0)
        if self._last is not None and self._last.number == number:
            return self._last  # the same input frame: a take would store it once
        frames = self.frames
        index = number % frames if self.file.loop else min(number, frames - 1)
        image = self.file.frame_at(index).view()  # the decoder's own, kept read-only
        image.flags.writeable = False
        self._last = InputFrame(image, number, index, float(number / self.file.fps))
        return self._last

    def stop(self) -> None:
        """Close the file (safe twice)."""
        self.file.stop()


def composite(
    compositor: Any, surface: Any, frame: Frame, flash: float | None = None
) -> np.ndarray:
    """The picture a display shows for ``frame`` once it has settled (no cross-fade),
    with ``flash`` over it (by default the frame's own)."""
    compositor.push(frame.image, frame.time)
    surface.use()
    flash = float(frame.snapshot["flash"]) if flash is None else flash
    compositor.draw(frame.time, surface.viewport, 0.0, flash)
    return surface.read()


def render_to_file(
    session: Session,
    out: Path,
    frames: int,
    fps: int,
    size: tuple[int, int],
) -> int:
    """Generate ``frames`` frames at ``1/fps`` steps of fake time; returns frames written.
    A file input is the session's source, as :class:`FrameExact` on the same clock."""
    from performer.render.compositor import Compositor
    from performer.render.headless import Headless
    from performer.render.video import VideoWriter

    if not isinstance(session.clock, FakeClock):
        raise TypeError("offline rendering needs a FakeClock: it must not wait on real time")
    clock = session.clock
    with Headless(*size) as surface, VideoWriter(out, *size, fps=fps) as video:
        compositor = Compositor(surface.ctx)
        try:
            for i in progress(range(frames), desc=f"rendering {out.name}", unit="frame"):
                clock.set(i / fps)
                video.write(composite(compositor, surface, session.step()))
        finally:
            compositor.release()
        return video.frames_written
