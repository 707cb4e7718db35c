"""The transport: beat, bar and phase on the clock; tempo changes, tap, sync, quantize."""

from __future__ import annotations

import pytest
from performer.mappings.transport import Transport


def test_beat_bar_and_phase_at_120_bpm() -> None:
    t = Transport(bpm=120.0)
    assert t.beat(0.0) == 0.0 and t.beat(1.25) == pytest.approx(2.5)
    assert t.phase(1.25) == pytest.approx(0.5)
    assert t.bar(1.99) == 0 and t.bar(2.0) == 1  # 4 beats = 2 s
    assert t.bar_phase(3.0) == pytest.approx(0.5)
    assert t.time_at(8.0) == pytest.approx(4.0)


def test_a_tempo_change_keeps_the_beat_continuous() -> None:
    t = Transport(bpm=120.0)
    t.set_bpm(60.0, now=2.0)  # at beat 4
    assert t.beat(2.0) == pytest.approx(4.0)
    assert t.beat(3.0) == pytest.approx(5.0)


def test_quantize_to_the_next_beat_and_bar() -> None:
    t = Transport(bpm=120.0)
    assert t.next_boundary(0.3, "beat") == 1.0
    assert t.next_boundary(0.3, "bar") == 4.0
    assert t.next_boundary(2.0, "bar") == 4.0  # exactly on a bar: now
    assert t.next_boundary(0.3, "none") == pytest.approx(0.6)
    with pytest.raises(ValueError, match="unknown quantize 'phrase'"):
        t.next_boundary(0.0, "phrase")


def test_tap_tempo_averages_the_last_taps() -> None:
    t = Transport(bpm=120.0)
    assert t.tap(10.0) is None
    assert t.tap(10.5) == pytest.approx(120.0)
    t.tap(11.0)
    assert t.tap(11.6) == pytest.approx(60.0 / ((11.6 - 10.0) / 3))
    assert t.changed_by == "tap"
    before = t.bpm
    assert t.tap(20.0) is None and t.bpm == before  # a long pause starts a new count


def test_sync_follows_an_outside_clock() -> None:
    t = Transport(bpm=120.0)
    t.sync(beat=100.0, bpm=90.0, now=5.0)
    assert t.beat(5.0) == 100.0 and t.beat(7.0) == pytest.approx(103.0)
    assert t.bpm == 90.0 and t.changed_by == "sync"
