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

The generator-to-display part joins when ``--input`` is wired into the show.
"""

from __future__ import annotations

import argparse
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

SECONDS = 3.0
POLL_S = 0.0005
BITS = 12


def numbered(number: int, width: int = 192, height: int = 96) -> np.ndarray:
    image = np.full((height, width, 3), 16, np.uint8)
    block = width // BITS
    for bit in range(BITS):
        if number >> bit & 1:
            image[:, bit * block : (bit + 1) * block] = 235
    return image


def number_in(image: np.ndarray) -> int:
    height, width = image.shape[:2]
    block = width / BITS
    middle = image[height // 4 : 3 * height // 4]
    centres = [int((bit + 0.5) * block) for bit in range(BITS)]
    return sum(1 << b for b, c in enumerate(centres) if middle[:, c - 2 : c + 3].mean() > 128)


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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ndi", action="store_true", help="also NDI on loopback (root)")
    parser.add_argument("--ndi-here", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.ndi_here:
        print(json.dumps({"ndi": ndi_latency()}))
        return 0
    with tempfile.TemporaryDirectory() as folder:
        print(json.dumps({"file": file_latency(Path(folder))}))
    print(json.dumps({"lavfi": lavfi_latency()}))
    print(json.dumps({"fit 1280x720 -> 512x512": fit_cost()}))
    return in_private_network() if args.ndi else 0


if __name__ == "__main__":
    sys.exit(main())
