"""Audio in: a sounddevice stream, a ring buffer, and analysis on its own thread.

The PortAudio callback runs on the audio thread and only copies: the chosen channels
go into a preallocated ring (:class:`SampleRing`) and the block's capture time into a
preallocated timing ring. It takes no lock and creates no buffers (Python itself still
makes a few small objects per call: views and floats). An analysis thread reads the
rings, feeds :class:`~control.analysis.Analyzer`, puts ``audio:*`` events into the
:class:`~performer.control.events.Inbox`, and keeps the :class:`~control.audio_clock.AudioClock`
on the device's clock.

If PortAudio is missing, the device is not there, or the stream will not open,
:meth:`AudioInput.start` raises :class:`AudioUnavailable` saying what is missing and what
there is; the caller reports it and plays on without audio (the clock stays on its
monotonic fallback). A stream that stops or stalls later is logged, and the clock
returns to the monotonic rate until it comes back.
"""

from __future__ import annotations

import atexit
import logging
import math
import sys
import threading
import time
from collections.abc import Callable
from types import ModuleType
from typing import Any

import numpy as np
import numpy.typing as npt
from performer.control.analysis import DISCRETE_SOURCES, Analyzer
from performer.control.audio_clock import AudioClock
from performer.control.events import Inbox

log = logging.getLogger(__name__)

DeviceSpec = str | int | None

_RING_SECONDS = 2.0  # analysis may fall this far behind before audio is skipped
_TIMING_SLOTS = 1024  # callbacks remembered for the clock (5 s of 256-frame blocks)
_CLOCK_EVERY_S = 0.1  # refit the clock this often
_POLL_S = 0.002  # look for new input this often: a hop's events reach the loop sooner
_EDGE_LEVEL = 1e-3  # sound this loud cut off by lost input makes an edge (about -60 dBFS)
_STALL_S = 0.5  # no audio for this long: the stream has stalled
_CLOSE_S = 2.0  # a stream that takes longer to close is left behind


class AudioUnavailable(RuntimeError):
    """No audio input: PortAudio, the device or the stream is missing or broken."""


def load_sounddevice() -> ModuleType:
    """The sounddevice module, or :class:`AudioUnavailable` naming what is missing."""
    try:
        import sounddevice
    except ImportError as exc:
        raise AudioUnavailable(f"the sounddevice package is not installed ({exc})") from None
    except OSError as exc:  # sounddevice raises this when libportaudio is not found
        raise AudioUnavailable(
            f"PortAudio is missing ({exc}); install it (Debian: libportaudio2)"
        ) from None
    return sounddevice


def describe_devices(sd: ModuleType) -> list[str]:
    """One line per device: ``index: name (host API, N in, M out)``."""
    apis = sd.query_hostapis()
    return [
        f"{d['index']}: {d['name']} ({apis[d['hostapi']]['name']}, "
        f"{d['max_input_channels']} in, {d['max_output_channels']} out)"
        for d in sd.query_devices()
    ]


def find_device(sd: ModuleType, spec: DeviceSpec, kind: str) -> dict[str, Any]:
    """The device dict for an index, a name (exact, else a unique substring) or the default.

    ``kind`` is ``"input"`` or ``"output"``; the device must have channels of that kind.
    """
    key = f"max_{kind}_channels"
    devices = [d for d in sd.query_devices() if d[key] > 0]
    listing = "; ".join(describe_devices(sd)) or "none (no sound card, no JACK server?)"
    if spec is None:
        default = sd.default.device[0 if kind == "input" else 1]
        chosen = [d for d in devices if d["index"] == default]
        what = f"no default {kind} device"
    elif isinstance(spec, int):
        chosen = [d for d in devices if d["index"] == spec]
        what = f"no {kind} device with index {spec}"
    else:
        exact = [d for d in devices if d["name"].lower() == spec.lower()]
        chosen = exact or [d for d in devices if spec.lower() in d["name"].lower()]
        what = f"no {kind} device named like {spec!r}"
        if len(chosen) > 1:
            names = ", ".join(f"{d['index']}: {d['name']}" for d in chosen)
            raise AudioUnavailable(f"{spec!r} names several {kind} devices: {names}; pick one")
    if not chosen:
        raise AudioUnavailable(f"{what}; devices: {listing}")
    return dict(chosen[0])


