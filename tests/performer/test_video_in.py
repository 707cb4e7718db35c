"""Video in and out of the instrument: a file offline and live, FFmpeg's lavfi as a
device, NDI out on loopback, and bad sources and sinks in one line."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest
from performer.control.clock import FakeClock
from performer.control.video import open_source

from performer import patch
from performer.generators.diffusion import DiffusersGenerator
from performer.generators.embedded import EmbeddedGenerator
from performer.offline import FrameExact
from performer.session import Session
from tests.helpers import in_private_network, needs_private_network

PERFORMER = [sys.executable, "-m", "performer.cli"]
QUIET = ["--no-osc", "--no-oscquery", "--no-midi-virtual"]


def write_blinking(path: Path, frames: int, fps: int, every: int = 1) -> Path:
    """Dark and bright pictures taking turns every ``every`` frames, with a bar that grows
    (so no two frames are alike)."""
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width = stream.height = 96
        stream.pix_fmt, stream.options = "yuv420p", {"crf": "12"}
        for n in range(frames):
            image = np.full((96, 96, 3), 220 if (n // every) % 2 else 30, np.uint8)
            image[:, : (n * 6) % 96] = 128
            container.mux(stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")))
        container.mux(stream.encode())
    return path


def brightness(video: Path) -> list[float]:
    with av.open(str(video)) as container:
        return [float(f.to_ndarray(format="rgb24").mean()) for f in container.decode(video=0)]


def run(*args: str, cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*PERFORMER, *args], cwd=cwd, capture_output=True, text=True, timeout=timeout
    )


@pytest.mark.slow
def test_an_offline_render_takes_frame_n_from_frame_n_of_the_file(tmp_path: Path) -> None:
    """At the same fps, output frame N starts from input frame N: dark, bright, dark...
    An offset of one frame would turn every comparison round."""
    source = write_blinking(tmp_path / "in.mp4", 16, 10)
    out = run("render", "--input", str(source), "--frames", "16", "--fps", "10",
              "--out", "out.mp4", cwd=tmp_path)  # fmt: skip
    assert out.returncode == 0, out.stderr
    means = brightness(tmp_path / "out.mp4")
    assert len(means) == 16
    for n in range(1, 15, 2):  # every bright frame stands above both dark neighbours
        assert means[n] > means[n - 1] + 10 and means[n] > means[n + 1] + 10, means


def _frames(generator: object, source: object, mix: float, count: int = 5) -> list[np.ndarray]:
    clock = FakeClock()
    if source is not None:
        source = FrameExact(source, clock)  # type: ignore[arg-type]
    overrides = {"width": 32, "height": 32, "input_mix": mix, "timestep": 0.6}
    session = Session(patch.loads(""), generator, clock, overrides, source=source)  # type: ignore[arg-type]
    session.prepare()
    frames = []
    for n in range(count):
        clock.set(n / 10)
        frames.append(session.step().image)
    session.close()
    return frames


@pytest.mark.parametrize("model", ["embedded", "sd"])
def test_input_mix_zero_is_the_instrument_without_input_and_one_follows_it(
    model: str, tiny_models: dict[str, Path], tmp_path: Path
) -> None:
    def make() -> object:
        if model == "embedded":
            return EmbeddedGenerator()
        return DiffusersGenerator(str(tiny_models[model]), device="cpu")

    movie = write_blinking(tmp_path / "in.mp4", 8, 10)
    plain = _frames(make(), None, 0.0)
    unmixed = _frames(make(), open_source(str(movie), FakeClock()), 0.0)
    mixed = _frames(make(), open_source(str(movie), FakeClock()), 1.0)
    assert all(np.array_equal(a, b) for a, b in zip(plain, unmixed, strict=True))
    assert not any(np.array_equal(a, b) for a, b in zip(plain, mixed, strict=True))


@pytest.mark.slow
def test_live_play_follows_the_file_on_the_clock(tmp_path: Path) -> None:
    """The file turns bright and dark every 0.4 s; the take's own video does too."""
    source = write_blinking(tmp_path / "in.mp4", 40, 10, every=4)
    out = run("play", "--headless", "--seconds", "3", "--input", str(source),
              "--takes", "takes", *QUIET, cwd=tmp_path)  # fmt: skip
    assert out.returncode == 0, out.stderr
    (take,) = (tmp_path / "takes").iterdir()
    means = brightness(take / "video.mp4")
    middle = (max(means) + min(means)) / 2
    turns = sum(1 for a, b in itertools.pairwise(means) if (a > middle) != (b > middle))
    assert turns >= 4, means  # 7 turns in 3 s; the first picture fades in from black


@pytest.mark.slow
def test_lavfi_plays_through_the_device_path(tmp_path: Path) -> None:
    lavfi = "ffmpeg:testsrc2=size=160x120:rate=15,realtime?format=lavfi"
    out = run("play", "--headless", "--seconds", "2", "--input", lavfi, "--takes", "takes",
              *QUIET, cwd=tmp_path)  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert "video in: " + lavfi in out.stderr
    (take,) = (tmp_path / "takes").iterdir()
    means = brightness(take / "video.mp4")
    assert len(means) > 20 and max(means) - min(means) > 5


