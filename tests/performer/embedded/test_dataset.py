"""The dataset: deterministic records, and each medium leaves its documented signature."""

from __future__ import annotations

import numpy as np
import pytest

from performer.embedded import dataset, stats
from performer.embedded.media import MEDIA, medium_at
from performer.embedded.streets import WORDS, render

SEEDS = range(12)
# the middle of each medium's span
YEARS = {
    "daguerreotype": 1849,
    "albumen": 1876,
    "silent film": 1912,
    "technicolor": 1942,
    "kodachrome": 1961,
    "faded 70s": 1975,
    "vhs": 1990,
    "early digital": 2004,
    "phone hdr": 2020,
}


@pytest.fixture(scope="module")
def records() -> dict[str, np.ndarray]:
    return {name: np.stack([dataset.sample(s, y) for s in SEEDS]) for name, y in YEARS.items()}


@pytest.fixture(scope="module")
def named(records: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    return {name: stats.named(images).mean(axis=0) for name, images in records.items()}


def test_sample_is_deterministic_per_seed() -> None:
    a, b = dataset.sample(7, 1931.5), dataset.sample(7, 1931.5)
    assert a.shape == (64, 64, 3) and a.dtype == np.uint8
    assert np.array_equal(a, b)
    assert not np.array_equal(a, dataset.sample(8, 1931.5))


def test_year_out_of_range_is_refused() -> None:
    with pytest.raises(ValueError, match="year"):
        dataset.sample(0, 1800.0)


def test_at_least_eight_media_blend_at_their_boundaries() -> None:
    assert len(MEDIA) >= 8
    assert [w for _, w in medium_at(1930.0)] == [0.5, 0.5]
    assert medium_at(1942.0) == [(3, 1.0)]


def test_scene_content_drifts_with_the_year() -> None:
    old, new = render(3, 1850.0), render(3, 2020.0)
    assert old.words <= set(WORDS)
    sky_rows = slice(0, 20)  # towers reach into the top of the frame only later
    assert (
        np.abs(np.diff(new.image[sky_rows], axis=1)).mean()
        > np.abs(np.diff(old.image[sky_rows], axis=1)).mean()
    )


def test_early_monochrome_media_are_grey(records: dict[str, np.ndarray]) -> None:
    for name in ("daguerreotype", "silent film"):
        spread = records[name].astype(np.float32).std(axis=3).mean()
        assert spread < 6.0, name  # grey levels, at most a faint tint
    assert records["silent film"].astype(np.float32).std(axis=3).max() == 0.0


def test_daguerreotype_vignette_and_silent_film_frame(records: dict[str, np.ndarray]) -> None:
    dag = records["daguerreotype"].mean(axis=(0, 3))
    assert dag[28:36, 28:36].mean() > 2 * dag[:6, :6].mean()
    silent = records["silent film"]
    assert silent[:, :, :8].max() < 10 and silent[:, :, -8:].max() < 10  # 4:3 pillarbox


def test_albumen_and_faded_70s_are_warm(named: dict[str, np.ndarray]) -> None:
    warmth = {name: s[1] for name, s in named.items()}
    assert warmth["albumen"] > 0.05
    assert warmth["faded 70s"] == max(warmth.values())


def test_technicolor_is_the_most_saturated(named: dict[str, np.ndarray]) -> None:
    saturation = {name: s[0] for name, s in named.items()}
    assert max(saturation, key=lambda n: saturation[n]) == "technicolor"


def test_kodachrome_print_has_a_white_border(records: dict[str, np.ndarray]) -> None:
    assert records["kodachrome"][:, :2].min() > 230


def test_vhs_has_the_most_scanline_energy(named: dict[str, np.ndarray]) -> None:
    scan = {name: s[3] for name, s in named.items()}
    assert max(scan, key=lambda n: scan[n]) == "vhs"


def test_early_digital_has_jpeg_blocks(records: dict[str, np.ndarray]) -> None:
    def blockiness(images: np.ndarray) -> float:
        d = np.abs(np.diff(images.astype(np.float32).mean(axis=3), axis=2))
        return float(d[:, :, 7::8].mean() / d.mean())

    assert blockiness(records["early digital"]) > 1.3 * blockiness(records["phone hdr"])
