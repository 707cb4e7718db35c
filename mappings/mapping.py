"""One mapping: source → input range → curve → deadzone → output range → smoothing → parameter.

Declared as ``[[mappings]]`` tables::

    [[mappings]]
    source = "midi:cc:1:16"      # an event source (see performer.control.events), or "lfo:<shape>",
                                 # "timeline:<track>", "transport:<beat|bar|phase|bar_phase>"
    param = "era"
    in = [0.0, 1.0]              # the source's range; [1.0, 0.0] inverts
    curve = "linear"             # linear | exp | log | scurve  (amount = 4.0 sets the bend)
    deadzone = 0.02              # the first and last 2 % snap to the ends
    out = [1840, 2030]           # default: the parameter's whole range
    smooth = "onepole"           # none | onepole | slew | euro, or { kind = "euro", beta = 0.01 }
    combine = "replace"          # replace (last wins) | add (a modulation on top of the base)
    takeover = "pickup"          # pickup (default for absolute MIDI knobs) | jump
    encoding = "absolute"        # or relative: signed-bit | signed-bit-2 | binary-offset
                                 #              | twos-complement
    step = 0.0078125             # relative only: share of the output range per detent (1/128)

An ``lfo:`` source takes ``period`` (beats), ``offset`` and ``width`` like a track.
"""

from __future__ import annotations

from typing import Any

from performer.control.events import Event
from performer.mappings import relative, smoothing, takeover
from performer.mappings.curves import Shape
from performer.mappings.oscillators import Oscillator
from performer.mappings.tables import PatchError, Table, number_or_none, parameter, shown

KEYS = (
    "source", "param", "in", "curve", "amount", "deadzone", "out", "smooth", "combine",
    "takeover", "encoding", "step", "period", "offset", "width",
)  # fmt: skip
EVENT_KINDS = ("midi", "osc", "audio")
TRANSPORT = ("beat", "bar", "phase", "bar_phase")
KNOBS = ("midi:cc:", "midi:nrpn:", "midi:bend:")  # absolute controls that can disagree
SNAP = 1e-6  # share of the output range under which a glide counts as arrived


class Mapping:
    """A mapping's settings and its running state (target before smoothing, value after)."""

    def __init__(self, table: Table, tracks: frozenset[str] = frozenset()):
        """``tracks``: the timelines of numbers a ``timeline:`` source may name."""
        table.only(KEYS)
        self.source = table.text("source")
        self.param = parameter(table.data.get("param"), table.at("param"))
        if self.param.kind == "str":
            raise PatchError(
                table.at("param"), f"{self.param.name} is text; send it as param:{self.param.name}"
            )
        kind, _, detail = self.source.partition(":")
        self.kind = kind
        self.oscillator: Oscillator | None = None
        if kind == "lfo":
            self.oscillator = Oscillator.from_table(table, "source", detail)
        elif kind == "transport" and detail not in TRANSPORT:
            raise PatchError(
                table.at("source"), f"unknown transport:{detail}; known: {', '.join(TRANSPORT)}"
            )
        elif kind == "timeline" and detail not in tracks:
            raise PatchError(
                table.at("source"),
                f"no timeline of numbers named {shown(detail)}; known: {', '.join(sorted(tracks))}",
            )
        elif kind not in (*EVENT_KINDS, "lfo", "transport", "timeline") or not detail:
            raise PatchError(
                table.at("source"),
                f"unknown source {shown(self.source)}; expected midi:…, osc:…, audio:…, "
                "lfo:<shape>, timeline:<track> or transport:<beat|bar|phase|bar_phase>",
            )
        self.detail = detail
        assert self.param.lo is not None and self.param.hi is not None
        self.shape = Shape.from_table(table, (self.param.lo, self.param.hi))
        self.combine = table.text("combine", "replace", ("replace", "add"))
        self.encoding = table.text("encoding", "absolute", relative.ENCODINGS)
        if self.encoding != "absolute" and not self.source.startswith("midi:cc:"):
            raise PatchError(table.at("encoding"), "relative encodings are for midi:cc: sources")
        if self.encoding == "absolute" and table.has("step"):
            raise PatchError(table.at("step"), "step is for relative encoders (set encoding)")
        self.step = table.number("step", 1.0 / 128.0, 1e-6, 1.0)
        for key in ("period", "offset", "width"):
            if kind != "lfo" and table.has(key):
                raise PatchError(table.at(key), f"{key} is for lfo: sources")
        absolute_knob = self.source.startswith(KNOBS) and self.encoding == "absolute"
        default_takeover = "pickup" if absolute_knob and self.combine == "replace" else "jump"
        mode = table.text("takeover", default_takeover, takeover.TAKEOVERS)
        self.takeover: takeover.Pickup | takeover.Jump = (
            takeover.Pickup() if mode == "pickup" else takeover.Jump()
        )
        self.smoother = smoothing.from_table(
            table.data.get("smooth", "none"), table.at("smooth"), self.shape.span()
        )
        self.learned = False  # made by MIDI learn rather than declared
        self.live = kind in EVENT_KINDS  # moved by a person (or the room): counts for touch/latch
        self.target: float | None = None
        self.value: float | None = None
        self.moved_at = float("-inf")  # last accepted live input, performance clock

    def feed(self, event: Event, current: float) -> bool:
        """Take one event. True if it moved the target.

        ``current`` is the parameter's base value, or this mapping's own target while it
        holds the parameter (so a smoothed knob compares with where it is going).
        """
        if self.encoding != "absolute":
            if event.raw is None:
                return False
            lo, hi = self.shape.out
            moved = current + relative.decode(self.encoding, event.raw) * self.step * (hi - lo)
            self.target = min(max(moved, min(lo, hi)), max(lo, hi))
        else:
            x = event.value[0] if isinstance(event.value, tuple) and event.value else event.value
            number = number_or_none(x)
            if number is None:
                return False
            lo, hi = self.shape.out
            knob = self.shape.unit(number)
            if self.combine == "replace" and not self.takeover.accept(
                knob, (current - lo) / (hi - lo), event.time
            ):
                return False
            self.target = lo + (hi - lo) * knob
        if self.smoother.value is None and self.combine == "replace":
            self.smoother.reset(current, event.time)  # glide from where the parameter is
        self.moved_at = event.time
        return True

    def step_to(self, now: float, signal: float | None) -> float | None:
        """Advance the smoother to ``now``; ``signal`` feeds continuous sources (lfo, timeline)."""
        if signal is not None:
            self.target = self.shape.apply(signal)
        if self.target is None:
            return None
        value = self.smoother.step(self.target, now)
        if value != self.target and abs(value - self.target) <= SNAP * self.shape.span():
            value = self.target  # arrived: stop emitting changes too small to see
            self.smoother.reset(value, now)
        self.value = value
        return value

    def __repr__(self) -> str:
        return f"Mapping({self.source!r} -> {self.param.name!r}, {self.combine})"


def signal(
    m: Mapping, beat: float, bar: int, phase: float, bar_phase: float, tracks: Any
) -> float | None:
    """The value of a continuous source now (None for event sources)."""
    if m.oscillator is not None:
        return m.oscillator(beat)
    if m.kind == "transport":
        return {"beat": beat, "bar": float(bar), "phase": phase, "bar_phase": bar_phase}[m.detail]
    if m.kind == "timeline":
        value = tracks[m.detail]
        return float(value) if value is not None else None
    return None
