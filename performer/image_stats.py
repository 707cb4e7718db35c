"""Image statistics: what a medium and an era leave in a picture, each defined once.

The probe's table (:mod:`performer.probe.stats`), the embedded model's evaluation
(:mod:`performer.embedded.stats`: the dataset tests, the era classifier,
``bench/era_eval.py``) and its training loss (:mod:`performer.embedded.loss`) all measure
with these functions. Images are float RGB in 0..1, channels last, ``(..., H, W, 3)``;
luma images are ``(..., H, W)``. A statistic reduces the last two axes, so one image
gives one value and a batch ``(N, H, W, 3)`` one value per image.

One name, one formula. Where the probe and the embedded model once gave one name two
formulas, each formula was kept, under a name that says what it measures, so that no
documented figure changed (docs/probe.md, docs/embedded-model.md) and the training loss
still matches what the shipped model was trained on:

- :func:`saturation` is mean chroma, max - min of R, G, B (the probe's): it does not blow
  up in the dark, where HSV saturation reads a few levels of colour noise on a black
  pixel, or a sepia print, as fully saturated (docs/probe.md: rho 0.28 against 0.96).
  :func:`soft_saturation`, (max - min) / (max + 0.1), is HSV saturation softened by
  :data:`SOFTENING` (the embedded model's "saturation"): the 0.1 keeps the dark from
  dominating and the gradient bounded, the training loss matches it per image and the
  era classifier reads it. :func:`hsv_saturation` is the plain one, for comparison.
- :func:`warmth`, mean red minus mean blue, was one formula already (written two ways).
- :func:`grain` is a noise level, Immerkær's estimator (the probe's): it cancels edges
  and shading, so it reads film grain and tape noise in 0..1 levels. :func:`texture`, the
  RMS of the luma Laplacian (the embedded model's "grain"), answers to fine detail and
  edges as well as noise: a texture energy, which is what the classifier wants.
- :func:`scanline` is the alternate-row amplitude (the probe's, and the training's
  scanline term: one formula already). :func:`line_energy`, the RMS second difference of
  a row or column profile (the embedded model's "scanline"), reads any lines across the
  frame, horizons and pillarbox edges included: the training's line-energy term.

The statistics the training differentiates (:func:`luma`, :func:`soft_saturation`,
:func:`warmth`, :func:`line_energy`, :func:`scanline`, :func:`texture`) use only what
numpy arrays and torch tensors share (operators, slicing, ``mean``, ``abs``), so the loss
differentiates the very formula the probe measures; the two spellings that differ (the
max and min over channels, the luma weights' array type) sit in :func:`_extremes` and
:func:`luma`. The others are numpy, one image.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeVar

import numpy as np

if TYPE_CHECKING:
    import torch

#: Rec. 601 luma weights of R, G, B
LUMA = np.array([0.299, 0.587, 0.114], np.float64)
#: added to the brightest channel in :func:`soft_saturation`'s denominator
SOFTENING = 0.1
#: bins of :func:`hue_histogram`, 30° each
HUE_BINS = 12
_EPS = 1e-8

#: a numpy array or a torch tensor: the statistics the training uses take either
Array = TypeVar("Array", np.ndarray, "torch.Tensor")


def luma(x: Array) -> Array:
    """Rec. 601 luma of ``(..., 3)`` RGB, in the image's own precision."""
    if isinstance(x, np.ndarray):
        return x @ LUMA.astype(x.dtype, copy=False)
    return x @ x.new_tensor(LUMA)


def _extremes(x: Array) -> tuple[Array, Array]:
    """The brightest and the darkest channel of each pixel."""
    if isinstance(x, np.ndarray):
        return x.max(axis=-1), x.min(axis=-1)
    return x.amax(dim=-1), x.amin(dim=-1)


def saturation(x: np.ndarray) -> np.ndarray:
    """Mean chroma (max - min over R, G, B): colourfulness, whatever the brightness."""
    hi, lo = _extremes(x)
    return (hi - lo).mean((-2, -1))


def soft_saturation(x: Array) -> Array:
    """Mean HSV saturation softened in the dark: (max - min) / (max + SOFTENING)."""
    hi, lo = _extremes(x)
    return ((hi - lo) / (hi + SOFTENING)).mean((-2, -1))


def hsv_saturation(x: np.ndarray) -> float:
    """Mean HSV saturation; black pixels count as 0."""
    hi, lo = x.max(axis=2), x.min(axis=2)
    return float(np.where(hi > _EPS, (hi - lo) / np.maximum(hi, _EPS), 0.0).mean())


def warmth(x: Array) -> Array:
    """Colour temperature: mean red minus mean blue, -1..1."""
    return (x[..., 0] - x[..., 2]).mean((-2, -1))


def tint(x: np.ndarray) -> float:
    """Green minus the mean of red and blue in the mean colour (+ green, - magenta)."""
    r, g, b = x.reshape(-1, 3).mean(axis=0)
    return float(g - 0.5 * (r + b))


