"""ControlNet: the picture's structure held to a control image, by ``control_strength``.

The control image is the live input (``control_source`` 1, when there is one) or the
previous frame (0: a structure lock for feedback), through a preprocessor that needs no
weights: the picture in grey (:func:`grey`). Both the image and the strength enter the step
as tensors (``denoise.py``), so neither a new image nor a knob turn builds a graph.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch

from performer.generators.base import GeneratorError
from performer.generators.loading import looks_like_folder
from performer.image_stats import luma


def load_controlnet(source: str, dtype: torch.dtype) -> Any:
    """A diffusers ControlNetModel from a Hugging Face id or a folder, with clear errors."""
    from diffusers import ControlNetModel

    if looks_like_folder(source) and not Path(source).expanduser().is_dir():
        raise GeneratorError(f"ControlNet folder not found: {source}")
    try:
        return ControlNetModel.from_pretrained(str(Path(source).expanduser()), dtype=dtype)
    except (OSError, ValueError) as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise GeneratorError(f"could not load ControlNet {source!r}: {reason}") from None


def grey(
    picture: np.ndarray | None, size: tuple[int, int], device: torch.device, dtype: torch.dtype
) -> torch.Tensor:
    """``(H, W, 3)`` uint8 as a grey control image ``[1, 3, H, W]`` in 0..1 (none yet:
    black, which holds no structure)."""
    w, h = size
    if picture is None:
        return torch.zeros((1, 3, h, w), device=device, dtype=dtype)
    rgb = torch.from_numpy(np.ascontiguousarray(picture[..., :3])).to(device).float()
    # contiguous, as the warm-up's image: a compiled step guards on the layout
    return (luma(rgb) / 255.0)[None, None].repeat(1, 3, 1, 1).to(dtype)
