"""One-pole, slew and the 1€ filter, stepped on fake frame times."""

from __future__ import annotations

import math
import random
import statistics

import pytest
from performer.mappings.smoothing import Direct, OneEuro, OnePole, Slew, from_table
from performer.mappings.tables import PatchError


def run(smoother: object, targets: list[float], dt: float) -> list[float]:
    step = smoother.step  # type: ignore[attr-defined]
    return [step(target, i * dt) for i, target in enumerate(targets)]


def test_onepole_follows_the_exponential() -> None:
    out = run(OnePole(time=0.1), [0.0] + [1.0] * 60, dt=1 / 60)
    for i in (6, 12, 30):  # after i frames of the step
        assert out[i] == pytest.approx(1 - math.exp(-(i / 60) / 0.1), abs=1e-9)


def test_onepole_does_not_depend_on_the_frame_rate() -> None:
    slow = run(OnePole(time=0.2), [0.0] + [1.0] * 30, dt=1 / 30)
    fast = run(OnePole(time=0.2), [0.0] + [1.0] * 120, dt=1 / 120)
    assert slow[30] == pytest.approx(fast[120], abs=1e-9)


def test_slew_moves_at_its_rate_then_stops_on_target() -> None:
    out = run(Slew(rate=10.0), [0.0] + [1.0] * 20, dt=0.02)
    assert out[1] == pytest.approx(0.2) and out[4] == pytest.approx(0.8)
    assert out[5] == pytest.approx(1.0) and out[20] == 1.0


def test_one_euro_quiets_jitter_at_rest() -> None:
    rng = random.Random(7)
    noisy = [0.5 + rng.uniform(-0.02, 0.02) for _ in range(300)]
    out = run(OneEuro(min_cutoff=1.0, beta=0.0), noisy, dt=1 / 60)
    assert statistics.pstdev(out[100:]) < statistics.pstdev(noisy[100:]) / 3


def test_one_euro_follows_fast_motion_with_less_lag_than_at_rest() -> None:
    ramp = [i / 60 * 5.0 for i in range(120)]  # 5 units per second
    lazy = run(OneEuro(min_cutoff=1.0, beta=0.0), ramp, dt=1 / 60)
    eager = run(OneEuro(min_cutoff=1.0, beta=1.0), ramp, dt=1 / 60)
    assert abs(ramp[-1] - eager[-1]) < abs(ramp[-1] - lazy[-1]) / 3


def test_direct_and_the_table_forms() -> None:
    assert run(Direct(), [0.0, 3.0], dt=0.1) == [0.0, 3.0]
    assert isinstance(from_table("onepole", "m.smooth", 1.0), OnePole)
    slew = from_table({"kind": "slew", "rate": 5}, "m.smooth", 1.0)
    assert isinstance(slew, Slew) and slew.rate == 5
    with pytest.raises(PatchError) as err:
        from_table({"kind": "euro", "bta": 1}, "mappings[0].smooth", 1.0)
    assert err.value.key == "mappings[0].smooth.bta"
    with pytest.raises(PatchError, match="known: none, onepole, slew, euro"):
        from_table("kalman", "mappings[0].smooth", 1.0)