def hue_histogram(x: np.ndarray, bins: int = HUE_BINS) -> np.ndarray:
    """Histogram of hue weighted by chroma (max - min), normalised; zeros for a grey frame."""
    r, g, b = x[..., 0], x[..., 1], x[..., 2]
    hue = np.arctan2(np.sqrt(3.0) * (g - b), 2.0 * r - g - b)  # hexagonal hue, red at 0
    chroma = x.max(axis=2) - x.min(axis=2)
    index = ((np.degrees(hue) % 360.0) * bins / 360.0).astype(int) % bins
    hist = np.bincount(index.ravel(), weights=chroma.ravel(), minlength=bins)
    total = hist.sum()
    return hist / total if total > _EPS else np.zeros(bins)


def grain(y: np.ndarray) -> np.ndarray:
    """Noise sigma of luma (J. Immerkær, "Fast noise variance estimation", 1996).

    The 3×3 mask is the difference of two Laplacians, so it cancels smooth shading and
    straight edges and mostly answers to pixel-level noise; constant rows or columns
    (scanlines, pillarbox bars) cancel too.
    """
    m = (
        y[..., :-2, :-2] - 2 * y[..., :-2, 1:-1] + y[..., :-2, 2:]
        - 2 * y[..., 1:-1, :-2] + 4 * y[..., 1:-1, 1:-1] - 2 * y[..., 1:-1, 2:]
        + y[..., 2:, :-2] - 2 * y[..., 2:, 1:-1] + y[..., 2:, 2:]
    )  # fmt: skip
    return np.sqrt(np.pi / 2.0) * np.abs(m).mean((-2, -1)) / 6.0


def texture(y: Array) -> Array:
    """RMS of the luma Laplacian: fine detail and edges as well as grain and noise."""
    c = y[..., 1:-1, 1:-1]
    lap = 4 * c - y[..., :-2, 1:-1] - y[..., 2:, 1:-1] - y[..., 1:-1, :-2] - y[..., 1:-1, 2:]
    return ((lap**2).mean((-2, -1))) ** 0.5


def sharpness(y: np.ndarray) -> float:
    """Share of the (mean-removed) luma power spectrum above half the Nyquist frequency."""
    power = np.abs(np.fft.rfft2(y - y.mean())) ** 2
    fy = np.abs(np.fft.fftfreq(y.shape[0]))[:, None]
    fx = np.fft.rfftfreq(y.shape[1])[None, :]
    high = np.maximum(fy, fx) > 0.25  # 0.5 cycles/pixel is Nyquist
    total = power.sum()
    return float(power[high].sum() / total) if total > _EPS else 0.0


def edge_orientation(y: np.ndarray) -> tuple[float, float]:
    """(cos 2θ, sin 2θ) of the mean structure tensor, θ the edges' direction.

    Doubled angles let opposite gradients add up instead of cancelling; the length of
    the vector is how strongly one direction dominates (0 for no preference).
    """
    # gradients on 2×2 cells, so even one-pixel stripes (scanlines) have edges
    a, b, c, d = y[:-1, :-1], y[:-1, 1:], y[1:, :-1], y[1:, 1:]
    gx, gy = (b - a) + (d - c), (c - a) + (d - b)
    xx, yy, xy = (gx * gx).sum(), (gy * gy).sum(), (gx * gy).sum()
    total = xx + yy
    if total <= _EPS:
        return 0.0, 0.0
    return float((yy - xx) / total), float(-2.0 * xy / total)


def vignette(y: np.ndarray) -> float:
    """How much darker the corners (radius > 0.85) are than the centre (radius < 0.4)."""
    h, w = y.shape
    yy, xx = np.mgrid[-1 : 1 : h * 1j, -1 : 1 : w * 1j]
    radius = np.sqrt((xx**2 + yy**2) / 2.0)  # 1 at the corners
    centre, corners = y[radius < 0.4].mean(), y[radius > 0.85].mean()
    return float(max(0.0, 1.0 - corners / centre)) if centre > _EPS else 0.0


def scanline(y: Array) -> Array:
    """Amplitude of the alternate-row pattern: half the difference of the mean even and
    the mean odd row (an odd last row is left out, so both count alike)."""
    rows = y.mean(-1)
    n = rows.shape[-1] // 2 * 2
    return abs(rows[..., 0:n:2].mean(-1) - rows[..., 1:n:2].mean(-1)) / 2


def line_energy(profile: Array, eps: float = 0.0) -> Array:
    """RMS second difference of a row (``y.mean(-1)``) or column (``y.mean(-2)``) profile:
    lines across the frame. ``eps`` under the root keeps a gradient at a flat profile."""
    d2 = profile[..., 1:-1] - 0.5 * (profile[..., :-2] + profile[..., 2:])
    return ((d2**2).mean(-1) + eps) ** 0.5


def line_periodicity(y: np.ndarray) -> tuple[float, float]:
    """(period in rows, share of energy) of the strongest horizontal-line pattern.

    Looks at periods from 2 rows up to a quarter of the height, where scene content
    (sky above ground) is not; returns (0, 0) for a flat profile.
    """
    rows = y.mean(axis=1)
    power = np.abs(np.fft.rfft(rows - rows.mean())) ** 2
    lo = 4  # at least four repeats in the frame
    total = power[1:].sum()
    if total <= _EPS or power.size <= lo:
        return 0.0, 0.0
    k = lo + int(np.argmax(power[lo:]))
    return float(rows.size / k), float(power[k] / total)
