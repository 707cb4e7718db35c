"""The shaping part of a mapping: input range → curve → deadzone → output range.

``x`` is first placed in the input range (0 at ``in[0]``, 1 at ``in[1]``; swap the
pair to invert), bent by the curve, snapped at the ends by the deadzone, then spread
over the output range. Curves map 0..1 onto 0..1 and keep both ends fixed:

- ``linear``: y = x
- ``exp``: slow start, fast end, y = (e^(kx) - 1) / (e^k - 1)  (k = ``amount``)
- ``log``: fast start, slow end (the inverse of ``exp``)
- ``scurve``: slow at both ends, a logistic rescaled to pass through (0,0) and (1,1)
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from performer.mappings.tables import Table

CurveFn = Callable[[float, float], float]


def linear(x: float, amount: float) -> float:
    return x


def exponential(x: float, amount: float) -> float:
    return math.expm1(amount * x) / math.expm1(amount)


def logarithmic(x: float, amount: float) -> float:
    return math.log1p(math.expm1(amount) * x) / amount


def s_curve(x: float, amount: float) -> float:
    def logistic(t: float) -> float:
        return 1.0 / (1.0 + math.exp(-amount * (t - 0.5)))

    low, high = logistic(0.0), logistic(1.0)
    return (logistic(x) - low) / (high - low)


CURVES: dict[str, CurveFn] = {
    "linear": linear,
    "exp": exponential,
    "log": logarithmic,
    "scurve": s_curve,
}
DEFAULT_AMOUNT = 4.0  # k for exp/log: the last tenth of the knob covers ~1/3 of the range
#: the bend a curve may take. Past 100 the exp curve is flat for 99 % of the knob and
#: e^k heads for float overflow (at k = 710); below 0.001 the s-curve's two ends meet
#: in float rounding and it divides by zero
AMOUNTS = (1e-3, 100.0)


def curve(name: str) -> CurveFn:
    try:
        return CURVES[name]
    except KeyError:
        raise ValueError(f"unknown curve {name!r}; known: {', '.join(CURVES)}") from None


@dataclass(frozen=True)
class Shape:
    """One mapping's input range, curve, deadzone and output range."""

    inp: tuple[float, float] = (0.0, 1.0)
    curve: str = "linear"
    amount: float = DEFAULT_AMOUNT
    deadzone: float = 0.0  # share of 0..1 at each end that snaps to that end
    out: tuple[float, float] = (0.0, 1.0)

    def __post_init__(self) -> None:
        curve(self.curve)  # fail early on a misspelt name

    def unit(self, x: float) -> float:
        """``x`` from the input range to 0..1, curved and deadzoned (before the output range)."""
        lo, hi = self.inp
        t = min(max((x - lo) / (hi - lo), 0.0), 1.0)
        t = CURVES[self.curve](t, self.amount)
        dz = self.deadzone
        if dz > 0.0:
            t = min(max((t - dz) / (1.0 - 2.0 * dz), 0.0), 1.0)
        return t

    def apply(self, x: float) -> float:
        lo, hi = self.out
        return lo + (hi - lo) * self.unit(x)

    def span(self) -> float:
        return abs(self.out[1] - self.out[0])

    @classmethod
    def from_table(cls, table: Table, default_out: tuple[float, float]) -> Shape:
        name = table.text("curve", "linear", choices=tuple(CURVES))
        bends = name != "linear"  # a straight line has no bend to bound
        amount = table.number("amount", DEFAULT_AMOUNT, *(AMOUNTS if bends else (None, None)))
        return cls(
            inp=table.pair("in", (0.0, 1.0)),
            curve=name,
            amount=amount,
            deadzone=table.number("deadzone", 0.0, 0.0, 0.49),
            out=table.pair("out", default_out),
        )