class SampleRing:
    """A single-producer, single-consumer ring of frames, with no lock.

    The producer copies a block in, then advances ``written``; the consumer reads up to
    ``written`` and checks afterwards that the producer has not lapped it meanwhile.
    Publishing a Python int is atomic, which is all the ordering this needs.
    """

    def __init__(self, frames: int, channels: int):
        self.data = np.zeros((frames, channels), dtype=np.float32)
        self.written = 0  # frames ever written (only the producer changes it)
        self.read = 0  # frames ever read (only the consumer changes it)
        self.lost = 0  # frames the consumer skipped because it fell behind
        self.hole = (-1, -1)  # the last stretch of stand-in silence (skip()): frames

    def write(self, block: npt.NDArray[np.float32], columns: tuple[int, ...]) -> None:
        """Producer: copy ``block[:, columns]`` in, column by column (no temporaries)."""
        size = len(self.data)
        n = len(block)
        start = self.written % size
        first = min(n, size - start)
        for j, c in enumerate(columns):
            self.data[start : start + first, j] = block[:first, c]
            if first < n:
                self.data[: n - first, j] = block[first:, c]
        self.written += n

    def skip(self, n: int) -> None:
        """Producer: ``n`` frames of silence (input the device lost)."""
        size = len(self.data)
        start = self.written % size
        first = min(n, size - start)
        self.data[start : start + first] = 0.0
        self.data[: n - first] = 0.0
        self.hole = (self.written, self.written + n)  # one reference: published whole
        self.written += n

    def level_before(self, frame: int, n: int) -> float:
        """Peak level of the ``n`` frames before ``frame`` (0 where they are gone)."""
        size = len(self.data)
        if frame - n < max(0, self.written - size):
            return 0.0
        rows = np.arange(frame - n, frame) % size
        return float(np.abs(self.data[rows]).max()) if n else 0.0

    def read_into(self, out: npt.NDArray[np.float32]) -> int | None:
        """Consumer: fill ``out`` with the next ``len(out)`` frames; their first frame's
        number, or None when not that many are there yet."""
        n, size = len(out), len(self.data)
        if self.written - self.read > size:  # lapped: skip ahead
            skip_to = self.written - size // 2
            self.lost += skip_to - self.read
            self.read = skip_to
        if self.written - self.read < n:
            return None
        first_frame = self.read
        start = first_frame % size
        first = min(n, size - start)
        out[:first] = self.data[start : start + first]
        out[first:] = self.data[: n - first]
        if self.written - first_frame > size:  # overwritten while copying: drop it
            self.lost += n
            self.read += n
            return None
        self.read += n
        return first_frame


