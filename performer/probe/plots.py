"""Plots of a statistic against the swept value, drawn with Pillow (no plotting library).

Each plot shows every seed's frame as a faint dot, the mean over seeds as a line, and,
when given, a reference line (for the embedded model: the same statistic measured on
its own training records, so what it learned sits beside what it was shown).
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise

import numpy as np
from PIL import Image, ImageDraw

from performer.probe.sheet import font

PAPER = (255, 255, 255)
AXIS = (90, 90, 90)
GRID = (228, 228, 228)
SEEDS = (150, 170, 205)
MEAN = (25, 80, 170)
REFERENCE = (215, 95, 30)


def _ticks(lo: float, hi: float, count: int = 4) -> list[float]:
    """Round tick values covering ``lo..hi``."""
    span = hi - lo
    raw = span / count
    step = 10 ** np.floor(np.log10(raw))
    for multiple in (1, 2, 2.5, 5, 10):
        if raw <= multiple * step:
            step *= multiple
            break
    first = np.ceil(lo / step) * step
    ticks = np.arange(first, hi + step * 1e-6, step)
    return [0.0 if abs(t) < step * 1e-6 else float(t) for t in ticks]


def line_plot(
    xs: Sequence[float],
    per_seed: np.ndarray,
    title: str,
    x_label: str = "",
    reference: Sequence[float] | None = None,
    size: tuple[int, int] = (360, 220),
) -> Image.Image:
    """``per_seed`` is ``(seeds, len(xs))``; returns the plot as an RGB image."""
    per_seed = np.asarray(per_seed, np.float64).reshape(-1, len(xs))
    if len(xs) == 0:
        raise ValueError("plot: expected at least one value on the x axis")
    width, height = size
    img = Image.new("RGB", size, PAPER)
    draw = ImageDraw.Draw(img)
    small, big = font(11), font(13)
    left, right, top, bottom = 56, 12, 24, 34
    series = [per_seed.ravel()] + ([np.asarray(reference, np.float64)] if reference else [])
    values = np.concatenate(series)
    y_lo, y_hi = float(values.min()), float(values.max())
    if y_hi - y_lo < 1e-9:
        y_lo, y_hi = y_lo - 0.5, y_hi + 0.5
    pad = 0.06 * (y_hi - y_lo)
    y_lo, y_hi = y_lo - pad, y_hi + pad
    x_lo, x_hi = float(min(xs)), float(max(xs))
    if x_hi == x_lo:
        x_lo, x_hi = x_lo - 1, x_hi + 1

    def at(x: float, y: float) -> tuple[float, float]:
        px = left + (x - x_lo) / (x_hi - x_lo) * (width - left - right)
        py = height - bottom - (y - y_lo) / (y_hi - y_lo) * (height - top - bottom)
        return px, py

    for t in _ticks(y_lo, y_hi):
        _, py = at(x_lo, t)
        draw.line([(left, py), (width - right, py)], fill=GRID)
        draw.text((left - 4, py), f"{t:.3g}", fill=AXIS, font=small, anchor="rm")
    for t in _ticks(x_lo, x_hi, count=6):
        px, _ = at(t, y_lo)
        draw.line([(px, height - bottom), (px, height - bottom + 3)], fill=AXIS)
        draw.text((px, height - bottom + 5), f"{t:g}", fill=AXIS, font=small, anchor="mt")
    draw.line([(left, top), (left, height - bottom), (width - right, height - bottom)], fill=AXIS)
    draw.text((left, 4), title, fill=(0, 0, 0), font=big)
    if x_label:
        draw.text((width - right, height - 4), x_label, fill=AXIS, font=small, anchor="rd")

    for row in per_seed:
        for x, y in zip(xs, row, strict=True):
            px, py = at(x, y)
            draw.ellipse([px - 2, py - 2, px + 2, py + 2], fill=SEEDS)
    if reference is not None:
        points = [at(x, y) for x, y in zip(xs, reference, strict=True)]
        _dashed(draw, points, REFERENCE)
    points = [at(x, y) for x, y in zip(xs, per_seed.mean(axis=0), strict=True)]
    if len(points) > 1:
        draw.line(points, fill=MEAN, width=2)
    for px, py in points:
        draw.ellipse([px - 3, py - 3, px + 3, py + 3], fill=MEAN)
    return img


def _dashed(
    draw: ImageDraw.ImageDraw, points: list[tuple[float, float]], fill: tuple[int, ...]
) -> None:
    """A dashed polyline: the reference, told apart from the probe's solid line."""
    dash = 6.0
    for (x0, y0), (x1, y1) in pairwise(points):
        length = float(np.hypot(x1 - x0, y1 - y0))
        steps = max(1, int(length // dash))
        for k in range(0, steps, 2):
            a, b = k / steps, min(1.0, (k + 1) / steps)
            start = (x0 + a * (x1 - x0), y0 + a * (y1 - y0))
            end = (x0 + b * (x1 - x0), y0 + b * (y1 - y0))
            draw.line([start, end], fill=fill, width=2)
    for px, py in points:
        draw.rectangle([px - 2, py - 2, px + 2, py + 2], outline=fill)


def hue_chart(
    xs: Sequence[float],
    shares: np.ndarray,
    title: str = "hue",
    heights: Sequence[float] | None = None,
    size: tuple[int, int] = (360, 220),
) -> Image.Image:
    """One stacked bar per value: the share of each hue bin, drawn in that hue.

    ``shares`` is ``(len(xs), bins)``; a grey frame's bar (all zeros) is left empty.
    With ``heights`` (e.g. saturation), each bar's height is scaled to it, relative
    to the largest, so the hue of near-grey frames does not fill a whole bar.
    """
    shares = np.asarray(shares, np.float64)
    if heights is not None:
        h = np.asarray(heights, np.float64)
        shares = shares * (h / h.max() if h.max() > 0 else h)[:, None]
    width, height = size
    img = Image.new("RGB", size, PAPER)
    draw = ImageDraw.Draw(img)
    small, big = font(11), font(13)
    left, right, top, bottom = 12, 12, 24, 34
    draw.text((left, 4), title, fill=(0, 0, 0), font=big)
    n, bins = shares.shape
    step = (width - left - right) / max(1, n)
    colours = [_hue_rgb(360.0 * (b + 0.5) / bins) for b in range(bins)]
    for i, row in enumerate(shares):
        x0, y = left + i * step + 1, float(height - bottom)
        for b in range(bins):
            h = row[b] * (height - top - bottom)
            draw.rectangle([x0, y - h, x0 + step - 2, y], fill=colours[b])
            y -= h
    for i in range(0, n, max(1, n // 6)):
        px = left + (i + 0.5) * step
        draw.text((px, height - bottom + 5), f"{xs[i]:g}", fill=AXIS, font=small, anchor="mt")
    return img


def _hue_rgb(degrees: float) -> tuple[int, int, int]:
    """A fully saturated colour of the given hue (HSV with S = V = 1)."""
    h = (degrees % 360.0) / 60.0
    x = 1 - abs(h % 2 - 1)
    rgb = [(1, x, 0), (x, 1, 0), (0, 1, x), (0, x, 1), (x, 0, 1), (1, 0, x)][int(h) % 6]
    return int(rgb[0] * 230), int(rgb[1] * 230), int(rgb[2] * 230)


def grid(images: Sequence[Image.Image], columns: int = 3) -> Image.Image:
    """Plots of one size side by side, ``columns`` to a row."""
    if not images:
        raise ValueError("grid: expected at least one plot")
    w, h = images[0].size
    rows = (len(images) + columns - 1) // columns
    out = Image.new("RGB", (columns * w, rows * h), PAPER)
    for k, image in enumerate(images):
        out.paste(image, ((k % columns) * w, (k // columns) * h))
    return out
