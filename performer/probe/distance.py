"""How far apart the model's pictures of two eras are, for every pair of swept values.

``stat_distance``: each statistic is standardised over all frames of the probe (so
grain and saturation weigh the same), averaged over seeds per value, and the
distance is the RMS difference of those standardised means: 0 means the model draws
the two values alike, about 1 is a one-standard-deviation difference on average.

``text_distance``: for text models whose generator exposes its conditioning
(the diffusers backend's ``conditioning(snapshot)``), the cosine distance between the
text embeddings (token embeddings, plus the pooled one for SDXL) the UNet is given for
each value. It exists only for sweeps that move the conditioning (era, prompt_mix);
no backend here has an image encoder, so there is no image-embedding distance.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from PIL import Image, ImageDraw

from performer.control.params import Snapshot
from performer.generators.base import Generator
from performer.probe.sheet import font
from performer.probe.stats import SCALAR_KEYS
from performer.probe.sweep import ProbeResult, Sweep, snapshot_for

#: the statistics a distance is made of; a line's period is a place, not an amount
DISTANCE_KEYS: tuple[str, ...] = tuple(k for k in SCALAR_KEYS if k != "line_period")
TEXT_SWEEPS = ("era", "prompt_mix")


def pairwise(vectors: np.ndarray) -> np.ndarray:
    """RMS difference between every pair of rows."""
    diff = vectors[:, None, :] - vectors[None, :, :]
    return np.sqrt((diff**2).mean(axis=2))


def stat_distance(result: ProbeResult, keys: Sequence[str] = DISTANCE_KEYS) -> np.ndarray:
    """``(values, values)`` distances between the per-value means of standardised stats."""
    table = np.stack([result.by_value(k) for k in keys], axis=2)  # seeds, values, keys
    flat = table.reshape(-1, len(keys))
    spread = flat.std(axis=0)
    spread[spread < 1e-12] = 1.0  # a statistic that never moves adds nothing
    z = (table - flat.mean(axis=0)) / spread
    return pairwise(z.mean(axis=0))


def text_distance(
    generator: Generator, base: Snapshot, sweep: Sweep, seed: int = 0
) -> np.ndarray | None:
    """Cosine distances of the text conditioning per value, or None where there is none."""
    conditioning = getattr(generator, "conditioning", None)
    if conditioning is None or sweep.name not in TEXT_SWEEPS:
        return None
    vectors = []
    for value in sweep.values:
        cond = conditioning(snapshot_for(base, sweep, seed, value))
        parts = [cond.embeds.flatten()]
        if cond.pooled is not None:
            parts.append(cond.pooled.flatten())
        vectors.append(np.concatenate([p.float().cpu().numpy() for p in parts]))
    v = np.stack(vectors).astype(np.float64)
    v /= np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-12)
    return np.clip(1.0 - v @ v.T, 0.0, 2.0)


def closest_pairs(matrix: np.ndarray, labels: Sequence[str], count: int = 5) -> list[str]:
    """The ``count`` closest distinct pairs, as ``"1960 ~ 1975: 0.12"``."""
    n = matrix.shape[0]
    pairs = sorted((matrix[i, j], i, j) for i in range(n) for j in range(i + 1, n))
    return [f"{labels[i]} ~ {labels[j]}: {d:.3g}" for d, i, j in pairs[:count]]


# a perceptually even dark-to-light ramp (samples of viridis)
_RAMP = np.array(
    [(68, 1, 84), (59, 82, 139), (33, 145, 140), (94, 201, 98), (253, 231, 37)], np.float64
)


def colour(t: float) -> tuple[int, int, int]:
    """``t`` in 0..1 on the ramp: dark is near, light is far."""
    pos = float(np.clip(t, 0.0, 1.0)) * (len(_RAMP) - 1)
    i = min(int(pos), len(_RAMP) - 2)
    rgb = _RAMP[i] + (pos - i) * (_RAMP[i + 1] - _RAMP[i])
    return int(rgb[0]), int(rgb[1]), int(rgb[2])


def heat_map(matrix: np.ndarray, labels: Sequence[str], title: str, cell: int = 28) -> Image.Image:
    """The matrix as coloured cells with labels on both axes and a colour bar."""
    n = matrix.shape[0]
    if matrix.shape != (n, n) or len(labels) != n:
        raise ValueError(f"heat map: expected a square matrix and {n} labels, got {matrix.shape}")
    small, big = font(11), font(13)
    widest = int(max(small.getlength(s) for s in labels))
    left, top, cell = widest + 10, 28, max(cell, widest + 6)
    bar = 70
    width, height = left + n * cell + bar, top + n * cell + 40
    img = Image.new("RGB", (width, height), (255, 255, 255))
    draw = ImageDraw.Draw(img)
    draw.text((4, 4), title, fill=(0, 0, 0), font=big)
    hi = float(matrix.max()) or 1.0
    for i in range(n):
        for j in range(n):
            x, y = left + j * cell, top + i * cell
            draw.rectangle([x, y, x + cell - 1, y + cell - 1], fill=colour(matrix[i, j] / hi))
        draw.text(
            (left - 4, top + i * cell + cell / 2),
            labels[i],
            fill=(0, 0, 0),
            font=small,
            anchor="rm",
        )
    for j in range(n):
        centre = (left + j * cell + cell / 2, top + n * cell + 4)
        draw.text(centre, labels[j], fill=(0, 0, 0), font=small, anchor="mt")
    bx = left + n * cell + 12
    for k in range(n * cell):
        draw.line([(bx, top + k), (bx + 12, top + k)], fill=colour(1.0 - k / (n * cell - 1)))
    draw.text((bx + 16, top), f"{hi:.3g}", fill=(0, 0, 0), font=small, anchor="lt")
    draw.text((bx + 16, top + n * cell), "0 same", fill=(0, 0, 0), font=small, anchor="lb")
    return img
