"""For a text model, the probe also measures eras by the model's own text embedding."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from performer.control.params import Snapshot, defaults

from performer.generators.base import Setup
from performer.generators.diffusion import DiffusersGenerator
from performer.probe.distance import stat_distance, text_distance
from performer.probe.sweep import parse_sweep, run_sweep
from tests.performer.probe.painter import EraPainter

ANCHORS = {1850.0: "daguerreotype", 1990.0: "vhs tape", 2020.0: "phone photo"}


def test_text_distance_follows_the_era_anchors(tiny_models: dict[str, Path]) -> None:
    gen = DiffusersGenerator(str(tiny_models["sd"]), device="cpu")
    gen.prepare(Setup(32, 32, ANCHORS))
    try:
        base = Snapshot(defaults()).replace(prompt="a family at dinner")
        sweep = parse_sweep("era=1850,1900,1990,2020")
        result = run_sweep(gen, base, sweep, [0], progress=False)
        d = text_distance(gen, base, sweep)
    finally:
        gen.close()
    assert d is not None and d.shape == (4, 4)
    assert np.allclose(d, d.T, atol=1e-6) and np.allclose(np.diag(d), 0, atol=1e-6)
    # 1900 lies on the slerp from the 1850 anchor to the 1990 one
    assert 0 < d[0, 1] < d[0, 2]
    assert stat_distance(result).shape == (4, 4)
    assert text_distance(gen, base, parse_sweep("guidance=0,1")) is None, "guidance is not text"


def test_no_text_distance_without_a_text_model() -> None:
    base = Snapshot(defaults())
    assert text_distance(EraPainter(), base, parse_sweep("era=1850,1990")) is None
