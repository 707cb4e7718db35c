"""Audio in: finding the device, the sounddevice stream and its callback.

The PortAudio callback runs on the audio thread and only copies: the chosen channels
go into a preallocated ring (:class:`~control.ring.SampleRing`) and the block's capture
time into another (:class:`~control.ring.CaptureTimes`). It takes no lock and creates no
buffers (Python itself still makes a few small objects per call: views and floats). The
analysis thread (:class:`~control.audio_reader.AudioReader`) reads the rings, feeds
:class:`~control.analysis.Analyzer`, puts ``audio:*`` events into the
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
from performer.control.analysis import Analyzer
from performer.control.audio_clock import AudioClock
from performer.control.audio_reader import AudioReader
from performer.control.events import Inbox
from performer.control.ring import CaptureTimes, SampleRing

log = logging.getLogger(__name__)

DeviceSpec = str | int | None

_RING_SECONDS = 2.0  # analysis may fall this far behind before audio is skipped
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
        self._times = CaptureTimes()
        self._next_adc = math.nan  # stream time the next block should start at

    @property
    def running(self) -> bool:
        return self._thread is not None

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
        self._times = CaptureTimes()
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
        reader = AudioReader(
            self._ring,
            self._times,
            self.analyzer,
            self.clock,
            self.inbox,
            self._deliver,
            self.device_name,
            self.blocksize,
        )
        self._thread = threading.Thread(
            target=reader.run, args=(self._stop,), name="performer-audio-analysis", daemon=True
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
        rate = self.analyzer.samplerate if self.analyzer is not None else 48000.0
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
        at, first_frame = time.perf_counter() - latency, ring.written
        ring.write(indata, self._columns)
        self._times.write(at, first_frame)  # published after the frames it times

    def _duplex_callback(
        self, indata: Any, outdata: Any, frames: int, stream_time: Any, status: Any
    ) -> None:
        for out_column, in_column in self._routes:
            outdata[:, out_column] = indata[:, in_column]
        self._callback(indata, frames, stream_time, status)

    def _finished(self) -> None:
        if not self._stop.is_set():
            log.warning(
                "audio input %r stopped; the clock runs on monotonic time", self.device_name
            )

    def _deliver(self, block: np.ndarray, at: float) -> None:
        if self.on_audio is not None:
            self.on_audio(block.copy(), at)


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
