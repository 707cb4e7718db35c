"""Learned-mapping files (issue 12, items 4 and 14): they always parse, whatever the
sources were called, and they stay inside their folder, whatever the patch is called."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from performer.control.events import Event
from performer.control.params import ParamStore
from performer.mappings import Conductor, Score, parse
from performer.mappings.learn import learned_path, learned_toml
from performer.mappings.toml_writer import array_of_tables, string

HOSTILE = [
    "osc:/a\x7fb",  # DEL: the case
    "osc:/" + "".join(chr(c) for c in range(0x20)),  # every C0 control character
    'osc:/"quoted"\\back\\slash\\u0041',
    "osc:/new\nline\r\n",
    "osc:/\U0001f3b9 piano \u2028 \ufeff",  # beyond the BMP, line separator, BOM
    "osc:/'''\"\"\"#[x]=",
]


def learn(conductor: Conductor, source: str, name: str = "era") -> None:
    conductor.learn(name)
    conductor.feed(Event(0.0, source, 0.5))
    conductor.tick(0.0, ParamStore().snapshot())


@pytest.mark.parametrize("source", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_osc_addresses_write_files_that_parse(source: str, tmp_path: Path) -> None:
    conductor = Conductor(Score())
    learn(conductor, source)
    assert conductor.learned[0]["source"] == source
    written = conductor.write_learned(tmp_path / "learned.toml")
    data = tomllib.loads(written.read_text(encoding="utf-8"))
    assert data["mappings"][0]["source"] == source
    assert Conductor(parse(data)).mappings[0].source == source, "and it plays again"


@settings(max_examples=300, derandomize=True, deadline=None)
@given(st.lists(st.text(min_size=1, max_size=40), min_size=1, max_size=4))
def test_any_names_round_trip_through_tomllib(names: list[str]) -> None:
    tables = [
        {"source": f"osc:{name}", "param": "era", name: name, "smooth": {name: [name, 1.5]}}
        for name in names
    ]
    assert tomllib.loads(array_of_tables("mappings", tables)) == {"mappings": tables}


@settings(max_examples=200, derandomize=True, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=60))
def test_strings_round_trip_exactly(text: str) -> None:
    assert tomllib.loads(f"x = {string(text)}")["x"] == text


def test_a_name_toml_cannot_hold_is_left_out_and_the_rest_is_kept(
    caplog: pytest.LogCaptureFixture,
) -> None:
    tables = [
        {"source": "osc:/ok", "param": "era"},
        {"source": "osc:/\ud800", "param": "zoom"},  # a lone surrogate: no UTF-8 for it
    ]
    data = tomllib.loads(learned_toml(tables))
    assert data == {"mappings": [tables[0]]}
    assert "not saved" in caplog.text


@pytest.mark.parametrize(
    "name",
    ["../../../../tmp/x", "/etc/passwd", "..", "", "a/../../b", "\x00", "C:\\x", "é" * 300],
)
def test_learned_files_stay_inside_their_folder(name: str, tmp_path: Path) -> None:
    folder = tmp_path / "learned"
    folder.mkdir()
    conductor = Conductor(Score())
    learn(conductor, "midi:cc:1:7")
    path = conductor.save_learned(folder, name)
    assert path.parent == folder and path.suffix == ".toml" and path.is_file()
    assert learned_path(folder, name) == path
    assert sorted(p.name for p in tmp_path.rglob("*")) == sorted(["learned", path.name])
    assert tomllib.loads(path.read_text(encoding="utf-8"))["mappings"][0]["param"] == "era"
