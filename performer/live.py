"""Live play: the display loop, in a window or headless to a file.

The generator runs on the session's thread; this loop redraws at the display's own
rate, cross-fading to each new frame, so a slow model never freezes the picture.
A :class:`Stage` is what both loops share: compositor, HUD, keys and the take being
recorded.
"""

from __future__ import annotations

import contextlib
import logging
import sys
import time
from collections import deque
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from performer.control.events import Event
from performer.pacing import Pacer, StallWatch
from performer.session import LEARNABLE, Frame, Session

log = logging.getLogger(__name__)

# How long headless play waits for the generator's first frame (beyond the show's own
# length): a first frame that compiles or warms up may take a while on a slow machine.
FIRST_FRAME_S = 10.0


class Surface(Protocol):
    ctx: Any

    @property
    def viewport(self) -> tuple[int, int, int, int]: ...

    def use(self) -> None: ...

    def read(self) -> np.ndarray: ...


class Stage:
    """Compositor, HUD, keys and recording around one session and one surface."""

    def __init__(
        self, session: Session, surface: Surface, fps: int = 30, takes: Path = Path("takes")
    ):
        from performer.render.compositor import Compositor

        self.session, self.surface, self.fps, self.takes = session, surface, fps, takes
        self.compositor = Compositor(surface.ctx)
        self.take: Any = None  # a TakeRecorder while recording
        # the folders of the takes begun in this show, newest last (record/start can
        # come from the network: the list is bounded)
        self.recorded: deque[Path] = deque(maxlen=64)
        self.audio: Any = None  # an AudioInput, when audio runs (its blocks go to the take)
        self.av_delay: float | None = None  # the take's audio delay in s; None: automatic
        self.learning: int | None = None  # HUD line picked for MIDI learn (L key)
        self._want_recording: bool | None = None
        self._shown = -1
        self.tick_errors = 0
        self._last_tick_error = -1.0
        session.commands["record/start"] = lambda _: self._record(True)
        session.commands["record/stop"] = lambda _: self._record(False)
        session.commands["probe"] = self._probe

    def _record(self, on: bool) -> None:
        self._want_recording = on  # acted on by the display thread, which owns the pixels

    def _probe(self, event: Event) -> None:
        """Capture the era statistics of the frame on screen into the take's log."""
        from performer.probe.capture import capture

        frame = self.session.latest()
        if frame is None:
            return
        record = capture(frame.image, frame.snapshot, event.time, frame.number)
        take = self.take
        if take is not None:
            take.log.write(record)
        stats = record["stats"]
        log.info(
            "probe: era %.0f -> saturation %.2f, warmth %.2f%s",
            frame.snapshot["era"],
            stats.get("saturation", float("nan")),
            stats.get("warmth", float("nan")),
            "" if take else " (not recording: not kept)",
        )

    def record(self, on: bool) -> None:
        if on and self.take is None:
            from performer.take.recorder import TakeRecorder

            w, h = self.surface.viewport[2:]
            audio = self.audio
            rate = audio.analyzer.samplerate if audio is not None else None
            channels = audio.channel_count if audio is not None else 2
            delay = self.audio_delay()
            try:
                self.take = TakeRecorder(
                    self.session, self.takes, (w, h), self.fps, rate, channels, delay
                )
            except OSError as exc:
                log.error("cannot start recording in %s: %s", self.takes, exc)
                return
            self.recorded.append(self.take.folder)
            self.session.want_frame()  # the take's log starts with the picture on screen
            if audio is not None:
                audio.on_audio = self.take.audio
                log.info("the take's audio is %.0f ms later than it sounded", 1000 * delay)
        elif not on and self.take is not None:
            if self.audio is not None:
                self.audio.on_audio = None
            self.take.stop()
            self.take = None

    def audio_delay(self) -> float:
        """How much later the take's audio is placed than it sounded: ``av_delay``, or
        the picture's mean lag behind a sound: the analysis hop that finds it, the audio
        block that brings it, then on average half a frame until the next is drawn."""
        if self.av_delay is not None:
            return self.av_delay
        if self.audio is None or self.audio.analyzer is None:
            return 0.0
        analyzer = self.audio.analyzer
        return (analyzer.hop + self.audio.blocksize) / analyzer.samplerate + 0.5 / self.fps

    def draw(self, now: float, hud: bool = False) -> None:
        frame = self.tick(now) if self.session.ticked else self.session.latest()
        if self._want_recording is not None:
            self.record(self._want_recording)
            self._want_recording = None
        if frame is not None and frame.number != self._shown:
            self.compositor.push(frame.image, now)
            self._shown = frame.number
        self.compositor.set_hud(self.hud_lines() if hud else None)
        self.surface.use()
        flash = float(self.session.store.get("flash"))
        self.compositor.draw(now, self.surface.viewport, self.crossfade_seconds(), flash)
        if self.take is not None and self.take.due(now):
            self.take.video(self.surface.read(), now)

    def tick(self, now: float) -> Frame | None:
        """Apply input and mappings for the picture about to be drawn; the frame to show.
        A failure is reported (once a second) and the show goes on with the parameters
        as they were."""
        try:
            return self.session.tick(now)
        except Exception:
            self.tick_errors += 1
            if now - self._last_tick_error >= 1.0 or now < self._last_tick_error:
                self._last_tick_error = now
                log.exception("applying controls failed (%d so far)", self.tick_errors)
            return self.session.latest()

    def crossfade_seconds(self) -> float:
        """The cross-fade: the ``crossfade`` share of the time between generated frames."""
        frame = self.session.latest()
        interval = frame.seconds if frame else 0.0
        return float(self.session.store.get("crossfade")) * interval

    def hud_lines(self) -> list[str]:
        lines = self.session.hud_lines()
        if self.take is not None:
            lines[0] += "  ● REC"
        if self.learning is not None:
            name = LEARNABLE[self.learning]
            lines.append(f"learn: {name}  (Up/Down pick, Enter arm, L cancel)")
        return lines

    def key(self, name: str) -> None:
        """L: pick a parameter for MIDI learn; S: save what was learned; R: record;
        P: capture a probe; SPACE: tap the tempo."""
        now = self.session.clock.now()
        if name == "L":
            self.learning = None if self.learning is not None else 0
        elif self.learning is not None and name in ("UP", "DOWN"):
            step = 1 if name == "DOWN" else -1
            self.learning = (self.learning + step) % len(LEARNABLE)
        elif self.learning is not None and name == "ENTER":
            self.session.inbox.put(Event(now, "learn", LEARNABLE[self.learning]), command=True)
            self.learning = None
        elif name == "R":
            self.record(self.take is None)
        elif name == "P":
            self.session.inbox.put(Event(now, "probe", True), command=True)
        elif name == "S":
            self.session.inbox.put(Event(now, "learn/save", True), command=True)
        elif name == "SPACE":
            self.session.inbox.put(Event(now, "tap", True), command=True)

    def close(self) -> None:
        self.record(False)
        self.compositor.release()


