"""Soft takeover after a stall: a knob that owned its parameter keeps it when its
messages come in late, in a burst, each at the time it arrived (as control.midi
enqueues them), even though the timeline took the parameter back meanwhile."""

from __future__ import annotations

import pytest

from tests.mappings.mapping_rig import Rig

TOUCHED = {
    "transport": {"bpm": 120},
    "timelines": {"era": {"keys": [[0, 1900], [512, 1900]], "mode": "touch", "release": 2}},
    "mappings": [{"source": "midi:cc:1:0", "param": "era"}],  # pickup by default
}


def position(era: float) -> float:
    return (era - 1840) / 190


@pytest.mark.parametrize("lost", [None, 20], ids=["every message", "one lost"])
def test_a_knob_that_owned_era_keeps_it_through_a_late_burst(lost: int | None) -> None:
    from performer.control.events import Event

    rig = Rig(TOUCHED)
    rig.run(0.1)
    era = 1895.0
    for _ in range(10):  # a slider at 33 messages a second sweeps up through 1900
        rig.send("midi:cc:1:0", position(era))
        rig.run(0.03)
        era += 2
    assert rig.log[-1].cause == "midi:cc:1:0"
    stalled_at = rig.clock.now()
    rig.run(1.5)  # nothing heard for 1.5 s, over touch's 2 beats: the timeline has era back
    assert rig["era"] == 1900.0 and rig.log[-1].cause == "timeline:era"
    for i in range(50):  # then the slider's messages of those 1.5 s, at their own times
        if i != lost:
            rig.conductor.feed(Event(stalled_at + 0.03 * i, "midi:cc:1:0", position(era)))
        era += 2
    rig.run(0.05)
    rig.send("midi:cc:1:0", position(era))
    rig.run(0.05)
    assert rig.log[-1].cause == "midi:cc:1:0" and rig["era"] == pytest.approx(era)


def test_a_knob_left_still_must_pick_up_again_after_touch_hands_back() -> None:
    """The other side: the knob stopped, touch handed era back, and the knob's next
    message, far from 1900, is refused (the burst rule does not make knobs jump)."""
    rig = Rig(TOUCHED)
    rig.run(0.1)
    for era in (1895.0, 1905.0, 1950.0):
        rig.send("midi:cc:1:0", position(era))
        rig.run(0.03)
    rig.run(1.5)
    assert rig["era"] == 1900.0
    rig.send("midi:cc:1:0", position(1955))
    rig.run(0.05)
    assert rig["era"] == 1900.0
