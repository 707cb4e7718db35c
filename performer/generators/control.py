"""ControlNets: the picture's structure held to control images, each by its strength.

Up to four play at once (``patch_control.MAX_CONTROLNETS``); their residuals add up, as
diffusers' MultiControlNetModel adds them. One ControlNet's strength is the knob
``control_strength``; with several, ControlNet n's is ``control_strength_<n>``. All act
only on the steps between ``control_start`` and ``control_end`` (shares of the frame's
steps, diffusers' ``control_guidance_start``/``end``): that window is folded into each
step's strength on the host (:func:`step_scales`), so it is a value, never a graph.

The control image is the previous frame (``control_source`` 0: a structure lock for
feedback), the live input (1) or a still image file (2), through each ControlNet's
preprocessor (``preprocess.py``). The images and strengths enter the step as tensors
(``denoise.py``), so neither a new image nor a knob turn builds a graph.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from performer.control.params import declare
from performer.generators.base import GeneratorError
from performer.generators.loading import looks_like_folder, read_picture, reason
from performer.generators.preprocess import Preprocessor, make
from performer.patch_control import MAX_CONTROLNETS, preprocessor, strength_params

log = logging.getLogger(__name__)
STILL = 2  # control_source: the still image


def load_controlnet(source: str, dtype: torch.dtype) -> Any:
    """A diffusers ControlNetModel from a Hugging Face id or a folder, with clear errors."""
    from diffusers import ControlNetModel

    if looks_like_folder(source) and not Path(source).expanduser().is_dir():
        raise GeneratorError(f"ControlNet folder not found: {source}")
    try:
        return ControlNetModel.from_pretrained(str(Path(source).expanduser()), dtype=dtype)
    except (OSError, ValueError) as exc:
        raise GeneratorError(f"could not load ControlNet {source!r}: {reason(exc)}") from None


def keep(step: int, steps: int, start: float, end: float) -> bool:
    """Whether the ControlNets act on step ``step`` (0-based) of ``steps``: diffusers'
    rule, ``not (step / steps < start or (step + 1) / steps > end)``."""
    return not (step / steps < start or (step + 1) / steps > end)


def step_scales(
    strengths: Sequence[float], steps: int, start: float, end: float
) -> tuple[tuple[float, ...], ...]:
    """Each step's strength of each ControlNet: ``[steps][controlnets]``, 0 outside the
    window."""
    return tuple(
        tuple(s if keep(k, steps, start, end) else 0.0 for s in strengths) for k in range(steps)
    )


class Controls:
    """A generator's ControlNets, their preprocessors, and each frame's control images."""

    def __init__(self, specs: Sequence[tuple[str, str]], still: str | None = None):
        if not 1 <= len(specs) <= MAX_CONTROLNETS:
            raise ValueError(f"{len(specs)} ControlNets; 1 to {MAX_CONTROLNETS}")
        for _, spec in specs:
            preprocessor(spec)  # a ValueError in one line, before any model loads
        self.specs = tuple(specs)
        # their knobs join the registry before the show's inputs start
        self.knobs = tuple(declare(knob) for knob in strength_params(len(specs)))
        self._still = read_picture(still, "control image") if still else None
        self.nets: tuple[Any, ...] = ()
        self._preprocessors: dict[str, Preprocessor] = {}
        self._made_from: np.ndarray | None = None  # the picture the images were made from
        self._images = torch.empty(0)
        self._still_images: torch.Tensor | None = None  # made once, kept apart
        self._warned = False

    def load(
        self, device: torch.device, dtype: torch.dtype, size: tuple[int, int], unet: Any
    ) -> None:
        """Load each ControlNet (made for ``unet``'s family) and each preprocessor's
        model, on ``device``."""
        self.device, self.dtype, self.size = device, dtype, size
        self.nets = tuple(load_controlnet(s, dtype).to(device).eval() for s, _ in self.specs)
        for net, (source, _) in zip(self.nets, self.specs, strict=True):
            _fits(net, unet, source)
        self._preprocessors = {spec: make(spec, device, dtype) for _, spec in self.specs}
        for source, spec in self.specs:
            log.info("ControlNet %s, preprocessed by %s", source, spec)
        if self._still is not None:  # its images, once: a knob turn back to it costs nothing
            with torch.inference_mode():  # as a frame's: a compiled step guards on it
                self._still_images = self._made(self._still)
            self._still = None  # the picture itself is no longer needed

    def __call__(
        self,
        snap: Mapping[str, Any],
        live: np.ndarray | None,
        previous: np.ndarray | None,
        steps: int,
    ) -> tuple[torch.Tensor, tuple[tuple[float, ...], ...]]:
        """This frame's control images ``[controlnets, 3, H, W]`` and each step's strengths."""
        strengths = [float(snap.get(k.name, k.default)) for k in self.knobs]
        start, end = float(snap["control_start"]), float(snap["control_end"])
        return self.images(self._picture(snap, live, previous)), step_scales(
            strengths, steps, start, end
        )

    def _picture(
        self, snap: Mapping[str, Any], live: np.ndarray | None, previous: np.ndarray | None
    ) -> np.ndarray | int | None:
        source = snap["control_source"]
        if source == 1 and live is not None:
            return live
        if source == STILL:
            if self._still_images is not None:
                return STILL
            if not self._warned:
                log.warning("control_source 2 asks for a still; none given (--control-image)")
                self._warned = True
        return previous

    def images(self, picture: np.ndarray | int | None) -> torch.Tensor:
        """Each ControlNet's control image of ``picture`` (``STILL``: the still's, made
        at load; none yet: black, which holds no structure)."""
        if isinstance(picture, int):
            assert self._still_images is not None
            return self._still_images
        if picture is None or picture is not self._made_from:
            self._images, self._made_from = self._made(picture), picture
        return self._images

    def _made(self, picture: np.ndarray | None) -> torch.Tensor:
        w, h = self.size
        if picture is None:
            images = torch.zeros((len(self.specs), 3, h, w), device=self.device)
        else:
            rgb = torch.from_numpy(np.ascontiguousarray(picture[..., :3])).to(self.device)
            rgb = rgb.permute(2, 0, 1)[None].float()
            if rgb.shape[-2:] != (h, w):  # a still of another size
                rgb = F.interpolate(rgb, size=(h, w), mode="bilinear", antialias=True)
            made = {spec: fn(rgb) for spec, fn in self._preprocessors.items()}
            images = torch.cat([made[spec] for _, spec in self.specs])
        # contiguous, as the warm-up's images: a compiled step guards on the layout
        return images.to(self.dtype).contiguous()


def _fits(net: Any, unet: Any, source: str) -> None:
    """A GeneratorError unless the ControlNet reads what the UNet is given (an SD 1.5/2.1
    ControlNet for an SD UNet, an SDXL one for SDXL)."""
    for key in ("cross_attention_dim", "addition_embed_type"):
        theirs, ours = net.config.get(key), unet.config.get(key)
        if theirs != ours:
            raise GeneratorError(
                f"ControlNet {source!r} is made for another model family ({key} "
                f"{theirs}, the model's {ours}): use one made for this model"
            )
