"""Fixtures for render tests: a headless EGL renderer and a private Xvfb display."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np
import pytest
from performer.render.headless import Headless


@pytest.fixture
def make_headless() -> Iterator[Callable[[int, int], Headless]]:
    """``make_headless(w, h)``; skips the test when EGL is not available."""
    opened: list[Headless] = []

    def make(width: int, height: int) -> Headless:
        try:
            out = Headless(width, height)
        except RuntimeError as error:
            pytest.skip(f"headless EGL unavailable: {error}")
        opened.append(out)
        return out

    yield make
    for out in opened:
        out.close()


def _card(width: int, height: int) -> np.ndarray:
    frame = np.zeros((height, width, 3), np.uint8)
    frame[:, : width // 2] = (255, 0, 0)
    frame[:, width // 2 :] = (0, 0, 255)
    side = max(height // 6, 2)
    frame[side // 2 : side // 2 + side, side // 2 : side // 2 + side] = 255
    return frame


@pytest.fixture
def card() -> Callable[[int, int], np.ndarray]:
    """``card(w, h)``: left half red, right half blue, a white square at the top-left.

    The square spans rows/columns ``h//12`` to ``h//12 + h//6`` (for h >= 12).
    """
    return _card
