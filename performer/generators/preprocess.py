"""ControlNet preprocessors: a picture made into the control image a ControlNet reads.

Each takes the picture as ``[1, 3, H, W]`` float32 in 0..255 on the generator's device
and gives ``[1, 3, H, W]`` float32 in 0..1, in torch, so it runs where the model does:

- ``luma``: the picture in grey;
- ``canny``: Canny's edges (Sobel gradients, thinned to their ridge, then hysteresis
  between two thresholds), white on black, as OpenCV's ``Canny(grey, 100, 200)``;
- ``soft_edge``: a soft, HED-like edge map: the gradient magnitude at two blurs, eased
  into 0..1 with no per-frame normalisation (so it does not flicker);
- ``depth:ID_OR_FOLDER``: a depth model loaded through transformers'
  ``AutoModelForDepthEstimation`` (DPT, Depth Anything, ...), near is bright.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F

from performer import image_stats
from performer.generators.base import GeneratorError
from performer.generators.loading import reason

Preprocessor = Callable[[torch.Tensor], torch.Tensor]
# OpenCV's Canny(grey, 100, 200) thresholds, on the unscaled Sobel of a 0..1 picture
CANNY_LOW, CANNY_HIGH = 100 / 255, 200 / 255
HYSTERESIS = 12  # a weak edge joins a strong one at most this many pixels along it
SOFT_GAIN = 1.5  # how fast a gradient eases to white in soft_edge
IMAGENET_MEAN, IMAGENET_STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
DEPTH_SIDE = 384  # what a depth model reads when its processor does not say


def grey(rgb: torch.Tensor) -> torch.Tensor:
    """``[1, 3, H, W]`` 0..255 to ``[1, 1, H, W]`` grey in 0..1 (Rec. 601 luma, as
    OpenCV's and PIL's grey: ``image_stats.luma``)."""
    return (image_stats.luma(rgb.permute(0, 2, 3, 1)) / 255.0)[:, None]


def in_grey(rgb: torch.Tensor) -> torch.Tensor:
    """The ``luma`` preprocessor: the picture in grey, on three channels."""
    return grey(rgb).expand(-1, 3, -1, -1)


def _taps(g: torch.Tensor, kernel: list[float], dim: int) -> torch.Tensor:
    """``g`` convolved with a short odd ``kernel`` along ``dim`` (-1 or -2), edges
    replicated: a sum of shifted slices, which the CPU runs far faster than a conv2d of
    one channel."""
    r = len(kernel) // 2
    pad = (r, r, 0, 0) if dim == -1 else (0, 0, r, r)
    padded = F.pad(g, pad, mode="replicate")
    n = g.shape[dim]
    out = torch.zeros_like(g)
    for i, w in enumerate(kernel):
        if w:
            out = out + w * padded.narrow(dim, i, n)
    return out


def _sobel(g: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The horizontal and vertical Sobel gradients of ``[1, 1, H, W]`` (edges replicated)."""
    smooth, diff = [1.0, 2.0, 1.0], [-1.0, 0.0, 1.0]
    return _taps(_taps(g, diff, -1), smooth, -2), _taps(_taps(g, smooth, -1), diff, -2)


def _blur(g: torch.Tensor, sigma: float) -> torch.Tensor:
    """A separable Gaussian blur of ``[1, 1, H, W]``."""
    radius = max(1, round(3 * sigma))
    x = torch.arange(-radius, radius + 1, dtype=torch.float64)
    k = torch.exp(-(x**2) / (2 * sigma**2))
    taps = (k / k.sum()).tolist()
    return _taps(_taps(g, taps, -1), taps, -2)


def _grow(edges: torch.Tensor) -> torch.Tensor:
    """``edges`` (bool) and their 8 neighbours: a 3x3 dilation by shifted slices."""
    padded = F.pad(edges, (1, 1, 1, 1))
    h, w = edges.shape[-2:]
    rows = padded[..., :, :w] | padded[..., :, 1 : w + 1] | padded[..., :, 2:]
    return rows[..., :h, :] | rows[..., 1 : h + 1, :] | rows[..., 2:, :]


