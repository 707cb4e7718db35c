"""Pieces every backend shares: noise by seed, slerp, feedback motion, the few-step schedule."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F


def slerp(a: torch.Tensor, b: torch.Tensor, t: float, eps: float = 1e-6) -> torch.Tensor:
    """Spherical interpolation between two tensors of the same shape, over all their values.

    Keeps the norm of embeddings and of gaussian noise, where a straight lerp would
    shrink it half-way (the washed-out, grey middle of a plain cross-fade).
    """
    if t <= 0.0:
        return a
    if t >= 1.0:
        return b
    a32, b32 = a.float().flatten(), b.float().flatten()
    cos = torch.dot(a32, b32) / (a32.norm() * b32.norm() + eps)
    omega = torch.arccos(cos.clamp(-1.0, 1.0))
    # nearly parallel: lerp is exact enough and stable. Chosen by torch.where, not by an
    # `if` on a tensor, which would wait for the device at every call
    near = omega.abs() < 1e-4
    so = torch.where(near, 1.0, torch.sin(omega))  # never a division by ~0
    wa = torch.where(near, 1.0 - t, torch.sin((1.0 - t) * omega) / so)
    wb = torch.where(near, t, torch.sin(t * omega) / so)
    out = wa * a32 + wb * b32
    return out.reshape(a.shape).to(a.dtype)


def seed_noise(shape: tuple[int, ...], seed: int, travel: float = 0.0) -> torch.Tensor:
    """Gaussian noise for ``seed``; ``travel`` in 0..1 glides (slerp) towards ``seed + 1``."""
    first = torch.randn(shape, generator=torch.Generator().manual_seed(seed))
    if travel <= 0.0:
        return first
    second = torch.randn(shape, generator=torch.Generator().manual_seed(seed + 1))
    return slerp(first, second, travel)


def is_still(zoom: float, rotate: float, translate_x: float, translate_y: float) -> bool:
    return zoom == 1.0 and rotate == 0.0 and translate_x == 0.0 and translate_y == 0.0


def warp(
    x: torch.Tensor, zoom: float, rotate: float, translate_x: float, translate_y: float
) -> torch.Tensor:
    """Move a ``(N, C, H, W)`` picture or latent: zoom in by ``zoom``, turn by ``rotate`` degrees,
    drift by ``translate_*`` (shares of width/height). Edges repeat the border."""
    if is_still(zoom, rotate, translate_x, translate_y):
        return x
    angle = math.radians(rotate)
    cos, sin = math.cos(angle) / zoom, math.sin(angle) / zoom
    # affine_grid maps output coords to input coords in [-1, 1]; a shift of 1 width is 2 units
    theta = torch.tensor(
        [[cos, -sin, -2.0 * translate_x], [sin, cos, -2.0 * translate_y]],
        dtype=torch.float32,
        device=x.device,
    )
    grid = F.affine_grid(theta[None].expand(x.shape[0], 2, 3), list(x.shape), align_corners=False)
    out = F.grid_sample(
        x.float(), grid.to(x.device), mode="bilinear", padding_mode="border", align_corners=False
    )
    return out.to(x.dtype)


def schedule(timestep: float, steps: int) -> list[float]:
    """The noise levels (1 = pure noise, 0 = clean) a frame passes through.

    ``timestep`` is where the frame starts: 1 denoises from fresh noise, 0.3 only
    re-noises the previous frame a little (img2img strength). ``steps`` spreads evenly
    ("trailing" spacing, as few-step distilled models are trained) below that start.
    Returns an empty list at timestep 0: the previous frame is held.
    """
    if timestep <= 0.0:
        return []
    steps = max(1, int(steps))
    return [timestep * (steps - i) / steps for i in range(steps)]
