"""A take records what shaped its picture (LoRAs, ControlNet, ...) and replays with it."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from performer.take import TakeError
from performer.take.conditioning import as_played, gone, recorded
from tests.performer.test_cli import HEADLESS, performer

# what play records: null or a text, or a list of pairs
KNOWN = {"lora": None, "loras": [], "controlnets": [], "tiny_vae": None, "ip_image": None}


def test_files_are_recorded_as_absolute_paths_and_ids_as_given(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "ink.safetensors").write_bytes(b"")
    monkeypatch.chdir(tmp_path)
    played = as_played({"lora": "org/lcm", "loras": [("ink.safetensors", "ink")], "x": None})
    assert played == {
        "lora": "org/lcm",
        "loras": [[str(tmp_path / "ink.safetensors"), "ink"]],
        "x": None,
    }
    assert json.loads(json.dumps(played)) == played
    assert gone(played) == []
    (tmp_path / "ink.safetensors").unlink()
    assert gone(played) == [str(tmp_path / "ink.safetensors")]


def test_a_depth_model_folder_is_recorded_as_an_absolute_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "cn").mkdir()
    (tmp_path / "dpt").mkdir()
    monkeypatch.chdir(tmp_path)
    played = as_played({"controlnets": [("cn", "depth:dpt"), ("org/net", "depth:org/dpt")]})
    assert played == {
        "controlnets": [
            [str(tmp_path / "cn"), f"depth:{tmp_path / 'dpt'}"],
            ["org/net", "depth:org/dpt"],
        ]
    }
    (tmp_path / "dpt").rmdir()
    assert gone(played) == [str(tmp_path / "dpt")]


def test_a_take_without_the_record_has_none() -> None:
    assert recorded({"fps": 30}, Path("take"), KNOWN) == {}


def test_the_record_reads_back_as_keyword_arguments() -> None:
    info = {"conditioning": {"lora": None, "loras": [["/a/ink.safetensors", "ink"]]}}
    assert recorded(info, Path("take"), KNOWN) == {
        "lora": None,
        "loras": [("/a/ink.safetensors", "ink")],
    }


@pytest.mark.parametrize(
    ("record", "message"),
    [
        ([1, 2], "'conditioning' must be a table, got [1, 2]"),
        ({"device": "cuda"}, "'device' is not known here"),
        ({"lora": 3}, "'conditioning'.lora must be null or a text, got 3"),
        ({"loras": [["a"]]}, "'conditioning'.loras must be a list of [source, name]"),
        ({"loras": [["a", 2]]}, "'conditioning'.loras must be a list of [source, name]"),
        ({"loras": "abc"}, "'conditioning'.loras must be a list of [source, name]"),
        ({"controlnets": "x"}, "'conditioning'.controlnets must be a list of [source, name]"),
        ({"ip_image": [["/etc/passwd", "x"]]}, "'conditioning'.ip_image must be null or a text"),
        ({"tiny_vae": ""}, "'conditioning'.tiny_vae must be null or a text"),
        ({"loras": [["a", "b"]] * 17}, "'conditioning'.loras must be a list of [source, name]"),
    ],
)
def test_a_hand_edited_record_is_one_line(record: object, message: str) -> None:
    with pytest.raises(TakeError, match=r"take\.json") as refused:
        recorded({"conditioning": record}, Path("take"), KNOWN)
    assert message in str(refused.value) and "\n" not in str(refused.value)


PATCH = """
[params]
crossfade = 0.0
seed = 7
[[loras]]
source = "./ink/pytorch_lora_weights.safetensors"
name = "ink"
weight = 0.0
[timelines.lora_ink]
unit = "seconds"
keys = [[0, 0.0], [1.2, 2.0]]
"""


@pytest.mark.slow
def test_a_take_with_live_loras_replays_bit_identically_after_it_moves(
    tiny_models: dict[str, Path], tmp_path: Path
) -> None:
    from performer.generators.tiny import save_tiny_lora

    show = tmp_path / "show"
    show.mkdir()
    (show / "model").symlink_to(tiny_models["sd"])
    model = "model"  # relative to the show's folder, as a performer would type it
    save_tiny_lora(show / "ink", tiny_models["sd"], seed=1)
    save_tiny_lora(show / "wash", tiny_models["sd"], seed=2)
    (show / "patch.toml").write_text(PATCH)
    played = performer(
        *HEADLESS,
        "--no-osc",
        "--seconds",
        "1.5",
        "--patch",
        "patch.toml",
        "--model",
        model,
        "--lora",
        "wash/pytorch_lora_weights.safetensors:wash",  # relative to the show's folder
        "--set",
        "lora_wash=0.7",
        "--width",
        "32",
        "--height",
        "32",
        "--takes",
        str(tmp_path / "takes"),
        cwd=show,
    )
    assert played.returncode == 0, played.stderr
    (take,) = (tmp_path / "takes").iterdir()
    info = json.loads((take / "take.json").read_text())
    assert info["model_arg"] == str(tiny_models["sd"].resolve())
    assert info["conditioning"]["loras"] == [
        [str(show / "ink" / "pytorch_lora_weights.safetensors"), "ink"],
        [str(show / "wash" / "pytorch_lora_weights.safetensors"), "wash"],
    ]
    weights = {f["params"]["lora_ink"] for f in _frames(take)}
    assert len(weights) >= 3, f"the knob moved during the take: {weights}"

    moved = tmp_path / "elsewhere" / take.name
    moved.parent.mkdir()
    shutil.move(take, moved)
    done = performer("render", str(moved), "--out", str(tmp_path / "again.mp4"), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    frames = len(_frames(moved))
    assert f"{frames} of {frames} frames bit-identical to the take" in done.stderr, done.stderr

    other = f"{show / 'wash' / 'pytorch_lora_weights.safetensors'}:ink"
    instead = performer("render", str(moved), "--out", str(tmp_path / "b.mp4"), "--lora", other)
    assert instead.returncode == 0, instead.stderr
    assert f"{frames} of {frames} frames bit-identical" not in instead.stderr, (
        "a --lora of the same name replaces the take's"
    )

    shutil.rmtree(show / "wash")
    gone_now = performer("render", str(moved), "--out", str(tmp_path / "gone.mp4"))
    assert gone_now.returncode == 2 and "Traceback" not in gone_now.stderr
    last = gone_now.stderr.strip().splitlines()[-1]
    assert last.startswith(f"performer: error: {moved}: the take was played with "), last
    assert str(show / "wash") in last and "which is gone" in last
    assert "loading" not in gone_now.stderr, "refused before the model loads"


def _frames(take: Path) -> list[dict[str, object]]:
    from performer.take import read_take

    return read_take(take).frames
