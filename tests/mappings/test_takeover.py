"""Soft takeover (pick-up) for absolute knobs and relative encoder decoding."""

from __future__ import annotations

import pytest
from performer.mappings.relative import decode
from performer.mappings.takeover import THRESHOLD, Jump, Pickup


def test_a_knob_far_from_the_value_does_not_jump_it() -> None:
    pickup = Pickup()
    assert not pickup.accept(0.9, current=0.3, now=0.0)
    assert not pickup.accept(0.8, current=0.3, now=1.0)
    assert not pickup.accept(0.5, current=0.3, now=2.0)


def test_the_knob_picks_up_when_it_crosses_the_value() -> None:
    pickup = Pickup()
    assert not pickup.accept(0.9, current=0.3, now=0.0)
    assert not pickup.accept(0.6, current=0.3, now=1.0)
    assert pickup.accept(0.1, current=0.3, now=2.0)  # passed 0.3 between two messages


def test_the_knob_picks_up_within_the_threshold() -> None:
    pickup = Pickup()
    assert pickup.accept(0.3 + THRESHOLD * 0.9, current=0.3, now=0.0)
    assert not Pickup().accept(0.3 + THRESHOLD * 1.5, current=0.3, now=0.0)


def test_once_owned_a_fast_turn_is_followed_within_the_window() -> None:
    pickup = Pickup(window=0.05)
    assert pickup.accept(0.30, current=0.3, now=0.0)
    assert pickup.accept(0.50, current=0.30, now=0.04)  # a big step, but within 50 ms
    assert pickup.accept(0.70, current=0.50, now=0.08)
    # the parameter moved away (a scene) and the knob is left alone for a while
    assert not pickup.accept(0.72, current=0.10, now=1.0)


def test_jump_takes_everything() -> None:
    assert Jump().accept(1.0, current=0.0, now=0.0)


@pytest.mark.parametrize(
    ("encoding", "table"),
    [
        ("signed-bit", {1: 1, 2: 2, 63: 63, 65: -1, 66: -2, 127: -63, 0: 0, 64: 0}),
        ("signed-bit-2", {65: 1, 66: 2, 127: 63, 1: -1, 2: -2, 63: -63}),
        ("binary-offset", {65: 1, 66: 2, 127: 63, 63: -1, 62: -2, 0: -64, 64: 0}),
        ("twos-complement", {1: 1, 2: 2, 63: 63, 127: -1, 126: -2, 64: -64, 0: 0}),
    ],
)
def test_relative_encodings(encoding: str, table: dict[int, int]) -> None:
    assert {raw: decode(encoding, raw) for raw in table} == table


def test_relative_errors_are_precise() -> None:
    with pytest.raises(ValueError, match="unknown encoding 'gray'"):
        decode("gray", 1)
    with pytest.raises(ValueError, match=r"0\.\.127, got 128"):
        decode("signed-bit", 128)
