"""Image statistics of one frame: what a medium and an era leave in a picture.

Every statistic is a small function of an ``(H, W, 3)`` float RGB image in 0..1 (or its
luma) and returns one number, or a few for the hue histogram. :func:`frame_stats`
takes the ``uint8`` frame the generators return and gives all of them as a flat dict;
the sweep and the live capture both use it, so a probe table and a take's log measure
the same things. Units are the image's own (0..1 levels, pixels, shares), so values
from different models and resolutions compare.

==================  ============================================================
key                 meaning
==================  ============================================================
luma_mean           mean Rec. 601 luma, 0..1
luma_contrast       standard deviation of luma (RMS contrast)
saturation          mean chroma, max - min of R, G, B: how colourful; grey 0, a pure
                    primary 1. Unlike HSV saturation it does not blow up in the dark,
                    where a few levels of colour noise on a black pixel read as "fully
                    saturated" and a sepia print as colourful as Technicolor
hsv_saturation      mean HSV saturation, (max - min) / max, for comparison
warmth              colour temperature: mean red minus mean blue, -1..1
tint                mean green minus the mean of red and blue (+ green, - magenta)
hue_000 … hue_330   hue histogram, 12 bins of 30°, weighted by chroma, sums to 1
                    (all 0 for a grey frame)
grain               noise sigma in 0..1 levels (Immerkær's estimator, robust to
                    scene edges): film grain, tape and sensor noise
sharpness           share of luma spectral energy above half the Nyquist frequency
edge_horizontal     mean structure tensor, cos 2θ: +1 all edges horizontal,
                    -1 all vertical
edge_diagonal       mean structure tensor, sin 2θ: ±1 all edges on a diagonal
vignette            1 - (corner luma / centre luma), clipped at 0
scanline            amplitude of alternate-row modulation (period 2), 0..1 levels
line_period         period in rows of the strongest horizontal-line pattern
line_strength       that period's share of the row profile's energy, 0..1
==================  ============================================================
"""

from __future__ import annotations

import numpy as np

LUMA = np.array([0.299, 0.587, 0.114], np.float64)
HUE_BINS = 12
HUE_KEYS: tuple[str, ...] = tuple(f"hue_{i * 360 // HUE_BINS:03d}" for i in range(HUE_BINS))
#: every key of :func:`frame_stats`, in table order
KEYS: tuple[str, ...] = (
    "luma_mean",
    "luma_contrast",
    "saturation",
    "hsv_saturation",
    "warmth",
    "tint",
    *HUE_KEYS,
    "grain",
    "sharpness",
    "edge_horizontal",
    "edge_diagonal",
    "vignette",
    "scanline",
    "line_period",
    "line_strength",
)
#: the scalar statistics (no histogram bins): plotted and used for distances
SCALAR_KEYS: tuple[str, ...] = tuple(k for k in KEYS if k not in HUE_KEYS)
_EPS = 1e-8


def to_float(image: np.ndarray) -> np.ndarray:
    """``(H, W, 3)`` uint8 frame to float64 in 0..1, with a precise error for anything else."""
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise ValueError(f"expected an (H, W, 3) uint8 frame, got {image.shape} {image.dtype}")
    if min(image.shape[:2]) < 8:
        raise ValueError(f"frame too small for statistics: {image.shape[1]}x{image.shape[0]}")
    return image.astype(np.float64) / 255.0


def luma(x: np.ndarray) -> np.ndarray:
    return np.asarray(x @ LUMA)


def saturation(x: np.ndarray) -> float:
    """Mean chroma (max - min over R, G, B): colourfulness, whatever the brightness."""
    return float((x.max(axis=2) - x.min(axis=2)).mean())


def hsv_saturation(x: np.ndarray) -> float:
    """Mean HSV saturation; black pixels count as 0."""
    hi, lo = x.max(axis=2), x.min(axis=2)
    return float(np.where(hi > _EPS, (hi - lo) / np.maximum(hi, _EPS), 0.0).mean())


