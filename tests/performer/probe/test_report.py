"""Sheet, plots, distances and the report files, from a fake generator's probe."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from performer.probe.distance import closest_pairs, heat_map, stat_distance
from performer.probe.plots import grid, hue_chart, line_plot
from performer.probe.report import Extras, write_probe
from performer.probe.sheet import contact_sheet
from performer.probe.stats import KEYS, SCALAR_KEYS
from performer.probe.sweep import ProbeResult


def test_sheet_has_a_cell_per_seed_and_value(era_result: ProbeResult) -> None:
    plain = contact_sheet(era_result, cell=64)
    titled = contact_sheet(era_result, cell=64, title="a family at dinner")
    assert plain.width > 7 * 64 and plain.height > 3 * 64
    assert titled.height > plain.height
    # the last cell holds the last frame, enlarged 2× by whole pixels
    frame = era_result.frame(2, 6).image
    pixels = np.asarray(plain)
    x, y = plain.width - 4 - 64, plain.height - 4 - 64
    assert np.array_equal(pixels[y : y + 64 : 2, x : x + 64 : 2], frame)


def test_stat_distance_is_a_metric_that_grows_with_era_gap(era_result: ProbeResult) -> None:
    d = stat_distance(era_result)
    assert d.shape == (7, 7)
    assert np.allclose(d, d.T) and np.allclose(np.diag(d), 0)
    assert d[0, 6] > d[0, 3] > d[0, 1] > 0
    labels = [f"{v:g}" for v in era_result.sweep.values]
    assert closest_pairs(d, labels, 2)[0].count("~") == 1


def test_plots_and_heat_map_draw(era_result: ProbeResult) -> None:
    xs = list(era_result.sweep.values)
    plot = line_plot(xs, era_result.by_value("saturation"), "saturation", "era", [0.1] * 7)
    assert plot.size == (360, 220)
    assert np.asarray(plot).std() > 10, "a plot should not be blank"
    flat = line_plot([1.0], np.array([[2.0]]), "one point")  # degenerate ranges still draw
    assert flat.size == (360, 220)
    assert grid([plot, flat, plot], columns=2).size == (720, 440)
    heat = heat_map(stat_distance(era_result), [f"{v:g}" for v in xs], "d")
    assert heat.width > 7 * 28
    with pytest.raises(ValueError, match="square"):
        heat_map(np.zeros((2, 3)), ["a", "b"], "bad")


def test_write_probe(era_result: ProbeResult, tmp_path: Path) -> None:
    era_result.distances["stats"] = stat_distance(era_result)
    extras = Extras({"saturation": [0.0] * 7}, "reference", {"saturation": 0.95})
    page = write_probe(era_result, tmp_path, "a family at dinner across era", extras)
    for name in ("sheet.png", "frames.csv", "means.csv", "probe.json", "distance-stats.png"):
        assert (tmp_path / name).is_file(), name
    assert {p.stem for p in (tmp_path / "plots").glob("*.png")} == {*SCALAR_KEYS, "hue"}
    with (tmp_path / "frames.csv").open() as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["seed", "era", *KEYS] and len(rows) == 1 + 21
    with (tmp_path / "means.csv").open() as f:
        assert len(list(csv.reader(f))) == 1 + 7
    doc = json.loads((tmp_path / "probe.json").read_text())
    assert doc["values"] == list(era_result.sweep.values) and len(doc["frames"]) == 21
    assert doc["spearman"] == {"saturation": 0.95}
    assert np.array(doc["distances"]["stats"]).shape == (7, 7)

    text = page.read_text()
    sources = re.findall(r'src="([^"]*)"', text)
    assert len(sources) == 1 + len(SCALAR_KEYS) + 2  # sheet, plots, hue chart, heat map
    assert all(s.startswith("data:image/png;base64,") for s in sources)
    assert not re.search(r"(href|src)=\"(http|//|file:)", text), "no external assets"
    assert "<script" not in text and "0.950" in text
    Image.open(tmp_path / "sheet.png").verify()


def test_hue_chart_draws_hue_where_there_is_colour() -> None:
    shares = np.zeros((3, 12))
    shares[1, 0] = 1.0  # all in the red bin
    shares[2, 4] = 1.0  # all in the 120..150° bin: green
    chart = np.asarray(hue_chart([1900, 1950, 2000], shares, "hue", [0.0, 0.5, 1.0]))
    thirds = [t.reshape(-1, 3).astype(int) for t in np.array_split(chart[30:-40, 12:-12], 3, 1)]
    painted = [int((t != 255).any(axis=1).sum()) for t in thirds]
    assert painted[0] == 0, "a grey value has no bar"
    assert painted[2] == pytest.approx(2 * painted[1], rel=0.05), "height follows saturation"
    red, green = (
        thirds[1][(thirds[1] != 255).any(axis=1)],
        thirds[2][(thirds[2] != 255).any(axis=1)],
    )
    assert (red[:, 0] > 200).all() and (red[:, 1] < 100).all()
    assert (green[:, 1] > 200).all() and (green[:, 0] < 100).all()