@pytest.mark.slow
@pytest.mark.parametrize(
    ("option", "said"),
    [
        (["--input", "nothere.mp4"], "input 'nothere.mp4': no such file"),
        (["--input", "webcam:1"], "is not one of"),
        (["--output", "rtmp:x"], "output 'rtmp:x' is not one of"),
        (["--output", "ndi:x?frames=all"], "the only option is ?frames="),
    ],
)
def test_a_bad_source_or_sink_is_one_line_before_the_show(
    tmp_path: Path, option: list[str], said: str
) -> None:
    out = run("play", "--headless", "--seconds", "1", *option, *QUIET, cwd=tmp_path)
    lines = [line for line in out.stderr.splitlines() if line.startswith("performer: error")]
    assert out.returncode == 2 and len(lines) == 1 and said in lines[0], out.stderr


def in_ndi_network(folder: Path, script: str) -> dict[str, Any]:
    """Run ``script`` in ``folder`` inside a private network whose NDI finds senders by
    unicast on 127.0.0.1 (as TESTBED.md found works); its last line is JSON."""
    config = folder / "ndi"
    config.mkdir()
    settings = {"ndi": {"networks": {"ips": "127.0.0.1", "discovery": ""}}}
    (config / "ndi-config.v1.json").write_text(json.dumps(settings))
    where = f"os.environ['NDI_CONFIG_DIR'] = {str(config)!r}; os.chdir({str(folder)!r})"
    done = in_private_network(f"import os\n{where}\n" + textwrap.dedent(script), timeout=180)
    assert done.returncode == 0, done.stderr[-2000:]
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


NDI_PEER = """
import json, os, subprocess, sys, time
from performer.control.clock import MonotonicClock
from performer.control.video import open_source

show = subprocess.Popen(
    [sys.executable, "-m", "performer.cli", "play", "--headless", "--seconds", "6",
     "--output", "ndi:performer e2e", "--no-osc", "--no-oscquery", "--no-midi-virtual"],
    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
source = open_source("ndi:E2E", MonotonicClock())
deadline, seen = time.monotonic() + 20, {}
while time.monotonic() < deadline and len(seen) < 30:
    try:
        source.start()
    except Exception:
        time.sleep(0.2)
        continue
    frame = source.latest()
    if frame is not None:
        seen[frame.number] = float(frame.image.mean())
    time.sleep(0.02)
source.stop()
_, err = show.communicate(timeout=60)
print(json.dumps({"frames": len(seen), "means": sorted(set(round(m) for m in seen.values())),
                  "size": None, "rc": show.returncode, "err": err[-500:]}))
"""


@pytest.mark.slow
@needs_private_network
def test_the_instrument_sends_its_picture_over_ndi(tmp_path: Path) -> None:
    """performer play --output ndi:NAME, received by an NDI source in the same private
    network (unicast discovery on 127.0.0.1, as TESTBED.md found works)."""
    result = in_ndi_network(tmp_path, NDI_PEER)
    assert result["rc"] == 0, result["err"]
    assert result["frames"] >= 30 and len(result["means"]) > 3, result


NDI_TAKE = """
import json, re, subprocess, sys, threading, time
import numpy as np
from performer.render.sinks import open_sink

sink = open_sink("ndi:camera e2e", fps=30)
sink.start(96, 96)
stop = threading.Event()

def send():
    n = 0
    while not stop.is_set():
        image = np.full((96, 96, 3), 40 + (n * 7) % 180, np.uint8)
        image[:, : (n * 5) % 96] = 230
        sink.send(image, time.monotonic())
        n += 1
        time.sleep(1 / 30)

threading.Thread(target=send, daemon=True).start()
play = subprocess.run(
    [sys.executable, "-m", "performer.cli", "play", "--headless", "--seconds", "4",
     "--input", "ndi:CAMERA E2E", "--set", "input_mix=0.6", "--takes", "takes",
     "--no-osc", "--no-oscquery", "--no-midi-virtual"], capture_output=True, text=True)
stop.set()
sink.stop()
import pathlib
(take,) = pathlib.Path("takes").iterdir()
again = subprocess.run(
    [sys.executable, "-m", "performer.cli", "render", str(take), "--out", "again.mp4"],
    capture_output=True, text=True)
same = re.search(r"(\\d+) of (\\d+) frames bit-identical", again.stderr)
inputs = sum(1 for line in (take / "control.jsonl").open() if '"type":"input"' in line)
err = (play.stderr + again.stderr)[-800:]
print(json.dumps({"play": play.returncode, "render": again.returncode, "inputs": inputs,
                  "same": same.groups() if same else None, "err": err}))
"""


@pytest.mark.slow
@needs_private_network
def test_an_ndi_driven_take_replays_bit_identically_from_its_recorded_input(
    tmp_path: Path,
) -> None:
    result = in_ndi_network(tmp_path, NDI_TAKE)
    assert result["play"] == 0 and result["render"] == 0, result["err"]
    assert result["inputs"] > 20, result
    assert result["same"] is not None and result["same"][0] == result["same"][1], result