def warmth_tint(x: np.ndarray) -> tuple[float, float]:
    """Grey-world colour balance: (red - blue, green - (red + blue) / 2) of the mean colour."""
    r, g, b = x.reshape(-1, 3).mean(axis=0)
    return float(r - b), float(g - 0.5 * (r + b))


def hue_histogram(x: np.ndarray, bins: int = HUE_BINS) -> np.ndarray:
    """Histogram of hue weighted by chroma (max - min), normalised; zeros for a grey frame."""
    r, g, b = x[..., 0], x[..., 1], x[..., 2]
    hue = np.arctan2(np.sqrt(3.0) * (g - b), 2.0 * r - g - b)  # hexagonal hue, red at 0
    chroma = x.max(axis=2) - x.min(axis=2)
    index = ((np.degrees(hue) % 360.0) * bins / 360.0).astype(int) % bins
    hist = np.bincount(index.ravel(), weights=chroma.ravel(), minlength=bins)
    total = hist.sum()
    return hist / total if total > _EPS else np.zeros(bins)


def grain(y: np.ndarray) -> float:
    """Noise sigma (J. Immerkær, "Fast noise variance estimation", 1996).

    The 3×3 mask is the difference of two Laplacians, so it cancels smooth shading and
    straight edges and mostly answers to pixel-level noise; constant rows or columns
    (scanlines, pillarbox bars) cancel too.
    """
    m = (
        y[:-2, :-2] - 2 * y[:-2, 1:-1] + y[:-2, 2:]
        - 2 * y[1:-1, :-2] + 4 * y[1:-1, 1:-1] - 2 * y[1:-1, 2:]
        + y[2:, :-2] - 2 * y[2:, 1:-1] + y[2:, 2:]
    )  # fmt: skip
    return float(np.sqrt(np.pi / 2.0) * np.abs(m).mean() / 6.0)


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


def row_profile(y: np.ndarray) -> np.ndarray:
    """Mean luma of each row, minus its mean."""
    rows = y.mean(axis=1)
    return np.asarray(rows - rows.mean())


def scanline(y: np.ndarray) -> float:
    """Amplitude of the alternate-row pattern: half the mean difference of even and odd rows."""
    rows = row_profile(y)
    n = rows.size // 2 * 2
    sign = np.where(np.arange(n) % 2 == 0, 1.0, -1.0)
    return float(abs((rows[:n] * sign).mean()))


def line_periodicity(y: np.ndarray) -> tuple[float, float]:
    """(period in rows, share of energy) of the strongest horizontal-line pattern.

    Looks at periods from 2 rows up to a quarter of the height, where scene content
    (sky above ground) is not; returns (0, 0) for a flat profile.
    """
    rows = row_profile(y)
    power = np.abs(np.fft.rfft(rows)) ** 2
    lo = 4  # at least four repeats in the frame
    total = power[1:].sum()
    if total <= _EPS or power.size <= lo:
        return 0.0, 0.0
    k = lo + int(np.argmax(power[lo:]))
    return float(rows.size / k), float(power[k] / total)


def frame_stats(image: np.ndarray) -> dict[str, float]:
    """Every statistic of one ``(H, W, 3)`` uint8 frame, keyed as :data:`KEYS`."""
    x = to_float(image)
    y = luma(x)
    warm, tint = warmth_tint(x)
    horizontal, diagonal = edge_orientation(y)
    period, strength = line_periodicity(y)
    out = {
        "luma_mean": float(y.mean()),
        "luma_contrast": float(y.std()),
        "saturation": saturation(x),
        "hsv_saturation": hsv_saturation(x),
        "warmth": warm,
        "tint": tint,
        **dict(zip(HUE_KEYS, (float(v) for v in hue_histogram(x)), strict=True)),
        "grain": grain(y),
        "sharpness": sharpness(y),
        "edge_horizontal": horizontal,
        "edge_diagonal": diagonal,
        "vignette": vignette(y),
        "scanline": scanline(y),
        "line_period": period,
        "line_strength": strength,
    }
    return {key: out[key] for key in KEYS}
