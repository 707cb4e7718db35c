"""Replay: render a recorded take again, offline, at any resolution and step count.

The control log is fed back through the same session (mappings, timelines, cues and
generator) on a fake clock: frame by frame, the ticks that led to it live (the display's
moments of applying input and mappings) run again at the same performance times, with
the same events. With the same model, resolution and steps, each generated frame is
checked against the fingerprint logged live. A take played with a video input hands
each frame the input frame it started from live (:class:`~performer.take.inputs.RecordedInput`,
the session's source in replay); the session fits it to any resolution as it did live.
``performer render TAKE`` builds the generator with the conditioning the take records
(its LoRAs, ControlNet, ...: :mod:`~performer.take.conditioning`), so a take played
with them replays with them.

Each frame is made with the prompt texts it was made with live: the take says which
where they were not its snapshot's (a new prompt still encoding), and the generator
waits for their encoding however long it takes (``Generator.replay_with``). Takes from
before they were logged (format 3) replay as they did.

The video is drawn at those ticks too, as the live display drew it: at each tick where
the take's video was due a picture, the frame that was on screen then with the flash of
that moment, placed at the same time from the take's start; after the last frame, it is
held until the take's last picture. So a model that made several frames per displayed
one replays to a video as long as the take's, in step with its audio.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from performer import patch as patches
from performer.control.clock import FakeClock
from performer.control.param import ParamError
from performer.control.params import param
from performer.frames import Frame, Tick
from performer.generators import Generator
from performer.offline import composite
from performer.progress import progress
from performer.session import Session
from performer.take.format import LOG, PATCH, VIDEO, digest
from performer.take.inputs import RecordedInput
from performer.take.reader import TakeLog, read_take

log = logging.getLogger(__name__)


@dataclass
class ReplayResult:
    frames: int
    compared: int  # frames whose fingerprint could be checked (same size and steps)
    identical: int
    pictures: int = 0  # pictures in the video (the display's, at the take's fps)
    skipped: int = 0  # bad lines of the take's log left out
    unfed: int = 0  # frames whose recorded input was missing or damaged (made without it)


class _Display:
    """The live display, drawn again offline: a picture goes into the video whenever the
    take's video was due one (``fps`` from the take's start), as the live take did."""

    def __init__(self, compositor: Any, surface: Any, video: Any, start: float, fps: int):
        self.compositor, self.surface, self.video = compositor, surface, video
        self.start, self.fps = start, fps
        self._next = 0  # the first frame slot of the video still to fill

    def draw(self, frame: Frame | None, now: float, flash: float) -> None:
        since = now - self.start
        if frame is not None and since * self.fps >= self._next:
            self._write(frame, since, flash)
            self._next = math.floor(since * self.fps) + 1

    def hold(self, frame: Frame | None, until: float | None, flash: float) -> None:
        """After the last generated frame: show it in the next slot, and in every slot up
        to ``until`` (the take's last picture, placed at its own time), as the live
        display went on showing it."""
        last = self._next if until is None else math.floor((until - self.start) * self.fps)
        while frame is not None and self._next <= last:
            at = self._next / self.fps
            if until is not None and self._next == last:
                at = until - self.start
            self._write(frame, at, flash)
            self._next += 1

    def _write(self, frame: Frame, since: float, flash: float) -> None:
        self.video.write(composite(self.compositor, self.surface, frame, flash), time=since)

    def release(self) -> None:
        self.compositor.release()


_RECENT = 8  # frames kept for the display: it shows one made a frame or two before


def _on_screen(take: TakeLog, tick: Tick, recent: dict[int, Frame]) -> Frame | None:
    """The frame the live display showed at ``tick``. Newer takes log it. In older
    ones, while a frame was being made the display showed the one before: at the ticks
    before frame N, frame N - 2 (N - 1 came out just before N began). Ticks made up for
    the oldest logs sit at the frames' own times, when N - 1 was out."""
    if take.shown_logged:
        return None if tick.shown is None else recent.get(tick.shown)
    numbers = sorted(recent)  # in the take, the newest last
    back = 1 if take.ticks_logged else 0
    return recent[numbers[-1 - back]] if len(numbers) > back else None


def replay(
    folder: Path,
    generator: Generator,
    out: Path,
    overrides: dict[str, Any],
    size: tuple[int, int] | None = None,
) -> ReplayResult:
    """Render ``folder`` into ``out`` (video at ``size``, with the take's audio)."""
    from performer.render.compositor import Compositor
    from performer.render.headless import Headless
    from performer.render.recorder import SUBFRAMES
    from performer.render.video import VideoWriter

    take = read_take(folder)
    _report(take, folder / LOG)
    recorded = RecordedInput(folder) if any(take.inputs) else None
    patch = patches.load(folder / PATCH)
    session, clock = _session(take, patch, generator, overrides, recorded)
    fps = int(take.info.get("fps", 30))
    size = size or (session.store.get("width"), session.store.get("height"))
    audio = _take_audio(folder / VIDEO)
    if audio and not audio[1]:
        audio = None
    result = ReplayResult(len(take.frames), 0, 0, skipped=take.bad.count)
    with (
        Headless(*size) as surface,
        VideoWriter(
            out,
            *size,
            fps=fps,
            audio_rate=audio[0] if audio else None,
            audio_channels=audio[1][0][0].shape[1] if audio and audio[1] else 2,
            subframes=SUBFRAMES,
        ) as video,
    ):
        display = _Display(Compositor(surface.ctx), surface, video, take.started, fps)
        try:
            desc = f"replaying {folder.name}"
            made = _play(take, session, clock, display, result, recorded, desc)
            display.hold(made, take.ended, float(session.store.get("flash")))
            if audio:
                for block, start_sample in audio[1]:
                    video.write_audio(block, start=start_sample)
            result.pictures = video.frames_written
        finally:
            display.release()
            session.close()
            if recorded is not None:
                recorded.close()
                result.unfed = recorded.unfed
    return result


def _report(take: TakeLog, log_path: Path) -> None:
    """One line each for what of the take's log cannot replay as the show went."""
    if take.bad.count:
        log.warning("%s", take.bad.summary(log_path))
    if take.lost:
        log.warning(
            "%s: %d frames were not logged while recording, from frame %d (a slow disk): "
            "the replay differs from the show after it",
            log_path,
            sum(n for _, n in take.lost),
            take.lost[0][0],
        )


def _session(
    take: TakeLog,
    patch: patches.Patch,
    generator: Generator,
    overrides: dict[str, Any],
    recorded: RecordedInput | None,
) -> tuple[Session, FakeClock]:
    """The session the take played, on a fake clock, ready to be ticked by the log, with
    the take's recorded input as its source."""
    clock = FakeClock()
    first = take.frames[0]["params"] if take.frames else {}
    # The take began from the patch as played (--set included): its header says how.
    start = _usable(take.opening)
    start.update({k: first[k] for k in ("width", "height", "steps") if k in first})
    session = Session(
        patch, generator, clock=clock, overrides={**start, **overrides}, source=recorded
    )
    del session.commands["learn/save"]  # a replay plays; it writes nothing but its video
    session.prepare()
    session.ticked = True  # the logged ticks, not each step, apply the input
    return session, clock


def _play(
    take: TakeLog,
    session: Session,
    clock: FakeClock,
    display: _Display,
    result: ReplayResult,
    recorded: RecordedInput | None,
    desc: str,
) -> Frame | None:
    """Every frame of the take again, after the display's ticks that led to it, from
    the input frame it started from; each checked against its fingerprint where size
    and steps are the take's. Returns the last frame made."""
    first = take.frames[0]["params"] if take.frames else {}
    same = all(first.get(k) == session.store.get(k) for k in ("width", "height", "steps"))
    recent: dict[int, Frame] = {}  # the last frames made, by their number in the take
    made: Frame | None = None
    for at, record in enumerate(progress(take.frames, desc=desc, unit="frame")):
        # 1. The display's ticks before this frame: input, mappings, pictures.
        for tick in take.ticks.get(record["frame"], []):
            clock.set(tick.time)
            session.tick(tick.time, tick.events)
            shown = _on_screen(take, tick, recent)
            display.draw(shown, tick.time, float(session.store.get("flash")))
        # 2. The frame itself, from its input, checked against the take's fingerprint.
        clock.set(float(record["t"]))
        if recorded is not None:
            recorded.cue(take.inputs[at])
        if take.played_logged:  # the texts the live frame was made with, not later ones
            session.generator.replay_with(record.get("played", {}))
        made = recent[record["frame"]] = session.step()
        if len(recent) > _RECENT:
            del recent[min(recent)]
        if same and made.snapshot["steps"] == record["params"].get("steps"):
            result.compared += 1
            result.identical += digest(made.image) == record["sha1"]
    return made


def _take_audio(video: Path) -> tuple[int, list[tuple[Any, int]]] | None:
    """The take's audio as (rate, [(samples (n, channels) float32, first sample)]), if any."""
    import av

    from performer.render.video import read_audio

    if not video.exists():
        return None
    try:
        return read_audio(video)
    except (OSError, av.error.InvalidDataError) as exc:
        log.warning("cannot read the take's audio from %s: %s", video, exc)
        return None


def _usable(params: dict[str, Any]) -> dict[str, Any]:
    """The values of ``params`` the registry accepts; the others are left to the patch,
    with one warning (a hand-edited header, a parameter that no longer exists)."""
    usable, refused = {}, []
    for name, value in params.items():
        try:
            usable[name] = param(name).check(value)
        except (ParamError, TypeError):
            refused.append(str(name)[:40])
    if refused:
        log.warning(
            "the take's opening values of %s are unusable; the patch's are used", refused[:8]
        )
    return usable
