"""The one denoise step of the diffusers backend, and the decode, in plain PyTorch.

A step re-noises the latents to a level of the schedule, runs the UNet, applies
guidance and returns the predicted clean latents. Everything a knob can change enters
as a tensor (``params`` rows t, √ᾱ, √(1-ᾱ), guidance; the text embeddings; the
guidance embedding), so this same function runs eagerly (every fast option off: the
reference), compiled, or captured in a CUDA graph, and no graph depends on a knob.

Guidance ``g`` means ``cond + g * (cond - uncond)``: diffusers' ``guidance_scale = g + 1``.
At 0 there is no unconditional pass; LCM models with a guidance embedding get ``g``
through the embedding, also in one pass; ``cfg="self"`` guides against the noise the
frame was re-noised with (StreamDiffusion's self-negative residual CFG), in one pass.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F

from performer.generators.prompts import Conditioning


@dataclass(frozen=True)
class Model:
    """What the step needs of a loaded model; the bench fills it with no pipeline."""

    unet: Any
    vae: Any
    alphas: torch.Tensor  # alphas_cumprod, float32, on the CPU
    prediction: str  # "epsilon", "v_prediction" or "sample"
    latent_scale: float
    latent_shape: tuple[int, int, int, int]
    uncond: torch.Tensor  # [1, seq, dim] embeddings of "" (full CFG)
    uncond_pooled: torch.Tensor | None = None  # SDXL
    time_ids: torch.Tensor | None = None  # SDXL [1, 6]
    w_dim: int | None = None  # LCM guidance embedding size
    controlnets: tuple[Any, ...] = ()  # diffusers ControlNetModels; residuals add up
    image_shape: tuple[int, ...] | None = None  # IP-Adapter: one image prompt's [1, 1, ...]


@dataclass(frozen=True)
class StepInputs:
    """What a step is conditioned on; its tensors are made once per change (``FastPath.inputs``)."""

    embeds: torch.Tensor  # [1, seq, dim]; guided: [2, seq, dim], uncond then cond
    pooled: torch.Tensor | None  # SDXL: [1, dim] or [2, dim], as embeds
    w: torch.Tensor | None  # LCM: the guidance embedding [1, w_dim]
    guided: bool  # classic CFG: uncond and cond in one UNet batch
    guidance: float
    control: torch.Tensor | None = None  # ControlNets' control images [n, 3, H, W], 0..1
    # ControlNets' strengths [batch, n] of each step's call (stream batching: one call)
    strength: tuple[torch.Tensor, ...] = ()
    image: torch.Tensor | None = None  # IP-Adapter: the image prompt [1, 1, ...]; guided [2, ...]


def text_batch(
    m: Model, cond: Conditioning, guided: bool, dtype: torch.dtype
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """The text embeddings (and SDXL's pooled ones) a step's UNet batch reads."""
    embeds, pooled = cond.embeds.to(dtype), cond.pooled
    if guided:
        embeds = torch.cat([m.uncond.to(dtype), embeds])
        if pooled is not None and m.uncond_pooled is not None:
            pooled = torch.cat([m.uncond_pooled, pooled])
    return embeds, None if pooled is None else pooled.to(dtype)


def guidance_embedding(
    w: float, dim: int, device: torch.device, dtype: torch.dtype
) -> torch.Tensor:
    """Sinusoidal embedding of the guidance scale, as LCM-distilled UNets expect it."""
    half = dim // 2
    freqs = torch.exp(-math.log(10000.0) * torch.arange(half, dtype=torch.float32) / (half - 1))
    angles = (w * 1000.0) * freqs
    emb = torch.cat([torch.sin(angles), torch.cos(angles)])
    if dim % 2:
        emb = F.pad(emb, (0, 1))
    return emb[None].to(device=device, dtype=dtype)


class Denoiser:
    """The step and the decode of one model; ``self_cfg`` guides with no second pass."""

    def __init__(self, model: Model, dtype: torch.dtype, self_cfg: bool):
        self.m, self.dtype = model, dtype
        self.self_cfg = self_cfg and model.w_dim is None

    def step(
        self,
        latents: torch.Tensor,
        noise: torch.Tensor,
        params: torch.Tensor,
        embeds: torch.Tensor,
        pooled: torch.Tensor | None,
        w: torch.Tensor | None,
        control: torch.Tensor | None = None,
        strength: torch.Tensor | None = None,
        image: torch.Tensor | None = None,
        *,
        guided: bool,
    ) -> torch.Tensor:
        """One step for a batch of latents; ``params`` rows: t, √ᾱ, √(1-ᾱ), guidance;
        with ControlNets, their residuals of ``control``, scaled by ``strength``
        ``[batch, n]`` (each latent's strength of each ControlNet), added up; with an
        IP-Adapter, the image prompt's embedding ``image``."""
        m, b = self.m, latents.shape[0]
        t, sa, s1a, g = params.unbind(0)
        sa4, s1a4, g4 = (v.view(-1, 1, 1, 1).to(self.dtype) for v in (sa, s1a, g))
        x = sa4 * latents + s1a4 * noise
        x_in = x
        if guided:
            x_in, t = torch.cat([x, x]), torch.cat([t, t])
        kwargs: dict[str, Any] = {}
        if w is not None:
            kwargs["timestep_cond"] = w.expand(b, -1)
        if m.time_ids is not None:
            assert pooled is not None
            kwargs["added_cond_kwargs"] = {
                "text_embeds": _rows(pooled, b),
                "time_ids": m.time_ids.expand(x_in.shape[0], -1),
            }
        if control is not None:
            assert strength is not None
            scale = torch.cat([strength, strength]) if guided else strength
            down, mid = self._control(x_in, t, _rows(embeds, b), control, scale, kwargs)
            kwargs["down_block_additional_residuals"] = down
            kwargs["mid_block_additional_residual"] = mid
        if image is not None:  # the UNet's alone: a ControlNet reads no image prompt
            added = kwargs.get("added_cond_kwargs", {})
            kwargs["added_cond_kwargs"] = {**added, "image_embeds": [_rows(image, b)]}
        out = m.unet(x_in, t, encoder_hidden_states=_rows(embeds, b), return_dict=False, **kwargs)[
            0
        ]
        if guided:
            uncond, cond = out.chunk(2)
            out = cond + g4 * (cond - uncond)
        if self.self_cfg:
            eps = self._to_eps(out, x, sa4, s1a4)
            return (x - s1a4 * (eps + g4 * (eps - noise))) / sa4
        if m.prediction == "v_prediction":
            return sa4 * x - s1a4 * out
        if m.prediction == "sample":
            return out
        return (x - s1a4 * out) / sa4

    def _control(
        self,
        x: torch.Tensor,
        t: torch.Tensor,
        embeds: torch.Tensor,
        control: torch.Tensor,
        scale: torch.Tensor,
        kwargs: dict[str, Any],
    ) -> tuple[list[torch.Tensor], torch.Tensor]:
        """The ControlNets' residuals, each scaled per latent, summed. An LCM UNet's
        guidance embedding goes only to a ControlNet made to read one."""
        down: list[torch.Tensor] = []
        mid: torch.Tensor | None = None
        for i, net in enumerate(self.m.controlnets):
            own = dict(kwargs)
            if net.config.get("time_cond_proj_dim") is None:
                own.pop("timestep_cond", None)
            d, md = net(
                x,
                t,
                encoder_hidden_states=embeds,
                controlnet_cond=control[i : i + 1].expand(x.shape[0], -1, -1, -1),
                conditioning_scale=scale[:, i].view(-1, 1, 1, 1),
                return_dict=False,
                **own,
            )
            down = list(d) if mid is None else [a + r for a, r in zip(down, d, strict=True)]
            mid = md if mid is None else mid + md
        assert mid is not None, "at least one ControlNet"
        return down, mid

    def _to_eps(
        self, out: torch.Tensor, x: torch.Tensor, sa: torch.Tensor, s1a: torch.Tensor
    ) -> torch.Tensor:
        if self.m.prediction == "v_prediction":
            return sa * out + s1a * x
        if self.m.prediction == "sample":
            return (x - sa * out) / s1a
        return out

    def decode(self, latents: torch.Tensor) -> torch.Tensor:
        """Latents to one ``(H, W, 3)`` uint8 picture, on the device."""
        image = self.m.vae.decode(latents / self.m.latent_scale, return_dict=False)[0]
        image = ((image[0].float().clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)
        return image.permute(1, 2, 0).contiguous()


def _rows(x: torch.Tensor, b: int) -> torch.Tensor:
    """Each row of ``x`` (a text condition) repeated for a batch of ``b`` latents."""
    return x if b == 1 else x.repeat_interleave(b, dim=0)
