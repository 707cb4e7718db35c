"""What the embedded model's evaluation measures on records and frames.

The four named statistics (:data:`NAMED`, from :mod:`performer.image_stats`) are the ones
compared between dataset records and generated frames (the dataset tests,
``bench/era_eval.py``); :func:`features` adds a few more and small colour histograms for
the era classifier. All take ``(H, W, 3)`` uint8 (or a batch ``(N, H, W, 3)``).
"""

from __future__ import annotations

import numpy as np

from performer import image_stats as s

NAMED: tuple[str, ...] = ("soft_saturation", "warmth", "texture", "line_energy")


def _float(images: np.ndarray) -> np.ndarray:
    x = np.asarray(images, np.float32) / 255.0
    return x[None] if x.ndim == 3 else x


def named(images: np.ndarray) -> np.ndarray:
    """``(N, 4)``: soft saturation, warmth, texture, line energy across rows."""
    x = _float(images)
    y = s.luma(x)
    return np.stack(
        [s.soft_saturation(x), s.warmth(x), s.texture(y), s.line_energy(y.mean(-1))], axis=1
    )


def _extra(x: np.ndarray) -> np.ndarray:
    y = s.luma(x)
    h, w = y.shape[1:]
    col_lines = s.line_energy(y.mean(-2))
    centre = y[:, h // 4 : 3 * h // 4, w // 4 : 3 * w // 4].mean(axis=(1, 2))
    corners = np.stack([y[:, :8, :8], y[:, :8, -8:], y[:, -8:, :8], y[:, -8:, -8:]]).mean(
        axis=(0, 2, 3)
    )
    edge_cols = np.concatenate([y[:, :, :4], y[:, :, -4:]], axis=2).mean(axis=(1, 2))
    edge_rows = np.concatenate([y[:, :2], y[:, -2:]], axis=1).mean(axis=(1, 2))
    block = np.abs(np.diff(y, axis=2))
    blockiness = block[:, :, 7::8].mean(axis=(1, 2)) - block.mean(axis=(1, 2))
    return np.stack(
        [
            y.mean(axis=(1, 2)),
            y.std(axis=(1, 2)),
            col_lines,
            centre - corners,
            edge_cols,
            edge_rows,
            blockiness,
            *(x.mean(axis=(1, 2)).T),
        ],
        axis=1,
    )


def _histograms(x: np.ndarray, bins: int = 6) -> np.ndarray:
    """Per-channel histograms and one of red-minus-blue, each normalised."""
    n = x.shape[0]
    parts = []
    for values, lo, hi in (
        (x[..., 0], 0, 1),
        (x[..., 1], 0, 1),
        (x[..., 2], 0, 1),
        (x[..., 0] - x[..., 2], -0.5, 0.5),
    ):
        idx = np.clip(((values - lo) / (hi - lo) * bins).astype(int), 0, bins - 1).reshape(n, -1)
        parts.append(np.stack([np.bincount(r, minlength=bins) for r in idx]) / idx.shape[1])
    return np.concatenate(parts, axis=1)


def features(images: np.ndarray) -> np.ndarray:
    """``(N, F)`` features for the era classifier: named stats, extras, colour histograms."""
    x = _float(images)
    return np.concatenate([named(images), _extra(x), _histograms(x)], axis=1).astype(np.float32)
