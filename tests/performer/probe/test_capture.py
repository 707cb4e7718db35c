"""Live capture: a frame's statistics into a take's log, and back."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from performer.control.params import Snapshot, defaults

from performer.probe.capture import (
    ProbeLog,
    capture,
    looks_like,
    performance_plots,
    read_captures,
)
from performer.probe.distance import stat_distance
from performer.probe.report import write_probe, write_take
from performer.probe.stats import KEYS, frame_stats
from performer.probe.sweep import ProbeResult
from tests.performer.probe.painter import EraPainter


def test_capture_holds_what_was_played_and_the_stats() -> None:
    image = np.full((16, 16, 3), 90, np.uint8)
    snap = Snapshot(defaults()).replace(era=1985.0, prompt="a street")
    record = capture(image, snap, time=12.5, frame=375)
    assert record["type"] == "probe" and record["time"] == 12.5 and record["frame"] == 375
    assert record["params"]["era"] == 1985.0 and record["params"]["prompt"] == "a street"
    assert record["stats"] == frame_stats(image) and tuple(record["stats"]) == KEYS
    json.dumps(record)  # plain JSON, ready for any log


def test_log_round_trip_skips_other_records(tmp_path: Path) -> None:
    path = tmp_path / "take" / "control.jsonl"  # a take folder's control log
    snap = Snapshot(defaults())
    image = np.full((16, 16, 3), 90, np.uint8)
    log = ProbeLog(path)
    log.append(capture(image, snap.replace(era=2000.0), time=3.0))
    log.append({"type": "event", "time": 1.0, "source": "midi:cc:1:7"})
    log.append(capture(image, snap.replace(era=1900.0), time=1.5))
    log.close()
    log.close()
    with pytest.raises(ValueError, match="closed"):
        log.append({})
    records = read_captures(path.parent)  # the take folder will do
    assert [r["params"]["era"] for r in records] == [1900.0, 2000.0], "in time order"
    plots = performance_plots(records)
    assert len(plots) == 4  # era, then three statistics


def test_bad_log_lines_name_the_line(tmp_path: Path) -> None:
    path = tmp_path / "log.jsonl"
    path.write_text('{"type": "probe", "time": 1}\n')
    with pytest.raises(ValueError, match=r"log.jsonl:1: probe record without 'params'"):
        read_captures(path)
    path.write_text("\n{nope\n")
    with pytest.raises(ValueError, match=r"log.jsonl:2: not a JSON record"):
        read_captures(path)
    path.write_text('{"type": "probe", "time": 1, "params": {}, "stats": {}}\n{"type": "pro')
    assert len(read_captures(path)) == 1, "a torn last line is skipped"
    path.write_text("")
    with pytest.raises(ValueError, match="no probe records"):
        performance_plots(read_captures(path))


def test_captures_are_placed_among_the_probe_eras(era_result: ProbeResult, tmp_path: Path) -> None:
    era_result.distances["stats"] = stat_distance(era_result)
    write_probe(era_result, tmp_path / "probe")
    probe = json.loads((tmp_path / "probe" / "probe.json").read_text())
    painter = EraPainter()
    records = []
    for k, era in enumerate((1880.0, 1972.0, 2030.0)):
        painter.reset()
        snap = Snapshot(defaults()).replace(era=era, seed=1)  # a seed of the probe
        records.append(capture(painter(snap), snap, time=float(k)))
    assert looks_like(records, probe) == [1880.0, 1970.0, 2030.0]
    assert len(performance_plots(records, probe=probe)) == 4
    page = write_take(records, tmp_path / "take", "t", probe)
    assert "looks_like" in page.read_text()
    with pytest.raises(ValueError, match=r"not a probe.json \(missing 'means'\)"):
        looks_like(records, {"frames": []})
