"""Oscillators (LFOs) locked to the beat: sine, triangle, saw, square and pulse.

An oscillator's cycle lasts ``period`` beats, so it follows tap tempo and MIDI clock.
Its value runs over 0..1 (a mapping's chain or a track's ``lo``/``hi`` spreads it):

- ``sine``: 0.5 at phase 0, rising, 1 at a quarter
- ``triangle``: 0 at phase 0, 1 at half, back to 0
- ``saw``: 0 rising to 1, then drops
- ``square``: 1 for the first half, 0 for the second
- ``pulse``: 1 for the first ``width`` of the cycle, 0 for the rest
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from performer.mappings.tables import PatchError, Table, shown

SHAPES = ("sine", "triangle", "saw", "square", "pulse")


def wave(shape: str, phase: float, width: float = 0.5) -> float:
    """The value of ``shape`` at ``phase`` (cycles; only the fraction counts)."""
    p = phase % 1.0
    if shape == "sine":
        return 0.5 + 0.5 * math.sin(2.0 * math.pi * p)
    if shape == "triangle":
        return 1.0 - abs(2.0 * p - 1.0)
    if shape == "saw":
        return p
    if shape == "square":
        return 1.0 if p < 0.5 else 0.0
    if shape == "pulse":
        return 1.0 if p < width else 0.0
    raise ValueError(f"unknown oscillator {shape!r}; known: {', '.join(SHAPES)}")


@dataclass(frozen=True)
class Oscillator:
    shape: str = "sine"
    period: float = 4.0  # beats per cycle
    offset: float = 0.0  # phase at beat 0, in cycles
    width: float = 0.5  # pulse only: the share of the cycle that is high

    def __call__(self, beat: float) -> float:
        return wave(self.shape, beat / self.period + self.offset, self.width)

    @classmethod
    def from_table(cls, table: Table, shape_key: str, shape: str | None = None) -> Oscillator:
        shape = shape if shape is not None else table.text(shape_key, choices=SHAPES)
        if shape not in SHAPES:
            raise PatchError(
                table.at(shape_key),
                f"unknown oscillator {shown(shape)}; known: {', '.join(SHAPES)}",
            )
        return cls(
            shape=shape,
            period=table.number("period", 4.0, 1e-3, 1e6),
            offset=table.number("offset", 0.0),
            width=table.number("width", 0.5, 0.0, 1.0),
        )
