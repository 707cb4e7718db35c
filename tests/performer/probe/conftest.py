"""Fixtures: the fake era painter, a base snapshot and a small era probe made with them."""

from __future__ import annotations

import pytest
from performer.control.params import Snapshot, defaults

from performer.generators.base import Setup
from performer.probe.sweep import ProbeResult, parse_sweep, run_sweep
from tests.performer.probe.painter import EraPainter


@pytest.fixture
def painter() -> EraPainter:
    gen = EraPainter()
    gen.prepare(Setup(32, 32))
    return gen


@pytest.fixture
def base() -> Snapshot:
    return Snapshot(defaults()).replace(prompt="a family at dinner", timestep=0.3)


@pytest.fixture
def era_result(painter: EraPainter, base: Snapshot) -> ProbeResult:
    return run_sweep(painter, base, parse_sweep("era=1850:2030:30"), [0, 1, 2], progress=False)
