"""What training the embedded era model minimises, and what it learns from.

Pixel MSE alone averages grain, scratches and scanlines away, and those are much of what
marks a medium, so the loss adds two per-image terms matched between the prediction and
the record: a texture-statistics term (:func:`texture_energy`) and, in the fine-tuning
stages, an image-statistics term (:func:`image_stats`) built from the same functions the
probe and the era evaluation measure with (:mod:`performer.image_stats`). With
``--distill-from``, pure-noise examples learn a teacher's few-step draw
(:func:`teacher_sample`) instead of a record.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from performer import image_stats as s
from performer.embedded.model import EraDenoiser
from performer.generators.common import schedule

_KERNELS = torch.tensor(
    [
        [[0, 1, 0], [1, -4, 1], [0, 1, 0]],  # grain
        [[0, -1, 0], [0, 1, 0], [0, 0, 0]],  # rows: scanlines, horizons
        [[0, 0, 0], [-1, 1, 0], [0, 0, 0]],  # columns: scratches, edges
    ],
    dtype=torch.float32,
)[:, None]
#: under the square roots, so a flat prediction still has a gradient
_ROOT_EPS = 1e-8


def to_tensor(images: np.ndarray) -> torch.Tensor:
    """``(N, H, W, 3)`` uint8 records to ``(N, 3, H, W)`` in -1..1, as the model sees them."""
    return torch.from_numpy(images).permute(0, 3, 1, 2).float().div(127.5).sub(1.0)


def texture_energy(x: torch.Tensor) -> torch.Tensor:
    """``(B, 3, H, W)`` → ``(B, 3 kernels × 3 channels)`` RMS filter responses."""
    b, c, h, w = x.shape
    r = F.conv2d(x.reshape(b * c, 1, h, w), _KERNELS)
    return r.pow(2).mean(dim=(2, 3)).add(1e-6).sqrt().reshape(b, -1)


def image_stats(x: torch.Tensor) -> torch.Tensor:
    """``(B, 3, H, W)`` in -1..1 → ``(B, 7)`` whole-image statistics, in 0..1 units:
    soft saturation, the three channels' contrast, line energy across rows and columns
    (×10, to weigh like the others) and the alternate-row amplitude of scanlines (×20). A
    regression to the clean record averages these away (the mean of many records is
    greyer, flatter and smoother than any one), so matching them per image keeps one-step
    frames looking like a record of their year."""
    x = x.add(1).mul(0.5).clamp(0.0, 1.0)  # as the frame will be shown
    rgb = x.permute(0, 2, 3, 1)  # channels last, as image_stats reads pictures
    y = s.luma(rgb)
    saturation = s.soft_saturation(rgb)
    contrast = x.std(dim=(2, 3))
    rows = s.line_energy(y.mean(-1), _ROOT_EPS)
    columns = s.line_energy(y.mean(-2), _ROOT_EPS)
    lines = torch.stack([rows, columns], dim=1).mul(10)
    scanlines = s.scanline(y).mul(20)
    return torch.cat([saturation[:, None], contrast, lines, scanlines[:, None]], dim=1)


def loss_fn(
    pred: torch.Tensor, x0: torch.Tensor, scanlines: bool = False
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Pixel MSE, the texture-statistics term and the image-statistics term (with the
    alternate-row amplitude when ``scanlines``)."""
    mse = (pred - x0).pow(2).mean()
    texture = (texture_energy(pred) - texture_energy(x0)).abs().mean()
    used = None if scanlines else -1
    stats = (image_stats(pred) - image_stats(x0))[:, :used].abs().mean()
    return mse, texture, stats


@torch.no_grad()
def teacher_sample(
    teacher: EraDenoiser,
    noise: torch.Tensor,
    years: torch.Tensor,
    words: torch.Tensor,
    keep: torch.Tensor,
    steps: int,
    guidance: float,
) -> torch.Tensor:
    """What ``teacher`` draws from ``noise`` in ``steps`` steps with ``guidance``, as the
    generator draws a fresh frame (a row whose condition is dropped gets no guidance)."""
    x = torch.zeros_like(noise)
    null = torch.zeros_like(keep)
    for i, level in enumerate(schedule(1.0, steps)):
        x_t = (1 - level) * x + level * (noise if i == 0 else torch.randn_like(noise))
        t = torch.full((len(noise),), level)
        x = teacher(x_t, t, years, words, keep)
        if guidance > 0:
            x = x + guidance * (x - teacher(x_t, t, years, words, null))
    return x.clamp(-1.0, 1.0)
