"""Live play: the display loop, in a window or headless to a file.

The generator runs on the session's thread; this loop redraws at the display's own
rate, cross-fading to each new frame, so a slow model never freezes the picture.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

from performer.session import Session

log = logging.getLogger(__name__)


def crossfade_seconds(session: Session) -> float:
    """The cross-fade: the ``crossfade`` share of the time between generated frames."""
    frame = session.latest()
    interval = frame.seconds if frame else 0.0
    return float(session.store.get("crossfade")) * interval


def play_window(session: Session, window: object, seconds: float | None = None) -> int:
    """Run until the window closes (Esc) or ``seconds`` pass; returns frames displayed."""
    from render.compositor import Compositor
    from render.window import Window

    assert isinstance(window, Window)
    compositor = Compositor(window.ctx)
    shown, drawn = -1, 0
    session.start()
    try:
        end = None if seconds is None else session.clock.now() + seconds
        while not window.should_close and (end is None or session.clock.now() < end):
            window.poll()
            frame = session.latest()
            now = session.clock.now()
            if frame is not None and frame.number != shown:
                compositor.push(frame.image, now)
                shown = frame.number
            compositor.set_hud(session.hud_lines() if window.hud_visible else None)
            window.use()
            compositor.draw(now, window.viewport, crossfade_seconds(session))
            window.swap()
            drawn += 1
    finally:
        session.stop()
        compositor.release()
    return drawn


def play_headless(
    session: Session, out: Path, seconds: float, fps: int, size: tuple[int, int]
) -> int:
    """No display: play in real time for ``seconds`` and record what a window would show."""
    from render.compositor import Compositor
    from render.headless import Headless
    from render.video import VideoWriter

    written, shown = 0, -1
    with Headless(*size) as surface, VideoWriter(out, *size, fps=fps) as video:
        compositor = Compositor(surface.ctx)
        session.start()
        try:
            while written < seconds * fps:
                deadline = written / fps
                while session.clock.now() < deadline:  # pace output at fps, real time
                    time.sleep(min(0.005, deadline - session.clock.now()))
                frame = session.latest()
                if frame is None:  # the first frame is still coming
                    time.sleep(0.005)
                    continue
                now = session.clock.now()
                if frame.number != shown:
                    compositor.push(frame.image, now)
                    shown = frame.number
                surface.use()
                compositor.draw(now, surface.viewport, crossfade_seconds(session))
                video.write(surface.read())
                written += 1
        finally:
            session.stop()
            compositor.release()
    return written
