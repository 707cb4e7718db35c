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
from performer.control.param import Param
from performer.mappings import relative, smoothing
from performer.mappings.curves import Shape
from performer.mappings.oscillators import Oscillator
from performer.mappings.tables import PatchError, Table, number_or_none, parameter, shown
from performer.mappings.takeover import TAKEOVERS, Jump, Pickup

KEYS = (
    "source", "param", "in", "curve", "amount", "deadzone", "out", "smooth", "combine",
    "takeover", "encoding", "step", "period", "offset", "width",
)  # fmt: skip
EVENT_KINDS = ("midi", "osc", "audio")
TRANSPORT = ("beat", "bar", "phase", "bar_phase")
KNOBS = ("midi:cc:", "midi:nrpn:", "midi:bend:")  # absolute controls that can disagree
SNAP = 1e-6  # share of the output range under which a glide counts as arrived


class Mapping:
    """A mapping's settings and its running state (target before smoothing, value after).

    A patch's mappings are made once, by :meth:`from_table`; each conductor plays
    :meth:`fresh` ones, so what one show's knobs did is not the next one's start.
    """

    def __init__(
        self, source: str, param: Param, shape: Shape, combine: str = "replace",
        encoding: str = "absolute", step: float = 1.0 / 128.0,
        oscillator: Oscillator | None = None,
        takeover: Pickup | Jump | None = None,
        smoother: smoothing.Smoother | None = None,
    ):  # fmt: skip
        self.source, self.param, self.shape = source, param, shape
        self.kind, _, self.detail = source.partition(":")
        self.combine, self.encoding, self.step = combine, encoding, step
        self.oscillator = oscillator
        self.takeover = takeover if takeover is not None else Jump()
        self.smoother = smoother if smoother is not None else smoothing.Direct()
        self.learned = False  # made by MIDI learn rather than declared
        self.live = self.kind in EVENT_KINDS  # moved by a person (or the room): touch/latch
        self.target: float | None = None
        self.value: float | None = None
        self.moved_at = float("-inf")  # last accepted live input, performance clock

    def fresh(self) -> Mapping:
        """The same settings, with the running state of a mapping nothing has moved yet."""
        m = Mapping(
            self.source, self.param, self.shape, self.combine, self.encoding, self.step,
            self.oscillator, self.takeover.fresh(), self.smoother.fresh(),
        )  # fmt: skip
        m.learned = self.learned
        return m

    @classmethod
    def from_table(cls, table: Table, tracks: frozenset[str] = frozenset()) -> Mapping:
        """``tracks``: the timelines of numbers a ``timeline:`` source may name."""
        table.only(KEYS)
        source = table.text("source")
        p = parameter(table.data.get("param"), table.at("param"))
        if p.kind == "str":
            raise PatchError(table.at("param"), f"{p.name} is text; send it as param:{p.name}")
        oscillator = _check_source(table, source, tracks)
        assert p.lo is not None and p.hi is not None
        shape = Shape.from_table(table, (p.lo, p.hi))
        combine = table.text("combine", "replace", ("replace", "add"))
        encoding = table.text("encoding", "absolute", relative.ENCODINGS)
        if encoding != "absolute" and not source.startswith("midi:cc:"):
            raise PatchError(table.at("encoding"), "relative encodings are for midi:cc: sources")
        if encoding == "absolute" and table.has("step"):
            raise PatchError(table.at("step"), "step is for relative encoders (set encoding)")
        step = table.number("step", 1.0 / 128.0, 1e-6, 1.0)
        for key in ("period", "offset", "width"):
            if oscillator is None and table.has(key):
                raise PatchError(table.at(key), f"{key} is for lfo: sources")
        absolute_knob = source.startswith(KNOBS) and encoding == "absolute"
        default_takeover = "pickup" if absolute_knob and combine == "replace" else "jump"
        mode = table.text("takeover", default_takeover, TAKEOVERS)
        smoother = smoothing.from_table(
            table.data.get("smooth", "none"), table.at("smooth"), shape.span()
        )
        return cls(
            source, p, shape, combine, encoding, step, oscillator,
            Pickup() if mode == "pickup" else Jump(), smoother,
        )  # fmt: skip

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


def _check_source(table: Table, source: str, tracks: frozenset[str]) -> Oscillator | None:
    """Refuse a source no mapping can follow; an ``lfo:`` source's oscillator."""
    kind, _, detail = source.partition(":")
    if kind == "lfo":
        return Oscillator.from_table(table, "source", detail)
    if kind == "transport" and detail not in TRANSPORT:
        raise PatchError(
            table.at("source"), f"unknown transport:{detail}; known: {', '.join(TRANSPORT)}"
        )
    if kind == "timeline" and detail not in tracks:
        raise PatchError(
            table.at("source"),
            f"no timeline of numbers named {shown(detail)}; known: {', '.join(sorted(tracks))}",
        )
    if kind not in (*EVENT_KINDS, "lfo", "transport", "timeline") or not detail:
        raise PatchError(
            table.at("source"),
            f"unknown source {shown(source)}; expected midi:…, osc:…, audio:…, "
            "lfo:<shape>, timeline:<track> or transport:<beat|bar|phase|bar_phase>",
        )
    return None


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
