"""Numbered pictures: a test card whose frame number can be read back from its pixels,
through a codec, NDI or a camera pointed at a screen. Tests and the input-latency
bench send them to find which input frame reached which output.

Each of ``bits`` columns of blocks is white for a 1 and dark for a 0, least
significant first; reading samples the middle of each block, so blur and compression
at the block edges do not change the number.
"""

from __future__ import annotations

import numpy as np

BITS = 10
DARK, LIGHT = 16, 235


def numbered(number: int, width: int = 160, height: int = 96, bits: int = BITS) -> np.ndarray:
    """A ``height`` × ``width`` RGB picture spelling ``number`` in ``bits`` blocks."""
    image = np.full((height, width, 3), DARK, np.uint8)
    block = width // bits
    for bit in range(bits):
        if number >> bit & 1:
            image[:, bit * block : (bit + 1) * block] = LIGHT
    return image


def number_in(image: np.ndarray, bits: int = BITS) -> int:
    """The number :func:`numbered` wrote into ``image`` (of any size it was scaled to)."""
    height, width = image.shape[:2]
    block = width / bits
    middle = image[height // 4 : 3 * height // 4]
    centres = [int((bit + 0.5) * block) for bit in range(bits)]
    lit = [middle[:, c - 2 : c + 3].mean() > (DARK + LIGHT) / 2 for c in centres]
    return sum(1 << bit for bit, on in enumerate(lit) if on)
