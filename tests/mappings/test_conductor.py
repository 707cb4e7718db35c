"""The conductor on a fake clock: combine modes, cues on the bar, fades, automation modes."""

from __future__ import annotations

from collections.abc import Iterable

import pytest
from performer.control.events import Event
from performer.mappings import Change, parse

from tests.mappings.mapping_rig import FPS, Rig


def test_replace_last_wins_between_two_knobs() -> None:
    rig = Rig({"mappings": [
        {"source": "midi:cc:1:1", "param": "guidance", "takeover": "jump"},
        {"source": "osc:/g", "param": "guidance", "out": [0, 10]},
    ]})  # fmt: skip
    rig.send("midi:cc:1:1", 0.5)
    rig.run(0.1)
    assert rig["guidance"] == pytest.approx(6.0)
    rig.send("osc:/g", 0.2)
    rig.run(0.1)
    assert rig["guidance"] == pytest.approx(2.0)
    assert rig.log[-1].cause == "osc:/g"
    rig.send("midi:cc:1:1", 0.25)
    rig.run(0.1)
    assert rig["guidance"] == pytest.approx(3.0)


def test_add_modulates_on_top_of_the_base_without_drifting() -> None:
    rig = Rig({"mappings": [
        {"source": "midi:cc:1:2", "param": "era", "takeover": "jump"},
        {"source": "lfo:square", "param": "era", "combine": "add", "out": [-10, 10], "period": 1},
    ]})  # fmt: skip
    rig.send("midi:cc:1:2", 0.5)  # era 1935
    seen = []
    for _ in range(FPS * 2):
        rig.clock.advance(1 / FPS)
        rig.tick()
        seen.append(rig["era"])
    assert set(seen) == {1925.0, 1945.0}  # 1935 ± 10, every frame, after 4 cycles
    assert rig.log[-1].cause in ("midi:cc:1:2+lfo:square",)


def test_one_change_per_parameter_per_tick_with_time_and_cause() -> None:
    rig = Rig({"mappings": [{"source": "midi:cc:1:3", "param": "zoom", "takeover": "jump"}]})
    rig.clock.set(0.5)
    rig.send("midi:cc:1:3", 0.1)
    rig.conductor.feed(Event(0.5, "midi:cc:1:3", 0.2))
    changes = rig.tick()
    assert [(c.time, c.param, c.cause) for c in changes] == [(0.5, "zoom", "midi:cc:1:3")]
    assert changes[0].value == pytest.approx(0.5 + 1.5 * 0.2)


def test_events_from_the_future_wait_for_their_time() -> None:
    rig = Rig({})
    rig.conductor.feed(Event(1.0, "param:era", 1900.0))
    rig.run(0.5)
    assert rig["era"] == 1960.0
    rig.run(0.6)
    assert rig["era"] == 1900.0 and rig.log[-1].cause == "param:era"


def test_soft_takeover_in_the_conductor() -> None:
    rig = Rig({"mappings": [{"source": "midi:cc:1:4", "param": "timestep"}]}, {"timestep": 0.6})
    rig.send("midi:cc:1:4", 0.1)  # far from 0.6: ignored
    rig.run(0.1)
    assert rig["timestep"] == 0.6
    rig.send("midi:cc:1:4", 0.4)
    rig.run(0.1)
    rig.send("midi:cc:1:4", 0.7)  # crossed 0.6: picked up
    rig.run(0.1)
    assert rig["timestep"] == pytest.approx(0.7)


def test_relative_encoder_counts_detents() -> None:
    table = {"source": "midi:cc:1:5", "param": "era", "encoding": "twos-complement", "step": 0.01}
    rig = Rig({"mappings": [table]}, {"era": 1900.0})
    for raw in (1, 1, 3):
        rig.send("midi:cc:1:5", raw / 127, raw=raw)
    rig.run(0.05)
    assert rig["era"] == pytest.approx(1900 + 5 * 1.9)
    rig.send("midi:cc:1:5", 1.0, raw=127)
    rig.run(0.05)
    assert rig["era"] == pytest.approx(1900 + 4 * 1.9)


CUED = {
    "transport": {"bpm": 120},
    "scenes": {
        "night": {"era": 1990, "guidance": 4.0},
        "dawn": {"era": 1870},
        "noon": {"era": 1950},
    },
    "cues": {"night": {"quantize": "bar", "fade": 2}, "dawn": {"quantize": "beat"}},
}


