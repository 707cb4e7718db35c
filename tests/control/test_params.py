"""The parameter registry: one table, strict for patches, clamping for live input."""

from __future__ import annotations

import math

import pytest
from performer.control.param import ParamError
from performer.control.params import REGISTRY, ParamStore, param


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


@pytest.mark.parametrize("digits", [400, -5000])
def test_huge_integers_are_one_short_param_error(digits: int) -> None:
    """Before: OverflowError from a float parameter, and a 5,000-digit int could not
    even be printed in the message."""
    huge = 10 ** abs(digits) * (1 if digits > 0 else -1)
    for name in ("era", "seed"):
        for how in (param(name).check, param(name).clamp):
            try:
                how(huge)
            except ParamError as exc:
                assert len(str(exc)) < 160, str(exc)
    with pytest.raises(ParamError, match="expected a finite number, got an integer of about"):
        param("era").clamp(-(10**5000))


def test_errors_about_big_values_stay_one_short_line() -> None:
    with pytest.raises(ParamError) as caught:
        param("era").check(list(range(10**6)))
    assert len(str(caught.value)) < 160 and "\n" not in str(caught.value)


def test_text_past_the_bound_is_refused_by_check_and_cut_by_clamp() -> None:
    from performer.control.param import MAX_TEXT

    long = "x" * (MAX_TEXT + 1)
    with pytest.raises(ParamError, match=f"prompt: {MAX_TEXT + 1} characters; at most {MAX_TEXT}"):
        param("prompt").check(long)
    assert param("prompt").clamp(long) == long[:MAX_TEXT]
    assert param("prompt").check("x" * MAX_TEXT) == "x" * MAX_TEXT


def test_the_store_says_whether_a_snapshot_still_holds_and_signals_writes() -> None:
    store = ParamStore()
    snap = store.snapshot()
    store.changed.clear()
    assert store.holds(snap)
    store.set("era", 1900)
    assert store.changed.is_set() and not store.holds(snap)


def test_the_knobs_a_show_adds_are_bounded() -> None:
    """A show declares its LoRAs' knobs; past MAX_DECLARED the registry refuses more."""
    from performer.control import params

    names = [f"lora_bound_{i}" for i in range(params.MAX_DECLARED + 1)]
    try:
        with pytest.raises(ParamError, match="at most"):
            for name in names:
                params.declare(params.lora_param(name.removeprefix("lora_")))
    finally:
        for name in names:
            params.forget(name)
    assert not any(name in params.REGISTRY for name in names)


@pytest.mark.parametrize("name", ["Bad Name!", "Ink", "x-y", "x" * 60, "a/b", "é"])
def test_a_declared_knob_is_named_as_an_osc_address_can_be(name: str) -> None:
    """A take or a command line may name a LoRA anything; its knob may not be."""
    from performer.control import params

    with pytest.raises(ParamError, match="lowercase letters, digits and _"):
        params.declare(params.lora_param(name))
    assert f"lora_{name}" not in params.REGISTRY


def test_an_undeclared_show_knob_says_what_declares_it() -> None:
    from performer.control.params import param

    with pytest.raises(ParamError, match="two or more ControlNets play"):
        param("control_strength_3")
    with pytest.raises(ParamError, match="--lora FILE:NAME or in"):
        param("lora_ink")
