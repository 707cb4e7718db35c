"""Each curve, the ranges (invert by swapping) and the deadzone."""

from __future__ import annotations

import itertools
import math

import pytest
from performer.mappings.curves import CURVES, Shape, curve


@pytest.mark.parametrize("name", sorted(CURVES))
def test_every_curve_keeps_its_ends_and_rises(name: str) -> None:
    fn = curve(name)
    xs = [i / 100 for i in range(101)]
    ys = [fn(x, 4.0) for x in xs]
    assert ys[0] == pytest.approx(0.0, abs=1e-12) and ys[-1] == pytest.approx(1.0)
    assert all(b > a for a, b in itertools.pairwise(ys))


def test_linear_is_the_identity() -> None:
    assert curve("linear")(0.3, 4.0) == 0.3


def test_exp_is_slow_then_fast_with_the_stated_formula() -> None:
    assert curve("exp")(0.5, 4.0) == pytest.approx((math.e**2 - 1) / (math.e**4 - 1))
    assert curve("exp")(0.5, 4.0) < 0.5


def test_log_is_the_inverse_of_exp() -> None:
    for x in (0.1, 0.37, 0.8):
        assert curve("log")(curve("exp")(x, 3.0), 3.0) == pytest.approx(x)
    assert curve("log")(0.5, 4.0) > 0.5


def test_scurve_is_symmetric_and_flat_at_the_ends() -> None:
    s = curve("scurve")
    assert s(0.5, 6.0) == pytest.approx(0.5)
    assert s(0.2, 6.0) == pytest.approx(1 - s(0.8, 6.0))
    assert s(0.05, 6.0) < 0.05 and s(0.95, 6.0) > 0.95


def test_unknown_curve_names_the_known_ones() -> None:
    with pytest.raises(ValueError, match=r"unknown curve 'cubic'; known: linear, exp, log, scurve"):
        curve("cubic")


def test_input_and_output_ranges_and_invert_by_swapping() -> None:
    shape = Shape(inp=(0.2, 0.8), out=(1840.0, 2030.0))
    assert shape.apply(0.2) == 1840.0 and shape.apply(0.8) == 2030.0
    assert shape.apply(0.5) == pytest.approx(1935.0)
    assert shape.apply(0.0) == 1840.0 and shape.apply(1.0) == 2030.0  # clamped to the range
    inverted = Shape(inp=(1.0, 0.0), out=(0.0, 10.0))
    assert inverted.apply(0.0) == 10.0 and inverted.apply(0.25) == pytest.approx(7.5)
    swapped_out = Shape(out=(10.0, 0.0))
    assert swapped_out.apply(0.25) == pytest.approx(7.5)


def test_deadzone_snaps_the_ends_and_rescales_between() -> None:
    shape = Shape(deadzone=0.1, out=(0.0, 1.0))
    assert shape.apply(0.05) == 0.0 and shape.apply(0.95) == 1.0
    assert shape.apply(0.5) == pytest.approx(0.5)
    assert shape.apply(0.3) == pytest.approx(0.25)
