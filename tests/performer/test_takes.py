"""Takes: recorded, killed, starved of disk, listed and replayed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

import av
import numpy as np
import pytest
from performer.control.events import Event

from performer import live, patch
from performer.generators import Generator
from performer.generators.diffusion import DiffusersGenerator
from performer.generators.embedded import EmbeddedGenerator
from performer.live import Stage
from performer.replay import replay
from performer.session import Session
from performer.take import list_takes, read_log, read_take
from performer.take.recorder import TakeRecorder
from tests.helpers import frames_in, needs_ffprobe, video_seconds

PATCH = """
[params]
crossfade = 0.0
zoom = 1.02
[scenes.late]
era = 2000
[cues.late]
scene = "late"
quantize = "beat"
"""


@dataclass
class Played:
    take: TakeRecorder
    drawn: int
    session: Session


def play(
    generator: Generator,
    takes: Path,
    seconds: float,
    events: tuple[tuple[float, str, object], ...] = (),
    size: tuple[int, int] = (48, 32),
    overrides: dict[str, object] | None = None,
) -> Played:
    """Play the test patch headless for ``seconds`` while recording a take, feeding
    ``events`` (time, source, value) as they fall due."""
    from performer.render.headless import Headless

    start = {"width": 32, "height": 32, **(overrides or {})}
    session = Session(patch.loads(PATCH), generator, overrides=start)
    session.prepare()
    pending = list(events)

    def feed(frame: object, _: object) -> None:
        while pending and session.clock.now() >= pending[0][0]:
            _, source, value = pending.pop(0)
            session.inbox.put(Event(session.clock.now(), source, value), coalesce=False)

    session.subscribe(feed)
    with Headless(*size) as surface:
        stage = Stage(session, surface, fps=20, takes=takes)
        stage.record(True)
        take = stage.take
        drawn = live.play(stage, seconds)
        stage.close()
    session.close()
    return Played(take, drawn, session)


@pytest.mark.slow
@needs_ffprobe
def test_replay_reproduces_every_frame_and_renders_larger(
    tiny_models: dict[str, Path], tmp_path: Path
) -> None:
    take = play(
        DiffusersGenerator(str(tiny_models["sd"])),
        tmp_path,
        1.5,
        ((0.3, "param:era", 1850.0), (0.6, "scene", "late"), (0.9, "param:seed", 3)),
    ).take.folder
    log = list(read_log(take / "control.jsonl"))
    sources = [r["source"] for r in log if r["type"] == "event"]
    assert "param:era" in sources and "scene" in sources
    frames = [r for r in log if r["type"] == "frame"]
    assert read_take(take).frames[-1]["params"]["era"] == 2000.0, "the cued scene took over"
    ticks = [r["t"] for r in log if r["type"] == "tick"]
    assert len(ticks) >= 20 and ticks == sorted(ticks), "the display ticked at 20 fps, in order"

    same = replay(take, DiffusersGenerator(str(tiny_models["sd"])), tmp_path / "same.mp4", {})
    assert same.frames == len(frames) and same.compared == same.frames
    assert same.identical == same.frames, "same model, size and steps: bit-identical on CPU"

    hq = replay(
        take,
        DiffusersGenerator(str(tiny_models["sd"])),
        tmp_path / "hq.mp4",
        {"width": 64, "height": 64, "steps": 2},
        size=(128, 128),
    )
    assert hq.compared == 0
    count, width, height = frames_in(tmp_path / "hq.mp4")
    shown, _, _ = frames_in(take / "video.mp4")
    assert (width, height) == (128, 128) and abs(count - shown) <= 1, "the display's pictures"

    (summary,) = list_takes(tmp_path)
    assert summary.frames == len(frames) and summary.patch == "untitled"


@pytest.mark.slow
def test_a_take_played_with_set_values_replays_from_them(tmp_path: Path) -> None:
    """``performer play --set timestep=0.95``: the replay starts from the values the take
    began with (its header), not from the patch alone; it matched 0 of 194 frames."""
    take = play(EmbeddedGenerator(), tmp_path, 1.0, overrides={"timestep": 0.95, "seed": 7})
    folder = take.take.folder
    again = replay(folder, EmbeddedGenerator(), tmp_path / "again.mp4", {})
    assert again.frames > 5 and again.identical == again.frames


def _pictures(video: Path) -> list[tuple[float, np.ndarray]]:
    """(time, RGB picture) of every picture in ``video``."""
    with av.open(str(video)) as container:
        stream = container.streams.video[0]
        return [
            (float((f.pts or 0) * (stream.time_base or 0)), f.to_ndarray(format="rgb24"))
            for f in container.decode(stream)
        ]


def _apart(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a.astype(np.int16) - b.astype(np.int16)).mean())


@pytest.mark.slow
@needs_ffprobe
def test_a_replay_shows_what_the_display_showed_when_it_showed_it(tmp_path: Path) -> None:
    """The embedded model makes several frames per displayed picture. The replay draws
    the display again at its logged ticks: as many pictures as the take, over the same
    span, each the generated frame that was on screen then (the one before the frame in
    the making), so the take's audio lines up with them as it did."""
    played = play(EmbeddedGenerator(), tmp_path / "takes", 1.5)
    take = played.take.folder
    frames = [r for r in read_log(take / "control.jsonl") if r["type"] == "frame"]
    live = _pictures(take / "video.mp4")
    assert len(frames) > len(live), "the model must outrun the 20 fps display for this test"

    result = replay(take, EmbeddedGenerator(), tmp_path / "replay.mp4", {}, size=(48, 32))
    assert result.identical == result.compared == len(frames)
    again = _pictures(tmp_path / "replay.mp4")
    assert len(again) == len(live) == result.pictures
    # The take's first picture is moved to 0 by the muxer: compare from the second.
    span, span_again = live[-1][0] - live[1][0], again[-1][0] - again[1][0]
    assert span_again == pytest.approx(span, abs=0.002)
    # Each picture against the take's at the same place, and against the take's next
    # one: H.264 leaves ~3.5 levels between the same pictures, neighbours differ by ~6.5
    # (a frame early, as replays drew at first, gave ~5.9).
    same = np.median([_apart(x, y) for (_, x), (_, y) in zip(live, again, strict=True)])
    next_ = np.median([_apart(x, y) for (_, x), (_, y) in pairwise(live)])
    assert same < 0.7 * next_, f"pictures {same:.2f} apart from the take's, neighbours {next_:.2f}"


