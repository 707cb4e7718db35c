"""Offline rendering: every frame generated on a fake clock, encoded to a video file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from performer.control.clock import FakeClock
from performer.progress import progress
from performer.session import Frame, Session


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
    session: Session, out: Path, frames: int, fps: int, size: tuple[int, int]
) -> int:
    """Generate ``frames`` frames at ``1/fps`` steps of fake time; returns frames written."""
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
