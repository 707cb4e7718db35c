"""Fitting an input frame to the generator's size: cover, contain, stretch, mirror."""

from __future__ import annotations

import numpy as np
import pytest
from performer.control.video import fit


def halves(width: int, height: int) -> np.ndarray:
    """Left half red, right half blue, a green column at the far left."""
    image = np.zeros((height, width, 3), np.uint8)
    image[:, : width // 2, 0] = 255
    image[:, width // 2 :, 2] = 255
    image[:, :20] = (0, 255, 0)
    return image


def test_cover_fills_the_frame_and_crops_the_sides() -> None:
    fitted = fit(halves(640, 360), 256, 256, "cover")
    assert fitted.shape == (256, 256, 3)
    assert (fitted[:, 0] == (255, 0, 0)).all()  # the green edge was cropped away
    assert (fitted[:, -1] == (0, 0, 255)).all()


def test_contain_shows_everything_with_black_bars() -> None:
    fitted = fit(halves(640, 360), 256, 256, "contain")
    assert fitted.shape == (256, 256, 3)
    assert (fitted[:56] == 0).all() and (fitted[-56:] == 0).all()  # 256 × 144 inside
    assert fitted[128, 0, 1] > 200  # the green edge is there


def test_stretch_keeps_everything_and_changes_the_aspect() -> None:
    fitted = fit(halves(640, 360), 100, 300, "stretch")
    assert fitted.shape == (300, 100, 3)
    assert fitted[150, 0, 1] > 200 and (fitted[:, 60] == (0, 0, 255)).all()


def test_mirror_flips_left_and_right() -> None:
    image = halves(64, 64)
    assert (fit(image, 64, 64, "stretch", mirror=True) == image[:, ::-1]).all()
    assert fit(image, 64, 64) is image  # the same size: nothing to do


def test_a_bad_fit_says_what_is_accepted() -> None:
    with pytest.raises(ValueError, match="cover, contain, stretch"):
        fit(halves(8, 8), 4, 4, "zoom")