def test_a_cue_fires_on_the_next_bar_at_120_bpm() -> None:
    rig = Rig(CUED)
    rig.run(0.7)  # beat 1.4
    assert rig.conductor.cue("dawn", rig.clock.now()) == 2.0
    assert rig.conductor.cue("noon", rig.clock.now()) == 4.0  # quantize: the transport's "bar"
    fired: dict[str, float] = {}
    for _ in range(FPS * 3):
        rig.clock.advance(1 / FPS)
        for change in rig.tick():
            fired.setdefault(change.cause, change.time)
    assert fired["scene:dawn"] == pytest.approx(1.0, abs=1e-9)  # beat 2 = 1.0 s
    assert fired["scene:noon"] == pytest.approx(2.0, abs=1e-9)  # the bar: beat 4 = 2.0 s
    assert rig.conductor.transport.bar(fired["scene:noon"] + 1e-9) == 1


def test_a_scene_cross_fades_over_two_beats() -> None:
    rig = Rig(CUED, {"era": 1950.0, "guidance": 0.0})
    rig.conductor.cue("night", 0.0)  # on a bar: fires now; 2 beats = 1 s at 120 bpm
    values = {}
    for frame in range(FPS * 2):
        rig.tick()
        values[round(frame / FPS, 4)] = (rig["era"], rig["guidance"])
        rig.clock.advance(1 / FPS)
    assert values[0.0] == (1950.0, 0.0)
    assert values[0.25] == pytest.approx((1960.0, 1.0))
    assert values[0.5] == pytest.approx((1970.0, 2.0))
    assert values[1.0] == (1990.0, 4.0)
    assert values[1.5] == (1990.0, 4.0)
    eras = [v[0] for v in values.values()]
    assert eras == sorted(eras)


def test_a_new_prompt_cross_fades_through_prompt_b() -> None:
    data = {
        "scenes": {"sea": {"prompt": "the sea"}},
        "cues": {"sea": {"fade": 4, "quantize": "none"}},
    }
    rig = Rig(data, {"prompt": "a street"})
    rig.conductor.cue("sea", 0.0)
    rig.tick()
    rig.run(1.0)  # half-way
    assert (rig["prompt"], rig["prompt_b"]) == ("a street", "the sea")
    assert rig["prompt_mix"] == pytest.approx(0.5)
    rig.run(1.1)
    assert (rig["prompt"], rig["prompt_b"], rig["prompt_mix"]) == ("the sea", "", 0.0)


def test_a_note_and_a_program_change_launch_cues() -> None:
    data = {**CUED, "cues": {"night": {"trigger": "midi:note:10:36", "quantize": "none"},
                            "dawn": {"program": 5, "quantize": "none"}}}  # fmt: skip
    rig = Rig(data)
    rig.send("midi:note:10:36", 0.8)
    rig.run(0.05)
    assert rig["era"] == 1990.0
    rig.send("midi:program:1", 0.0, raw=5)
    rig.run(0.05)
    assert rig["era"] == 1870.0


AUTOMATED = {
    "transport": {"bpm": 120},
    "timelines": {"era": {"keys": [[0, 1900], [8, 1900]], "mode": "touch", "release": 2}},
    "mappings": [{"source": "midi:cc:1:7", "param": "era", "takeover": "jump"}],
    "scenes": {"x": {"guidance": 1.0}},
}


def test_touch_live_input_overrides_while_it_moves_then_hands_back() -> None:
    rig = Rig(AUTOMATED)
    rig.run(0.5)
    assert rig["era"] == 1900.0 and rig.log[-1].cause == "timeline:era"
    for _ in range(5):  # turn the knob for half a second
        rig.send("midi:cc:1:7", 0.5)
        rig.run(0.1)
        assert rig["era"] == pytest.approx(1935.0)
    rig.run(0.9)  # release is 2 beats = 1 s after the last move: still held
    assert rig["era"] == pytest.approx(1935.0)
    rig.run(0.2)
    assert rig["era"] == 1900.0
    assert rig.log[-1].cause == "timeline:era"


