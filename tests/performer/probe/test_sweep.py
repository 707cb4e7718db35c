"""Sweep specifications and the sweep itself, on a fake generator."""

from __future__ import annotations

import numpy as np
import pytest
from performer.control.param import ParamError
from performer.control.params import Snapshot

from performer.probe.sweep import ProbeResult, parse_sweep, parse_values, run_sweep
from tests.performer.probe.painter import EraPainter


def test_eras_include_the_stop() -> None:
    years = parse_values("1850:2030:10")
    assert len(years) == 19 and years[0] == 1850 and years[-1] == 2030


@pytest.mark.parametrize(
    ("spec", "values"),
    [
        ("0:6:1", (0, 1, 2, 3, 4, 5, 6)),
        ("0:1:0.25", (0, 0.25, 0.5, 0.75, 1)),
        ("1850,1925,1985", (1850, 1925, 1985)),
        ("2030:1850:-90", (2030, 1940, 1850)),
        ("1900", (1900,)),
        ("0:1:0.3", (0, 0.3, 0.6, 0.9)),
    ],
)
def test_values(spec: str, values: tuple[float, ...]) -> None:
    assert parse_values(spec) == pytest.approx(values)


@pytest.mark.parametrize(
    "spec", ["1850:2030", "1850:2030:0", "2030:1850:10", "a,b", "0:1e9:1", "0:inf:1", "0:nan:1"]
)
def test_bad_values_say_what_was_expected(spec: str) -> None:
    with pytest.raises(ValueError, match="sweep values"):
        parse_values(spec)


def test_named_sweeps() -> None:
    assert parse_sweep("guidance=0:6:1").name == "guidance"
    assert parse_sweep("1850:2030:10").name == "era"
    assert parse_sweep("steps=1:4:1").values == (1, 2, 3, 4)


def test_a_sweep_by_count_takes_evenly_spaced_values_stop_included() -> None:
    """``NAME:START:STOP:COUNT``, as issue 15 writes it, beside ``NAME=START:STOP:STEP``."""
    sweep = parse_sweep("control_strength:0:2:5")
    assert sweep == parse_sweep("control_strength=0:2:0.5")
    assert sweep.values == (0.0, 0.5, 1.0, 1.5, 2.0)
    assert parse_sweep("era:1850:2030:3").values == (1850, 1940, 2030)
    assert parse_sweep("guidance:2:0:3").values == (2, 1, 0), "downwards too"
    assert parse_sweep("guidance:1.5:9:1").values == (1.5,)
    assert parse_sweep("1850:2030:90").values == (1850, 1940, 2030), "bare: era by its step"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("control_strength:0:2", "expected START:STOP:COUNT"),
        ("control_strength:0:2:2.5", "sweep values '0:2:2.5'"),
        ("control_strength:0:2:0", "COUNT is 1 to 1000, got 0"),
        ("control_strength:0:3:4", "sweep control_strength:0:3:4: .*in 0..2, got 3"),
        ("volume:0:1:3", "unknown parameter 'volume'"),
        ("seed:0:3:4", "--seeds"),
    ],
)
def test_bad_sweeps_by_count(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_sweep(text)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("era=1800:1900:50", "era"),
        ("volume=0:1:1", "unknown parameter 'volume'"),
        ("prompt=1,2", "cannot sweep 'prompt'"),
        ("seed=0:3:1", "--seeds"),
        ("timestep=0:1:0.5", "fresh sample"),
        ("ip_grab=0:3:1", "no picture to grab"),
        ("steps=1:2:0.5", "integer"),
        ("width=256,512", "fixed when the model is prepared"),
    ],
)
def test_bad_sweeps(text: str, message: str) -> None:
    with pytest.raises(ParamError, match=message):
        parse_sweep(text)


def test_every_frame_starts_clean_with_only_the_swept_value_moving(
    painter: EraPainter, era_result: ProbeResult, base: Snapshot
) -> None:
    values = era_result.sweep.values
    assert values == (1850, 1880, 1910, 1940, 1970, 2000, 2030)
    assert len(era_result.frames) == 3 * len(values)
    assert painter.resets == len(era_result.frames)
    for k, snap in enumerate(painter.snapshots):
        seed, value = divmod(k, len(values))
        assert snap["seed"] == seed and snap["era"] == values[value]
        assert snap["timestep"] == 1.0
        changed = {n for n in snap if snap[n] != base[n]}
        assert changed <= {"seed", "era", "timestep"}
    # no feedback: the painter darkens frames drawn without a reset
    assert all(f.stats["luma_mean"] > 90 / 255 for f in era_result.frames)


def test_result_tables(era_result: ProbeResult) -> None:
    sat = era_result.by_value("saturation")
    assert sat.shape == (3, 7)
    assert np.all(np.diff(era_result.means(["saturation"])["saturation"]) > 0)
    assert era_result.frame(2, 6).seed == 2 and era_result.frame(2, 6).value == 2030
    meta = era_result.meta()
    assert meta["sweep"] == "era" and meta["seeds"] == [0, 1, 2]
    assert meta["fixed"]["prompt"] == "a family at dinner" and "era" not in meta["fixed"]


def test_same_probe_same_frames(painter: EraPainter, base: Snapshot) -> None:
    sweep = parse_sweep("guidance=0:6:2")
    one = run_sweep(painter, base, sweep, [4, 5], progress=False)
    two = run_sweep(painter, base, sweep, [4, 5], progress=False)
    assert all(
        np.array_equal(a.image, b.image) for a, b in zip(one.frames, two.frames, strict=True)
    )
    lum = one.means(["luma_mean"])["luma_mean"]
    assert lum == sorted(lum), "guidance brightens the painter's frames"


def test_no_seeds_is_an_error(painter: EraPainter, base: Snapshot) -> None:
    with pytest.raises(ValueError, match="at least one seed"):
        run_sweep(painter, base, parse_sweep("era=1900"), [], progress=False)
