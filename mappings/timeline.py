"""Timelines: keyframed automation, one track per parameter, keyed in beats or seconds.

A performer's Deforum/Parseq schedule written as TOML data::

    [timelines.era]               # the track's name is its parameter unless param = "..."
    unit = "beats"                # or "seconds" (of the performance clock)
    loop = true                   # false: run once, then hold the last key
    length = 64                   # loop length; default: the last key
    interp = "cubic"              # step | linear | cubic | eased; per key as a 3rd item
    keys = [[0, 1850], [32, 1925, "eased"], [64, 2020]]

    [timelines.wobble]            # an oscillator instead of keys
    param = "rotate"
    lfo = "sine"                  # sine | triangle | saw | square | pulse
    period = 8                    # beats per cycle
    lo = -2.0
    hi = 2.0
    combine = "add"               # on top of the parameter's base value

A key holds how it moves *to the next key*: ``step`` holds, ``linear`` ramps,
``cubic`` is a Catmull-Rom spline through the neighbouring keys, ``eased`` is a
smoothstep (slow out of one key, slow into the next). Text values only step.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from typing import Any

from performer.control.params import REGISTRY
from performer.mappings.oscillators import SHAPES, Oscillator
from performer.mappings.tables import (
    LIMIT,
    PatchError,
    Table,
    checked,
    number_or_none,
    parameter,
    shown,
)

INTERPOLATIONS = ("step", "linear", "cubic", "eased")
UNITS = ("beats", "seconds")
COMBINES = ("replace", "add")
MODES = ("read", "touch", "latch", "off")
MAX_KEYS = 10_000  # a key every beat for 40 minutes at 240 bpm; sampling is a bisect
TRACK_KEYS = (
    "param", "unit", "loop", "length", "interp", "keys", "combine", "mode", "release", "start",
    "lfo", "period", "offset", "width", "lo", "hi",
)  # fmt: skip


@dataclass(frozen=True)
class Key:
    at: float
    value: Any
    interp: str


def interpolate(keys: list[Key], times: list[float], pos: float) -> Any:
    """The value of a keyed curve at ``pos``; holds the first and last keys outside."""
    i = bisect.bisect_right(times, pos) - 1
    if i < 0:
        return keys[0].value
    if i >= len(keys) - 1:
        return keys[-1].value
    k1, k2 = keys[i], keys[i + 1]
    if k1.interp == "step" or isinstance(k1.value, str):
        return k1.value
    t = (pos - k1.at) / (k2.at - k1.at)
    if k1.interp == "linear":
        return k1.value + (k2.value - k1.value) * t
    if k1.interp == "eased":
        return k1.value + (k2.value - k1.value) * t * t * (3.0 - 2.0 * t)
    k0, k3 = keys[max(i - 1, 0)], keys[min(i + 2, len(keys) - 1)]
    span = k2.at - k1.at
    m1 = (k2.value - k0.value) / (k2.at - k0.at) * span
    m2 = (k3.value - k1.value) / (k3.at - k1.at) * span
    t2, t3 = t * t, t * t * t
    return (
        (2 * t3 - 3 * t2 + 1) * k1.value
        + (t3 - 2 * t2 + t) * m1
        + (-2 * t3 + 3 * t2) * k2.value
        + (t3 - t2) * m2
    )


class Track:
    """One automation track: keys or an oscillator, sampled by position."""

    def __init__(
        self,
        name: str,
        param: str | None,
        keys: list[Key] | None = None,
        oscillator: Oscillator | None = None,
        lo: float = 0.0,
        hi: float = 1.0,
        unit: str = "beats",
        loop: bool = False,
        length: float | None = None,
        combine: str = "replace",
        mode: str = "read",
        release: float = 1.0,
        start: float = 0.0,
    ):
        self.name, self.param = name, param
        self.keys = keys or []
        self.times = [k.at for k in self.keys]
        self.oscillator, self.lo, self.hi = oscillator, lo, hi
        self.unit, self.loop, self.combine, self.mode = unit, loop, combine, mode
        self.length = length if length is not None else (self.times[-1] if self.times else 0.0)
        self.release = release  # beats a touch lasts after the last live move
        self.start = start  # where position 0 lies at first, in this track's unit
        self.origin = start  # where it lies now (a cue's restart moves it)
        self.text = bool(self.keys) and isinstance(self.keys[0].value, str)

    def fresh(self) -> Track:
        """The same track, at its start (each conductor's cues restart its own)."""
        return Track(
            self.name, self.param, self.keys, self.oscillator, self.lo, self.hi, self.unit,
            self.loop, self.length, self.combine, self.mode, self.release, self.start,
        )  # fmt: skip

    def position(self, beat: float, seconds: float) -> float:
        pos = (beat if self.unit == "beats" else seconds) - self.origin
        if self.loop and self.length > 0:
            pos %= self.length
        return pos

    def sample(self, pos: float) -> Any:
        if self.oscillator is not None:
            return self.lo + (self.hi - self.lo) * self.oscillator(pos)
        return interpolate(self.keys, self.times, pos)

    def value(self, beat: float, seconds: float) -> Any:
        return self.sample(self.position(beat, seconds))

    @classmethod
    def from_table(cls, name: str, table: Table) -> Track:
        table.only(TRACK_KEYS)
        target = table.text("param", name if name in REGISTRY else "")
        p = parameter(target, table.at("param")) if target else None
        combine = table.text("combine", "replace", COMBINES)
        oscillator, keys = None, None
        if table.has("lfo"):
            if table.has("keys"):
                raise PatchError(table.at("keys"), "a track has keys or an lfo, not both")
            oscillator = Oscillator.from_table(table, "lfo")
        else:
            keys = _keys(table, p, table.text("interp", "linear", INTERPOLATIONS))
        if p is not None and p.kind == "str" and (oscillator or combine == "add"):
            raise PatchError(table.at("param"), f"{p.name} is text: it takes keys, replaced")
        return cls(
            name,
            p.name if p else None,
            keys,
            oscillator,
            lo=table.number("lo", 0.0),
            hi=table.number("hi", 1.0),
            unit=table.text("unit", "beats", UNITS),
            loop=table.flag("loop", oscillator is not None),
            length=table.number("length", 0.0, 0.0) if table.has("length") else None,
            combine=combine,
            mode=table.text("mode", "read", MODES),
            release=table.number("release", 1.0, 0.0, 1e6),
            start=table.number("start", 0.0),
        )


def _keys(table: Table, p: Any, default_interp: str) -> list[Key]:
    raw = table.data.get("keys")
    if not isinstance(raw, list) or not raw:
        raise PatchError(table.at("keys"), "expected an array of keys like [[0, 1850], [16, 1900]]")
    if len(raw) > MAX_KEYS:
        raise PatchError(table.at("keys"), f"{len(raw)} keys; at most {MAX_KEYS}")
    keys: list[Key] = []
    for i, item in enumerate(raw):
        where = f"{table.at('keys')}[{i}]"
        if isinstance(item, list) and len(item) in (2, 3):
            item = dict(zip(("at", "value", "interp"), item, strict=False))
        entry = Table(item, where)
        entry.only(["at", "value", "interp"])
        at = entry.number("at", None, 0.0)
        if keys and at <= keys[-1].at:
            raise PatchError(
                where, f"keys must be in increasing order; {at:g} follows {keys[-1].at:g}"
            )
        value = entry.data.get("value")
        if p is not None:
            value = checked(p, value, f"{where}.value")
            value = float(value) if p.kind != "str" else value
        else:
            number = number_or_none(value)
            if number is None or abs(number) > LIMIT:
                raise PatchError(
                    f"{where}.value", f"expected a number within ±{LIMIT:g}, got {shown(value)}"
                )
        keys.append(Key(at, value, entry.text("interp", default_interp, INTERPOLATIONS)))
    return keys


__all__ = ["INTERPOLATIONS", "MODES", "SHAPES", "Key", "Track", "interpolate"]
