"""Replay: render a recorded take again, offline, at any resolution and step count.

The control log is fed back through the same session (mappings, timelines, cues and
generator) on a fake clock: frame by frame, the ticks that led to it live (the display's
moments of applying input and mappings) run again at the same performance times, with
the same events. With the same model, resolution and steps, each generated frame is
checked against the fingerprint logged live.

The video is drawn at those ticks too, as the live display drew it: at each tick where
the take's video was due a picture, the latest generated frame with the flash of that
moment, placed at the same time from the take's start. So a model that made several
frames per displayed one replays to a video as long as the take's, in step with its audio.
"""

from __future__ import annotations

import json
import logging
import math
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tqdm import tqdm

from performer import patch as patches
from performer import take as takes
from performer.clock import FakeClock
from performer.events import Event
from performer.generators import Generator
from performer.offline import composite
from performer.recording import digest
from performer.session import Frame, Session, Tick

log = logging.getLogger(__name__)


@dataclass
class ReplayResult:
    frames: int
    compared: int  # frames whose fingerprint could be checked (same size and steps)
    identical: int
    pictures: int = 0  # pictures in the video (the display's, at the take's fps)


def read_take(folder: Path) -> tuple[dict[str, Any], list[dict[str, Any]], dict[int, list[Tick]]]:
    """The take's info, its frame records and the ticks that led to each frame."""
    if not (folder / takes.INFO).is_file():
        raise FileNotFoundError(f"{folder} is not a take (no {takes.INFO})")
    info = json.loads((folder / takes.INFO).read_text(encoding="utf-8"))
    info["t"] = None  # when the take began, on the performance clock
    frames: list[dict[str, Any]] = []
    ticks: dict[int, list[Tick]] = defaultdict(list)
    loose: dict[int, list[Event]] = defaultdict(list)  # events with no tick line before them
    for record in takes.read_log(folder / takes.LOG):
        kind = record.get("type")
        if kind == "take":
            info["t"] = record["t"]
        elif kind == "frame":
            frames.append(record)
        elif kind == "tick":
            ticks[record["frame"]].append(Tick(record["t"], []))
        elif kind == "event":
            value = record["value"]
            event = Event(
                record["t"],
                record["source"],
                tuple(value) if isinstance(value, list) else value,
                record.get("raw"),
                record.get("origin", ""),
            )
            number = record["frame"]
            (ticks[number][-1].events if ticks[number] else loose[number]).append(event)
    if not ticks:  # a take from before ticks were logged: each frame ticked at its own time
        ticks.update({r["frame"]: [Tick(r["t"], loose[r["frame"]])] for r in frames})
    return info, frames, ticks


class _Display:
    """The live display, drawn again offline: a picture goes into the video whenever the
    take's video was due one (``fps`` from the take's start), as the live take did."""

    def __init__(self, compositor: Any, surface: Any, video: Any, start: float, fps: int):
        self.compositor, self.surface, self.video = compositor, surface, video
        self.start, self.fps = start, fps
        self._next = 0  # the first frame slot of the video still to fill

    def draw(self, frame: Frame | None, now: float, flash: float) -> None:
        since = now - self.start
        if frame is None or since * self.fps < self._next:
            return
        self.video.write(composite(self.compositor, self.surface, frame, flash), time=since)
        self._next = math.floor(since * self.fps) + 1

    def last(self, frame: Frame | None, flash: float) -> None:
        """The last frame, in the next free slot: the live display showed it until the end."""
        self.draw(frame, self.start + self._next / self.fps, flash)


def replay(
    folder: Path,
    generator: Generator,
    out: Path,
    overrides: dict[str, Any],
    size: tuple[int, int] | None = None,
) -> ReplayResult:
    """Render ``folder`` into ``out`` (video at ``size``, with the take's audio)."""
    from render.compositor import Compositor
    from render.headless import Headless
    from render.recorder import SUBFRAMES
    from render.video import VideoWriter

    info, frames, ticks = read_take(folder)
    patch = patches.load(folder / takes.PATCH)
    clock = FakeClock()
    first = frames[0]["params"] if frames else {}
    start = {k: first[k] for k in ("width", "height", "steps") if k in first}
    session = Session(patch, generator, clock=clock, overrides={**start, **overrides})
    del session.commands["learn/save"]  # a replay plays; it writes nothing but its video
    session.prepare()
    session.ticked = True  # the logged ticks, not each step, apply the input
    same = all(first.get(k) == session.store.get(k) for k in ("width", "height", "steps"))
    fps = int(info.get("fps", 30))
    began = info["t"] if info["t"] is not None else (frames[0]["t"] if frames else 0.0)
    size = size or (session.store.get("width"), session.store.get("height"))
    audio = _take_audio(folder / takes.VIDEO)
    if audio and not audio[1]:
        audio = None
    result = ReplayResult(len(frames), 0, 0)
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
        display = _Display(Compositor(surface.ctx), surface, video, began, fps)
        shown: Frame | None = None
        try:
            for record in tqdm(frames, desc=f"replaying {folder.name}", unit="frame"):
                # 1. The display's ticks before this frame: input, mappings, pictures.
                for tick in ticks.get(record["frame"], []):
                    clock.set(tick.time)
                    session.tick(tick.time, tick.events)
                    display.draw(shown, tick.time, float(session.store.get("flash")))
                # 2. The frame itself, checked against the take's fingerprint.
                clock.set(float(record["t"]))
                shown = session.step()
                if same and shown.snapshot["steps"] == record["params"].get("steps"):
                    result.compared += 1
                    result.identical += digest(shown.image) == record["sha1"]
            display.last(shown, float(session.store.get("flash")))
            if audio:
                for block, start_sample in audio[1]:
                    video.write_audio(block, start=start_sample)
            result.pictures = video.frames_written
        finally:
            display.compositor.release()
            session.close()
    return result


def _take_audio(video: Path) -> tuple[int, list[tuple[Any, int]]] | None:
    """The take's audio as (rate, [(samples (n, channels) float32, first sample)]), if any."""
    import av

    from render.video import read_audio

    if not video.exists():
        return None
    try:
        return read_audio(video)
    except (OSError, av.error.InvalidDataError) as exc:
        log.warning("cannot read the take's audio from %s: %s", video, exc)
        return None
