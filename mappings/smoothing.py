"""Smoothing: the last step of a mapping before its parameter, stepped once per frame.

Each smoother follows a *target* (the mapping's latest output) on the performance
clock, so a knob that jumps glides, and the result depends only on the times it is
stepped at (replay steps it at the same frame times).

- ``onepole``: exponential approach, ``time`` seconds to cover 63 % of a jump.
- ``slew``: at most ``rate`` output units per second (a linear glide).
- ``euro``: the 1€ filter (Casiez, Roussel, Vogel 2012): heavy smoothing when a
  jittery source holds still, little lag when it moves fast. ``min_cutoff`` (Hz) sets
  the smoothing at rest, ``beta`` how fast the cut-off opens with speed.
"""

from __future__ import annotations

import math
from typing import Protocol

from performer.mappings.tables import Table


class Smoother(Protocol):
    value: float | None

    def step(self, target: float, now: float) -> float: ...

    def reset(self, value: float, now: float) -> None: ...

    def fresh(self) -> Smoother:
        """The same settings, before its first step (each conductor plays its own)."""
        ...


class Direct:
    """No smoothing."""

    def __init__(self) -> None:
        self.value: float | None = None

    def step(self, target: float, now: float) -> float:
        self.value = target
        return target

    def reset(self, value: float, now: float) -> None:
        self.value = value

    def fresh(self) -> Direct:
        return Direct()


class _Timed:
    def __init__(self) -> None:
        self.value: float | None = None
        self.time = 0.0

    def reset(self, value: float, now: float) -> None:
        self.value, self.time = value, now

    def _dt(self, target: float, now: float) -> float | None:
        """Seconds since the last step, or None when this is the first (jump there)."""
        if self.value is None:
            self.reset(target, now)
            return None
        dt, self.time = max(now - self.time, 0.0), now
        return dt


class OnePole(_Timed):
    def __init__(self, time: float = 0.08) -> None:
        super().__init__()
        self.tau = time

    def step(self, target: float, now: float) -> float:
        dt = self._dt(target, now)
        if dt is not None and self.value is not None:
            self.value += (target - self.value) * -math.expm1(-dt / self.tau)
        assert self.value is not None
        return self.value

    def fresh(self) -> OnePole:
        return OnePole(self.tau)


class Slew(_Timed):
    def __init__(self, rate: float) -> None:
        super().__init__()
        self.rate = rate

    def step(self, target: float, now: float) -> float:
        dt = self._dt(target, now)
        if dt is not None and self.value is not None:
            most = self.rate * dt
            self.value += min(max(target - self.value, -most), most)
        assert self.value is not None
        return self.value

    def fresh(self) -> Slew:
        return Slew(self.rate)


class OneEuro(_Timed):
    def __init__(self, min_cutoff: float = 1.0, beta: float = 0.007, d_cutoff: float = 1.0):
        super().__init__()
        self.min_cutoff, self.beta, self.d_cutoff = min_cutoff, beta, d_cutoff
        self.speed = 0.0

    @staticmethod
    def _alpha(cutoff: float, dt: float) -> float:
        tau = 1.0 / (2.0 * math.pi * cutoff)
        return 1.0 / (1.0 + tau / dt)

    def reset(self, value: float, now: float) -> None:
        super().reset(value, now)
        self.speed = 0.0

    def step(self, target: float, now: float) -> float:
        previous = self.value
        dt = self._dt(target, now)
        if dt is None or dt == 0.0 or previous is None:
            return self.value if self.value is not None else target
        raw_speed = (target - previous) / dt
        self.speed += self._alpha(self.d_cutoff, dt) * (raw_speed - self.speed)
        cutoff = self.min_cutoff + self.beta * abs(self.speed)
        self.value = previous + self._alpha(cutoff, dt) * (target - previous)
        return self.value

    def fresh(self) -> OneEuro:
        return OneEuro(self.min_cutoff, self.beta, self.d_cutoff)


SMOOTHERS = ("none", "onepole", "slew", "euro")


def from_table(value: object, key: str, span: float) -> Smoother:
    """``smooth = "onepole"`` or ``smooth = { kind = "slew", rate = 200 }``."""
    table = Table({"kind": value} if isinstance(value, str) else value, key)
    kind = table.text("kind", "none", choices=SMOOTHERS)
    if kind == "none":
        table.only(["kind"])
        return Direct()
    if kind == "onepole":
        table.only(["kind", "time"])
        return OnePole(table.number("time", 0.08, 1e-4, 60.0))
    if kind == "slew":
        table.only(["kind", "rate"])
        return Slew(table.number("rate", span, 1e-9, 1e12))  # default: the range in 1 s
    table.only(["kind", "min_cutoff", "beta", "d_cutoff"])
    return OneEuro(
        table.number("min_cutoff", 1.0, 1e-3, 1e3),
        table.number("beta", 0.007, 0.0, 1e6),
        table.number("d_cutoff", 1.0, 1e-3, 1e3),
    )
