"""Input latency, the source side: from a frame being due or written to ``latest()``.

    .venv/bin/python bench/input_latency.py              # file and lavfi, and the fit
    .venv/bin/python bench/input_latency.py --ndi        # also NDI on loopback (root:
                                                         # reruns itself in unshare -n)

- file: a numbered H.264 file played on the real clock; latency is the moment a frame
  is first seen from ``latest()`` minus its due time (``InputFrame.time``); the thread
  decodes ahead, so this is the handoff plus the reader's wake-up.
- lavfi: ``testsrc2`` at 30 fps through the camera's code path; latency is seen minus
  arrival (the handoff alone: FFmpeg's own buffering is not visible from here).
- ndi: an NDI sink sends numbered frames to an NDI source in the same process, over
  127.0.0.1; latency is seen minus the moment ``send()`` was called.
- fit: the cost per frame of fitting 1280×720 into 512×512, median of 200.

- show: the whole path. The embedded model plays a numbered 30 fps file as its input
  (input_mix 1) on its own thread while a headless display draws at ``--display-fps``;
  for each input frame that a generated frame started from, latency is the first draw
  showing a frame made from it (or a newer one) minus the input frame's due time.
  Reported in ms and in generated frames (over the median interval between frames),
  against the goal: p99 within 2 generated frames plus one display period.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from performer.control.video import testcard

SECONDS = 3.0
POLL_S = 0.0005
BITS = 12


def numbered(number: int) -> np.ndarray:
    return testcard.numbered(number, 192, 96, BITS)


def number_in(image: np.ndarray) -> int:
    return testcard.number_in(image, BITS)


def percentiles(latencies_s: list[float]) -> dict[str, float]:
    ms = sorted(x * 1000 for x in latencies_s)
    p99 = ms[min(len(ms) - 1, int(0.99 * len(ms)))]
    return {"frames": len(ms), "p50_ms": round(statistics.median(ms), 2), "p99_ms": round(p99, 2)}


def watch(source, clock, seconds: float, when_made) -> list[float]:  # type: ignore[no-untyped-def]
    """Latencies of every distinct frame seen from ``latest()`` within ``seconds``."""
    latencies, last = [], None
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        frame = source.latest()
        if frame is not None and frame is not last:
            made = when_made(frame)
            if made is not None:
                latencies.append(clock.now() - made)
            last = frame
        time.sleep(POLL_S)
    return latencies


def file_latency(folder: Path) -> dict[str, float]:
    import av
    from performer.control.clock import MonotonicClock
    from performer.control.video import open_source

    path = folder / "numbered.mkv"
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=30)
        stream.width, stream.height, stream.pix_fmt = 192, 96, "yuv420p"
        for n in range(90):
            container.mux(stream.encode(av.VideoFrame.from_ndarray(numbered(n))))
        container.mux(stream.encode())
    clock = MonotonicClock()
    with open_source(str(path), clock) as source:
        return percentiles(watch(source, clock, SECONDS, lambda frame: frame.time))


def lavfi_latency() -> dict[str, float]:
    from performer.control.clock import MonotonicClock
    from performer.control.video import open_source

    clock = MonotonicClock()
    spec = "ffmpeg:testsrc2=size=512x512:rate=30,realtime?format=lavfi"
    with open_source(spec, clock) as source:
        return percentiles(watch(source, clock, SECONDS, lambda frame: frame.time))


def ndi_latency() -> dict[str, float]:
    import threading

    from performer.control.clock import MonotonicClock
    from performer.control.video import open_source
    from performer.render.sinks import open_sink

    clock = MonotonicClock()
    sent: dict[int, float] = {}
    stop = threading.Event()
    sink = open_sink("ndi:input latency", fps=30)
    sink.start(192, 96)

    def send() -> None:
        n = 0
        while not stop.is_set():
            sent[n] = clock.now()
            sink.send(numbered(n), sent[n])
            n = (n + 1) % (1 << BITS)
            time.sleep(1 / 30)

    sender = threading.Thread(target=send, daemon=True)
    sender.start()
    source = open_source("ndi:input latency", clock)
    with source:
        latencies = watch(source, clock, SECONDS, lambda frame: sent.get(number_in(frame.image)))
    stop.set()
    sender.join()
    sink.stop()
    return percentiles(latencies)


def fit_cost() -> dict[str, float]:
    from performer.control.video import fit

    image = np.random.default_rng(0).integers(0, 256, (720, 1280, 3), np.uint8)
    costs = {}
    for mode in ("cover", "contain", "stretch"):
        times = []
        for _ in range(200):
            start = time.perf_counter()
            fit(image, 512, 512, mode, mirror=True)
            times.append(time.perf_counter() - start)
        costs[f"{mode}_ms"] = round(statistics.median(times) * 1000, 3)
    return costs


def in_private_network() -> int:
    """Rerun this script with --ndi-here in a network namespace with unicast NDI discovery."""
    if shutil.which("unshare") is None or os.geteuid() != 0:
        print("ndi: needs root and unshare -n (TESTBED.md, Multicast)", file=sys.stderr)
        return 1
    folder = tempfile.mkdtemp()
    config = {"ndi": {"networks": {"ips": "127.0.0.1", "discovery": ""}}}
    Path(folder, "ndi-config.v1.json").write_text(json.dumps(config))
    command = f"ip link set lo up && exec {sys.executable} {__file__} --ndi-here"
    env = {**os.environ, "NDI_CONFIG_DIR": folder}
    return subprocess.run(["unshare", "-n", "sh", "-c", command], env=env).returncode


def show_latency(folder: Path, display_fps: int, seconds: float) -> dict[str, float]:
    import av
    import torch
    from performer.control.clock import MonotonicClock
    from performer.render.headless import Headless

    from performer import patch
    from performer.generators.embedded import EmbeddedGenerator
    from performer.live import Stage
    from performer.session import Session
    from performer.video import open_input

    torch.set_num_threads(1)  # as performer play runs the embedded model
    path = folder / "numbered-show.mkv"
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=30)
        stream.width, stream.height, stream.pix_fmt = 192, 96, "yuv420p"
        for n in range(int(30 * (seconds + 2))):
            container.mux(stream.encode(av.VideoFrame.from_ndarray(numbered(n))))
        container.mux(stream.encode())
    clock = MonotonicClock()
    source = open_input(str(path) + "?loop=0", clock)
    overrides = {"input_mix": 1.0, "crossfade": 0.0, "width": 256, "height": 256}
    session = Session(patch.load("demo"), EmbeddedGenerator(), clock, overrides, source=source)
    session.prepare()
    source.start()
    shown: dict[int, float] = {}  # input number -> latency of its first display
    made: list[float] = []
    with Headless(256, 256) as surface:
        stage = Stage(session, surface, fps=display_fps)
        session.start(ticked=True)
        period, end = 1.0 / display_fps, time.perf_counter() + seconds
        while time.perf_counter() < end:
            stage.draw(clock.now())
            surface.ctx.finish()
            frame = session.latest()
            if frame is not None and frame.input is not None:
                if not made or made[-1] != frame.time:
                    made.append(frame.time)
                shown.setdefault(frame.input.number, clock.now() - frame.input.time)
            time.sleep(max(0.0, period - (time.perf_counter() % period)))
        session.stop()
        stage.close()
    session.close()
    source.stop()
    interval = statistics.median(b - a for a, b in itertools.pairwise(made))
    latencies = list(shown.values())[5:]  # the first frames pay for the start
    result = percentiles(latencies)
    result["p50_frames"] = round(result["p50_ms"] / 1000 / interval, 2)
    result["p99_frames"] = round(result["p99_ms"] / 1000 / interval, 2)
    goal = 2 * interval + 1 / display_fps
    result["goal_p99_ms"] = round(1000 * goal, 1)
    result["generated_fps"] = round(1 / interval, 1)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ndi", action="store_true", help="also NDI on loopback (root)")
    parser.add_argument("--ndi-here", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--display-fps", type=int, default=60, help="the show's display rate")
    parser.add_argument("--seconds", type=float, default=8.0, help="how long the show plays")
    parser.add_argument("--only-show", action="store_true", help="only the whole path")
    args = parser.parse_args()
    if args.ndi_here:
        print(json.dumps({"ndi": ndi_latency()}))
        return 0
    with tempfile.TemporaryDirectory() as folder:
        show = show_latency(Path(folder), args.display_fps, args.seconds)
        print(json.dumps({f"show (display {args.display_fps} Hz)": show}))
        if args.only_show:
            return 0
        print(json.dumps({"file": file_latency(Path(folder))}))
    print(json.dumps({"lavfi": lavfi_latency()}))
    print(json.dumps({"fit 1280x720 -> 512x512": fit_cost()}))
    return in_private_network() if args.ndi else 0


if __name__ == "__main__":
    sys.exit(main())
