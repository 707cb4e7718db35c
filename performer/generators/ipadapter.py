"""IP-Adapter: an image prompt, its weight the knob ``ip_scale``.

The adapter loads through diffusers' own loader (``load_ip_adapter``): a CLIP image
encoder, and in each cross-attention of the UNet a second key/value projection that
attends to the image's tokens. diffusers holds the scale in each attention processor
as a Python float and skips the image's attention when it is 0, so under torch.compile
each turn of the knob would build a graph. Here the processors keep scale 1 and each
``to_v_ip`` projection is wrapped (:class:`ScaledValues`) to multiply its output by one
shared 0-dim tensor: attention is linear in its values, ``softmax(q kᵀ)(s v) =
s softmax(q kᵀ) v``, which is diffusers' scale ``s`` (equal to float rounding, exact
at 0 and 1). A knob turn writes that tensor in place, as a live LoRA's weight.

The image prompt (``ip_source``): 0 the file (``--ip-image``, encoded once), 1 the live
input (encoded once per new input frame), 2 the grabbed picture: each time ``ip_grab``
changes, the generator's previous frame is encoded, once. The embedding is copied into
fixed device tensors, so no new image builds a graph either. With classic CFG the
unconditional image is zeros, as diffusers has it. With no image to prompt with (no
file, no input yet, nothing grabbed) the scale is 0: the model as if without it.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from performer.generators.base import GeneratorError
from performer.generators.loading import reason

log = logging.getLogger(__name__)

#: where the adapter lies in a Hugging Face repository named with no file (h94/IP-Adapter's layout)
DEFAULT_FILES = {
    False: ("models", "ip-adapter_sd15.safetensors"),
    True: ("sdxl_models", "ip-adapter_sdxl.safetensors"),
}


@dataclass(frozen=True)
class ImageEmbeds:
    """The image prompt as a step reads it: fixed tensors, written in place."""

    plain: torch.Tensor  # [1, 1, dim] (an IP-Adapter Plus: [1, 1, tokens, dim])
    guided: torch.Tensor  # [2, ...]: the unconditional image, then the prompt's


class ScaledValues(nn.Module):
    """A ``to_v_ip`` projection times ``ip_scale`` (a 0-dim tensor shared by all)."""

    def __init__(self, base: nn.Module, scale: torch.Tensor):
        super().__init__()
        self.base, self.scale = base, scale

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.scale * self.base(x)


class ImagePrompt:
    """An IP-Adapter loaded into one pipeline's UNet, and the image it is prompted with."""

    def __init__(self, pipe: Any, source: str, image: np.ndarray | None, device: torch.device):
        _load(pipe, source, hasattr(pipe, "text_encoder_2"))
        unet = pipe.unet
        like = next(unet.parameters())
        self.device, self.dtype = device, like.dtype
        self.encoder = pipe.image_encoder.to(device).eval()
        self.scale = torch.zeros((), device=device, dtype=like.dtype)
        for processor in unet.attn_processors.values():
            if hasattr(processor, "to_v_ip"):  # scale 1 stays: ip_scale is the tensor
                processor.to_v_ip = nn.ModuleList(
                    ScaledValues(v, self.scale) for v in processor.to_v_ip
                )
        from diffusers.models.embeddings import ImageProjection

        projection = unet.encoder_hid_proj.image_projection_layers[0]
        self.hidden = not isinstance(projection, ImageProjection)  # Plus reads the tokens
        extractor = pipe.feature_extractor
        self.side = int(extractor.crop_size["height"])
        self.mean = torch.tensor(extractor.image_mean, device=device).view(1, 3, 1, 1)
        self.std = torch.tensor(extractor.image_std, device=device).view(1, 3, 1, 1)
        with torch.inference_mode():  # as the warm-up's: a compiled step guards on it
            zeros = torch.zeros((1, 3, self.side, self.side), device=device, dtype=self.dtype)
            uncond = self._embed(zeros)
            if not self.hidden:
                uncond = torch.zeros_like(uncond)  # diffusers: the plain adapter's is zeros
            self.embeds = ImageEmbeds(
                torch.zeros_like(uncond)[None], torch.cat([uncond, uncond])[:, None].clone()
            )
            self._file = None if image is None else self.encode(image)
        self._live: torch.Tensor | None = None
        self._live_seen: np.ndarray | None = None
        self._grabbed: torch.Tensor | None = None
        self._grab: int | None = None
        self._written: torch.Tensor | None = None
        self._played = 0.0

    @property
    def shape(self) -> tuple[int, ...]:
        """One image prompt's embedding as the step reads it (``[1, 1, ...]``)."""
        return tuple(self.embeds.plain.shape)

    def play(
        self, snap: Mapping[str, Any], live: np.ndarray | None, previous: np.ndarray | None
    ) -> ImageEmbeds:
        """The image prompt this snapshot asks for, written in place when it changed,
        and ``ip_scale`` (0 with no image to prompt with)."""
        grab = int(snap["ip_grab"])
        if self._grab is not None and grab != self._grab:  # a new grab: the picture shown
            self._grabbed = None if previous is None else self.encode(previous)
        self._grab = grab  # the first frame's count names no picture of this generator
        source = int(snap["ip_source"])
        if source == 1 and live is not None and live is not self._live_seen:
            self._live, self._live_seen = self.encode(live), live  # a new input frame
        embeds = (self._file, self._live, self._grabbed)[source]
        if embeds is not None and embeds is not self._written:
            self.embeds.plain[0].copy_(embeds)
            self.embeds.guided[1].copy_(embeds)
            self._written = embeds
        scale = float(snap["ip_scale"]) if embeds is not None else 0.0
        if scale != self._played:
            self.scale.fill_(scale)
            self._played = scale
        return self.embeds

    def encode(self, picture: np.ndarray) -> torch.Tensor:
        """A picture as the image encoder sees it (the centre square, at its size), embedded."""
        rgb = torch.from_numpy(np.array(picture[..., :3])).to(
            self.device
        )  # a copy: it may be read-only
        pixels = rgb.permute(2, 0, 1)[None].float() / 255.0
        h, w = pixels.shape[-2:]
        side = min(h, w)
        top, left = (h - side) // 2, (w - side) // 2
        pixels = pixels[..., top : top + side, left : left + side]
        size = (self.side, self.side)
        pixels = F.interpolate(pixels, size=size, mode="bicubic", antialias=True)
        return self._embed(((pixels - self.mean) / self.std).to(self.dtype))

    def _embed(self, pixels: torch.Tensor) -> torch.Tensor:
        out = self.encoder(pixels, output_hidden_states=self.hidden)
        embeds: torch.Tensor = out.hidden_states[-2] if self.hidden else out.image_embeds
        return embeds


