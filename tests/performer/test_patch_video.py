"""A patch's [input] and [[outputs]]: what they may name, and the one-line refusals."""

from __future__ import annotations

from pathlib import Path

import pytest

from performer import patch
from performer.patch import PatchError


def _load(tmp_path: Path, text: str) -> patch.Patch:
    path = tmp_path / "show.toml"
    path.write_text(text, encoding="utf-8")
    return patch.load(path)


def test_input_and_outputs_are_read_into_specs(tmp_path: Path) -> None:
    loaded = _load(
        tmp_path,
        '[input]\nsource = "loops/street.mp4"\n'
        '[[outputs]]\nsink = "ndi:stage"\n'
        '[[outputs]]\nsink = "vcam"\nframes = "generated"\n',
    )
    assert loaded.input == str(tmp_path / "loops/street.mp4"), "relative to the patch"
    assert loaded.outputs == ("ndi:stage", "vcam?frames=generated")
    for spec in ("camera", "camera:1", "ndi:Studio A", "screen", "ffmpeg:rtsp://cam/live"):
        assert _load(tmp_path, f'[input]\nsource = "{spec}"\n').input == spec


@pytest.mark.parametrize(
    ("source", "why"),
    [
        ("/etc/passwd.mp4", "patch's folder"),
        ("../other/clip.mp4", "patch's folder"),
        ("ffmpeg:/etc/hosts?format=rawvideo", "must be one of"),
        ("ffmpeg:movie=/etc/x.mp4?format=lavfi", "must be one of"),
        ("camera:/etc/shadow", "a camera is a number or a name"),
    ],
)
def test_a_patch_cannot_name_a_file_outside_its_folder(
    tmp_path: Path, source: str, why: str
) -> None:
    with pytest.raises(PatchError, match=why) as caught:
        _load(tmp_path, f'[input]\nsource = "{source}"\n')
    assert "show.toml: input.source:" in str(caught.value) and "\n" not in str(caught.value)


def test_a_link_out_of_the_folder_is_refused(tmp_path: Path) -> None:
    outside = tmp_path / "outside.mp4"
    outside.write_bytes(b"")
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "clip.mp4").symlink_to(outside)
    path = tmp_path / "in" / "show.toml"
    path.write_text('[input]\nsource = "clip.mp4"\n', encoding="utf-8")
    with pytest.raises(PatchError, match="links outside"):
        patch.load(path)


@pytest.mark.parametrize(
    ("outputs", "why"),
    [
        ('[[outputs]]\nsink = "ndi:x"\nframes = "both"\n', "unknown 'both'"),
        ('[[outputs]]\nsink = "ndi:x?frames=generated"\n', "expected a sink"),
        ('[[outputs]]\nwhere = "ndi:x"\n', "unknown key"),
        ('outputs = "ndi:x"\n', r"expected \[\[outputs\]\] tables"),
        ('[[outputs]]\nsink = "vcam"\n' * 9, "at most 8"),
    ],
)
def test_bad_outputs_are_one_line(tmp_path: Path, outputs: str, why: str) -> None:
    with pytest.raises(PatchError, match=why):
        _load(tmp_path, outputs)
