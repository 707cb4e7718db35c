"""The show: one place that builds a live performance from its parts.

::

    show = Show(patch, generator, inputs=InputOptions(midi=["nano"]), record=True)
    show.play(seconds=None)          # until Esc; headless: 10 s, into a take

Each part has a default and ``start()/stop()``; :meth:`Show.play` reads top to bottom:
the inputs are made first (the audio input owns the performance clock, when there is
one), the session on that clock, then the model loads, the inputs start, a surface
opens (a window, else headless), the stage draws on it until the end, and everything
stops in the reverse order.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from performer.control.clock import Clock, MonotonicClock
from performer.control.events import Inbox
from performer.generators import Generator
from performer.inputs import InputOptions, Inputs
from performer.live import Stage, play
from performer.patch import Patch
from performer.render.surface import Surface, SurfaceChoice
from performer.session import Session
from performer.video import VideoOutputs, open_input

log = logging.getLogger(__name__)

HEADLESS_S = 10.0  # how long a headless show plays unless told


class Show:
    """A patch played by a generator, heard through inputs, drawn on a surface, recorded."""

    def __init__(
        self,
        patch: Patch,
        generator: Generator,
        *,
        inputs: InputOptions | None = None,
        clock: Clock | None = None,
        surface: SurfaceChoice | None = None,
        fps: int = 30,
        display_fps: int | None = None,
        takes: Path = Path("takes"),
        record: bool = False,
        av_delay: float | None = None,
        overrides: Mapping[str, Any] | None = None,
        model: str | None = None,
        video_in: str | None = None,
        video_out: list[str] | None = None,
        conditioning: Mapping[str, Any] | None = None,
    ):
        inbox = Inbox()
        self.inputs = Inputs(inputs or InputOptions(), inbox)
        self.clock = clock or self.inputs.clock or MonotonicClock()
        # named now, opened at play(): a spec or an output that cannot be, in one line
        self.source = open_input(video_in, self.clock) if video_in else None
        self.outputs = VideoOutputs(video_out, fps) if video_out else None
        self.session = Session(
            patch,
            generator,
            clock=self.clock,
            overrides=overrides,
            model=model,
            inbox=inbox,
            source=self.source,
            conditioning=conditioning,
        )
        self.surface = surface or SurfaceChoice()
        self.fps, self.display_fps = fps, display_fps
        self.takes, self.recording, self.av_delay = takes, record, av_delay
        self.recorded: list[Path] = []  # the takes this show began, when it ended
        self.seen = False  # whether it was drawn in a window (else headless, into a take)

    def play(self, seconds: float | None = None) -> int:
        """Play until Esc or ``seconds`` (headless: ``HEADLESS_S``); returns pictures drawn."""
        session = self.session
        log.info(
            "loading %s for patch %r", session.model or "the embedded model", session.patch.name
        )
        session.prepare()
        self.inputs.start(session)
        try:
            if self.source is not None:
                self.source.start()  # a file that cannot be decoded: one line, no show
                log.info("video in: %s", self.source.name)
            size = (session.store.get("width"), session.store.get("height"))
            surface = self.surface.open(*size)
            try:
                if self.outputs is not None:
                    self.outputs.start(*surface.viewport[2:])
                return self._perform(surface, seconds)
            finally:
                if self.outputs is not None:
                    self.outputs.stop()
                surface.close()
        finally:
            if self.source is not None:
                self.source.stop()
            self.inputs.stop()
            session.close()

    def _perform(self, surface: Surface, seconds: float | None) -> int:
        stage = Stage(
            self.session,
            surface,
            self.fps,
            self.takes,
            self.inputs.audio,
            self.av_delay,
            self.outputs,
        )
        if not surface.seen:
            seconds = HEADLESS_S if seconds is None else seconds
        # headless, the take is how the performance is seen: it always records
        stage.record(self.recording or not surface.seen)
        if not surface.seen:
            _say_headless(seconds, stage.take)
        self.seen = surface.seen
        try:
            drawn = play(stage, seconds, self.display_fps)
        finally:
            stage.close()
            self.recorded = list(stage.recorded)
        if not surface.seen:
            log.info("played %d frames%s", drawn, _videos(self.recorded))
        return drawn


def _say_headless(seconds: float | None, take: Any) -> None:
    if take is not None:
        log.info("no window: playing headless for %g s into %s", seconds, take.folder)
    else:  # record() said why in one line; the show goes on, unseen but heard
        log.info("no window: playing headless for %g s, not recording", seconds)


def _videos(folders: list[Path]) -> str:
    """Where the takes of this show are: only those that were begun (a take can be
    stopped and started again from OSC, or never start on a read-only disk)."""
    videos = [str((folder / "video.mp4").resolve()) for folder in folders]
    if not videos:
        return "; nothing was recorded"
    if len(videos) == 1:
        return f"; the video is {videos[0]}"
    return f"; the videos are {', '.join(videos)}"
