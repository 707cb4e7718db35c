"""Live play: the display loop, on a window or headless to a file (one loop for both).

The generator runs on the session's thread; this loop redraws at the display's own
rate, cross-fading to each new frame, so a slow model never freezes the picture.
A :class:`Stage` is what the loop draws with: compositor, HUD, keys and the take
being recorded, around one session and one :class:`~performer.render.surface.Surface`.
"""

from __future__ import annotations

import contextlib
import logging
import math
import sys
import time
from collections import deque
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from performer.actions import learn_targets
from performer.control.events import Event
from performer.control.params import REGISTRY, Snapshot
from performer.frames import Frame
from performer.pacing import Pacer, StallWatch
from performer.render.surface import Surface
from performer.session import Session
from performer.video import VideoOutputs

log = logging.getLogger(__name__)

# How long headless play waits for the generator's first frame (beyond the show's own
# length): a first frame that compiles or warms up may take a while on a slow machine.
FIRST_FRAME_S = 10.0
#: on the HUD whatever their values; the other parameters only once moved off their defaults
HUD_ALWAYS = ("timestep", "guidance", "era", "prompt")


class Stage:
    """Compositor, HUD, keys and recording around one session and one surface."""

    def __init__(
        self,
        session: Session,
        surface: Surface,
        fps: int = 30,
        takes: Path = Path("takes"),
        audio: Any = None,
        av_delay: float | None = None,
        outputs: VideoOutputs | None = None,
    ):
        from performer.render.compositor import Compositor

        self.session, self.surface, self.fps, self.takes = session, surface, fps, takes
        self.compositor = Compositor(surface.ctx)
        self.take: Any = None  # a TakeRecorder while recording
        # the folders of the takes begun in this show, newest last (record/start can
        # come from the network: the list is bounded)
        self.recorded: deque[Path] = deque(maxlen=64)
        self.audio = audio  # an AudioInput, when audio runs (its blocks go to the take)
        self.av_delay = av_delay  # the take's audio delay in s; None: automatic
        self.outputs = outputs  # video out (NDI, virtual camera, ...), when there is any
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
        """Capture the era statistics of the frame on screen into the take's log: the
        frame is copied here, its statistics computed on the session's worker."""
        frame = self.session.latest()
        if frame is None:
            return
        taken = (frame.image.copy(), frame.snapshot, event.time, frame.number)
        self.session.worker.run("the probe", partial(_probe, *taken, self.take))

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
            if self.outputs is not None:
                self.outputs.generated(frame.image, now)
        self.compositor.set_hud(self.hud_lines() if hud else None, now)
        self.surface.use()
        flash = float(self.session.store.get("flash"))
        self.compositor.draw(now, self.surface.viewport, self.crossfade_seconds(), flash)
        self._send_picture(now)  # before the HUD: takes and outputs carry the picture alone
        self.compositor.draw_hud(self.surface.viewport)

    def _send_picture(self, now: float) -> None:
        """The picture just drawn, to the take when its video is due and to the outputs
        that carry the display (one read of the pixels for both)."""
        picture = None
        if self.take is not None and self.take.due(now):
            picture = self.surface.read()
            self.take.video(picture, now)
        if self.outputs is not None and self.outputs.wants_display:
            self.outputs.display(self.surface.read() if picture is None else picture, now)

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
        """What the HUD shows: the model and frame rate, the three knobs and the prompt,
        every other live parameter that is not at its default; the take being recorded
        and the parameter picked for MIDI learn."""
        session = self.session
        frame = session.latest()
        rate = f"{1.0 / frame.seconds:5.1f} fps" if frame and frame.seconds > 0 else "  ... fps"
        snap = session.store.snapshot()
        lines = [f"{session.generator.identity}  {rate}"]
        for p in REGISTRY.values():
            if p.live and (p.name in HUD_ALWAYS or snap[p.name] != p.default):
                value = snap[p.name]
                shown = f"{value:.3g}" if isinstance(value, float) else repr(value)
                lines.append(f"{p.name:<12} {shown} {p.unit}".rstrip())
        if self.take is not None:
            lines[0] += "  ● REC"
        if self.learning is not None:
            targets = learn_targets()
            name = targets[self.learning % len(targets)]
            lines.append(f"learn: {name}  (Up/Down pick, Enter arm, L cancel)")
        return lines

    def key(self, name: str) -> None:
        """L: pick a parameter for MIDI learn; S: save what was learned; R: record;
        P: capture a probe; SPACE: tap the tempo; G: grab the picture as the IP-Adapter's
        image prompt."""
        now = self.session.clock.now()
        if name == "L":
            self.learning = None if self.learning is not None else 0
        elif self.learning is not None and name in ("UP", "DOWN"):
            step = 1 if name == "DOWN" else -1
            self.learning = (self.learning + step) % len(learn_targets())
        elif self.learning is not None and name == "ENTER":
            targets = learn_targets()
            target = targets[self.learning % len(targets)]
            self.session.inbox.put(Event(now, "learn", target), command=True)
            self.learning = None
        elif name == "R":
            self.record(self.take is None)
        elif name == "P":
            self.session.inbox.put(Event(now, "probe", True), command=True)
        elif name == "S":
            self.session.inbox.put(Event(now, "learn/save", True), command=True)
        elif name == "SPACE":
            self.session.inbox.put(Event(now, "tap", True), command=True)
        elif name == "G":
            self.session.inbox.put(Event(now, "ip/grab", True), command=True)

    def close(self) -> None:
        self.record(False)
        self.compositor.release()


