"""The trainer runs end to end (two tiny steps) and leaves a checkpoint that loads."""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from performer.embedded import train
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
