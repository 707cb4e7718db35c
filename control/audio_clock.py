"""The performance clock that follows the audio device while audio runs.

A sound card's crystal and the computer's monotonic clock drift apart by tens of parts
per million: a minute or two of performance is enough for visuals scheduled on one to
slide off audio recorded on the other. So while audio runs, performance time is *audio
time* — frames counted / sample rate — and the frame loop, the recorder and the
timestamps of audio events all read the same clock.

How: each audio callback gives the frame count at the start of its block and, from the
stream's timing information (``currentTime - inputBufferAdcTime``), how long ago that
first frame reached the converter; :class:`control.audio.AudioInput` turns that into
the monotonic time the frame was captured and hands the pair to :meth:`observe`. A
line over the last few seconds (least-squares slope, through the least delayed
callbacks) maps monotonic time to audio time (it irons out callback jitter). Where the
newest tenth of a second of blocks all sit off that line, the device's time itself moved
(a stalled or skipped cycle, input lost and not made up): the fit starts again from them
rather than holding the old line for the rest of its window;
:meth:`now` follows the line, slewing its rate (never stepping back) so that it stays
monotonic non-decreasing and cheap: one lock, a multiply and an add.

Before audio starts, after it stops, or when there is no audio device at all, the
clock runs on its fallback (a :class:`~performer.control.clock.MonotonicClock`), continuing
from where it was: the instrument keeps going.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import NamedTuple

import numpy as np
from performer.control.clock import Clock, MonotonicClock
from performer.control.throttle import RateLog

log = logging.getLogger(__name__)

_MIN_FIT_S = 1.0  # shorter than this, only the offset is fitted (the slope stays 1)
_MAX_DRIFT = 0.001  # crystals drift by tens of ppm: a steeper slope is late callbacks
_RATE_LIMITS = (0.5, 2.0)  # how hard now() may slew towards the audio line
_STEP_S = 0.25  # behind the audio line by more than this: jump forward at once
_ON_TIME = 95  # percentile of the blocks that took the line (see _fit)
_SETTLE_S = 0.1  # the newest blocks this long (19 of 256 frames) all off the line by ...
_MOVED_S = 0.005  # ... more than this: the device's time moved; refit from them


class _Segment(NamedTuple):
    """``now() = base + rate × (perf − perf0)``"""

    perf0: float
    base: float
    rate: float


class AudioClock:
    """A performance clock on audio time while audio runs, else on ``fallback``."""

    def __init__(
        self,
        fallback: Clock | None = None,
        window_s: float = 4.0,
        slew_s: float = 0.5,
        perf: Callable[[], float] = time.perf_counter,
        capacity: int = 2048,
    ):
        self._fallback = fallback if fallback is not None else MonotonicClock()
        self._perf = perf
        self._window_s, self._slew_s = window_s, slew_s
        self._lock = threading.Lock()
        self._segment: _Segment | None = None  # None: on the fallback
        self._last = float("-inf")
        # Observations, a ring: monotonic capture time and audio seconds of a frame.
        self._at = np.zeros(capacity)
        self._audio = np.zeros(capacity)
        self._count = 0
        self._samplerate = 0.0
        self._line: tuple[float, float] | None = None  # audio = a + b × perf
        self._offset = 0.0  # performance time − audio time
        self._latest: tuple[float, int] | None = None  # the newest observation
        self._since = float("-inf")  # fit no observation captured before this
        self._moves = RateLog(log)  # the device's time moved: one line a second at most

    @property
    def following_audio(self) -> bool:
        return self._line is not None

    def restart(self) -> None:
        """Back to 0 before audio starts (after loading): the performance starts now."""
        with self._lock:
            if self._segment is None and hasattr(self._fallback, "restart"):
                self._fallback.restart()
                self._last = float("-inf")

    def now(self) -> float:
        perf = self._perf()
        with self._lock:
            segment = self._segment
            if segment is None:
                value = self._fallback.now()
            else:
                value = segment.base + segment.rate * (perf - segment.perf0)
            value = max(value, self._last)
            self._last = value
        return value

    # ------------------------------------------------------- fed by the audio input

    def attach(self, samplerate: float) -> None:
        """A stream started: forget old observations (its frame count starts at zero)."""
        if samplerate <= 0:
            raise ValueError(f"sample rate must be positive, got {samplerate}")
        self._samplerate = float(samplerate)
        self._count = 0
        self._line = None
        self._latest = None
        self._since = float("-inf")

    def observe(self, captured_at: float, frames: int) -> None:
        """Frame number ``frames`` reached the converter at monotonic time ``captured_at``."""
        i = self._count % len(self._at)
        self._at[i] = captured_at
        self._audio[i] = frames / self._samplerate
        self._count += 1
        self._latest = (captured_at, frames)

    def update(self) -> None:
        """Refit the audio line and steer :meth:`now` onto it (a few times a second)."""
        line = self._fit()
        if line is None:
            return
        perf = self._perf()
        current = self.now()
        a, b = line
        if self._line is None:  # audio just started: carry on from where the clock was
            self._offset = current - (a + b * perf)
        self._line = line
        target = self._offset + a + b * (perf + self._slew_s)
        error = self._offset + a + b * perf - current
        if error > _STEP_S:  # far behind (the stream restarted): catch up at once
            segment = _Segment(perf, current + error, b)
        else:
            rate = (target - current) / self._slew_s
            segment = _Segment(perf, current, min(max(rate, _RATE_LIMITS[0]), _RATE_LIMITS[1]))
        with self._lock:
            self._segment = segment

    def at_frame(self, frames: int) -> float:
        """The performance time at which frame number ``frames`` was captured."""
        line, segment, latest = self._line, self._segment, self._latest
        if line is None or segment is None:  # not fitted yet: go by the newest observation
            if latest is None:
                return self.now()
            captured_at = latest[0] + (frames - latest[1]) / self._samplerate
            return self.now() - (self._perf() - captured_at)
        a, b = line
        perf = (frames / self._samplerate - a) / b
        return segment.base + segment.rate * (perf - segment.perf0)

    def detach(self) -> None:
        """The stream stopped: run on at the monotonic rate from the current time."""
        perf = self._perf()
        current = self.now()
        self._line = None
        with self._lock:
            self._segment = _Segment(perf, current, 1.0)

    # ------------------------------------------------------------------ the fit

    def _fit(self) -> tuple[float, float] | None:
        n = min(self._count, len(self._at))
        if n < 2:
            return None
        at, audio = self._at[:n], self._audio[:n]
        recent = at >= max(at.max() - self._window_s, self._since)
        at, audio = at[recent], audio[recent]
        if len(at) < 2:
            return None
        at0 = float(at.mean())
        x, y = at - at0, audio - audio.mean()
        span = float(at.max() - at.min())
        slope = float(np.dot(x, y) / np.dot(x, x)) if span >= _MIN_FIT_S else 1.0
        slope = min(max(slope, 1.0 - _MAX_DRIFT), 1.0 + _MAX_DRIFT)
        # A callback that waited (for the GIL, for the CPU) reads the monotonic clock
        # late, never early: the line goes through the least delayed blocks, the top of
        # the residuals, not their mean, so a busy spell does not drag audio time back.
        intercept = float(np.percentile(audio - slope * (at - at0), _ON_TIME)) - slope * at0
        residual = audio - (intercept + slope * at)
        if _moved(at, residual):
            self._since = float(at.max()) - _SETTLE_S
            self._moves(
                "moved",
                "audio time moved %+.0f ms against the monotonic clock (a stalled device "
                "cycle, or input lost); the clock follows it",
                1000 * float(np.median(residual[at >= self._since])),
            )
            return self._fit()
        return intercept, slope


def _moved(at: np.ndarray, residual: np.ndarray) -> bool:
    """Whether the newest :data:`_SETTLE_S` of observations, with older ones before them,
    all lie more than :data:`_MOVED_S` to one side of the line (``residual``: audio time
    minus the line's). Late callbacks only ever push a few below it."""
    newest = at >= at.max() - _SETTLE_S
    if newest.all() or newest.sum() < 8:
        return False
    off = residual[newest]
    return bool(off.max() < -_MOVED_S or off.min() > _MOVED_S)
