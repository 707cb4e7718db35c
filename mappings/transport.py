"""The transport: tempo, and beat, bar and phase at any instant of the performance clock.

The beat grid is one anchor (a time and the beat at that time) and a tempo; changing
the tempo re-anchors at that instant, so the beat count never jumps. Tempo comes from
the patch, from tap tempo, or from outside (MIDI clock, Ableton Link) through
:meth:`Transport.sync`, which the control layer calls with the position it measured.
"""

from __future__ import annotations

import math

from performer.control.params import param
from performer.mappings.tables import Table

QUANTIZE = ("none", "beat", "bar")
TAP_GAP = 2.0  # seconds; a longer pause between taps starts a new count
TAP_MEMORY = 4  # intervals averaged
EPSILON = 1e-9  # beats; a cue launched this close to a boundary fires on it


class Transport:
    def __init__(self, bpm: float = 120.0, beats_per_bar: int = 4, start: float = 0.0):
        self.beats_per_bar = beats_per_bar
        self.bpm = param("bpm").clamp(bpm)
        self._started = (self.bpm, start)  # for fresh()
        self._time, self._beat = start, 0.0
        self._taps: list[float] = []
        self.changed_by = ""  # "tap" or "sync" after the tempo moved other than by set_bpm

    @classmethod
    def from_table(cls, table: Table, bpm: float) -> Transport:
        lo, hi = param("bpm").lo, param("bpm").hi
        return cls(table.number("bpm", bpm, lo, hi), int(table.number("beats_per_bar", 4, 1, 64)))

    def fresh(self) -> Transport:
        """This transport as it started: its first tempo, beat 0 at its start, no taps."""
        bpm, start = self._started
        return Transport(bpm, self.beats_per_bar, start)

    # -- where we are -------------------------------------------------------------
    def beat(self, now: float) -> float:
        """Beats since the start (0 at the start, fractional)."""
        return self._beat + (now - self._time) * self.bpm / 60.0

    def bar(self, now: float) -> int:
        """Whole bars since the start (0 in the first bar)."""
        return math.floor(self.beat(now) / self.beats_per_bar + EPSILON)

    def phase(self, now: float) -> float:
        """Position inside the current beat, 0..1."""
        return self.beat(now) % 1.0

    def bar_phase(self, now: float) -> float:
        """Position inside the current bar, 0..1."""
        return (self.beat(now) % self.beats_per_bar) / self.beats_per_bar

    def time_at(self, beat: float) -> float:
        """The performance-clock time of ``beat`` at the current tempo."""
        return self._time + (beat - self._beat) * 60.0 / self.bpm

    def next_boundary(self, now: float, quantize: str) -> float:
        """The beat a launch at ``now`` lands on: now, the next beat, or the next bar."""
        beat = self.beat(now)
        if quantize == "none":
            return beat
        size = {"beat": 1.0, "bar": float(self.beats_per_bar)}.get(quantize)
        if size is None:
            raise ValueError(f"unknown quantize {quantize!r}; known: {', '.join(QUANTIZE)}")
        return math.ceil(beat / size - EPSILON) * size

    # -- moving the tempo -------------------------------------------------------
    def set_bpm(self, bpm: float, now: float) -> None:
        self._beat, self._time = self.beat(now), now
        self.bpm = param("bpm").clamp(bpm)

    def sync(self, beat: float, bpm: float, now: float) -> None:
        """Follow an outside clock: at ``now`` the beat is ``beat`` and the tempo ``bpm``."""
        self._beat, self._time = beat, now
        self.bpm = param("bpm").clamp(bpm)
        self.changed_by = "sync"

    def tap(self, now: float) -> float | None:
        """One tap on the beat; from the second tap on, the tempo follows. Returns it."""
        if self._taps and not 0.0 < now - self._taps[-1] <= TAP_GAP:
            self._taps.clear()
        self._taps = [*self._taps, now][-(TAP_MEMORY + 1) :]
        if len(self._taps) < 2:
            return None
        interval = (self._taps[-1] - self._taps[0]) / (len(self._taps) - 1)
        self.set_bpm(60.0 / interval, now)
        self.changed_by = "tap"
        return self.bpm
