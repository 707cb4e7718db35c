"""Per-image statistics of a record: what an era leaves in a picture.

The four named statistics (:data:`NAMED`) are the ones compared between dataset and
generated frames; :func:`features` adds a few more and small colour histograms for the
era classifier. All take ``(H, W, 3)`` uint8 (or a batch ``(N, H, W, 3)``).
"""

from __future__ import annotations

import numpy as np

from performer.embedded.media import LUMA

NAMED: tuple[str, ...] = ("saturation", "warmth", "grain", "scanline")


def _float(images: np.ndarray) -> np.ndarray:
    x = np.asarray(images, np.float32) / 255.0
    return x[None] if x.ndim == 3 else x


def saturation(x: np.ndarray) -> np.ndarray:
    """Mean HSV saturation."""
    hi, lo = x.max(axis=-1), x.min(axis=-1)
    return ((hi - lo) / (hi + 0.1)).mean(axis=(1, 2))


def warmth(x: np.ndarray) -> np.ndarray:
    """Mean red minus blue."""
    return (x[..., 0] - x[..., 2]).mean(axis=(1, 2))


def grain(x: np.ndarray) -> np.ndarray:
    """RMS of the luma Laplacian: fine texture, film grain, tape and sensor noise."""
    y = x @ LUMA
    lap = 4 * y[:, 1:-1, 1:-1] - y[:, :-2, 1:-1] - y[:, 2:, 1:-1] - y[:, 1:-1, :-2] - y[:, 1:-1, 2:]
    return np.sqrt((lap**2).mean(axis=(1, 2)))


def scanline(x: np.ndarray) -> np.ndarray:
    """RMS of the second difference of the row means: lines across the frame."""
    rows = (x @ LUMA).mean(axis=2)
    d2 = rows[:, 1:-1] - 0.5 * (rows[:, :-2] + rows[:, 2:])
    return np.sqrt((d2**2).mean(axis=1))


def named(images: np.ndarray) -> np.ndarray:
    """``(N, 4)``: saturation, warmth, grain, scanline."""
    x = _float(images)
    return np.stack([saturation(x), warmth(x), grain(x), scanline(x)], axis=1)


def _extra(x: np.ndarray) -> np.ndarray:
    y = x @ LUMA
    h, w = y.shape[1:]
    cols = y.mean(axis=1)
    col_lines = np.sqrt(((cols[:, 1:-1] - 0.5 * (cols[:, :-2] + cols[:, 2:])) ** 2).mean(axis=1))
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