def _probe(image: np.ndarray, snapshot: Snapshot, time: float, number: int, take: Any) -> None:
    """The probe's statistics of one frame, into ``take``'s log when recording."""
    from performer.probe.capture import capture

    record = capture(image, snapshot, time, number)
    kept = take is not None and take.log.write(record)
    stats = record["stats"]
    log.info(
        "probe: era %.0f -> saturation %.2f, warmth %.2f%s",
        snapshot["era"],
        stats.get("saturation", float("nan")),
        stats.get("warmth", float("nan")),
        "" if kept else " (not recording: not kept)",
    )


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


def play(stage: Stage, seconds: float | None = None, display_fps: float | None = None) -> int:
    """Draw until the surface closes (Esc) or ``seconds`` pass; returns pictures drawn.

    A window's swap paces the loop (the monitor's rate), or ``display_fps`` caps it: a
    projector that takes 30 Hz, or a laptop that leaves the generator more of its
    cores. Headless, the loop draws at the stage's fps, and the show's time begins
    with the generator's first frame: the take is the show, so it should not open on
    warm-up. Like a real display, a slot missed (the process stopped, the machine
    stalled) is not drawn late: the loop resumes at the present, and a stall is
    logged once, with its length."""
    session, surface, drawn = stage.session, stage.surface, 0
    clock = session.clock
    pace = display_fps if surface.seen else stage.fps
    with _prompt_threads():
        session.start(ticked=True)
        try:
            if not surface.seen and not _first_frame(session, max(seconds or 0, FIRST_FRAME_S)):
                return 0
            pacer = None if pace is None else Pacer(pace, clock.now())
            watch = StallWatch()  # after a stall the loop draws the present, never the backlog
            start = clock.now() if pacer is None else pacer.start
            end = math.inf if seconds is None else start + seconds - 1e-6
            while not surface.should_close and (pacer is None or pacer.next_at < end):
                surface.poll()
                for key in surface.take_keys():
                    stage.key(key)
                now = clock.now() if pacer is None else pacer.wait(clock.now, time.sleep)
                if now >= end:  # the show's length is up (or a stall ran past it)
                    break
                if pacer is None:
                    watch.drawn(now)
                stage.draw(now, hud=surface.hud_visible)
                surface.swap()
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
