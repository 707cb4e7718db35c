"""Live probe: the current frame's statistics, captured into the take's log.

While playing, a key or the OSC message ``/performer/probe`` calls :func:`capture` on
the frame on screen. The record is plain JSON (``"type": "probe"``), so it can go into
the take's control log beside the events, or into a :class:`ProbeLog` of its own
(JSON lines, flushed per record, so a crash loses at most the line being written).
:func:`read_captures` takes either file back, skipping records of other types, and
:func:`performance_plots` draws how the performance moved through the model's eras.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from performer.probe.plots import line_plot
from performer.probe.stats import frame_stats

RECORD_TYPE = "probe"
#: the parameters a capture keeps beside the statistics: what the performer was playing
PLAYED = ("era", "guidance", "timestep", "seed", "prompt", "prompt_b", "prompt_mix")


def capture(
    image: np.ndarray, snapshot: Mapping[str, Any], time: float, frame: int = -1
) -> dict[str, Any]:
    """One probe record: when, which frame, what was played, and the frame's statistics."""
    return {
        "type": RECORD_TYPE,
        "time": float(time),
        "frame": int(frame),
        "params": {k: snapshot[k] for k in PLAYED if k in snapshot},
        "stats": frame_stats(image),
    }


class ProbeLog:
    """Append-only JSON-lines file of probe records."""

    def __init__(self, path: Path):
        self.path = path
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file = self.path.open("a", encoding="utf-8")

    def append(self, record: Mapping[str, Any]) -> None:
        if self._file.closed:
            raise ValueError(f"probe log {self.path} is closed")
        self._file.write(json.dumps(record, separators=(",", ":")) + "\n")
        self._file.flush()

    def close(self) -> None:
        """Safe to call twice."""
        self._file.close()

    def __enter__(self) -> ProbeLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def read_captures(path: Path) -> list[dict[str, Any]]:
    """The probe records of a JSON-lines log, in time order; other records are skipped.

    ``path`` may be a take folder (its ``control.jsonl``). A torn last line (a take cut
    off mid-write) is skipped; a bad line anywhere else is an error.
    """
    if path.is_dir():
        from performer.take import LOG

        path = path / LOG
    records = []
    with path.open(encoding="utf-8") as f:
        lines = f.readlines()
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            if number == len(lines) and not line.endswith("\n"):
                break  # torn while being written
            raise ValueError(f"{path}:{number}: not a JSON record ({exc.msg})") from None
        if isinstance(record, dict) and record.get("type") == RECORD_TYPE:
            for key in ("time", "params", "stats"):
                if key not in record:
                    raise ValueError(f"{path}:{number}: probe record without {key!r}")
            records.append(record)
    return sorted(records, key=lambda r: float(r["time"]))


def looks_like(records: Sequence[dict[str, Any]], probe: Mapping[str, Any]) -> list[float]:
    """For each capture, the probe value (era) whose frames it resembles most.

    ``probe`` is a probe's ``probe.json``; resemblance is the distance of
    :mod:`performer.probe.distance`: statistics standardised by the probe's own
    spread, nearest per-value mean.
    """
    from performer.probe.distance import DISTANCE_KEYS

    try:
        means = np.array([probe["means"][k] for k in DISTANCE_KEYS], np.float64).T
        frames = np.array([[f[k] for k in DISTANCE_KEYS] for f in probe["frames"]], np.float64)
        values = [float(v) for v in probe["values"]]
    except (KeyError, TypeError) as exc:
        raise ValueError(f"not a probe.json (missing {exc})") from None
    spread = frames.std(axis=0)
    spread[spread < 1e-12] = 1.0
    caps = np.array([[float(r["stats"][k]) for k in DISTANCE_KEYS] for r in records])
    d = (((caps[:, None, :] - means[None]) / spread) ** 2).mean(axis=2)
    return [values[i] for i in d.argmin(axis=1)]


def performance_plots(
    records: Sequence[dict[str, Any]],
    keys: Iterable[str] = ("saturation", "warmth", "grain"),
    probe: Mapping[str, Any] | None = None,
) -> list[Image.Image]:
    """Era against time, then each statistic against time, for the captures of one take.

    With a ``probe`` (its ``probe.json``), the era plot also shows, dashed, the era each
    frame looked like to that probe: where the performance went in the model's eras.
    """
    if not records:
        raise ValueError("performance plots: the log holds no probe records")
    times = [float(r["time"]) for r in records]
    plots = []
    if all("era" in r["params"] for r in records):
        eras = np.array([[float(r["params"]["era"]) for r in records]])
        seen = looks_like(records, probe) if probe is not None else None
        title = "era played" + (" (dashed: era it looked like)" if seen else "")
        plots.append(line_plot(times, eras, title, "seconds", seen))
    for key in keys:
        values = np.array([[float(r["stats"][key]) for r in records]])
        plots.append(line_plot(times, values, key, "seconds"))
    return plots
