"""LoRAs with live weights: each LoRA's weight is a knob, ``lora_<name>``, 0 to 2.

A LoRA is not fused into the UNet: each layer it touches is wrapped
(:class:`LoraLayer`) to add ``weight * up(down(x))`` to the layer's own output, with
``weight`` one small tensor per LoRA that every layer of it shares. A knob turn writes
that tensor in place, so a weight change is one tiny copy, never a reload, and no
compiled graph or CUDA graph depends on its value (none recompiles, none is captured
again). Off is weight 0: the added term is exactly zero.

LoRAs load through diffusers' own reader (diffusers and kohya key names alike); their
UNet part plays live, a text-encoder part is left out (it would need every prompt
encoded again at each knob turn).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from performer.control.param import Param
from performer.control.params import lora_param
from performer.generators.base import GeneratorError
from performer.generators.loading import reason

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LoraSpec:
    """One live LoRA: where it comes from and the name of its knob (``lora_<name>``)."""

    source: str  # a Hugging Face id, a folder or a .safetensors file
    name: str

    @property
    def param(self) -> Param:
        return lora_param(self.name)


class LoraLayer(nn.Module):
    """A Linear or Conv2d layer plus each LoRA's low-rank term, scaled by its weight."""

    def __init__(self, base: nn.Linear | nn.Conv2d):
        super().__init__()
        self.base = base
        self.downs = nn.ModuleList()
        self.ups = nn.ModuleList()
        self.weights: list[torch.Tensor] = []

    def add(
        self, down: torch.Tensor, up: torch.Tensor, factor: float, weight: torch.Tensor
    ) -> None:
        base = self.base
        d: nn.Module
        u: nn.Module
        if isinstance(base, nn.Conv2d):
            conv: Any = base  # the down conv reads the input as the layer does
            rank = down.shape[0]
            d = nn.Conv2d(
                conv.in_channels,
                rank,
                conv.kernel_size,
                conv.stride,
                conv.padding,
                conv.dilation,
                bias=False,
            )
            u = nn.Conv2d(up.shape[1], base.out_channels, 1, bias=False)
            down = down.reshape(rank, conv.in_channels, *conv.kernel_size)
            up = up.reshape(base.out_channels, rank, 1, 1)
        else:
            d = nn.Linear(down.shape[1], down.shape[0], bias=False)
            u = nn.Linear(up.shape[1], up.shape[0], bias=False)
        like: torch.Tensor = base.weight
        with torch.no_grad():
            d.get_parameter("weight").copy_(down)
            u.get_parameter("weight").copy_(up * factor)  # alpha / rank, folded in once
        self.downs.append(d.to(like.device, like.dtype).requires_grad_(False))
        self.ups.append(u.to(like.device, like.dtype).requires_grad_(False))
        self.weights.append(weight)

    def forward(self, x: torch.Tensor, *args: Any, **kwargs: Any) -> torch.Tensor:
        out = self.base(x, *args, **kwargs)
        for down, up, weight in zip(self.downs, self.ups, self.weights, strict=True):
            out = out + weight * up(down(x))
        return out


class LiveLoras:
    """The LoRAs wrapped into one UNet, and their weights played from the snapshot."""

    def __init__(self, unet: nn.Module, specs: tuple[LoraSpec, ...], pipeline: Any):
        self.specs = specs
        like = next(unet.parameters())
        start = [s.param.default for s in specs]
        self.weights = {
            s.name: torch.full((), w, device=like.device, dtype=like.dtype)
            for s, w in zip(specs, start, strict=True)
        }
        self._played: tuple[float, ...] = tuple(start)
        for spec in specs:
            layers = _read(pipeline, spec.source)
            for module, (down, up, factor) in layers.items():
                _wrapped(unet, module, spec.source).add(down, up, factor, self.weights[spec.name])
            log.info("LoRA %s: %d layers, live as lora_%s", spec.source, len(layers), spec.name)

    def play(self, snap: Mapping[str, Any]) -> None:
        """Write each LoRA's weight for this frame (only when one moved)."""
        # a snapshot taken before a knob was declared holds no value for it: its default
        weights = tuple(float(snap.get(s.param.name, s.param.default)) for s in self.specs)
        if weights == self._played:
            return
        for spec, weight in zip(self.specs, weights, strict=True):
            self.weights[spec.name].fill_(weight)
        self._played = weights


def _wrapped(unet: nn.Module, module: str, source: str) -> LoraLayer:
    """The LoraLayer at ``module`` in the UNet, made on first use."""
    parent_name, _, child = module.rpartition(".")
    try:
        parent, layer = unet.get_submodule(parent_name), unet.get_submodule(module)
    except AttributeError:
        raise GeneratorError(f"LoRA {source!r} names a layer this UNet lacks: {module}") from None
    if isinstance(layer, LoraLayer):
        return layer
    if not isinstance(layer, nn.Linear | nn.Conv2d):
        raise GeneratorError(f"LoRA {source!r}: {module} is a {type(layer).__name__}")
    wrapped = LoraLayer(layer)
    setattr(parent, child, wrapped)  # "to_out.0" too: a ModuleList's child is named "0"
    return wrapped


def _read(pipeline: Any, source: str) -> dict[str, tuple[torch.Tensor, torch.Tensor, float]]:
    """The UNet layers a LoRA file names: module -> (down, up, alpha / rank)."""
    from diffusers.utils import convert_unet_state_dict_to_peft

    path = Path(source).expanduser()
    try:
        state, alphas = type(pipeline).lora_state_dict(str(path) if path.exists() else source)
    except (OSError, ValueError) as exc:
        raise GeneratorError(f"could not load LoRA {source!r}: {reason(exc)}") from None
    unet = {k.removeprefix("unet."): v for k, v in state.items() if k.startswith("unet.")}
    if len(unet) < len(state):
        log.warning("LoRA %s: its text-encoder part is left out (the UNet's plays)", source)
    if not unet:
        raise GeneratorError(f"LoRA {source!r} holds no UNet layers")
    peft = convert_unet_state_dict_to_peft(unet)
    factors = {}
    for key, alpha in (alphas or {}).items():
        down_key = key.removeprefix("unet.").removesuffix(".alpha")
        for converted in convert_unet_state_dict_to_peft({down_key: None}):
            factors[converted.removesuffix(".lora_A.weight")] = float(alpha)
    layers = {}
    for key, down in peft.items():
        if not key.endswith(".lora_A.weight"):
            continue
        module = key.removesuffix(".lora_A.weight")
        up = peft[f"{module}.lora_B.weight"]
        rank = down.shape[0]
        layers[module] = (down.float(), up.float(), factors.get(module, rank) / rank)
    return layers
