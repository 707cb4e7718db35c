"""Fitting an input frame to the generator's size: cover, contain or stretch, mirrored.

A pure function of the picture: crop and pad with numpy, resample with Pillow's
bilinear filter (bench/input_latency.py measures its cost per frame).
"""

from __future__ import annotations

import numpy as np
from PIL import Image

FITS = ("cover", "contain", "stretch")


def fit(
    image: np.ndarray, width: int, height: int, mode: str = "cover", mirror: bool = False
) -> np.ndarray:
    """``image`` (H×W×3 uint8) fitted into ``width`` × ``height``.

    ``cover`` fills the frame and crops the overflow (centred), ``contain`` shows all of
    it with black bars, ``stretch`` changes its aspect. ``mirror`` flips left and right,
    as a selfie camera does.
    """
    if mode not in FITS:
        raise ValueError(f"fit {mode!r}: expected one of {', '.join(FITS)}")
    if width <= 0 or height <= 0:
        raise ValueError(f"fit into {width}×{height}: the size must be positive")
    rows, cols = image.shape[:2]
    if (cols, rows) == (width, height):
        fitted = image
    elif mode == "cover":
        scale = max(width / cols, height / rows)
        keep_cols = min(cols, round(width / scale))
        keep_rows = min(rows, round(height / scale))
        top, left = (rows - keep_rows) // 2, (cols - keep_cols) // 2
        fitted = _resize(image[top : top + keep_rows, left : left + keep_cols], width, height)
    elif mode == "contain":
        scale = min(width / cols, height / rows)
        inner_w = max(1, min(width, round(cols * scale)))
        inner_h = max(1, min(height, round(rows * scale)))
        fitted = np.zeros((height, width, 3), np.uint8)
        top, left = (height - inner_h) // 2, (width - inner_w) // 2
        fitted[top : top + inner_h, left : left + inner_w] = _resize(image, inner_w, inner_h)
    else:
        fitted = _resize(image, width, height)
    return np.ascontiguousarray(fitted[:, ::-1]) if mirror else fitted


def _resize(image: np.ndarray, width: int, height: int) -> np.ndarray:
    if image.shape[1] == width and image.shape[0] == height:
        return image
    picture = Image.fromarray(np.ascontiguousarray(image))
    # reducing_gap: shrink by a whole factor with a box filter first, then resample the
    # rest; Pillow documents the result as indistinguishable, and it is several times faster
    resized = picture.resize((width, height), Image.Resampling.BILINEAR, reducing_gap=2.0)
    return np.asarray(resized)
