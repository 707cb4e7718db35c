"""How pick-up, automation modes, scenes and continuous sources meet in the conductor."""

from __future__ import annotations

import logging
import math

import pytest

from tests.mappings.mapping_rig import FPS, Rig

TOUCHED = {
    "transport": {"bpm": 120},
    "timelines": {"era": {"keys": [[0, 1900], [64, 1900]], "mode": "touch", "release": 1}},
    "mappings": [{"source": "midi:cc:1:7", "param": "era"}],  # pickup by default
    "scenes": {"late": {"era": 2000}},
}


def position(era: float) -> float:
    return (era - 1840) / 190


def test_a_knob_must_pick_up_the_timeline_before_touch_takes_over() -> None:
    rig = Rig(TOUCHED)
    rig.run(0.1)
    rig.send("midi:cc:1:7", position(1990))  # far above the timeline's 1900: ignored
    rig.run(0.1)
    assert rig["era"] == 1900.0
    for era in (1950, 1910, 1895, 1880):  # sweep down through 1900: picked up there
        rig.send("midi:cc:1:7", position(era))
        rig.run(0.02)
    assert rig["era"] == pytest.approx(1880.0)
    rig.run(0.6)  # 1 beat after the last move, touch hands back
    assert rig["era"] == 1900.0
    rig.send("midi:cc:1:7", position(1875))  # the knob sits at 1880 now: not picked up
    rig.run(0.1)
    assert rig["era"] == 1900.0


def test_a_scene_moves_a_parameter_away_and_the_knob_must_pick_it_up_again() -> None:
    rig = Rig(
        {
            "mappings": [{"source": "midi:cc:1:7", "param": "era"}],
            "scenes": {"late": {"era": 2000}},
            "cues": {"late": {"quantize": "none"}},
        }
    )
    rig.send("midi:cc:1:7", position(1960))
    rig.run(0.1)
    rig.send("midi:cc:1:7", position(1950))
    rig.run(0.1)
    assert rig["era"] == pytest.approx(1950.0)
    rig.conductor.cue("late", rig.clock.now())
    rig.run(0.1)
    assert rig["era"] == 2000.0  # the scene wrote last
    rig.send("midi:cc:1:7", position(1945))
    rig.run(0.1)
    assert rig["era"] == 2000.0  # the knob is far from 2000: it waits


def test_an_audio_feature_modulates_on_top_of_a_timeline() -> None:
    rig = Rig({"timelines": {"zoom": {"keys": [[0, 1.0]]}},
               "mappings": [{"source": "audio:low", "param": "zoom", "combine": "add",
                             "out": [0.0, 0.05]}]})  # fmt: skip
    rig.run(0.1)
    assert rig["zoom"] == 1.0
    rig.send("audio:low", 0.5)
    rig.run(0.05)
    assert rig["zoom"] == pytest.approx(1.025)
    assert rig.log[-1].cause == "timeline:zoom+audio:low"


def test_transport_and_timeline_sources_feed_mappings() -> None:
    rig = Rig({"transport": {"bpm": 120},
               "timelines": {"wave": {"keys": [[0, 0.0], [4, 1.0]], "loop": True}},
               "mappings": [{"source": "transport:phase", "param": "prompt_mix"},
                            {"source": "timeline:wave", "param": "seed_travel"}]})  # fmt: skip
    rig.clock.set(0.25)  # beat 0.5
    rig.tick()
    assert rig["prompt_mix"] == pytest.approx(0.5)
    assert rig["seed_travel"] == pytest.approx(0.125)


def test_cues_repeat_every_n_beats_and_restart_tracks() -> None:
    rig = Rig({"transport": {"bpm": 120},
               "timelines": {"era": {"keys": [[0, 1850], [8, 1930]]}},
               "scenes": {"a": {"guidance": 1.0}, "b": {"guidance": 2.0}},
               "cues": {"a": {"at": [0], "every": 8, "restart": ["era"]},
                        "b": {"at": [4], "every": 8}}})  # fmt: skip
    seen, era_at_12 = [], None
    for _ in range(FPS * 8):  # 16 beats
        rig.clock.advance(1 / FPS)
        for change in rig.tick():
            if change.param == "guidance":
                seen.append((math.floor(rig.conductor.transport.beat(change.time)), change.value))
        if era_at_12 is None and rig.conductor.transport.beat(rig.clock.now()) >= 12:
            era_at_12 = rig["era"]
    assert seen == [(0, 1.0), (4, 2.0), (8, 1.0), (12, 2.0)]
    assert era_at_12 == pytest.approx(1890.0, abs=0.5)  # restarted at beat 8, half-way again


def test_bad_live_input_is_logged_once_a_second_per_kind_and_the_show_goes_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    rig = Rig({"scenes": {"dawn": {"era": 1900}}})  # one cue: program 5 finds none
    with caplog.at_level(logging.WARNING, logger="performer.mappings.conductor"):
        for frame in range(3 * FPS):  # three seconds, bad input at every frame
            rig.send("param:era", "the future")
            rig.send("param:colour", 0.3)
            rig.send("midi:program:1", 0, raw=5)
            rig.send("param:zoom", 1.0 + frame / FPS)  # and good input beside it
            rig.run(1 / FPS)
            assert rig["zoom"] == pytest.approx(min(1.0 + frame / FPS, 2.0))
    lines = [r.getMessage() for r in caplog.records]
    values = [line for line in lines if line.startswith("param:")]
    cues = [line for line in lines if line.startswith("midi:program:")]
    assert len(values) == 3 and len(cues) == 3 and len(lines) == 6, lines
    assert values[0] == (
        "param:era refused: era: expected a number in 1840..2030, got 'the future'"
    ), values[0]
    assert values[1].endswith(f"({2 * FPS - 1} more like it left out)"), values[1]
    assert cues[0] == "midi:program:1 refused: no cue for program 5", cues[0]
