"""The trainer runs end to end (two tiny steps) and leaves a checkpoint that loads."""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pytest
import torch

from performer.embedded import loss, train
from performer.embedded.weights import load


def test_two_steps_write_a_loadable_checkpoint_and_a_loss_log(tmp_path: Path) -> None:
    parser = argparse.ArgumentParser()
    train.add_arguments(parser)
    args = parser.parse_args(
        ["--out", str(tmp_path), "--steps", "2", "--batch", "4", "--pool", "8", "--refresh", "2"]
    )
    assert train.run(args) == 0
    model, meta = load(tmp_path)
    assert meta["training"]["steps_done"] == 2
    rows = (tmp_path / "loss.csv").read_text().splitlines()
    assert rows[0].startswith("step,") and len(rows) == 3
    assert all(np.isfinite(p.detach().numpy()).all() for p in model.parameters())


@pytest.mark.slow
def test_a_fine_tuning_stage_starts_from_a_model_and_can_distill(tmp_path: Path) -> None:
    """Stage 2/3 options: --init, the statistics term with scanlines, --distill-from."""
    parser = argparse.ArgumentParser()
    train.add_arguments(parser)
    small = ["--steps", "2", "--batch", "4", "--pool", "8", "--refresh", "2"]
    assert train.run(parser.parse_args(["--out", str(tmp_path / "s1"), *small])) == 0
    stage = [
        *("--out", str(tmp_path / "s2"), "--init", str(tmp_path / "s1")),
        *("--distill-from", str(tmp_path / "s1"), "--pure-noise", "1.0"),
        *("--stats-weight", "0.5", "--scanline-stat", "--clip", "1.0"),
        *("--identity", "embedded:test"),
    ]
    assert train.run(parser.parse_args([*stage, *small])) == 0
    model, meta = load(tmp_path / "s2")
    assert meta["identity"] == "embedded:test"
    assert meta["training"]["init"].endswith("(embedded:era-v1)")
    assert "distillation" in meta["training"]["method"]
    assert all(np.isfinite(p.detach().numpy()).all() for p in model.parameters())


def test_image_statistics_see_what_averaging_loses() -> None:
    """Saturation, contrast, line energy and scanline amplitude of known pictures."""
    grey = torch.zeros(1, 3, 64, 64)
    assert loss.image_stats(grey).abs().max() < 2e-3  # flat grey: nothing at all
    red = torch.full((1, 3, 64, 64), -1.0)
    red[:, 0] = 1.0
    assert loss.image_stats(red)[0, 0] > 0.9  # saturated
    lines = grey.clone()
    lines[:, :, 1::2] = 0.5  # every other row brighter: scanlines
    s = loss.image_stats(lines)[0]
    assert s[4] > 0.5 and s[5] < 2e-3  # row lines, no column lines
    assert s[6] == pytest.approx(20 * 0.125, rel=1e-3)  # alternate rows differ by 0.25
    beyond = torch.full((1, 3, 64, 64), -3.0)  # below black: clamped as it would be shown
    assert torch.isfinite(loss.image_stats(beyond)).all()
