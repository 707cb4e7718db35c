"""The embedded era model: a compact conditional denoiser in pixel space.

Frames are 64×64 RGB in -1..1. Noise follows the straight path
``x_t = (1 - t) x0 + t ε`` for a noise level ``t`` in 0..1 (1 is pure noise), and the
network predicts the clean frame ``x0`` directly (preconditioned as in EDM), so one
evaluation at any level is already a picture: that is what 1–4 step sampling needs.

The condition is the year (Fourier features of the normalised year) and a few scene
words (multi-hot); a learned null condition stands in for both when they are dropped,
which is what classifier-free guidance contrasts against. The body is a small U-Net
on a 2×2 pixel-unshuffled grid (32×32×12), with FiLM from the condition and level.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import nn

FIRST_YEAR, LAST_YEAR = 1840.0, 2030.0
SIGMA_DATA = 0.5


@dataclass(frozen=True)
class ModelConfig:
    size: int = 64
    channels: tuple[int, int, int] = (32, 64, 96)
    embed: int = 128
    words: int = 5
    year_frequencies: int = 12

    def to_dict(self) -> dict[str, object]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> ModelConfig:
        known = {k: data[k] for k in cls.__dataclass_fields__ if k in data}
        if "channels" in known:
            known["channels"] = tuple(known["channels"])  # type: ignore[arg-type]
        return cls(**known)  # type: ignore[arg-type]


def fourier(x: torch.Tensor, n: int) -> torch.Tensor:
    """``(B,)`` values in 0..1 → ``(B, 2n)`` sin/cos features at octave frequencies."""
    freqs = math.pi * (2.0 ** torch.arange(n, dtype=torch.float32, device=x.device)) / 2.0
    angles = x[:, None].float() * freqs[None]
    return torch.cat([angles.sin(), angles.cos()], dim=1)


def normalise_year(year: torch.Tensor) -> torch.Tensor:
    return (year - FIRST_YEAR) / (LAST_YEAR - FIRST_YEAR)


class ResBlock(nn.Module):
    def __init__(self, cin: int, cout: int, embed: int):
        super().__init__()
        self.norm1 = nn.GroupNorm(8, cin)
        self.conv1 = nn.Conv2d(cin, cout, 3, padding=1)
        self.film = nn.Linear(embed, 2 * cout)
        self.norm2 = nn.GroupNorm(8, cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1)
        self.skip = nn.Conv2d(cin, cout, 1) if cin != cout else nn.Identity()

    def forward(self, x: torch.Tensor, emb: torch.Tensor) -> torch.Tensor:
        h = self.conv1(F.silu(self.norm1(x)))
        scale, shift = self.film(emb)[:, :, None, None].chunk(2, dim=1)
        h = self.norm2(h) * (1 + scale) + shift
        h = self.conv2(F.silu(h))
        return self.skip(x) + h


class EraDenoiser(nn.Module):
    """``(x_t, t, year, words, keep) -> x0``; ``keep`` 0 swaps in the null condition."""

    def __init__(self, config: ModelConfig):
        super().__init__()
        self.config = config
        c1, c2, c3 = config.channels
        e = config.embed
        self.cond = nn.Sequential(
            nn.Linear(2 * config.year_frequencies + config.words, e), nn.SiLU(), nn.Linear(e, e)
        )
        self.null = nn.Parameter(torch.zeros(e))
        self.level = nn.Sequential(nn.Linear(16, e), nn.SiLU(), nn.Linear(e, e))
        self.inp = nn.Conv2d(12, c1, 3, padding=1)
        self.down1 = ResBlock(c1, c1, e)
        self.pool1 = nn.Conv2d(c1, c2, 3, stride=2, padding=1)
        self.down2 = ResBlock(c2, c2, e)
        self.pool2 = nn.Conv2d(c2, c3, 3, stride=2, padding=1)
        self.mid1 = ResBlock(c3, c3, e)
        self.mid2 = ResBlock(c3, c3, e)
        self.up2 = ResBlock(c3 + c2, c2, e)
        self.up1 = ResBlock(c2 + c1, c1, e)
        self.out_norm = nn.GroupNorm(8, c1)
        self.out = nn.Conv2d(c1, 12, 3, padding=1)

    def embedding(
        self, t: torch.Tensor, year: torch.Tensor, words: torch.Tensor, keep: torch.Tensor
    ) -> torch.Tensor:
        year_features = fourier(normalise_year(year), self.config.year_frequencies)
        cond = self.cond(torch.cat([year_features, words], dim=1))
        cond = keep[:, None] * cond + (1 - keep[:, None]) * self.null[None]
        return F.silu(cond + self.level(fourier(t, 8)))

    def forward(
        self,
        x_t: torch.Tensor,
        t: torch.Tensor,
        year: torch.Tensor,
        words: torch.Tensor,
        keep: torch.Tensor,
    ) -> torch.Tensor:
        emb = self.embedding(t, year, words, keep)
        a, b = (1 - t)[:, None, None, None], t[:, None, None, None]
        norm = torch.sqrt(a * a * SIGMA_DATA**2 + b * b)
        c_skip, c_out = a * SIGMA_DATA**2 / norm**2, b * SIGMA_DATA / norm
        h0 = self.inp(F.pixel_unshuffle(x_t / norm, 2))
        h1 = self.down1(h0, emb)
        h2 = self.down2(self.pool1(h1), emb)
        h = self.mid2(self.mid1(self.pool2(h2), emb), emb)
        h = F.interpolate(h, scale_factor=2.0, mode="nearest")
        h = self.up2(torch.cat([h, h2], dim=1), emb)
        h = F.interpolate(h, scale_factor=2.0, mode="nearest")
        h = self.up1(torch.cat([h, h1], dim=1), emb)
        f = F.pixel_shuffle(self.out(F.silu(self.out_norm(h))), 2)
        return c_skip * x_t + c_out * f
