"""The probe's statistics on synthetic frames whose answers are known."""

from __future__ import annotations

import numpy as np
import pytest

from performer.probe.stats import HUE_KEYS, KEYS, frame_stats

SIZE = 240  # divisible by every line period tested below


def flat(rgb: tuple[int, int, int], size: int = SIZE) -> np.ndarray:
    return np.broadcast_to(np.array(rgb, np.uint8), (size, size, 3)).copy()


def noisy_grey(sigma_levels: float, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    noise = rng.normal(0.0, sigma_levels, (SIZE, SIZE, 1))
    return np.clip(128.0 + noise, 0, 255).round().astype(np.uint8).repeat(3, axis=2)


def lines(period: int, size: int = SIZE) -> np.ndarray:
    """Horizontal stripes: ``period // 2`` bright rows, then dark ones."""
    rows = np.where(np.arange(size) % period < period // 2, 200, 60).astype(np.uint8)
    return np.broadcast_to(rows[:, None, None], (size, size, 3)).copy()


def test_keys_are_stable_and_finite() -> None:
    stats = frame_stats(noisy_grey(10))
    assert tuple(stats) == KEYS
    assert all(np.isfinite(v) for v in stats.values())


def test_pure_grey_frame() -> None:
    stats = frame_stats(flat((128, 128, 128)))
    assert stats["luma_mean"] == pytest.approx(128 / 255)
    for key in ("luma_contrast", "saturation", "hsv_saturation", "warmth", "tint", "grain"):
        assert stats[key] == pytest.approx(0.0, abs=1e-9), key
    for key in (
        "sharpness",
        "vignette",
        "scanline",
        "line_strength",
        "edge_horizontal",
        "edge_diagonal",
    ):
        assert stats[key] == pytest.approx(0.0, abs=1e-9), key
    assert all(stats[k] == 0.0 for k in HUE_KEYS), "a grey frame has no hue"


def test_saturated_red_frame() -> None:
    stats = frame_stats(flat((255, 0, 0)))
    assert stats["saturation"] == pytest.approx(1.0)
    assert stats["hsv_saturation"] == pytest.approx(1.0)
    assert stats["warmth"] == pytest.approx(1.0)
    assert stats["hue_000"] == pytest.approx(1.0)


@pytest.mark.parametrize(("rgb", "hue_key"), [((0, 200, 0), "hue_120"), ((0, 0, 200), "hue_240")])
def test_hue_histogram_finds_the_primary(rgb: tuple[int, int, int], hue_key: str) -> None:
    stats = frame_stats(flat(rgb))
    assert stats[hue_key] == pytest.approx(1.0)
    assert stats["saturation"] == pytest.approx(200 / 255)
    assert stats["hsv_saturation"] == pytest.approx(1.0)


def test_half_saturated_and_green_tint() -> None:
    stats = frame_stats(flat((100, 200, 100)))
    assert stats["saturation"] == pytest.approx(100 / 255)
    assert stats["hsv_saturation"] == pytest.approx(0.5)
    assert stats["tint"] == pytest.approx(100 / 255)
    assert stats["warmth"] == pytest.approx(0.0)


def test_colour_noise_in_the_dark_is_not_colourful() -> None:
    rng = np.random.default_rng(2)
    dark = np.clip(12 + rng.normal(0, 3, (SIZE, SIZE, 3)), 0, 255).round().astype(np.uint8)
    stats = frame_stats(dark)
    assert stats["saturation"] < 0.03, "a few levels of noise are a few levels of chroma"
    assert stats["hsv_saturation"] > 0.3, "while HSV calls them strongly saturated"


def test_black_and_white_halves() -> None:
    image = flat((0, 0, 0))
    image[:, SIZE // 2 :] = 255
    stats = frame_stats(image)
    assert stats["luma_mean"] == pytest.approx(0.5, abs=1e-6)
    assert stats["luma_contrast"] == pytest.approx(0.5, abs=1e-6)
    assert stats["edge_horizontal"] == pytest.approx(-1.0), "one vertical edge"


@pytest.mark.parametrize("sigma", [2.0, 5.0, 10.0, 20.0])
def test_grain_estimates_gaussian_noise_sigma(sigma: float) -> None:
    # tolerance: 10% of sigma plus 8-bit rounding (uniform, sd 1/sqrt(12) levels)
    estimate = frame_stats(noisy_grey(sigma))["grain"] * 255
    expected = np.hypot(sigma, 1 / np.sqrt(12))
    assert estimate == pytest.approx(expected, rel=0.10)


def test_grain_ignores_smooth_shading_and_edges() -> None:
    ramp = np.linspace(20, 230, SIZE)[None, :, None].repeat(SIZE, axis=0).repeat(3, axis=2)
    ramp[SIZE // 2 :] = 40  # one hard horizontal edge
    assert frame_stats(ramp.round().astype(np.uint8))["grain"] * 255 < 0.5


@pytest.mark.parametrize("period", [2, 3, 4, 5, 8, 12, 16, 24])
def test_line_period_is_found(period: int) -> None:
    stats = frame_stats(lines(period))
    assert stats["line_period"] == pytest.approx(period)
    assert stats["line_strength"] > 0.5
    assert stats["edge_horizontal"] == pytest.approx(1.0), "stripes are horizontal edges"


def test_line_period_survives_noise() -> None:
    image = lines(6).astype(np.float64) + np.random.default_rng(1).normal(0, 25, (SIZE, SIZE, 3))
    assert frame_stats(np.clip(image, 0, 255).astype(np.uint8))["line_period"] == pytest.approx(6)


def test_scanline_is_the_alternate_row_amplitude() -> None:
    image = flat((100, 100, 100))
    image[1::2] = 80  # rows alternate 100 / 80: amplitude 10 levels
    assert frame_stats(image)["scanline"] * 255 == pytest.approx(10.0)
    assert frame_stats(lines(8))["scanline"] == pytest.approx(0.0, abs=1e-9)


def test_vignette_darkens_the_corners() -> None:
    yy, xx = np.mgrid[-1 : 1 : SIZE * 1j, -1 : 1 : SIZE * 1j]
    falloff = 1.0 - 0.5 * (xx**2 + yy**2) / 2  # corners at half the centre
    image = (200 * falloff)[..., None].repeat(3, axis=2).round().astype(np.uint8)
    stats = frame_stats(image)
    assert 0.3 < stats["vignette"] < 0.5


def test_sharpness_ranks_noise_over_edges_over_blur() -> None:
    sharp = frame_stats(noisy_grey(30))["sharpness"]
    edges = frame_stats(lines(24))["sharpness"]
    x = np.linspace(0, 2 * np.pi, SIZE)
    smooth = (128 + 100 * np.sin(x))[None, :, None].repeat(SIZE, axis=0).repeat(3, axis=2)
    blur = frame_stats(smooth.round().astype(np.uint8))["sharpness"]
    assert sharp > 0.5 > edges > blur


def test_diagonal_edges() -> None:
    yy, xx = np.mgrid[0:SIZE, 0:SIZE]
    image = np.where((xx + yy) % 16 < 8, 220, 30).astype(np.uint8)[..., None].repeat(3, axis=2)
    stats = frame_stats(image)
    assert abs(stats["edge_diagonal"]) > 0.8
    assert abs(stats["edge_horizontal"]) < 0.1


@pytest.mark.parametrize(
    "bad",
    [
        np.zeros((32, 32), np.uint8),
        np.zeros((32, 32, 3), np.float32),
        np.zeros((4, 32, 3), np.uint8),
    ],
)
def test_rejects_what_is_not_a_frame(bad: np.ndarray) -> None:
    with pytest.raises(ValueError, match="frame"):
        frame_stats(bad)