@contextlib.contextmanager
def _prompt_threads() -> Iterator[None]:
    """Hand the GIL between threads every 1 ms instead of 5 while playing: the display
    and the audio analysis then wait less for a generator busy in Python."""
    before = sys.getswitchinterval()
    sys.setswitchinterval(0.001)
    try:
        yield
    finally:
        sys.setswitchinterval(before)


def play_window(
    stage: Stage, window: Any, seconds: float | None = None, max_fps: float | None = None
) -> int:
    """Run until the window closes (Esc) or ``seconds`` pass; returns frames displayed.
    The swap paces the loop (the monitor's rate), or ``max_fps`` caps it: a projector
    that takes 30 Hz, or a laptop that leaves the generator more of its cores."""
    session, drawn = stage.session, 0
    clock = session.clock
    watch = StallWatch()  # after a stall the loop draws the present, never the backlog
    pacer = None if max_fps is None else Pacer(max_fps, clock.now())
    with _prompt_threads():
        session.start(ticked=True)
        try:
            end = None if seconds is None else clock.now() + seconds
            while not window.should_close and (end is None or clock.now() < end):
                window.poll()
                for key in window.take_keys():
                    stage.key(key)
                if pacer is None:
                    now = clock.now()
                    watch.drawn(now)
                else:
                    now = pacer.wait(clock.now, time.sleep)
                stage.draw(now, hud=window.hud_visible)
                window.swap()
                drawn += 1
        finally:
            session.stop()
    return drawn


def play_headless(stage: Stage, seconds: float) -> int:
    """No display: play in real time for ``seconds`` from the first frame, drawing at
    the stage's fps; returns the pictures drawn. Like a real display, a slot missed
    (the process stopped, the machine stalled) is not drawn late: the loop resumes
    at the present, and a stall is logged once with its length."""
    session, drawn = stage.session, 0
    clock = session.clock
    with _prompt_threads():
        session.start(ticked=True)
        try:
            if not _first_frame(session, within=max(seconds, FIRST_FRAME_S)):
                return 0
            pacer = Pacer(stage.fps, clock.now())
            end = pacer.start + seconds - 1e-6  # the last slot begins before the end
            while pacer.next_at < end:
                now = pacer.wait(clock.now, time.sleep)
                if now >= end:  # a stall ran past the end of the show
                    break
                stage.draw(now)
                drawn += 1
        finally:
            session.stop()
    return drawn


def _first_frame(session: Session, within: float) -> bool:
    """Wait for the generator's first frame, at most ``within`` seconds of real time;
    if none came (every frame failed), say so in one line."""
    deadline = time.monotonic() + within
    while session.latest() is None:
        if time.monotonic() >= deadline:
            log.error(
                "no frame came in %.0f s (%d failed; the error is above); nothing to show",
                within,
                session.errors,
            )
            return False
        time.sleep(0.005)
    return True