def _load(pipe: Any, source: str, xl: bool) -> None:
    """The adapter into ``pipe`` through diffusers' loader, with one-line errors."""
    folder, subfolder, weight = _where(source, xl)
    try:
        pipe.load_ip_adapter(folder, subfolder=subfolder, weight_name=weight)
    except (OSError, ValueError, KeyError, RuntimeError) as exc:
        raise GeneratorError(f"could not load IP-Adapter {source!r}: {reason(exc)}") from None
    if getattr(pipe, "image_encoder", None) is None:
        raise GeneratorError(f"IP-Adapter {source!r} has no image encoder (image_encoder/)")
    log.info("IP-Adapter %s: %s", source, weight)


def _where(source: str, xl: bool) -> tuple[str, str, str]:
    """(folder or repository, subfolder, file) of an adapter: a file, a folder holding
    one weights file, a Hugging Face id (h94/IP-Adapter's file for this model kind) or
    an id with the file's path in the repository."""
    path = Path(source).expanduser()
    if path.is_file():
        return str(path.parent), "", path.name
    if path.is_dir():
        files = sorted(p.name for p in path.iterdir() if p.suffix in (".safetensors", ".bin"))
        if len(files) != 1:
            raise GeneratorError(
                f"IP-Adapter folder {source}: expected one .safetensors or .bin file, "
                f"found {len(files)}"
            )
        return str(path), "", files[0]
    parts = source.split("/")
    if source.startswith((".", "/", "~")) or len(parts) < 2 or "" in parts:
        raise GeneratorError(f"IP-Adapter not found: {source}")
    if len(parts) == 2:
        return (source, *DEFAULT_FILES[xl])
    return "/".join(parts[:2]), "/".join(parts[2:-1]), parts[-1]
