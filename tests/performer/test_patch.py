"""Patches load, validate against the registry and fail with the file and key named."""

from __future__ import annotations

from pathlib import Path

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
