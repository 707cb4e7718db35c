"""MIDI messages to events, as pure logic (no ports): CC in 7 and 14 bits, NRPN, pitch
bend, notes, program change, and MIDI clock (24 ppqn) to tempo and beat position.

14-bit CC: an LSB (CC 32–63) that follows its MSB (CC 0–31) within ``pair_window_s``
is taken as the low half of one 14-bit value. A CC 32–63 on its own (many controllers
use them as buttons) stays a 7-bit control of its own.
"""

from __future__ import annotations

import statistics
from collections import deque
from typing import Any

from performer.control.events import Event

TICKS_PER_BEAT = 24


class MidiClock:
    """MIDI clock in: smoothed BPM and beat position from 24 ppqn ticks."""

    def __init__(self, window: int = 48):
        self._intervals: deque[float] = deque(maxlen=window)
        self._last_tick: float | None = None
        self.ticks = 0  # since start / song position, in 1/24 beats
        self.running = False
        self.bpm: float | None = None

    def feed(self, kind: str, now: float, pos: int = 0) -> list[Event]:
        if kind == "clock":
            if self._last_tick is not None:
                interval = now - self._last_tick
                if 0 < interval < 0.25:  # slower than 10 BPM is a gap, not a tempo
                    self._intervals.append(interval)
            self._last_tick = now
            if self.running:
                self.ticks += 1
            if len(self._intervals) >= 6:
                self.bpm = 60.0 / (statistics.median(self._intervals) * TICKS_PER_BEAT)
            if self.bpm is None:
                return []
            return [Event(now, "clock:tempo", (self.ticks / TICKS_PER_BEAT, self.bpm))]
        if kind == "start":
            self.ticks, self.running = 0, True
        elif kind == "continue":
            self.running = True
        elif kind == "stop":
            self.running = False
        elif kind == "songpos":
            self.ticks = pos * 6  # song position counts sixteenth notes
        else:
            return []
        return [Event(now, f"clock:{kind}", self.ticks / TICKS_PER_BEAT)]


class MidiDecoder:
    def __init__(self, pair_window_s: float = 0.005):
        self.pair_window_s = pair_window_s
        self.clock = MidiClock()
        self._msb: dict[tuple[int, int], tuple[int, float]] = {}  # (ch, cc) -> (value, time)
        self._nrpn: dict[int, list[int | None]] = {}  # ch -> [param msb, param lsb, data msb]

    def decode(self, msg: Any, now: float, origin: str = "") -> list[tuple[Event, bool]]:
        """Events for one mido message, each with whether it may coalesce."""
        kind = msg.type
        if kind in ("clock", "start", "continue", "stop", "songpos"):
            events = self.clock.feed(kind, now, getattr(msg, "pos", 0))
            return [(e, e.source == "clock:tempo") for e in events]
        if kind == "control_change":
            return [
                (e, True) for e in self._cc(msg.channel + 1, msg.control, msg.value, now, origin)
            ]
        if kind == "pitchwheel":
            raw = msg.pitch + 8192
            return [(Event(now, f"midi:bend:{msg.channel + 1}", raw / 16383, raw, origin), True)]
        if kind in ("note_on", "note_off"):
            velocity = msg.velocity if kind == "note_on" else 0
            source = f"midi:note:{msg.channel + 1}:{msg.note}"
            return [(Event(now, source, velocity / 127, velocity, origin), False)]
        if kind == "program_change":
            source = f"midi:program:{msg.channel + 1}"
            return [(Event(now, source, msg.program / 127, msg.program, origin), False)]
        return []

    def _cc(self, ch: int, cc: int, value: int, now: float, origin: str) -> list[Event]:
        nrpn = self._nrpn.setdefault(ch, [None, None, None])
        if cc in (99, 98):  # NRPN parameter number, MSB then LSB
            nrpn[0 if cc == 99 else 1] = value
            return []
        if cc in (101, 100):  # RPN selected: NRPN data no longer ours
            nrpn[0] = nrpn[1] = None
            return []
        if cc in (6, 38) and nrpn[0] is not None and nrpn[1] is not None:
            number = (nrpn[0] << 7) | nrpn[1]
            if cc == 6:
                nrpn[2] = value
                raw = value << 7
            else:
                raw = ((nrpn[2] or 0) << 7) | value
            return [Event(now, f"midi:nrpn:{ch}:{number}", raw / 16383, raw, origin)]
        if cc < 32:
            self._msb[(ch, cc)] = (value, now)
            return [Event(now, f"midi:cc:{ch}:{cc}", value / 127, value, origin)]
        if 32 <= cc < 64:
            msb = self._msb.get((ch, cc - 32))
            if msb is not None and now - msb[1] <= self.pair_window_s:
                raw = (msb[0] << 7) | value
                return [Event(now, f"midi:cc:{ch}:{cc - 32}", raw / 16383, raw, origin)]
        return [Event(now, f"midi:cc:{ch}:{cc}", value / 127, value, origin)]
