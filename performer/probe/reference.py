"""Ground truth for the embedded model: its training records, measured the same way.

The embedded model learned from ``performer.embedded.dataset``, whose media signatures
per year are known. ``dataset_means`` measures those records with the probe's own
statistics at the probe's years, and ``agreement`` ranks the model's per-era means
against them (Spearman's rho): a rho near 1 means the model orders the eras on that
statistic as its data does.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from performer.probe.stats import frame_stats
from performer.probe.sweep import ProbeResult

#: the statistics the issue's ground-truth test names: sepia warmth, Technicolor
#: saturation, VHS scanlines
SIGNATURE_KEYS: tuple[str, ...] = ("saturation", "scanline", "warmth")
#: dataset scenes are drawn from seeds well away from the probe's 0, 1, 2 ...
SCENE_OFFSET = 10_000


def ranks(values: Sequence[float] | np.ndarray) -> np.ndarray:
    """Ranks from 0, ties sharing the mean of their ranks."""
    a = np.asarray(values, np.float64)
    order = np.argsort(a, kind="stable")
    out = np.empty(a.size)
    sorted_a = a[order]
    start = 0
    while start < a.size:
        stop = start
        while stop + 1 < a.size and sorted_a[stop + 1] == sorted_a[start]:
            stop += 1
        out[order[start : stop + 1]] = 0.5 * (start + stop)
        start = stop + 1
    return out


def spearman(a: Sequence[float] | np.ndarray, b: Sequence[float] | np.ndarray) -> float:
    """Spearman's rank correlation (Pearson's r of the tie-averaged ranks)."""
    ra, rb = ranks(a), ranks(b)
    if ra.size != rb.size or ra.size < 2:
        raise ValueError(
            f"spearman: expected two series of one length >= 2, got {ra.size}, {rb.size}"
        )
    ra, rb = ra - ra.mean(), rb - rb.mean()
    denom = float(np.sqrt((ra**2).sum() * (rb**2).sum()))
    return float((ra * rb).sum() / denom) if denom > 0 else 0.0


def dataset_means(
    years: Iterable[float],
    keys: Sequence[str],
    scenes: int = 64,
    size: int = 64,
    first_scene: int = SCENE_OFFSET,
) -> dict[str, list[float]]:
    """Per year, the mean of each statistic over ``scenes`` training records of that year
    (scene seeds ``first_scene``, ``first_scene + 1`` ...)."""
    from performer.embedded import dataset

    out: dict[str, list[float]] = {k: [] for k in keys}
    for year in years:
        measured = [
            frame_stats(dataset.sample(first_scene + s, float(year), size)) for s in range(scenes)
        ]
        for k in keys:
            out[k].append(float(np.mean([m[k] for m in measured])))
    return out


def agreement(
    result: ProbeResult, reference: dict[str, list[float]], keys: Sequence[str] = SIGNATURE_KEYS
) -> dict[str, float]:
    """Spearman's rho between the probe's per-value means and the reference, per statistic."""
    means = result.means(keys)
    return {k: spearman(means[k], reference[k]) for k in keys}


def is_embedded(identity: str) -> bool:
    """Whether a generator identity is the embedded era model (so ground truth applies)."""
    return identity.startswith("embedded:")