def canny(rgb: torch.Tensor) -> torch.Tensor:
    gx, gy = _sobel(grey(rgb))
    magnitude = torch.hypot(gx, gy)
    # thin: keep a pixel only where it is the ridge across the edge (4 directions)
    angle = torch.remainder(torch.rad2deg(torch.atan2(gy, gx)) + 22.5, 180.0)
    direction = (angle // 45).long().clamp(max=3)  # 0: across x, 1: 45°, 2: across y, 3: 135°
    padded = F.pad(magnitude, (1, 1, 1, 1))
    h, w = magnitude.shape[-2:]

    def at(dy: int, dx: int) -> torch.Tensor:
        return padded[..., 1 + dy : 1 + dy + h, 1 + dx : 1 + dx + w]

    # rows grow downwards: a gradient at 45° points down and right
    pairs = [(at(0, -1), at(0, 1)), (at(-1, -1), at(1, 1)), (at(-1, 0), at(1, 0))]
    pairs.append((at(-1, 1), at(1, -1)))
    ridge = torch.zeros_like(magnitude, dtype=torch.bool)
    for d, (a, b) in enumerate(pairs):
        ridge |= (direction == d) & (magnitude >= a) & (magnitude >= b)
    thin = magnitude * ridge
    weak, edges = thin >= CANNY_LOW, thin >= CANNY_HIGH
    for _ in range(HYSTERESIS):  # a fixed count: no sync with the device to test for done
        edges = weak & _grow(edges)
    return edges.float().expand(-1, 3, -1, -1)


def soft_edge(rgb: torch.Tensor) -> torch.Tensor:
    g = grey(rgb)
    magnitude = sum(torch.hypot(*_sobel(_blur(g, s))) for s in (1.0, 2.0)) / 2
    assert isinstance(magnitude, torch.Tensor)
    return torch.tanh(SOFT_GAIN * magnitude).expand(-1, 3, -1, -1)


class Depth:
    """A depth model as a preprocessor: the picture's depth, min-max scaled to 0..1."""

    def __init__(self, source: str, device: torch.device, dtype: torch.dtype):
        from transformers import AutoImageProcessor, AutoModelForDepthEstimation

        where = str(Path(source).expanduser()) if Path(source).expanduser().exists() else source
        try:
            model: Any = AutoModelForDepthEstimation.from_pretrained(where, dtype=dtype)
            processor: Any = AutoImageProcessor.from_pretrained(where)
        except (OSError, ValueError) as exc:
            raise GeneratorError(f"could not load depth model {source!r}: {reason(exc)}") from None
        self.model = model.to(device).eval()
        self.dtype = dtype
        self.size = _input_size(getattr(processor, "size", None))
        mean = getattr(processor, "image_mean", None) or IMAGENET_MEAN
        std = getattr(processor, "image_std", None) or IMAGENET_STD
        self.mean = torch.tensor(mean, device=device).view(1, 3, 1, 1)
        self.std = torch.tensor(std, device=device).view(1, 3, 1, 1)

    def __call__(self, rgb: torch.Tensor) -> torch.Tensor:
        x = F.interpolate(rgb / 255.0, size=self.size, mode="bicubic", align_corners=False)
        x = ((x.clamp(0, 1) - self.mean) / self.std).to(self.dtype)
        depth = self.model(pixel_values=x).predicted_depth[:, None].float()
        depth = F.interpolate(depth, size=rgb.shape[-2:], mode="bicubic", align_corners=False)
        lo, hi = depth.amin(), depth.amax()
        return ((depth - lo) / (hi - lo).clamp(min=1e-12)).clamp(0, 1).expand(-1, 3, -1, -1)


def _input_size(size: Any) -> tuple[int, int]:
    """The (height, width) a depth model reads, from its image processor's ``size``
    (``height``/``width``, or ``shortest_edge`` for a square; else 384, DPT's)."""
    if isinstance(size, dict) and "height" in size and "width" in size:
        return int(size["height"]), int(size["width"])
    if isinstance(size, dict) and "shortest_edge" in size:
        return int(size["shortest_edge"]), int(size["shortest_edge"])
    return DEPTH_SIDE, DEPTH_SIDE


def make(spec: str, device: torch.device, dtype: torch.dtype) -> Preprocessor:
    """The preprocessor ``spec`` names (checked by ``patch_control.preprocessor``)."""
    kind, _, model = spec.partition(":")
    if kind == "depth":
        return Depth(model, device, dtype)
    named: dict[str, Preprocessor] = {"luma": in_grey, "canny": canny, "soft_edge": soft_edge}
    return named[kind]
