"""The media that record a scene, as functions of the continuous year.

Each medium is a function ``(image, rng, u) -> image`` on ``(H, W, 3)`` float32 in
0..1, where ``u`` in 0..1 is how far the year is through that medium's span (media
drift inside their span too). Near a boundary (±:data:`BLEND` years) the recording is
a blend of the two neighbouring media, so the year is continuous.

========================  ==========  ==============================================
medium                    years       signature
========================  ==========  ==============================================
daguerreotype             1840–1858   silver-blue grey, heavy vignette, long-exposure
                                      (horizontal ghost) blur, tarnished corners
albumen / sepia print     1858–1895   purple-brown to warm sepia tone, creamy
                                      highlights, soft vignette, paper mottle
silent film               1895–1930   neutral B&W, flicker, scratches, dust, heavy
                                      grain, 4:3 pillarbox
three-strip Technicolor   1930–1955   saturation ×2, deep primaries, high contrast
Kodachrome snapshot       1955–1968   rich but natural colour, warm, white border
faded 1970s colour stock  1968–1983   orange-magenta cast, lifted blacks, low
                                      contrast, cyan dye faded, grain
VHS                       1983–1998   chroma bleed and shift, soft luma, scanlines,
                                      tracking noise band, tape noise
early digital             1998–2011   8×8 JPEG blocks, oversharpened halos, cool
                                      white balance, clipped highlights
phone HDR                 2011–2030   lifted shadows, local contrast, teal-orange
                                      grade, strong saturation, clean
========================  ==========  ==============================================
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from performer.embedded.streets import f32
from performer.image_stats import luma

Medium = Callable[[np.ndarray, np.random.Generator, float], np.ndarray]
BLEND = 3.0


def box_blur(img: np.ndarray, radius: int, axis: int) -> np.ndarray:
    """Mean over a window of ``2 * radius + 1`` along ``axis``; edges repeat."""
    if radius <= 0:
        return img
    pad = [(0, 0)] * img.ndim
    pad[axis] = (radius + 1, radius)
    c = np.cumsum(np.pad(img, pad, mode="edge"), axis=axis, dtype=np.float32)
    n = img.shape[axis]
    hi = np.take(c, np.arange(2 * radius + 1, 2 * radius + 1 + n), axis=axis)
    lo = np.take(c, np.arange(0, n), axis=axis)
    return (hi - lo) / (2 * radius + 1)


def blur(img: np.ndarray, radius: int) -> np.ndarray:
    return box_blur(box_blur(img, radius, 0), radius, 1)


def add_vignette(img: np.ndarray, strength: float) -> np.ndarray:
    h, w = img.shape[:2]
    yy, xx = np.mgrid[-1 : 1 : h * 1j, -1 : 1 : w * 1j].astype(np.float32)
    return img * (1.0 - strength * np.clip(xx**2 + yy**2 - 0.25, 0, None))[..., None]


def tone(gray: np.ndarray, dark: tuple[float, ...], light: tuple[float, ...]) -> np.ndarray:
    """A monochrome print: grey levels mapped between a dark and a light ink."""
    g = gray[..., None]
    return (1 - g) * f32(dark) + g * f32(light)


def saturate(img: np.ndarray, amount: float) -> np.ndarray:
    y = luma(img)[..., None]
    return y + amount * (img - y)


def add_grain(
    img: np.ndarray, rng: np.random.Generator, sigma: float, mono: bool = True
) -> np.ndarray:
    shape = img.shape[:2] + ((1,) if mono else (3,))
    return img + rng.normal(0.0, sigma, shape).astype(np.float32)


def daguerreotype(img: np.ndarray, rng: np.random.Generator, u: float) -> np.ndarray:
    g = luma(img)
    g = 0.5 * g + 0.5 * box_blur(g, 3, 1)  # long exposure: whatever moved is a ghost
    g = np.clip((g - 0.5) * 1.5 + 0.55, 0, 1)
    out = tone(g, (0.1, 0.11, 0.13), (0.86, 0.9, 0.96))
    out = add_vignette(out, 1.1 - 0.3 * u)
    h, w = g.shape
    yy, xx = np.mgrid[-1 : 1 : h * 1j, -1 : 1 : w * 1j]
    tarnish = np.clip(np.abs(xx) * np.abs(yy) * 2 - 0.5, 0, 1)[..., None].astype(np.float32)
    return out * (1 - 0.5 * tarnish) + tarnish * f32([0.25, 0.18, 0.3]) * 0.5


def albumen(img: np.ndarray, rng: np.random.Generator, u: float) -> np.ndarray:
    g = blur(luma(img), 1) * 0.7 + 0.3 * luma(img)
    mottle = blur(rng.normal(0, 0.12, g.shape).astype(np.float32), 3)
    g = np.clip(g + mottle, 0, 1)
    dark = (0.22 - 0.02 * u, 0.1 + 0.02 * u, 0.12 - 0.06 * u)  # purple-brown to sepia
    out = tone(g, dark, (0.96, 0.88, 0.7))
    return add_vignette(out, 0.6)


def silent_film(img: np.ndarray, rng: np.random.Generator, u: float) -> np.ndarray:
    h, w = img.shape[:2]
    g = luma(img) * rng.normal(1.0, 0.12)  # flicker
    g = (g - 0.5) * 1.3 + 0.5
    g = add_grain(g[..., None], rng, 0.09 - 0.03 * u)[..., 0]
    for _ in range(int(rng.integers(1, 4))):  # scratches
        g[:, int(rng.integers(0, w))] += rng.choice([-0.5, 0.6])
    specks = rng.random((h, w)) < 0.006
    g[specks] = rng.choice([0.0, 1.0])
    bar = w // 8  # a 4:3 frame inside the square
    g[:, :bar] = 0.02
    g[:, w - bar :] = 0.02
    return np.repeat(np.clip(g, 0, 1)[..., None], 3, axis=2)


def technicolor(img: np.ndarray, rng: np.random.Generator, u: float) -> np.ndarray:
    out = saturate(img, 2.6 - 0.3 * u)
    out = (out - 0.5) * 1.25 + 0.48
    out = out * f32([1.08, 1.0, 0.92])
    return add_grain(out, rng, 0.025)


def kodachrome(img: np.ndarray, rng: np.random.Generator, u: float) -> np.ndarray:
    out = saturate(img, 1.35) * f32([1.05, 1.0, 0.9]) + 0.02
    out = add_grain(out, rng, 0.02)
    b = max(2, img.shape[0] // 20)  # the white border of a snapshot print
    out[:b], out[-b:], out[:, :b], out[:, -b:] = 0.95, 0.95, 0.95, 0.95
    return out


def faded_70s(img: np.ndarray, rng: np.random.Generator, u: float) -> np.ndarray:
    out = saturate(img, 0.8)
    out = 0.16 + 0.7 * out  # lifted blacks, low contrast
    out = out * f32([1.12, 0.95, 0.7 - 0.08 * u]) + f32([0.05, 0.0, 0.03])
    return add_grain(out, rng, 0.04)


def vhs(img: np.ndarray, rng: np.random.Generator, u: float) -> np.ndarray:
    y = box_blur(luma(img), 1, 1)
    chroma = box_blur(img - luma(img)[..., None], 4, 1)
    chroma = np.roll(chroma, 2, axis=1) * 1.3  # bleeds right of what it belongs to
    out = y[..., None] + chroma
    out = add_grain(out, rng, 0.03, mono=False)
    out[1::2] *= 0.78  # scanlines
    h = img.shape[0]
    band = int(rng.integers(h * 3 // 4, h - 3))  # tracking noise
    out[band : band + 3] = np.roll(out[band : band + 3], int(rng.integers(2, 6)), axis=1)
    out[band : band + 3] += rng.uniform(0, 0.5, (3, out.shape[1], 1))
    return out


_DCT = f32(
    [
        [np.sqrt((1 if k == 0 else 2) / 8) * np.cos((2 * n + 1) * k * np.pi / 16) for n in range(8)]
        for k in range(8)
    ]
)


def jpeg_blocks(img: np.ndarray, quant: float) -> np.ndarray:
    """Quantise 8×8 DCT blocks, as a low-quality JPEG does (high frequencies go first)."""
    h, w = img.shape[:2]
    blocks = img.reshape(h // 8, 8, w // 8, 8, 3).transpose(0, 2, 4, 1, 3)
    coef = _DCT @ blocks @ _DCT.T
    q = quant * (1 + np.add.outer(np.arange(8), np.arange(8))).astype(np.float32)
    coef = np.round(coef / q) * q
    out = _DCT.T @ coef @ _DCT
    return out.transpose(0, 3, 1, 4, 2).reshape(h, w, 3)


def early_digital(img: np.ndarray, rng: np.random.Generator, u: float) -> np.ndarray:
    out = img + 1.6 * (img - blur(img, 1))  # oversharpened halos
    out = out * f32([0.92, 1.0, 1.12]) * 1.15  # cool balance, clipped highlights
    out = add_grain(np.clip(out, 0, 1), rng, 0.015, mono=False)  # sensor noise, then compression
    return jpeg_blocks(out, 0.3 - 0.12 * u)


def phone_hdr(img: np.ndarray, rng: np.random.Generator, u: float) -> np.ndarray:
    y = luma(img)[..., None]
    lifted = img * (1.0 + (0.5 + 0.4 * u) * (1 - np.sqrt(np.clip(blur(y, 4), 0, 1))))
    out = lifted + 1.0 * (lifted - blur(lifted, 3))  # local contrast
    out = saturate(out, 1.45)
    shadow_teal = (1 - luma(np.clip(out, 0, 1)))[..., None] * f32([-0.05, 0.02, 0.06])
    return out + shadow_teal + f32([0.03, 0.01, -0.03])


#: (name, first year, function): each medium runs from its year to the next one's
MEDIA: tuple[tuple[str, float, Medium], ...] = (
    ("daguerreotype", 1840.0, daguerreotype),
    ("albumen", 1858.0, albumen),
    ("silent film", 1895.0, silent_film),
    ("technicolor", 1930.0, technicolor),
    ("kodachrome", 1955.0, kodachrome),
    ("faded 70s", 1968.0, faded_70s),
    ("vhs", 1983.0, vhs),
    ("early digital", 1998.0, early_digital),
    ("phone hdr", 2011.0, phone_hdr),
)
LAST_YEAR = 2030.0


def medium_at(year: float) -> list[tuple[int, float]]:
    """``(index into MEDIA, weight)`` of the one or two media that record ``year``."""
    starts = [m[1] for m in MEDIA]
    i = int(np.clip(np.searchsorted(starts, year, side="right") - 1, 0, len(MEDIA) - 1))
    for j in (i, i + 1):  # near the start of medium j, blend with j - 1
        if 0 < j < len(MEDIA) and abs(year - starts[j]) < BLEND:
            w = 0.5 + (year - starts[j]) / (2 * BLEND)
            return [(j - 1, 1.0 - w), (j, w)]
    return [(i, 1.0)]


def record(img: np.ndarray, year: float, rng: np.random.Generator) -> np.ndarray:
    """``img`` as the media of ``year`` record it; float32 in 0..1."""
    out = np.zeros_like(img)
    starts = [m[1] for m in MEDIA] + [LAST_YEAR]
    for i, weight in medium_at(year):
        u = float(np.clip((year - starts[i]) / (starts[i + 1] - starts[i]), 0, 1))
        out += weight * MEDIA[i][2](img.copy(), rng, u)
    return np.clip(out, 0.0, 1.0)
