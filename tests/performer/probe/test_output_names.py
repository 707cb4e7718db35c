"""Probe outputs (issue 12, item 4): every file a probe writes stays inside its folder."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from performer.probe.report import write_probe
from performer.probe.sweep import ProbeResult


def test_distance_kinds_cannot_name_a_file_outside_the_folder(
    era_result: ProbeResult, tmp_path: Path
) -> None:
    out = tmp_path / "deep" / "probe"
    n = len(era_result.sweep.values)
    era_result.distances["../../../escaped"] = np.zeros((n, n))
    era_result.distances["/tmp/absolute"] = np.zeros((n, n))
    write_probe(era_result, out)
    written = {p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file()}
    assert all(p.parts[:2] == ("deep", "probe") for p in written), written
    assert (out / "distance-escaped.png").is_file()
    assert (out / "distance-tmp_absolute.png").is_file()
