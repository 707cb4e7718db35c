"""A patch's score validated against the registry, with errors that name the key."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest
from performer.control.clock import FakeClock
from performer.control.events import Event
from performer.control.params import ParamStore
from performer.mappings import Conductor, PatchError, parse

from performer import patch

PATCHES = Path(__file__).resolve().parents[2] / "patches"
SHIPPED = ["demo", "nanokontrol2", "midimix", "launchcontrol_xl"]


def knob(source: str, param: str = "era", **more: Any) -> dict[str, Any]:
    return {"source": source, "param": param, **more}


def one(source: str = "midi:cc:1:1", param: str = "era", **more: Any) -> dict[str, Any]:
    """A patch with one mapping: its errors sit at mappings[0]."""
    return {"mappings": [knob(source, param, **more)]}


def cue(**table: Any) -> dict[str, Any]:
    return {"scenes": {"a": {}}, "cues": {"a": table}}


M0 = "mappings[0]"
UNORDERED = [[0, 1850], [8, 1900], [16, 1950], [12, 1990]]


@pytest.mark.parametrize(
    ("data", "key", "message"),
    [
        ({"mappings": [knob("midi:cc:1:1"), knob("midi:cc:1:2"), knob("osc:/c", curve="cube")]},
         "mappings[2].curve", "unknown 'cube'; known: linear, exp, log, scurve"),
        (one(param="colour"), f"{M0}.param", "unknown parameter 'colour'"),
        (one(param="prompt"), f"{M0}.param", "prompt is text"),
        (one(out=[1, 1]), f"{M0}.out", "two different numbers"),
        (one(out=[1]), f"{M0}.out", "two numbers"),
        (one(deadzone=0.6), f"{M0}.deadzone", "0..0.49"),
        (one(combine="mix"), f"{M0}.combine", "replace, add"),
        (one(takeover="snap"), f"{M0}.takeover", "pickup, jump"),
        (one(encoding="gray"), f"{M0}.encoding", "signed-bit"),
        (one("osc:/x", encoding="signed-bit"), f"{M0}.encoding", "midi:cc:"),
        (one(smooth="kalman"), f"{M0}.smooth.kind", "onepole"),
        (one("keyboard:a"), f"{M0}.source", "unknown source"),
        (one("lfo:noise"), f"{M0}.source", "unknown oscillator 'noise'"),
        (one("timeline:nope"), f"{M0}.source", "no timeline of numbers named 'nope'"),
        ({"timelines": {"prompt": {"keys": [[0, "a"]]}}, **one("timeline:prompt")},
         f"{M0}.source", "no timeline of numbers named 'prompt'"),
        (one("transport:tempo"), f"{M0}.source", "unknown transport:tempo"),
        (one(curv="exp"), f"{M0}.curv", "unknown key"),
        (one(step=0.1), f"{M0}.step", "relative encoders"),
        (one(period=4), f"{M0}.period", "lfo: sources"),
        ({"mappings": {"source": "x"}}, "mappings", "array of tables"),
        ({"timelines": {"era": {"keys": UNORDERED}}}, "timelines.era.keys[3]", "increasing order"),
        ({"timelines": {"wobble": {"param": "colour", "keys": [[0, 1]]}}},
         "timelines.wobble.param", "unknown parameter 'colour'"),
        ({"scenes": {"dawn": {"era": 1700}}}, "scenes.dawn.era", "era expects a number in 1840"),
        ({"scenes": {"dawn": {"hue": 3}}}, "scenes.dawn.hue", "unknown parameter 'hue'"),
        ({"cues": {"go": {}}}, "cues.go.scene", "no scene named 'go'"),
        (cue(quantize="phrase"), "cues.a.quantize", "beat, bar"),
        (cue(trigger="param:era"), "cues.a.trigger", "a button"),
        (cue(at=[-1]), "cues.a.at", "beats"),
        (cue(restart=["era"]), "cues.a.restart", "timeline names"),
        ({"transport": {"bpm": 500}}, "transport.bpm", "20..300"),
        ({"transport": {"swing": 0.5}}, "transport.swing", "unknown key"),
    ],
)  # fmt: skip
def test_errors_name_the_key(data: dict[str, Any], key: str, message: str) -> None:
    with pytest.raises(PatchError, match=message) as err:
        parse(data)
    assert err.value.key == key
    assert str(err.value).startswith(f"{key}: ")
    assert isinstance(err.value, ValueError)


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_patches_validate_and_load(name: str) -> None:
    path = PATCHES / f"{name}.toml"
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    Conductor(parse(data))
    assert patch.load(path).name == name  # the patch loader takes the same file


CONTROLLERS = [
    ("nanokontrol2", "midi:cc:1:0", "midi:cc:1:33"),  # slider 1, S2
    ("midimix", "midi:cc:1:19", "midi:note:1:4"),  # fader 1, MUTE 2
    ("launchcontrol_xl", "midi:cc:9:77", "midi:note:9:42"),  # fader 1, Track Focus 2
]


@pytest.mark.parametrize(("name", "fader", "button"), CONTROLLERS)
def test_controller_patches_play(name: str, fader: str, button: str) -> None:
    loaded = patch.load(PATCHES / f"{name}.toml")
    clock, store = FakeClock(), ParamStore(loaded.params)
    conductor = Conductor(loaded.score)

    def run(seconds: float) -> None:
        for _ in range(round(seconds * 60)):
            now = clock.advance(1 / 60)
            store.update((c.param, c.value) for c in conductor.tick(now, store.snapshot()))

    run(0.1)
    era = store.get("era")
    position = (era - 1840) / 190
    for step in range(10):  # fader 1 comes up from below the timeline's era, crossing it
        conductor.feed(Event(clock.now(), fader, position - 0.1 + step * 0.02))
        run(0.05)
    run(0.5)  # the fader's smoothing settles
    assert store.get("era") == pytest.approx(1840 + 190 * (position + 0.08), abs=3)
    conductor.feed(Event(clock.now(), button, 1.0))
    run(4.0)  # next bar, then a 4-beat fade
    assert store.get("prompt") == "a crowd in the street by day"


def test_the_demo_sweeps_era_from_1850_to_2020_across_its_scenes() -> None:
    demo = patch.load(PATCHES / "demo.toml")
    clock, store = FakeClock(), ParamStore(demo.params)
    conductor = Conductor(demo.score)
    eras, prompts = [], set()
    while clock.now() < 32.0:  # 64 beats at 120 bpm
        now = clock.advance(1 / 30)
        store.update((c.param, c.value) for c in conductor.tick(now, store.snapshot()))
        eras.append(store.get("era"))
        prompts.add(store.get("prompt"))
    assert min(eras) == pytest.approx(1850, abs=1) and max(eras) == pytest.approx(2020, abs=1)
    assert len(prompts) == 4
