"""The probe's table of statistics of one frame: what a medium and an era leave in it.

:func:`frame_stats` takes the ``uint8`` frame the generators return and gives every
statistic of :mod:`performer.image_stats` the probe reads, as a flat dict; the sweep and
the live capture both use it, so a probe table and a take's log measure the same things.
Units are the image's own (0..1 levels, pixels, shares), so values from different models
and resolutions compare.

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

from performer import image_stats as s

HUE_KEYS: tuple[str, ...] = tuple(f"hue_{i * 360 // s.HUE_BINS:03d}" for i in range(s.HUE_BINS))
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


def to_float(image: np.ndarray) -> np.ndarray:
    """``(H, W, 3)`` uint8 frame to float64 in 0..1, with a precise error for anything else."""
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise ValueError(f"expected an (H, W, 3) uint8 frame, got {image.shape} {image.dtype}")
    if min(image.shape[:2]) < 8:
        raise ValueError(f"frame too small for statistics: {image.shape[1]}x{image.shape[0]}")
    return image.astype(np.float64) / 255.0


def frame_stats(image: np.ndarray) -> dict[str, float]:
    """Every statistic of one ``(H, W, 3)`` uint8 frame, keyed as :data:`KEYS`."""
    x = to_float(image)
    y = s.luma(x)
    horizontal, diagonal = s.edge_orientation(y)
    period, strength = s.line_periodicity(y)
    out = {
        "luma_mean": float(y.mean()),
        "luma_contrast": float(y.std()),
        "saturation": float(s.saturation(x)),
        "hsv_saturation": s.hsv_saturation(x),
        "warmth": float(s.warmth(x)),
        "tint": s.tint(x),
        **dict(zip(HUE_KEYS, (float(v) for v in s.hue_histogram(x)), strict=True)),
        "grain": float(s.grain(y)),
        "sharpness": s.sharpness(y),
        "edge_horizontal": horizontal,
        "edge_diagonal": diagonal,
        "vignette": s.vignette(y),
        "scanline": float(s.scanline(y)),
        "line_period": period,
        "line_strength": strength,
    }
    return {key: out[key] for key in KEYS}
