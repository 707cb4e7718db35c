"""Real-time audio and MIDI with no sound card: a private JACK server on the dummy
driver, and a click train to play into the instrument. Tests and benches use these.

    with dummy_server("performer-test") as name:
        os.environ["JACK_DEFAULT_SERVER"] = name   # JACK clients in this process use it
        ...
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

RATE, PERIOD = 48000, 256


def die_with_parent() -> None:
    """In a child (``preexec_fn``): get SIGTERM when the parent dies, so no server
    (jackd, Xvfb) outlives a killed test, even if its finalizers never run."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes
    import signal

    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(1, signal.SIGTERM) != 0:  # 1 = PR_SET_PDEATHSIG
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")


def missing() -> str | None:
    """Why a dummy server cannot run here, or None when it can."""
    if shutil.which("jackd") is None or shutil.which("jack_wait") is None:
        return "jackd not found (Debian package: jackd2)"
    return None


def start_server(name: str, rate: int = RATE, period: int = PERIOD) -> subprocess.Popen[bytes]:
    """Start ``jackd -n NAME -d dummy`` and wait until it is up; the caller stops it, with
    ``terminate()``: a server killed outright keeps its slot in JACK's registry of 8.

    Raises FileNotFoundError without jackd (Debian: jackd2) and RuntimeError if it will
    not start.
    """
    reason = missing()
    if reason is not None:
        raise FileNotFoundError(reason)
    server = subprocess.Popen(
        ["jackd", "--no-realtime", "-n", name, "-d", "dummy", "-r", str(rate), "-p", str(period)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        preexec_fn=die_with_parent,
    )
    ready = subprocess.run(["jack_wait", "-w", "-s", name, "-t", "10"], capture_output=True)
    if ready.returncode != 0:
        server.terminate()
        server.wait(timeout=10)
        raise RuntimeError(f"jackd {name!r} did not start: {ready.stdout!r} {ready.stderr!r}")
    return server


@contextmanager
def dummy_server(name: str, rate: int = RATE, period: int = PERIOD) -> Iterator[str]:
    """Run a dummy server (:func:`start_server`) until the block ends; yields its name."""
    server = start_server(name, rate, period)
    try:
        yield name
    finally:
        server.terminate()
        server.wait(timeout=10)


def connect(source: str, destination: str) -> None:
    subprocess.run(["jack_connect", source, destination], check=True, capture_output=True)


class ClickTrain:
    """Plays clicks (48 samples of square wave) at ``bpm`` over a quiet 1 kHz tone
    (peak ``tone``: 0.05 is RMS 0.035) out of the JACK ``system`` device;
    ``stream.start()`` begins it."""

    def __init__(
        self, sd: Any, bpm: float, rate: int = RATE, period: int = PERIOD, tone: float = 0.05
    ):
        self.rate, self.tone = rate, tone
        self.every = round(60.0 / bpm * rate)
        self.played = 0
        self.stream = sd.OutputStream(
            device="system", channels=1, samplerate=rate, blocksize=period, callback=self._play
        )

    def _play(self, outdata: Any, frames: int, _time: Any, _status: Any) -> None:
        n = np.arange(self.played, self.played + frames)
        tone = self.tone * np.sin(2 * np.pi * 1000 / self.rate * n)
        outdata[:, 0] = np.where(n % self.every < 48, 0.8 * np.sign(np.sin(n)), tone)
        self.played += frames


# A controller in its own process: a virtual JACK MIDI output that moves one slider
# (CC ``control`` on channel 1) up and down at ``rate`` messages a second. Its own
# process, so its sending never shares the instrument's GIL, as a real one's would not.
_CC_PEER = """
import os, sys, time
import rtmidi
port, rate, seconds, control = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
try:  # a hardware controller is never starved by the machine's load: a test's peer stands in
    os.nice(-10)
except OSError:  # not allowed here: the peer plays at normal priority
    pass
out = rtmidi.MidiOut(rtapi=rtmidi.API_UNIX_JACK, name="cc-peer")
out.open_virtual_port(port)
print("ready", flush=True)
start = time.monotonic()
sent = 0
while (now := time.monotonic()) - start < seconds:
    value = sent % 254 if sent % 254 < 128 else 253 - sent % 254  # 0..127..0
    out.send_message([0xB0, control, value])
    sent += 1
    time.sleep(max(0.0, start + sent / rate - time.monotonic()))
print(sent, flush=True)
"""


def cc_peer(
    server: str, port: str, rate: float, seconds: float, control: int = 0
) -> subprocess.Popen[str]:
    """Start a controller process on JACK ``server`` (see ``_CC_PEER``); it prints
    ``ready`` once its port exists, then the number of messages sent when done."""
    import os

    peer = subprocess.Popen(
        [sys.executable, "-c", _CC_PEER, port, str(rate), str(seconds), str(control)],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "JACK_DEFAULT_SERVER": server, "JACK_NO_START_SERVER": "1"},
        preexec_fn=die_with_parent,
    )
    assert peer.stdout is not None
    if peer.stdout.readline().strip() != "ready":
        peer.kill()
        raise RuntimeError(f"the MIDI peer on JACK {server!r} did not start")
    return peer
