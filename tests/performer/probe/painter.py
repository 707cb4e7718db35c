"""A fake generator whose frames answer to era, seed and guidance in known ways."""

from __future__ import annotations

import numpy as np
from performer.control.params import Snapshot

from performer.generators.base import Generator, Setup


class EraPainter(Generator):
    """Saturation grows with era, brightness with guidance; the seed adds noise.

    It remembers every snapshot and counts resets; a frame drawn without a reset in
    between is darker, so feedback between probe frames would show.
    """

    identity = "fake:era-painter"

    def __init__(self) -> None:
        self.snapshots: list[Snapshot] = []
        self.resets = 0
        self._fed = False

    def prepare(self, setup: Setup) -> None:
        self.setup = setup

    @property
    def size(self) -> tuple[int, int]:
        return (32, 32)

    def reset(self, image: np.ndarray | None = None) -> None:
        self.resets += 1
        self._fed = False

    def __call__(self, snap: Snapshot, live: np.ndarray | None = None) -> np.ndarray:
        self.snapshots.append(snap)
        t = (snap["era"] - 1840.0) / 190.0
        grey = 100.0 + 10.0 * snap["guidance"] - (50.0 if self._fed else 0.0)
        colour = np.array([grey + 80 * t, grey, grey - 80 * t])
        rng = np.random.default_rng(snap["seed"])
        image = colour + rng.normal(0, 4, (32, 32, 3))
        self._fed = True
        return np.clip(image, 0, 255).round().astype(np.uint8)
