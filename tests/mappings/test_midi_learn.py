"""MIDI learn makes the same mapping tables a patch declares, and writes them as TOML."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from performer.control.events import Event
from performer.control.params import ParamStore
from performer.mappings import Conductor, Score, parse
from performer.mappings.toml_writer import array_of_tables, value


def test_learn_maps_the_next_moving_control(tmp_path: Path) -> None:
    store = ParamStore()
    conductor = Conductor(Score())
    conductor.learn("guidance")
    conductor.feed(Event(0.0, "param:era", 1900.0))  # not a control: learn stays armed
    conductor.feed(Event(0.0, "osc:/title", "hello"))  # text: not a control either
    conductor.feed(Event(0.01, "midi:cc:2:74", 0.0))
    conductor.tick(0.02, store.snapshot())
    assert conductor.learned == [
        {"source": "midi:cc:2:74", "param": "guidance", "out": [0.0, 12.0], "curve": "linear"}
    ]
    for i in range(5):  # now the knob plays guidance (picked up at 0)
        conductor.feed(Event(0.1 + i * 0.01, "midi:cc:2:74", i / 8))
    changes = conductor.tick(0.2, store.snapshot())
    assert [(c.param, c.value, c.cause) for c in changes if c.param == "guidance"] == [
        ("guidance", 6.0, "midi:cc:2:74")
    ]
    parse(tomllib.loads(conductor.learned_toml()))
    written = conductor.write_learned(tmp_path / "learned.toml")
    replayed = Conductor(parse(tomllib.loads(written.read_text(encoding="utf-8"))))
    assert [m.source for m in replayed.mappings] == ["midi:cc:2:74"]


def test_learning_the_same_parameter_again_replaces_the_mapping() -> None:
    conductor = Conductor(Score())
    for source in ("midi:cc:1:1", "osc:/fader"):
        conductor.learn("era")
        conductor.feed(Event(0.0, source, 0.5))
        conductor.tick(0.0, ParamStore().snapshot())
    assert [t["source"] for t in conductor.learned] == ["osc:/fader"]
    assert [m.source for m in conductor.mappings] == ["osc:/fader"]


def test_text_parameters_cannot_be_learned() -> None:
    with pytest.raises(ValueError, match="prompt is text"):
        Conductor(Score()).learn("prompt")


def test_the_writer_round_trips_through_tomllib() -> None:
    tables = [
        {"source": 'osc:/a "quoted"/é', "param": "era", "out": [1840.0, 2030], "deadzone": 0.02},
        {"source": "midi:cc:1:1", "param": "zoom", "smooth": {"kind": "euro", "beta": 0.5},
         "takeover": "jump", "flag": True},
    ]  # fmt: skip
    assert tomllib.loads(array_of_tables("mappings", tables)) == {"mappings": tables}
    with pytest.raises(ValueError, match="no place for nan"):
        value(float("nan"))