def test_read_ignores_live_input_and_latch_holds_until_the_next_cue() -> None:
    read = Rig({**AUTOMATED, "timelines": {"era": {"keys": [[0, 1900]], "mode": "read"}}})
    read.send("midi:cc:1:7", 0.5)
    read.run(0.2)
    assert read["era"] == 1900.0

    latch = Rig({**AUTOMATED, "timelines": {"era": {"keys": [[0, 1900]], "mode": "latch"}}})
    latch.run(0.1)
    latch.send("midi:cc:1:7", 0.5)
    latch.run(5.0)
    assert latch["era"] == pytest.approx(1935.0)
    latch.conductor.cue("x", latch.clock.now())
    latch.run(2.0)
    assert latch["era"] == 1900.0

    off = Rig({**AUTOMATED, "timelines": {"era": {"keys": [[0, 1900]], "mode": "off"}}})
    off.run(0.2)
    assert off["era"] == 1960.0  # the timeline is silent
    off.send("midi:cc:1:7", 0.5)
    off.run(0.1)
    assert off["era"] == pytest.approx(1935.0)


def test_set_mode_live() -> None:
    rig = Rig(AUTOMATED)
    rig.conductor.set_mode("era", "off")
    with pytest.raises(ValueError, match="known: read, touch, latch, off"):
        rig.conductor.set_mode("era", "write")
    with pytest.raises(ValueError, match="guidance has no timeline"):
        rig.conductor.set_mode("guidance", "read")


def test_tap_tempo_sets_the_bpm_parameter_and_bpm_sets_the_transport() -> None:
    rig = Rig({})
    for _ in range(4):
        rig.conductor.transport.tap(rig.clock.now())
        rig.run(0.5)
    assert rig["bpm"] == pytest.approx(120.0)
    rig.conductor.transport.tap(rig.clock.now())
    rig.run(0.4)
    rig.conductor.transport.tap(rig.clock.now())  # a quicker tap: the average speeds up
    rig.run(0.1)
    assert rig["bpm"] == pytest.approx(60 / ((0.5 * 3 + 0.4) / 4))
    assert rig.log[-1].cause == "transport:tap"
    rig.send("param:bpm", 150.0)
    rig.run(0.1)
    assert rig.conductor.transport.bpm == 150.0


def replay(events: Iterable[Event]) -> list[Change]:
    rig = Rig({**AUTOMATED, "mappings": [
        {"source": "midi:cc:1:7", "param": "era", "smooth": "euro"},
        {"source": "lfo:sine", "param": "zoom", "combine": "add", "out": [-0.05, 0.05]},
    ]})  # fmt: skip
    for event in events:
        rig.conductor.feed(event)
    rig.conductor.cue("x", 0.3)
    rig.run(3.0)
    return rig.log


def test_replay_reproduces_the_performance_exactly() -> None:
    events = [Event(0.1 + i * 0.037, "midi:cc:1:7", (i % 20) / 19) for i in range(40)]
    first, second = replay(events), replay(list(events))
    assert first == second and len(first) > 100


def test_a_whole_log_fed_up_front_plays_in_time_order() -> None:
    rig = Rig({})
    for t, era in [(0.3, 1930.0), (0.1, 1910.0), (0.2, 1920.0)]:
        rig.conductor.feed(Event(t, "param:era", era))
    rig.clock.set(0.25)
    rig.tick()
    assert rig["era"] == 1920.0
    rig.clock.set(0.35)
    rig.tick()
    assert rig["era"] == 1930.0


def test_every_conductor_of_one_score_starts_from_the_patch_as_written() -> None:
    """A score is read once and played many times (the show, a replay, a second run):
    what one conductor's mappings, tracks, tempo and learn did is not the next one's."""
    score = parse({
        "transport": {"bpm": 120, "tap": "midi:note:1:1"},
        "mappings": [{"source": "midi:cc:1:1", "param": "era", "smooth": "onepole"}],
        "timelines": {"zoom": {"keys": [[0, 1.0], [8, 2.0]]}},
        "scenes": {"a": {"guidance": 3.0}},
        "cues": {"a": {"at": [4], "restart": ["zoom"]}},
    })  # fmt: skip

    def play() -> list[Change]:
        rig = Rig(score)
        rig.conductor.learn("rotate")
        for beat in range(12):  # six seconds at 120 bpm: taps at 100 bpm, a knob, a cue
            rig.send("midi:note:1:1", 1.0)
            rig.send("midi:cc:1:1", beat / 12)
            rig.run(0.6)
        rig.send("osc:/r", 0.5)  # learn maps it to rotate
        rig.run(0.2)
        assert rig.conductor.transport.bpm == pytest.approx(100.0)
        return rig.log

    first = play()
    assert play() == first
    assert score.transport.bpm == 120.0 and score.tracks["zoom"].origin == 0.0
    assert [m.target for m in score.mappings] == [None] and len(score.mappings) == 1
