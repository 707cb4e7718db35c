"""The analysis thread of an audio input: the rings in, the clock and events out.

The PortAudio callback only fills the rings (:mod:`control.ring`). This thread, every
couple of milliseconds, does the rest, in two steps: the blocks' capture times keep the
:class:`~control.audio_clock.AudioClock` on the device's clock (and notice a stream
that stalled or came back), and every complete hop goes through the
:class:`~control.analysis.Analyzer`, whose ``audio:*`` events go into the inbox.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

import numpy as np
from performer.control.analysis import DISCRETE_SOURCES, Analyzer
from performer.control.audio_clock import AudioClock
from performer.control.events import Inbox
from performer.control.ring import CaptureTimes, SampleRing
from performer.control.throttle import RateLog

log = logging.getLogger(__name__)

_CLOCK_EVERY_S = 0.1  # refit the clock this often
_POLL_S = 0.002  # look for new input this often: a hop's events reach the loop sooner
_EDGE_LEVEL = 1e-3  # sound this loud cut off by lost input makes an edge (about -60 dBFS)
_STALL_S = 0.5  # no audio for this long: the stream has stalled

# given every analysed block (frames x channels, time of its first sample)
Deliver = Callable[[np.ndarray, float], None]


class AudioReader:
    """Reads one started input's rings until ``stop`` is set (:meth:`run`)."""

    def __init__(
        self,
        ring: SampleRing,
        times: CaptureTimes,
        analyzer: Analyzer,
        clock: AudioClock,
        inbox: Inbox,
        deliver: Deliver,
        device_name: str,
        blocksize: int,
    ):
        self.ring, self.times, self.analyzer = ring, times, analyzer
        self.clock, self.inbox, self.deliver = clock, inbox, deliver
        self.device_name = device_name
        self.poll = min(blocksize / analyzer.samplerate, _POLL_S)
        self._hop = np.zeros((analyzer.hop, ring.data.shape[1]), dtype=np.float32)
        self._seen = 0  # capture times consumed
        self._hole = (-1, -1)  # the ring's last hole seen
        self._last_fit = self._last_audio = time.perf_counter()
        self._stalled = False
        self._lost = RateLog(log)  # input lost (xruns): one line a second at most

    def run(self, stop: threading.Event) -> None:
        while not stop.wait(self.poll):
            self._keep_time(time.perf_counter())
            self._analyse()

    def _keep_time(self, now: float) -> None:
        """Capture times into the clock; a stream silent for ``_STALL_S`` has stalled,
        and the clock runs on monotonic time until it comes back."""
        newest = self.times.written
        for at, frame in self.times.since(self._seen, newest):
            self.clock.observe(at, frame)
        if newest > self._seen:
            self._last_audio = now
            if self._stalled:
                log.warning("audio input %r is back", self.device_name)
                self.clock.attach(self.analyzer.samplerate)
                self._stalled = False
        self._seen = newest
        if not self._stalled and now - self._last_audio > _STALL_S:
            log.warning(
                "audio input %r stalled; the clock runs on monotonic time", self.device_name
            )
            self.clock.detach()
            self._stalled = True
        if not self._stalled and now - self._last_fit >= _CLOCK_EVERY_S:
            self.clock.update()
            self._last_fit = now

    def _analyse(self) -> None:
        """Every complete hop through the analyser. Where input was lost while there was
        sound, the edges of the stand-in silence are no onsets."""
        ring, analyzer, hop = self.ring, self.analyzer, self._hop
        if ring.hole != self._hole:
            self._hole = ring.hole
            self._lost(
                "lost",
                "audio input %r lost %.1f ms of input (an xrun); silence stands in",
                self.device_name,
                1000 * (self._hole[1] - self._hole[0]) / analyzer.samplerate,
            )
            if ring.level_before(self._hole[0], analyzer.hop) > _EDGE_LEVEL:
                analyzer.ignore_onsets(*(self.clock.at_frame(f) for f in self._hole))
        while (first_frame := ring.read_into(hop)) is not None:
            at = self.clock.at_frame(first_frame)
            self.deliver(hop, at)
            mono = hop.mean(axis=1) if hop.shape[1] > 1 else hop[:, 0]
            for event in analyzer.process(mono, at):
                self.inbox.put(event, coalesce=event.source not in DISCRETE_SOURCES)