class AudioInput:
    """Analyse a live input; ``start()`` and ``stop()`` may each be called twice.

    ``device``: index, name (or unique part of it), or None for the default.
    ``channels``: 1-based channel numbers of that device to analyse (mixed to mono),
    e.g. ``(3, 4)`` for the third stereo pair; None for the first one or two.
    ``passthrough``: an output device (same spec) that hears those channels too.
    """

    def __init__(
        self,
        device: DeviceSpec,
        channels: tuple[int, ...] | None,
        inbox: Inbox,
        passthrough: DeviceSpec = None,
        samplerate: int | None = None,
        blocksize: int = 256,
        clock: AudioClock | None = None,
        hop: int | None = None,
    ):
        if channels is not None and (not channels or min(channels) < 1):
            raise ValueError(f"channels are numbered from 1, got {channels}")
        self.device, self.channels, self.inbox = device, channels, inbox
        self.passthrough = passthrough
        self.samplerate, self.blocksize, self.hop = samplerate, blocksize, hop
        self.clock = clock if clock is not None else AudioClock()
        self.analyzer: Analyzer | None = None
        self.device_name = ""
        self.overflows = 0  # callbacks PortAudio flagged as having lost input
        # given every analysed block (frames x channels, time of its first sample):
        # the take being recorded listens here
        self.on_audio: Callable[[np.ndarray, float], None] | None = None
        self._stream: Any = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._ring: SampleRing | None = None
        self._columns: tuple[int, ...] = ()
        self._routes: tuple[tuple[int, int], ...] = ()  # (output column, input column)
        self._timing = np.zeros((_TIMING_SLOTS, 2))  # (monotonic capture time, frame)
        self._timed = 0  # timing records ever written
        self._next_adc = math.nan  # stream time the next block should start at

    @property
    def running(self) -> bool:
        return self._thread is not None

    # ------------------------------------------------------------------ start/stop

    @property
    def channel_count(self) -> int:
        """Channels delivered to ``on_audio`` (known once started)."""
        return len(self._columns)

    def start(self) -> None:
        if self._thread is not None:
            return
        sd = load_sounddevice()
        stream = self._open(sd)
        samplerate = int(stream.samplerate)
        self.analyzer = Analyzer(samplerate, self.hop or _default_hop(samplerate))
        self._ring = SampleRing(int(_RING_SECONDS * samplerate), len(self._columns))
        self._timed = 0
        self._next_adc = math.nan
        self.clock.attach(samplerate)
        try:
            stream.start()
        except sd.PortAudioError as exc:
            stream.close()
            raise AudioUnavailable(
                f"audio input {self.device_name!r} will not start: {exc}"
            ) from None
        self._stream = stream
        self._stop.clear()
        self._thread = threading.Thread(
            target=self._analyse, name="performer-audio-analysis", daemon=True
        )
        self._thread.start()
        channels = tuple(c + 1 for c in self._columns)
        log.info("audio input: %s, channels %s, %d Hz", self.device_name, channels, samplerate)

    def stop(self) -> None:
        if self._thread is None:
            return
        self._stop.set()
        self._thread.join()
        self._thread = None
        stream, self._stream = self._stream, None
        # PortAudio waits for the device to finish its buffers, forever where the device
        # or its server (JACK) is gone: close it beside us, and give up on it in time.
        closer = threading.Thread(target=_close, args=(stream,), name="audio-close", daemon=True)
        closer.start()
        closer.join(_CLOSE_S)
        if closer.is_alive():
            log.warning(
                "audio input %r did not close within %g s (device or server gone); left behind",
                self.device_name,
                _CLOSE_S,
            )
            _skip_portaudio_exit()
        self.clock.detach()

    # ----------------------------------------------------------------- the stream

    def _open(self, sd: ModuleType) -> Any:
        source = find_device(sd, self.device, "input")
        self.device_name = source["name"]
        available = source["max_input_channels"]
        wanted = self.channels or tuple(range(1, min(available, 2) + 1))
        if max(wanted) > available:
            raise AudioUnavailable(
                f"{self.device_name!r} has {available} input channels; asked for {wanted}"
            )
        self._columns = tuple(c - 1 for c in wanted)
        opened_in = max(wanted)
        settings: dict[str, Any] = {
            "samplerate": self.samplerate or source["default_samplerate"],
            "blocksize": self.blocksize,
            "dtype": "float32",
            "finished_callback": self._finished,
        }
        try:
            if self.passthrough is None:
                return sd.InputStream(
                    device=source["index"], channels=opened_in, callback=self._callback, **settings
                )
            sink = find_device(sd, self.passthrough, "output")
            outs = min(sink["max_output_channels"], max(2, len(wanted)))
            self._routes = tuple((o, self._columns[o % len(wanted)]) for o in range(outs))
            return sd.Stream(
                device=(source["index"], sink["index"]),
                channels=(opened_in, outs),
                callback=self._duplex_callback,
                **settings,
            )
        except sd.PortAudioError as exc:
            raise AudioUnavailable(f"cannot open audio input {self.device_name!r}: {exc}") from None

    def _callback(self, indata: Any, frames: int, stream_time: Any, status: Any) -> None:
        # The audio thread: copy and note the time, nothing else.
        ring = self._ring
        assert ring is not None
        rate = self._stream_rate
        adc = stream_time.inputBufferAdcTime
        latency = stream_time.currentTime - adc
        if not 0.0 <= latency < 1.0:  # a backend without timing: assume one block
            latency = frames / rate
        if status.input_overflow:
            self.overflows += 1
            # Input was lost: keep frame numbers on the device's clock by standing in
            # silence for the stretch the stream's own clock says went by unheard.
            lost = (adc - self._next_adc) * rate  # NaN before the first block: no gap
            if 0.5 <= lost <= len(ring.data) // 2:
                ring.skip(round(lost))
        self._next_adc = adc + frames / rate
        slot = self._timed % _TIMING_SLOTS
        self._timing[slot, 0] = time.perf_counter() - latency
        self._timing[slot, 1] = ring.written
        ring.write(indata, self._columns)
        self._timed += 1

    def _duplex_callback(
        self, indata: Any, outdata: Any, frames: int, stream_time: Any, status: Any
    ) -> None:
        for out_column, in_column in self._routes:
            outdata[:, out_column] = indata[:, in_column]
        self._callback(indata, frames, stream_time, status)

    @property
    def _stream_rate(self) -> float:
        return self.analyzer.samplerate if self.analyzer is not None else 48000.0

    def _finished(self) -> None:
        if not self._stop.is_set():
            log.warning(
                "audio input %r stopped; the clock runs on monotonic time", self.device_name
            )

    # --------------------------------------------------------------- analysis thread

    def _analyse(self) -> None:
        ring, analyzer = self._ring, self.analyzer
        assert ring is not None and analyzer is not None
        hop = np.zeros((analyzer.hop, len(self._columns)), dtype=np.float32)
        timed = 0  # timing records consumed
        hole = (-1, -1)  # the ring's last hole seen
        last_fit = last_audio = time.perf_counter()
        stalled = False
        poll = min(self.blocksize / analyzer.samplerate, _POLL_S)
        while not self._stop.wait(poll):
            now = time.perf_counter()
            # 1. Timing records into the clock.
            newest = self._timed
            timed = max(timed, newest - _TIMING_SLOTS)
            for i in range(timed, newest):
                at, frame = self._timing[i % _TIMING_SLOTS]
                self.clock.observe(float(at), int(frame))
            if newest > timed:
                last_audio = now
                if stalled:
                    log.warning("audio input %r is back", self.device_name)
                    self.clock.attach(analyzer.samplerate)
                    stalled = False
            timed = newest
            if not stalled and now - last_audio > _STALL_S:
                log.warning(
                    "audio input %r stalled; the clock runs on monotonic time", self.device_name
                )
                self.clock.detach()
                stalled = True
            if not stalled and now - last_fit >= _CLOCK_EVERY_S:
                self.clock.update()
                last_fit = now
            # 2. Every complete hop through the analyser. Where input was lost while
            # there was sound, the edges of the stand-in silence are no onsets.
            if ring.hole != hole:
                hole = ring.hole
                if ring.level_before(hole[0], analyzer.hop) > _EDGE_LEVEL:
                    analyzer.ignore_onsets(*(self.clock.at_frame(f) for f in hole))
            while (first_frame := ring.read_into(hop)) is not None:
                at = self.clock.at_frame(first_frame)
                if self.on_audio is not None:
                    self.on_audio(hop.copy(), at)
                mono = hop.mean(axis=1) if hop.shape[1] > 1 else hop[:, 0]
                for event in analyzer.process(mono, at):
                    self.inbox.put(event, coalesce=event.source not in DISCRETE_SOURCES)


def _close(stream: Any) -> None:
    stream.abort()  # no pending buffers to wait for: the input is done with
    stream.close()


def _skip_portaudio_exit() -> None:
    """sounddevice stops the last stream and terminates PortAudio at exit, which waits on
    a stream that would not close: the process would hang after the show. Skip it; the
    operating system frees what PortAudio holds."""
    sd = sys.modules.get("sounddevice")
    handler = getattr(sd, "_exit_handler", None)
    if handler is not None:
        atexit.unregister(handler)


def _default_hop(samplerate: int) -> int:
    """About 10 ms, a power of two: 512 at 44.1/48 kHz."""
    return 1 << max(6, round(np.log2(samplerate * 0.0107)))
