"""Timelines against analytic shapes, interpolations, loop and once, and oscillators."""

from __future__ import annotations

import math

import pytest
from performer.control.clock import FakeClock
from performer.mappings.oscillators import Oscillator, wave
from performer.mappings.tables import PatchError, Table
from performer.mappings.timeline import Key, Track, interpolate
from performer.mappings.transport import Transport


def track(**table: object) -> Track:
    return Track.from_table(str(table.pop("name", "era")), Table(table, "timelines.t"))


def test_a_cubic_timeline_follows_a_sine_it_was_keyed_from() -> None:
    keys = [[b, 1935 + 80 * math.sin(2 * math.pi * b / 32)] for b in range(0, 33, 2)]
    era = track(keys=keys, interp="cubic", loop=True, length=32)
    clock, transport = FakeClock(), Transport(bpm=120.0)
    worst = 0.0
    for _ in range(2000):  # 2000 frames at 60 fps: 66 beats, through the loop twice
        now = clock.advance(1 / 60)
        beat = transport.beat(now)
        expected = 1935 + 80 * math.sin(2 * math.pi * beat / 32)
        worst = max(worst, abs(era.value(beat, now) - expected))
    assert worst < 0.5  # years, on an 80-year swing keyed every 2 beats


def test_linear_keys_reproduce_a_ramp_exactly_and_hold_after_the_end() -> None:
    era = track(keys=[[0, 1850], [64, 2010]], unit="seconds")
    for s in (0.0, 10.0, 33.3, 64.0):
        assert era.value(0.0, s) == pytest.approx(1850 + 160 * s / 64)
    assert era.value(0.0, 100.0) == 2010.0  # once: holds the last key


def test_step_and_eased_interpolation() -> None:
    keys = [Key(0.0, 0.0, "step"), Key(4.0, 1.0, "eased"), Key(8.0, 2.0, "linear")]
    times = [k.at for k in keys]
    assert interpolate(keys, times, 3.99) == 0.0
    assert interpolate(keys, times, 6.0) == pytest.approx(1.5)  # eased: symmetric
    assert interpolate(keys, times, 5.0) == pytest.approx(1.0 + 0.25**2 * (3 - 2 * 0.25))


def test_cubic_passes_through_its_keys_and_reproduces_a_parabola() -> None:
    keys = [Key(float(x), float(x * x), "cubic") for x in range(6)]
    times = [k.at for k in keys]
    for x in (1.0, 2.0, 3.0):
        assert interpolate(keys, times, x) == pytest.approx(x * x)
    for x in (1.5, 2.25, 3.7):  # interior segments: exact for a quadratic
        assert interpolate(keys, times, x) == pytest.approx(x * x)


def test_text_steps_and_a_loop_wraps() -> None:
    prompt = track(name="prompt", keys=[[0, "a harbour"], [4, "a field"]], loop=True, length=8)
    assert prompt.value(3.9, 0.0) == "a harbour"
    assert prompt.value(5.0, 0.0) == "a field"
    assert prompt.value(9.0, 0.0) == "a harbour"


@pytest.mark.parametrize(
    ("shape", "phases", "values"),
    [
        ("sine", [0.0, 0.25, 0.5, 0.75], [0.5, 1.0, 0.5, 0.0]),
        ("triangle", [0.0, 0.25, 0.5, 0.75], [0.0, 0.5, 1.0, 0.5]),
        ("saw", [0.0, 0.25, 0.5, 0.99], [0.0, 0.25, 0.5, 0.99]),
        ("square", [0.0, 0.49, 0.5, 0.99], [1.0, 1.0, 0.0, 0.0]),
    ],
)
def test_oscillator_shapes(shape: str, phases: list[float], values: list[float]) -> None:
    assert [wave(shape, p) for p in phases] == pytest.approx(values, abs=1e-12)


def test_oscillator_rate_is_in_beats_and_pulse_has_a_width() -> None:
    lfo = Oscillator("sine", period=8.0)
    assert lfo(2.0) == pytest.approx(1.0) and lfo(10.0) == pytest.approx(1.0)
    pulse = Oscillator("pulse", period=4.0, width=0.25)
    assert [pulse(b) for b in (0.0, 0.9, 1.0, 3.0)] == [1.0, 1.0, 0.0, 0.0]


def test_an_lfo_track_spreads_over_lo_hi() -> None:
    rotate = track(name="rotate", lfo="triangle", period=4, lo=-2.0, hi=2.0, combine="add")
    assert rotate.value(2.0, 0.0) == pytest.approx(2.0)
    assert rotate.value(4.0, 0.0) == pytest.approx(-2.0)


@pytest.mark.parametrize(
    ("table", "key", "message"),
    [
        ({"keys": [[0, 1850], [0, 1900]]}, "timelines.t.keys[1]", "increasing order"),
        ({"keys": [[0, 1850], [4, 2500]]}, "timelines.t.keys[1].value", "era expects a number"),
        ({"keys": [[0, 1850, "bezier"]]}, "timelines.t.keys[0].interp", "unknown 'bezier'"),
        ({"keys": [[0, 1850]], "mode": "write"}, "timelines.t.mode", "known: read, touch"),
        ({"lfo": "noise"}, "timelines.t.lfo", "known: sine, triangle"),
        ({"keys": []}, "timelines.t.keys", "expected an array of keys"),
        ({"keys": [[0, 1850]], "speed": 2}, "timelines.t.speed", "unknown key"),
    ],
)
def test_track_errors_name_the_key(table: dict[str, object], key: str, message: str) -> None:
    with pytest.raises(PatchError, match=message) as err:
        track(**table)
    assert err.value.key == key
