"""The probe's sweep: one parameter moves, everything else (prompt, seeds) holds still.

Two ways to write one:

- ``NAME=START:STOP:STEP``: ``parse_sweep("era=1850:2030:10")`` gives the nineteen
  years 1850, 1860 … 2030 (the stop is included when the step lands on it);
  ``guidance=0:6:1`` and lists such as ``era=1850,1925,1985`` work the same way;
- ``NAME:START:STOP:COUNT``: COUNT evenly spaced values, the stop included:
  ``control_strength:0:2:5`` gives 0, 0.5, 1, 1.5 and 2.

The name is any live number of the registry, a LoRA's knob ``lora_<name>`` included
once its LoRA is declared (by ``--lora FILE:NAME`` or the patch's ``[[loras]]``).
:func:`run_sweep` generates one frame per
seed and value, each from a clean ``reset()`` with ``timestep`` 1, so no frame feeds
back into the next and the same probe gives the same pictures again.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from performer.control.param import Param, ParamError
from performer.control.params import Snapshot, param
from performer.generators.base import Generator
from performer.probe.stats import frame_stats
from performer.progress import progress as progress_bar

#: parameters a sweep cannot move, and why
_UNSWEEPABLE = {
    "seed": "seeds are the rows of the sheet (use --seeds)",
    "timestep": "every probe frame is a fresh sample (timestep 1)",
    "ip_grab": "every probe frame starts afresh, with no picture to grab",
}
_MAX_VALUES = 1000


@dataclass(frozen=True)
class Sweep:
    """A parameter and the values it takes, in order."""

    name: str
    values: tuple[float, ...]

    @property
    def param(self) -> Param:
        return param(self.name)

    def label(self, value: float) -> str:
        """How a column is labelled: ``1925`` for a year, ``2.5`` for guidance."""
        return f"{value:g}"


def parse_values(spec: str) -> tuple[float, ...]:
    """``"a:b:step"`` (stop included when reached), ``"a,b,c"`` or a single number."""
    text = spec.strip()
    try:
        if ":" in text:
            parts = [float(p) for p in text.split(":")]
            if len(parts) != 3:
                raise ValueError(f"expected START:STOP:STEP, got {spec!r}")
            start, stop, step = parts
            if step == 0 or (stop - start) / step < 0:
                raise ValueError(f"step {step:g} never goes from {start:g} to {stop:g}")
            count = int(np.floor((stop - start) / step + 1e-9)) + 1
            if count > _MAX_VALUES:
                raise ValueError(f"{spec!r} has {count} values; at most {_MAX_VALUES}")
            return tuple(round(start + i * step, 9) for i in range(count))
        return tuple(float(p) for p in text.split(","))
    except (ValueError, OverflowError) as exc:  # inf or nan among the numbers
        raise ValueError(f"sweep values {spec!r}: {exc}") from None


def parse_count(spec: str) -> tuple[float, ...]:
    """``"START:STOP:COUNT"``: COUNT evenly spaced values from START to STOP, both included."""
    parts = spec.split(":")
    try:
        if len(parts) != 3:
            raise ValueError("expected START:STOP:COUNT")
        start, stop, count = float(parts[0]), float(parts[1]), int(parts[2])
        if not 1 <= count <= _MAX_VALUES:
            raise ValueError(f"COUNT is 1 to {_MAX_VALUES}, got {count}")
    except (ValueError, OverflowError) as exc:  # inf or nan among the numbers
        raise ValueError(f"sweep values {spec!r}: {exc}") from None
    if count == 1:
        return (start,)
    return tuple(round(start + i * (stop - start) / (count - 1), 9) for i in range(count))


def parse_sweep(text: str, default_name: str = "era") -> Sweep:
    """``"NAME=VALUES"``, ``"NAME:START:STOP:COUNT"`` (or bare ``VALUES`` for
    ``default_name``), checked against the registry."""
    name, sep, spec = text.partition("=")
    head, colon, rest = text.partition(":")
    by_count = bool(colon and not sep and not _is_number(head))
    if by_count:
        name, spec = head, rest
    elif not sep:
        name, spec = default_name, text
    p = param(name.strip())
    if p.kind == "str" or p.name in _UNSWEEPABLE or not p.live:
        why = _UNSWEEPABLE.get(p.name, "it is text, not a number")
        if not p.live:
            why = "it is fixed when the model is prepared (use --set or --width/--height)"
        raise ParamError(f"cannot sweep {p.name!r}: {why}")
    values = parse_count(spec) if by_count else parse_values(spec)
    try:
        checked = tuple(float(p.check(v)) for v in values)
    except ParamError as exc:
        raise ParamError(f"sweep {p.name}{':' if by_count else '='}{spec}: {exc}") from None
    return Sweep(p.name, checked)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


@dataclass
class ProbeFrame:
    seed: int
    value: float
    image: np.ndarray  # (H, W, 3) uint8
    stats: dict[str, float]


@dataclass
class ProbeResult:
    """The frames of one probe, one per (seed, value), seed-major."""

    sweep: Sweep
    seeds: tuple[int, ...]
    base: Snapshot
    identity: str
    frames: list[ProbeFrame] = field(default_factory=list)
    seconds: float = 0.0
    # name -> (values x values) distances, filled by performer.probe.distance
    distances: dict[str, np.ndarray] = field(default_factory=dict)

    def frame(self, seed_index: int, value_index: int) -> ProbeFrame:
        return self.frames[seed_index * len(self.sweep.values) + value_index]

    def by_value(self, key: str) -> np.ndarray:
        """``(seeds, values)`` array of one statistic."""
        n = len(self.sweep.values)
        return np.array([f.stats[key] for f in self.frames], np.float64).reshape(-1, n)

    def means(self, keys: Iterable[str]) -> dict[str, list[float]]:
        """Per value, the mean over seeds of each statistic."""
        return {k: [float(v) for v in self.by_value(k).mean(axis=0)] for k in keys}

    def meta(self) -> dict[str, Any]:
        return {
            "model": self.identity,
            "sweep": self.sweep.name,
            "values": list(self.sweep.values),
            "seeds": list(self.seeds),
            "fixed": {
                k: 1.0 if k == "timestep" else v
                for k, v in self.base.items()
                if k not in (self.sweep.name, "seed")
            },
            "seconds": round(self.seconds, 3),
        }


def snapshot_for(base: Snapshot, sweep: Sweep, seed: int, value: float) -> Snapshot:
    """The snapshot of one cell: the base with the seed and the swept value, timestep 1."""
    return base.replace(timestep=1.0, seed=seed, **{sweep.name: value})


def run_sweep(
    generator: Generator,
    base: Snapshot,
    sweep: Sweep,
    seeds: Sequence[int],
    progress: bool = True,
) -> ProbeResult:
    """Generate and measure every cell; ``generator`` must be prepared."""
    if not seeds:
        raise ValueError("probe: expected at least one seed")
    started = time.perf_counter()
    result = ProbeResult(sweep, tuple(seeds), base, generator.identity)
    cells = [(s, v) for s in seeds for v in sweep.values]
    bar = progress_bar(cells, desc=f"probe {sweep.name}", unit="frame", disable=not progress)
    for seed, value in bar:
        generator.reset()
        image = generator(snapshot_for(base, sweep, seed, value))
        result.frames.append(ProbeFrame(seed, value, image, frame_stats(image)))
    result.seconds = time.perf_counter() - started
    return result
