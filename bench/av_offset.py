"""A/V offset in a take: how long after its click a flash lands in the recorded file.

Starts a private JACK server on the dummy driver (needs jackd2 and PortAudio), plays a
click train into the instrument, plays a patch that maps ``audio:hit`` to ``flash``
while recording a take, then finds the flashes and the clicks in the take's own file
with PyAV and prints flash minus click for each.

    .venv/bin/python bench/av_offset.py --bpm 100 --seconds 4   (one take per invocation)
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from performer.control.jack import PERIOD, RATE, ClickTrain, connect, dummy_server

PATCH = """
[params]
crossfade = 0.0
[[mappings]]
source = "audio:hit"
param = "flash"
"""


def flash_and_click_times(video: Path) -> tuple[list[float], list[float]]:
    """Times of the flashes (a frame turning white) and of the clicks in a take's file."""
    import av

    with av.open(str(video)) as container:
        vstream = container.streams.video[0]
        frames = [
            (
                float((f.pts or 0) * (vstream.time_base or 0)),
                float(f.to_ndarray(format="gray").mean()),
            )
            for f in container.decode(vstream)
        ]
    clicks: list[float] = []
    with av.open(str(video)) as container:
        astream = container.streams.audio[0]
        for f in container.decode(astream):  # each block at its own time: audio has gaps
            start = float((f.pts or 0) * (astream.time_base or 0))
            loud = np.abs(f.to_ndarray()[0]) > 0.4
            for i in np.flatnonzero(loud):
                t = start + i / (astream.rate or RATE)
                if not clicks or t - clicks[-1] > 0.1:  # a click is 48 samples: its first edge
                    clicks.append(t)
    flashes = [
        t
        for (t, level), (_, before) in zip(frames[1:], frames[:-1], strict=False)
        if level > 150 >= before
    ]
    return flashes, clicks


def play_click_take(
    sd: Any, model: Path, bpm: float, seconds: float, fps: int, takes: Path, tone: float
) -> Path:
    """Record a take of the flash patch hearing a click train; returns its folder."""
    from performer.control.events import Inbox
    from performer.render.headless import Headless

    from performer import patch
    from performer.generators.diffusion import DiffusersGenerator
    from performer.inputs import InputOptions, Inputs
    from performer.live import Stage, play
    from performer.session import Session

    inbox = Inbox()
    options = InputOptions(
        osc_port=None, midi_virtual=False, audio_in="system", audio_channels=(1,)
    )
    inputs = Inputs(options, inbox)  # the audio input owns the clock
    session = Session(
        patch.loads(PATCH),
        DiffusersGenerator(str(model)),
        clock=inputs.clock,
        inbox=inbox,
        overrides={"width": 16, "height": 16},
    )
    session.prepare()
    inputs.start(session)
    out = ClickTrain(sd, bpm, tone=tone).stream
    try:
        connect("PortAudio:out_0", "PortAudio:in_0")
        out.start()
        with Headless(64, 64) as surface:
            stage = Stage(session, surface, fps=fps, takes=takes)
            stage.audio = inputs.audio
            stage.record(True)
            folder: Path = stage.take.folder
            play(stage, seconds)
            stage.close()
    finally:
        out.stop()
        out.close()
        overflows = inputs.audio.overflows if inputs.audio else 0
        inputs.stop()
        print(f"input overflows: {overflows}")
        session.close()
    return folder


def offsets(flashes: list[float], clicks: list[float]) -> list[float]:
    """Each flash minus the click nearest to it, in seconds."""
    return [min((f - c for c in clicks), key=abs) for f in flashes]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bpm", type=float, default=100.0)
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--fps", type=int, default=30)
    parser.add_argument("--tone", type=float, default=0.05, help="peak of the 1 kHz tone under it")
    args = parser.parse_args()
    name = f"performer-av-{os.getpid()}"
    os.environ.update(JACK_DEFAULT_SERVER=name, JACK_NO_START_SERVER="1")
    with dummy_server(name, RATE, PERIOD), tempfile.TemporaryDirectory() as tmp:
        from performer.control.audio import load_sounddevice

        from performer.generators.tiny import save_tiny_pipeline

        folder = play_click_take(
            load_sounddevice(),
            save_tiny_pipeline(Path(tmp) / "sd"),
            args.bpm,
            args.seconds,
            args.fps,
            Path(tmp),
            args.tone,
        )
        flashes, clicks = flash_and_click_times(folder / "video.mp4")
        delay = json.loads((folder / "take.json").read_text())["audio_delay_s"]
    found = offsets(flashes, clicks)
    ms = [round(1000 * float(o), 1) for o in found]
    median = statistics.median(found)
    print(
        f"{len(clicks)} clicks, {len(flashes)} flashes; "
        f"the take's audio delay {1000 * delay:.1f} ms"
    )
    print(
        f"flash - click (ms): {ms}; median {1000 * median:.1f} ms "
        f"= {median * args.fps:.2f} frames at {args.fps} fps"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
