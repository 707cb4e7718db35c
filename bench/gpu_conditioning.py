"""The new conditioning on gpu_speed.py's random-weight UNet: ControlNets and a live LoRA.

``--controlnets N``: N ControlNets made from the UNet (``ControlNetModel.from_unet``:
its encoder's random weights; the zero convolutions stay zero, which costs the same),
control images of the frame size, and each step's strengths as the generator makes them
(``control.step_scales`` of the knobs' defaults). ``--lora-rank R``: a random rank-R
LoRA on every attention projection of the UNet, written to a safetensors file and
loaded by the generator's own ``LiveLoras``; its weight sweeps every frame, written in
place as a knob turn writes it, so the frame times are those of a LoRA being played.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from performer.control.params import param

from performer.generators.control import step_scales
from performer.generators.lora import LiveLoras, LoraSpec
from performer.patch_control import strength_params

LORA_TARGETS = ("to_q", "to_k", "to_v", "to_out.0")  # the usual LoRA's layers
LORA_NAME = "bench"  # its knob: lora_bench


def controlnets(unet: Any, count: int, dtype: torch.dtype) -> tuple[Any, ...]:
    """``count`` ControlNets from the UNet, made on its device (seconds, not minutes)."""
    from diffusers import ControlNetModel

    device = next(unet.parameters()).device
    nets = []
    for _ in range(count):
        with torch.device(device):
            nets.append(ControlNetModel.from_unet(unet).to(dtype).eval())
    return tuple(nets)


def save_lora(unet: Any, rank: int, folder: Path) -> Path:
    """A random rank-``rank`` LoRA on the UNet's attention projections, in PEFT's key
    names (as diffusers saves one); returns the file."""
    from safetensors.torch import save_file

    g = torch.Generator().manual_seed(2)
    state = {}
    for name, module in unet.named_modules():
        if isinstance(module, torch.nn.Linear) and name.endswith(LORA_TARGETS):
            down = torch.randn(rank, module.in_features, generator=g) / math.sqrt(
                module.in_features
            )
            up = torch.randn(module.out_features, rank, generator=g) * (0.3 / math.sqrt(rank))
            state[f"unet.{name}.lora_A.weight"] = down
            state[f"unet.{name}.lora_B.weight"] = up
    folder.mkdir(parents=True, exist_ok=True)
    file = folder / "bench_lora.safetensors"
    save_file(state, str(file))
    return file


def live_lora(unet: Any, rank: int, folder: Path, xl: bool) -> LiveLoras:
    """The LoRA wrapped into the UNet by the generator's ``LiveLoras``, read by diffusers'
    own LoRA loader (the pipeline's mixin: all ``LiveLoras`` asks of a pipeline)."""
    from diffusers.loaders import StableDiffusionLoraLoaderMixin, StableDiffusionXLLoraLoaderMixin

    reader = StableDiffusionXLLoraLoaderMixin() if xl else StableDiffusionLoraLoaderMixin()
    spec = LoraSpec(str(save_lora(unet, rank, folder)), LORA_NAME)
    return LiveLoras(unet, (spec,), reader)


@dataclass
class Extras:
    """What a conditioned frame adds: control images and strengths, a LoRA to sweep."""

    nets: tuple[Any, ...] = ()
    lora: LiveLoras | None = None
    frame: int = 0

    def mode(self, mode: str) -> str:
        """A row's mode: "img2img+controlnet", "img2img+2controlnets", "img2img+lora"."""
        n = len(self.nets)
        if n:
            mode += "+controlnet" if n == 1 else f"+{n}controlnets"
        return mode + ("+lora" if self.lora is not None else "")

    def control(
        self, latent_shape: tuple[int, ...], scale: int, steps: int, device: torch.device
    ) -> tuple[torch.Tensor | None, tuple[tuple[float, ...], ...]]:
        """The control images of the frame's size ``[n, 3, H, W]`` and each step's
        strengths, from the knobs' defaults; none without ControlNets."""
        n = len(self.nets)
        if not n:
            return None, ()
        h, w = latent_shape[2] * scale, latent_shape[3] * scale
        dtype = next(self.nets[0].parameters()).dtype
        images = torch.rand((n, 3, h, w), generator=torch.Generator().manual_seed(3))
        strengths = [float(k.default) for k in strength_params(n)]
        start, end = (float(param(k).default) for k in ("control_start", "control_end"))
        return images.to(device, dtype), step_scales(strengths, steps, start, end)

    def sweep(self) -> None:
        """This frame's LoRA weight, 0 to 2 and back (``lora_sweep.py``'s sweep)."""
        if self.lora is not None:
            self.lora.play({f"lora_{LORA_NAME}": 1.0 - math.cos(self.frame * 0.2)})
        self.frame += 1
