"""The probe loads what shapes the picture as ``play`` does, and sweeps its knobs: a live
LoRA's ``lora_<name>`` (from the patch's ``[[loras]]``) and ``control_strength``."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from performer.generators.tiny import save_tiny_controlnet, save_tiny_lora
from performer.probe import cli
from tests.performer.probe.test_cli import parse

SMALL = ("--seeds", "2", "--width", "32", "--height", "32", "--device", "cpu", "--no-progress")


def _probe(tmp_path: Path, *argv: str) -> dict[str, object]:
    out = tmp_path / "probe"
    assert cli.run(parse(*argv, *SMALL, "--out", str(out))) == 0
    doc: dict[str, object] = json.loads((out / "probe.json").read_text())
    return doc


def _columns_differ(doc: dict[str, object]) -> None:
    """Every pair of the sweep's values gives pictures whose statistics differ."""
    distances = np.array(doc["distances"]["stats"])  # type: ignore[index]
    off = distances[~np.eye(len(distances), dtype=bool)]
    assert (off > 0).all(), f"each value changes the picture: {distances}"


@pytest.mark.slow
def test_a_probe_sweeps_the_knob_of_a_patch_s_lora(
    tiny_models: dict[str, Path], tmp_path: Path
) -> None:
    save_tiny_lora(tmp_path / "ink", tiny_models["sd"], seed=1)
    patch = tmp_path / "inked.toml"
    patch.write_text('[[loras]]\nsource = "./ink/pytorch_lora_weights.safetensors"\nname = "ink"\n')
    model = str(tiny_models["sd"])
    doc = _probe(tmp_path, "--patch", str(patch), "--model", model, "--sweep", "lora_ink:0:2:3")
    assert doc["sweep"] == "lora_ink" and doc["values"] == [0, 1, 2]
    assert doc["model"].endswith(":ink")  # type: ignore[attr-defined]
    _columns_differ(doc)


@pytest.mark.slow
def test_a_probe_sweeps_control_strength_with_a_command_line_lora_held(
    tiny_models: dict[str, Path], tmp_path: Path
) -> None:
    model = tiny_models["sd"]
    lora = save_tiny_lora(tmp_path / "wash", model, seed=2)
    controlnet = save_tiny_controlnet(tmp_path / "lineart", model)
    argv = ["--model", str(model), "--controlnet", str(controlnet), "--lora", f"{lora}:wash"]
    doc = _probe(tmp_path, *argv, "--set", "lora_wash=1.5", "--sweep", "control_strength:0:2:5")
    assert doc["sweep"] == "control_strength" and doc["values"] == [0, 0.5, 1, 1.5, 2]
    assert f"+{lora}:wash+controlnet:{controlnet}" in doc["model"]  # type: ignore[operator]
    assert doc["fixed"]["lora_wash"] == 1.5  # type: ignore[index]
    _columns_differ(doc)
