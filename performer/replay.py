"""Replay: render a recorded take again, offline, at any resolution and step count.

The control log is fed back through the same session (mappings, timelines, cues and
generator) on a fake clock: frame by frame, the ticks that led to it live (the display's
moments of applying input and mappings) run again at the same performance times, with
the same events. With the same model, resolution and steps, each generated frame is
checked against the fingerprint logged live.
"""

from __future__ import annotations

import json
import logging
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
from performer.session import Session, Tick

log = logging.getLogger(__name__)


@dataclass
class ReplayResult:
    frames: int
    compared: int  # frames whose fingerprint could be checked (same size and steps)
    identical: int


def read_take(folder: Path) -> tuple[dict[str, Any], list[dict[str, Any]], dict[int, list[Tick]]]:
    """The take's info, its frame records and the ticks that led to each frame."""
    if not (folder / takes.INFO).is_file():
        raise FileNotFoundError(f"{folder} is not a take (no {takes.INFO})")
    info = json.loads((folder / takes.INFO).read_text(encoding="utf-8"))
    frames: list[dict[str, Any]] = []
    ticks: dict[int, list[Tick]] = defaultdict(list)
    loose: dict[int, list[Event]] = defaultdict(list)  # events with no tick line before them
    for record in takes.read_log(folder / takes.LOG):
        kind = record.get("type")
        if kind == "frame":
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
        ) as video,
    ):
        compositor = Compositor(surface.ctx)
        try:
            for record in tqdm(frames, desc=f"replaying {folder.name}", unit="frame"):
                for tick in ticks.get(record["frame"], []):
                    clock.set(tick.time)
                    session.tick(tick.time, tick.events)
                clock.set(float(record["t"]))
                frame = session.step()
                if same and frame.snapshot["steps"] == record["params"].get("steps"):
                    result.compared += 1
                    result.identical += digest(frame.image) == record["sha1"]
                video.write(
                    composite(compositor, surface, frame), index=round(float(record["t"]) * fps)
                )
            if audio:
                for block, start_sample in audio[1]:
                    video.write_audio(block, start=start_sample)
        finally:
            compositor.release()
            session.close()
    return result


def _take_audio(video: Path) -> tuple[int, list[tuple[Any, int]]] | None:
    """The take's audio as (rate, [(samples (n, 2) float32, first sample)]), if it has any."""
    import av
    import numpy as np

    if not video.exists():
        return None
    try:
        container = av.open(str(video))
    except (OSError, av.error.InvalidDataError) as exc:
        log.warning("cannot read the take's audio from %s: %s", video, exc)
        return None
    with container:
        if not container.streams.audio:
            return None
        stream = container.streams.audio[0]
        blocks = []
        try:
            for frame in container.decode(stream):
                data = frame.to_ndarray().astype(np.float32)
                if data.shape[0] == 1 and stream.channels == 2:  # packed
                    data = data.reshape(-1, 2).T
                pts = frame.pts or 0
                start = round(pts * float(stream.time_base or 0) * frame.sample_rate)
                blocks.append((np.ascontiguousarray(data.T), start))
        except av.error.InvalidDataError as exc:  # a recording cut off mid-packet
            log.warning("the take's audio ends early: %s", exc)
        return stream.rate, blocks
