"""Patches load, validate against the registry and fail with the file and key named."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from performer import patch
from performer.patch import PatchError

PATCHES = Path(__file__).resolve().parents[2] / "patches"


@pytest.mark.parametrize("path", sorted(PATCHES.glob("*.toml")), ids=lambda p: p.name)
def test_shipped_patches_load(path: Path) -> None:
    loaded = patch.load(path)
    assert loaded.path == path


def test_default_patch_by_name() -> None:
    default = patch.load("default")
    assert default.model is None, "the default patch plays the embedded model"
    assert len(default.anchors) >= 8 and list(default.anchors) == sorted(default.anchors)
    assert "{era}" in default.template


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[params]\nera = "soon"', r"bad\.toml: params\.era: expected a number in 1840\.\.2030"),
        ("[params]\nsteps = 2.5", r"params\.steps: expected an integer in 1\.\.4"),
        ("[params]\nerra = 3", r"params\.erra: unknown parameter"),
        ("modle = 'x'", r"modle: unknown key; expected one of name, model"),
        ('[era.anchors]\n1700 = "x"', r"era\.anchors\.1700: expected a year in 1840\.\.2030"),
        ('[era]\ntemplate = "{prompt}"', r"era\.template: expected a string containing \{era\}"),
        (
            "[scenes.dawn]\ntimestep = 7",
            r"scenes\.dawn\.timestep: timestep expects a number in 0\.\.1",
        ),
        ("[[mappings]]\nsource = 1", r"mappings\[0\]"),
        ("mappings = 3", r"mappings: expected an array of tables"),
        ("x = [", r"toml: not valid TOML"),
    ],
)
def test_bad_patches_name_file_key_and_expectation(text: str, message: str) -> None:
    with pytest.raises(PatchError, match=message):
        patch.loads(text, source="bad.toml")


def test_missing_patch_file(tmp_path: Path) -> None:
    with pytest.raises(PatchError, match="no such patch file"):
        patch.load(tmp_path / "gone.toml")


def test_model_folders_resolve_relative_to_the_patch(tmp_path: Path) -> None:
    (tmp_path / "p.toml").write_text('model = "./models/tiny"\n')
    assert patch.load(tmp_path / "p.toml").model == str(tmp_path / "models" / "tiny")


def test_the_score_is_read_once_when_the_patch_loads(monkeypatch: pytest.MonkeyPatch) -> None:
    """The session's conductor plays the patch's score; it does not read the tables again."""
    from performer.mappings.mapping import Mapping

    from performer.generators.embedded import EmbeddedGenerator
    from performer.session import Session

    read: list[str] = []
    from_table = Mapping.from_table.__func__  # type: ignore[attr-defined]

    def counted(cls: type[Mapping], table: Any, tracks: frozenset[str] = frozenset()) -> Mapping:
        read.append(table.key)
        return from_table(cls, table, tracks)

    monkeypatch.setattr(Mapping, "from_table", classmethod(counted))
    text = (
        '[[mappings]]\nsource = "midi:cc:1:1"\nparam = "era"\n'
        '[[mappings]]\nsource = "lfo:sine"\nparam = "zoom"\ncombine = "add"\nout = [-0.1, 0.1]\n'
    )
    loaded = patch.loads(text)
    session = Session(loaded, EmbeddedGenerator())
    assert read == ["mappings[0]", "mappings[1]"]
    assert [m.source for m in session.conductor.mappings] == ["midi:cc:1:1", "lfo:sine"]
    assert session.conductor.mappings[0] is not loaded.score.mappings[0], "its own, fresh"
