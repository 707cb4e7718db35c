"""The training set: scenes of a made-up world, recorded through the media of their year.

``sample(seed, year)`` is deterministic; ``batch`` draws years uniformly over the
instrument's range. Images are ``(H, W, 3)`` uint8, as frames are.
"""

from __future__ import annotations

import numpy as np

from performer.embedded.media import record
from performer.embedded.streets import WORDS, f32, render

FIRST_YEAR, LAST_YEAR = 1840.0, 2030.0


def sample(seed: int, year: float, size: int = 64) -> np.ndarray:
    """The record of scene ``seed`` made in ``year``: ``(size, size, 3)`` uint8."""
    return sample_with_words(seed, year, size)[0]


def sample_with_words(seed: int, year: float, size: int = 64) -> tuple[np.ndarray, frozenset[str]]:
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise ValueError(f"year: expected {FIRST_YEAR:g}..{LAST_YEAR:g}, got {year!r}")
    scene = render(seed, year, size)
    img = record(scene.image, year, np.random.default_rng([seed, 29]))
    return (img * 255.0 + 0.5).astype(np.uint8), scene.words


def words_vector(words: frozenset[str]) -> np.ndarray:
    """Multi-hot over :data:`~performer.embedded.streets.WORDS`."""
    return f32([w in words for w in WORDS])


def batch(seed: int, n: int, size: int = 64) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``n`` samples: images ``(n, size, size, 3)`` uint8, years ``(n,)``, words multi-hot."""
    rng = np.random.default_rng([seed, 3])
    years = rng.uniform(FIRST_YEAR, LAST_YEAR, n)
    seeds = rng.integers(0, 2**31 - 1, n)
    images = np.empty((n, size, size, 3), np.uint8)
    words = np.empty((n, len(WORDS)), np.float32)
    for k in range(n):
        images[k], w = sample_with_words(int(seeds[k]), float(years[k]), size)
        words[k] = words_vector(w)
    return images, years.astype(np.float32), words


def year_grid(seeds: int = 4, columns: int = 10, size: int = 64) -> np.ndarray:
    """A grid of samples, one column per year from 1840 to 2030, one row per seed."""
    years = np.linspace(FIRST_YEAR, LAST_YEAR, columns)
    rows = [
        np.concatenate([sample(s, float(y), size) for y in years], axis=1) for s in range(seeds)
    ]
    return np.concatenate(rows, axis=0)
