"""Similarity skip: a frame whose input and knobs match the last one is not made again.

The input is the (moved) previous frame's latents; "match" is a cosine similarity at or
above the threshold with every knob the same. A held picture's input stays the same
frame after frame, so the skip lets a frame through now and then (``MAX_SKIPS``) to
keep the picture alive.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

MAX_SKIPS = 10  # a skipped frame's input is the same again: refresh now and then


class SimilaritySkip:
    """The last frame made, and what it was made from; ``threshold`` None: never skips."""

    def __init__(self, threshold: float | None):
        self.threshold = threshold
        self._last: tuple[torch.Tensor, Any, torch.Tensor, np.ndarray] | None = None
        self._in_a_row = 0
        self.skipped = 0

    def recall(self, latents: torch.Tensor, key: Any) -> tuple[torch.Tensor, np.ndarray] | None:
        """The last frame made (latents, picture) if this input and these parameters match
        the ones it was made from (cosine similarity ≥ the threshold); else None."""
        last = self._last
        if self.threshold is None or last is None or last[1] != key:
            return None
        if self._in_a_row >= MAX_SKIPS:
            self._in_a_row = 0
            return None
        a, b = last[0].flatten().float(), latents.flatten().float()
        # a sync with the device, paid only with the option on: the skip is decided here
        if float(F.cosine_similarity(a, b, dim=0)) < self.threshold:
            return None
        self._in_a_row += 1
        self.skipped += 1
        return last[2], last[3]

    def remember(
        self, latents: torch.Tensor, key: Any, made: torch.Tensor, frame: np.ndarray
    ) -> None:
        if self.threshold is not None:
            self._last = (latents, key, made, frame)
            self._in_a_row = 0
