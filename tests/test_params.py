"""The parameter registry: one table, strict for patches, clamping for live input."""

from __future__ import annotations

import math

import pytest

from performer.params import REGISTRY, ParamError, ParamStore, param


def test_every_parameter_is_fully_declared() -> None:
    for p in REGISTRY.values():
        assert p.doc and p.address == f"/performer/{p.name}"
        if p.kind != "str":
            assert p.lo is not None and p.hi is not None and p.lo <= p.default <= p.hi
    for name in (
        "timestep",
        "guidance",
        "era",
        "prompt",
        "prompt_b",
        "prompt_mix",
        "seed",
        "seed_travel",
        "zoom",
        "rotate",
        "translate_x",
        "translate_y",
        "steps",
        "width",
        "height",
        "crossfade",
        "bpm",
    ):
        assert name in REGISTRY
    assert (param("era").lo, param("era").hi) == (1840, 2030)


def test_check_is_strict_and_clamp_is_forgiving() -> None:
    era = param("era")
    assert era.check(1900) == 1900.0 and isinstance(era.check(1900), float)
    with pytest.raises(ParamError, match=r"1840\.\.2030"):
        era.check(1700)
    assert era.clamp(1700) == 1840.0 and era.clamp(3000) == 2030.0
    assert param("steps").clamp(9.0) == 4


@pytest.mark.parametrize("bad", [math.nan, math.inf, "1900", None, True])
def test_non_numbers_and_non_finite_values_are_rejected(bad: object) -> None:
    with pytest.raises(ParamError):
        param("era").clamp(bad)


def test_unknown_parameter_lists_the_known_ones() -> None:
    with pytest.raises(ParamError, match="unknown parameter 'erra'; known: timestep"):
        param("erra")


def test_store_snapshots_are_immutable_and_updates_atomic() -> None:
    store = ParamStore({"era": 1900})
    before = store.snapshot()
    store.update([("era", 1990), ("timestep", 0.2)])
    after = store.snapshot()
    assert before["era"] == 1900 and after["era"] == 1990 and after["timestep"] == 0.2
    with pytest.raises(TypeError):
        before["era"] = 2000  # type: ignore[index]
    assert store.set("guidance", 99) == 12.0
