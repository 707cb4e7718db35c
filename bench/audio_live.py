"""Live audio on a private JACK dummy server: callback cost, onset latency, clock rate.

Plays a 120 BPM click train through JACK into an :class:`~performer.control.audio.AudioInput`
for ``--seconds`` and prints how long the audio callback takes, how late onset events
reach the inbox (performance time when drained − time the click sounded), and how far
the audio clock's rate is from the monotonic clock's::

    .venv/bin/python bench/audio_live.py --seconds 10
"""

from __future__ import annotations

import argparse
import os
import subprocess
import time
from typing import Any

import numpy as np

RATE, PERIOD = 48000, 256


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    name = f"performer-audio-bench-{os.getpid()}"
    os.environ["JACK_DEFAULT_SERVER"] = name  # before PortAudio initialises
    os.environ["JACK_NO_START_SERVER"] = "1"
    command = ["jackd", "--no-realtime", "-n", name, "-d", "dummy", "-r", str(RATE)]
    server = subprocess.Popen(
        [*command, "-p", str(PERIOD)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        subprocess.run(["jack_wait", "-w", "-t", "10"], check=True, capture_output=True)
        run(args.seconds)
    finally:
        server.terminate()
        server.wait(timeout=10)


def run(seconds: float) -> None:
    import sounddevice as sd
    from performer.control.audio import AudioInput
    from performer.control.events import Inbox

    costs: list[float] = []

    class Timed(AudioInput):
        def _callback(self, indata: Any, frames: int, stream_time: Any, status: Any) -> None:
            start = time.perf_counter()
            super()._callback(indata, frames, stream_time, status)
            costs.append(time.perf_counter() - start)

    played = [0]

    def play(outdata: Any, frames: int, _time: Any, _status: Any) -> None:
        n = np.arange(played[0], played[0] + frames)
        outdata[:, 0] = np.where(n % (RATE // 2) < 48, 0.8 * np.sign(np.sin(n)), 0.0)
        played[0] += frames

    inbox = Inbox()
    audio = Timed("system", (1,), inbox, samplerate=RATE, blocksize=PERIOD)
    clicks = sd.OutputStream(
        device="system", channels=1, samplerate=RATE, blocksize=PERIOD, callback=play
    )
    audio.start()
    subprocess.run(["jack_connect", "PortAudio:out_0", "PortAudio:in_0"], check=True)
    clicks.start()
    latencies: list[float] = []
    perf0, clock0 = time.perf_counter(), audio.clock.now()
    while time.perf_counter() < perf0 + seconds:
        time.sleep(1 / 60)  # a frame loop draining at 60 Hz
        now = audio.clock.now()
        latencies += [now - e.time for e in inbox.drain(now) if e.source == "audio:onset"]
    perf1, clock1 = time.perf_counter(), audio.clock.now()
    clicks.stop()
    clicks.close()
    audio.stop()
    c = np.array(costs) * 1e6
    lat = np.array(latencies) * 1e3
    print(f"{len(c)} callbacks: {np.median(c):.0f} µs median, p99 {np.percentile(c, 99):.0f} µs,")
    print(f"  max {c.max():.0f} µs (the block lasts {PERIOD / RATE * 1e6:.0f} µs)")
    print(
        f"{len(lat)} onsets: sound → drained by a 60 Hz loop {np.median(lat):.1f} ms median, "
        f"max {lat.max():.1f} ms"
    )
    rate = (clock1 - clock0) / (perf1 - perf0)
    print(f"audio clock rate / monotonic: {rate:.6f}; overflows {audio.overflows}")


if __name__ == "__main__":
    main()