@pytest.mark.slow
@needs_ffprobe
def test_a_killed_recording_stays_playable(tiny_models: dict[str, Path], tmp_path: Path) -> None:
    takes = tmp_path / "takes"
    player = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "performer.cli",
            "play",
            "--headless",
            "--seconds",
            "60",
            "--model",
            str(tiny_models["sd"]),
            "--width",
            "64",
            "--height",
            "64",
            "--takes",
            str(takes),
            "--no-osc",
            "--no-midi-virtual",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            videos = list(takes.glob("*/video.mp4"))
            if videos and videos[0].stat().st_size > 20_000:
                break
            time.sleep(0.2)
        time.sleep(1.3)  # a random-ish moment mid-fragment
    finally:
        player.send_signal(signal.SIGKILL)
        player.wait()
    (take,) = takes.iterdir()
    lines = (take / "control.jsonl").read_text().splitlines()
    parsed = []
    for line in lines[:-1]:
        parsed.append(json.loads(line))  # every line but the last is whole
    header, last = parsed[0], [r for r in parsed if r["type"] == "frame"][-1]
    played = last["t"] - header["t"]
    seconds = video_seconds(take / "video.mp4")
    ffmpeg = subprocess.run(
        ["ffmpeg", "-v", "error", "-i", str(take / "video.mp4"), "-f", "null", "-"],
        capture_output=True,
        text=True,
    )
    assert ffmpeg.returncode == 0
    assert seconds >= played - 0.5, f"video reaches {seconds:.2f} s of {played:.2f} s played"


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Iterator[Path]:
    disk = tmp_path / "disk"
    disk.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=96k", "tmpfs", str(disk)], capture_output=True
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here: {mounted.stderr.decode().strip()}")
    yield disk
    subprocess.run(["umount", "-l", str(disk)], check=False)


@pytest.mark.slow
def test_a_full_disk_stops_the_recording_not_the_show(
    tiny_models: dict[str, Path], tiny_disk: Path
) -> None:
    played = play(DiffusersGenerator(str(tiny_models["sd"])), tiny_disk, 2.0, size=(256, 256))
    assert played.drawn == 40, "the show went on"
    problems = f"{played.take.recorder.error} {played.take.log.error}"
    assert "No space left on device" in problems, problems


@pytest.mark.slow
def test_probe_captures_era_statistics_into_the_take(
    tiny_models: dict[str, Path], tmp_path: Path
) -> None:
    from performer.probe.capture import read_captures

    played = play(
        DiffusersGenerator(str(tiny_models["sd"])),
        tmp_path,
        1.0,
        ((0.2, "probe", True),),
        size=(32, 32),
    )
    (probe,) = read_captures(played.take.folder / "control.jsonl")
    assert probe["params"]["era"] == played.session.store.get("era")
    assert 0.0 <= probe["stats"]["saturation"] <= 1.0 and "scanline" in probe["stats"]
