"""The diffusers backend: SD-Turbo, SDXL-Turbo, LCM models and SD 1.5 + LCM-LoRA.

The pipeline is loaded once for its components (``loading.py``); frames are made by
calling the UNet and the VAE directly, with prompt embeddings cached off the frame path
(``prompts.py``). Each frame reads 1 conditioning → 2 latents → 3 denoise → 4 decode;
the denoise and decode run through ``fastpath.py`` (eager unless ``compile``,
``cuda_graphs``, ``stream_batch``, ``similarity_skip`` or ``cfg="self"`` ask for more),
whose step is ``denoise.py``'s.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from performer.control.params import BLOCKS, Snapshot, declare
from performer.generators.base import TEXTS, Generator, GeneratorError, Setup
from performer.generators.common import is_still, schedule, warp
from performer.generators.control import Controls
from performer.generators.denoise import Model
from performer.generators.fastpath import Cfg, FastOptions, FastPath
from performer.generators.ipadapter import ImagePrompt
from performer.generators.loading import load_pipeline, load_tiny_vae, pick_device, read_picture
from performer.generators.lora import LiveLoras, LoraSpec
from performer.generators.prompts import Conditioning, PromptBank, PromptEncoder
from performer.generators.similarity import SimilaritySkip

log = logging.getLogger(__name__)
BLOCK_NUMBERS = range(1, BLOCKS + 1)


class DiffusersGenerator(Generator):
    """A diffusers model played as img2img on its own previous frame."""

    def __init__(
        self,
        model: str,
        tiny_vae: str | None = None,
        lora: str | None = None,
        device: str | None = None,
        *,
        loras: tuple[LoraSpec, ...] = (),
        controlnets: tuple[tuple[str, str], ...] = (),
        control_image: str | None = None,
        ip_adapter: str | None = None,
        ip_image: str | None = None,
        compile: bool | str = False,
        cuda_graphs: bool = False,
        stream_batch: bool = False,
        similarity_skip: float | None = None,
        cfg: Cfg = "full",
        warm_steps: tuple[int, ...] = (1, 2),
    ):
        self.model, self.tiny_vae, self.lora = model, tiny_vae, lora
        self.lora_specs = loras
        if control_image and not controlnets:  # an image for nothing: said, not ignored
            raise GeneratorError("--control-image needs a ControlNet (--controlnet)")
        if ip_image and not ip_adapter:
            raise GeneratorError("--ip-image needs an IP-Adapter (--ip-adapter)")
        # their knobs join the registry, and a still is read, before any model loads
        self.control = Controls(controlnets, control_image) if controlnets else None
        for spec in loras:  # their knobs join the registry before the show's inputs start
            declare(spec.param)
        self.fast = FastOptions(
            compile, cuda_graphs, stream_batch, similarity_skip, cfg, stream_steps=warm_steps
        )
        self.fast.compile_mode()  # an unknown mode fails here, not after loading
        self.device, self.dtype = pick_device(device)
        if cuda_graphs and self.device.type != "cuda":  # fail before minutes of loading
            raise ValueError(f"--cuda-graphs needs a CUDA device, not {self.device.type}")
        self.identity = f"diffusers:{model}" + (f"+{lora}" if lora else "")
        self.identity += "".join(f"+{s.source}:{s.name}" for s in loras)
        self.identity += "".join(f"+controlnet:{s}:{p}" for s, p in controlnets)
        self.ip_adapter = ip_adapter
        self.identity += f"+ip-adapter:{ip_adapter}" if ip_adapter else ""
        # read now: a missing image is one error before minutes of loading
        self.ip_image = read_picture(ip_image, "IP-Adapter image") if ip_image else None
        self.ip: ImagePrompt | None = None
        self.skip = SimilaritySkip(similarity_skip)
        self._path: FastPath | None = None
        self.loras: LiveLoras | None = None
        self._encoder: PromptEncoder | None = None
        self._latents: torch.Tensor | None = None
        self._frame: np.ndarray | None = None
        self._frame_seconds = 0.0
        self._size = (0, 0)
        self._cond_bank: PromptBank | None = None  # the prompts the last frame was made with
        self._replayed: dict[str, str] | None = None  # replay_with's, for the next frame

    # -- set-up ------------------------------------------------------------------------
    def prepare(self, setup: Setup) -> None:
        pipe = load_pipeline(self.model, self.dtype, self.lora)
        self.unet = pipe.unet.to(self.device).eval()
        # wrapped after the move: each LoRA's weight tensor is shared by its layers
        self.loras = LiveLoras(self.unet, self.lora_specs, pipe) if self.lora_specs else None
        # after the move: its scale tensor is made on the device
        ip, image = self.ip_adapter, self.ip_image
        self.ip = ImagePrompt(pipe, ip, image, self.device) if ip else None
        self.vae = load_tiny_vae(self.tiny_vae, self.dtype) if self.tiny_vae else pipe.vae
        self.vae = self.vae.to(self.device).eval()
        vae_scale = int(pipe.vae_scale_factor)  # from the main VAE; a tiny VAE matches it
        self.latent_scale = float(self.vae.config.scaling_factor)
        self.is_xl = hasattr(pipe, "text_encoder_2")
        w = max(8, setup.width // vae_scale * vae_scale)
        h = max(8, setup.height // vae_scale * vae_scale)
        self._size = (w, h)
        if self.control is not None:
            self.control.load(self.device, self.dtype, self._size, self.unet)
        self.latent_shape = (1, self.unet.config.in_channels, h // vae_scale, w // vae_scale)
        self._pipe = pipe
        self._encoder = PromptEncoder(self._encode, setup.anchors, setup.template)
        self._cond_key: tuple[Any, ...] = ()
        model = self._model(pipe, w, h)
        self._path = FastPath(model, self.device, self.dtype, self.fast, scale=vae_scale)
        if self.fast.compile or self.fast.cuda_graphs:  # else there is nothing to build
            self._path.warm_up(self.fast.stream_steps)
        log.info("prepared %s on %s (%s), %dx%d", self.identity, self.device, self.dtype, w, h)

    def _model(self, pipe: Any, w: int, h: int) -> Model:
        embeds, pooled = self._encode([""])
        time_ids = torch.tensor([[h, w, 0, 0, h, w]], device=self.device, dtype=self.dtype)
        return Model(
            self.unet,
            self.vae,
            alphas=pipe.scheduler.alphas_cumprod.to(torch.float32),
            prediction=pipe.scheduler.config.get("prediction_type", "epsilon"),
            latent_scale=self.latent_scale,
            latent_shape=self.latent_shape,
            uncond=embeds.to(self.dtype),
            uncond_pooled=None if pooled is None else pooled.to(self.dtype),
            time_ids=time_ids if self.is_xl else None,
            w_dim=self.unet.config.time_cond_proj_dim,
            controlnets=self.control.nets if self.control is not None else (),
            image_shape=None if self.ip is None else self.ip.shape,
        )

    @torch.inference_mode()
    def _encode(self, texts: list[str]) -> tuple[torch.Tensor, torch.Tensor | None]:
        if self.is_xl:
            embeds, _, pooled, _ = self._pipe.encode_prompt(
                prompt=texts,
                device=self.device,
                num_images_per_prompt=1,
                do_classifier_free_guidance=False,
            )
            return embeds, pooled
        embeds, _ = self._pipe.encode_prompt(texts, self.device, 1, False)
        return embeds, None

    @property
    def size(self) -> tuple[int, int]:
        return self._size

    # -- per frame -----------------------------------------------------------------------
    @torch.inference_mode()
    def __call__(self, snap: Snapshot, live: np.ndarray | None = None) -> np.ndarray:
        path = self._path
        assert path is not None, "prepare() first"
        started = time.perf_counter()
        # 0. the live LoRAs' weights, written in place (no graph depends on them)
        if self.loras is not None:
            self.loras.play(snap)
        # 1. conditioning: text embeddings for this era and prompt mix
        cond = self.conditioning(snap)
        # 2. latents: where this frame starts, and the levels it is re-noised to
        start = self._start(snap, live)
        if start is None:  # timestep 0, nothing moves: the previous frame, held
            assert self._latents is not None
            return self._frame if self._frame is not None else path.decode(self._latents)
        latents, levels = start
        # a ControlNet or IP-Adapter reading the live input sees what the latents do not
        seen = None if self._reads_live(snap, live) else self.skip.recall(latents, snap)
        if seen is not None:  # made from this input before: the same frame again
            self._latents, self._frame = seen
            return self._frame
        # 3. denoise: re-noise to each level of the few-step schedule and denoise
        noise = path.noise(snap["seed"], snap["seed_travel"], len(levels))
        control, scales = self._control(snap, live, len(levels))
        image = None if self.ip is None else self.ip.play(snap, live, self._frame)
        inputs = path.inputs(cond, snap["guidance"], control, scales, image)
        made = path.denoise(latents, levels, noise, inputs)
        # 4. decode, and keep the latents for the next frame's feedback
        self._latents, self._frame = made, path.decode(made)
        self.skip.remember(latents, snap, made, self._frame)
        self._frame_seconds = time.perf_counter() - started
        return self._frame

    def _reads_live(self, snap: Snapshot, live: np.ndarray | None) -> bool:
        """Whether a ControlNet or the IP-Adapter reads this frame's live input."""
        if live is None:
            return False
        control = self.control is not None and snap["control_source"] == 1
        return control or (self.ip is not None and snap["ip_source"] == 1)

    def _start(
        self, snap: Snapshot, live: np.ndarray | None
    ) -> tuple[torch.Tensor, list[float]] | None:
        """The previous frame's latents moved by the feedback motion (none on the first
        frame: it grows from noise), mixed with the live input's by input_mix; None when
        the previous frame is held as it is."""
        levels = schedule(snap["timestep"], snap["steps"])
        motion = (snap["zoom"], snap["rotate"], snap["translate_x"], snap["translate_y"])
        mix = float(snap["input_mix"])
        start = self._encode_image(live) if live is not None and mix > 0.0 else None
        if self._latents is None:
            if start is None:
                levels = schedule(1.0, snap["steps"])  # nothing to feed back: from noise
            zeros = torch.zeros(self.latent_shape, device=self.device, dtype=self.dtype)
            return (zeros if start is None else start), levels
        if not levels and start is None and is_still(*motion):
            return None
        latents = warp(self._latents, *motion)
        return (latents if start is None else torch.lerp(latents, start, mix)), levels

    def _control(
        self, snap: Snapshot, live: np.ndarray | None, steps: int
    ) -> tuple[torch.Tensor | None, tuple[tuple[float, ...], ...]]:
        """The ControlNets' images (of the previous frame, the live input or the still)
        and each step's strengths (``control.py``); (None, ()) with no ControlNet."""
        if self.control is None:
            return None, ()
        return self.control(snap, live, self._frame, steps)

    def conditioning(self, snap: Snapshot) -> Conditioning:
        """The text conditioning this snapshot asks for, from the newest encoded prompts
        and prompt blocks."""
        assert self._encoder is not None, "prepare() first"
        replayed, self._replayed = self._replayed, None
        if replayed is not None:  # offline: the texts the live frame had, however slow
            bank = self._encoder.exactly(tuple(replayed.get(n, snap[n]) for n in TEXTS))
        else:
            bank = self._live_bank(tuple(snap[name] for name in TEXTS))
        weights = tuple(snap[f"block_{n}_weight"] for n in BLOCK_NUMBERS)
        blend = (snap["prompt_weight"], snap["block_blend"])
        key = (id(bank), snap["era"], snap["prompt_mix"], weights, blend)
        if key != self._cond_key:  # blend only when era, mix, a weight or a prompt moved
            # holding the bank keeps its id from being reused while the key lives
            self._cond_key, self._cond_bank = key, bank
            base, slerped = blend
            self._cond = bank.at(snap["era"], snap["prompt_mix"], weights, base, slerped == 1)
        return self._cond

    def _live_bank(self, texts: tuple[str, ...]) -> PromptBank:
        assert self._encoder is not None, "prepare() first"
        self._encoder.request(texts)
        # wait a little for a fresh prompt: within one frame when encoding is quick,
        # never long enough to stall the picture when it is not
        bank = self._encoder.latest(texts, wait_s=max(0.002, 0.5 * self._frame_seconds))
        if bank is None:  # the very first frame: nothing to show yet, so encode now
            bank = self._encoder.encode_now(texts)
        return bank

    @property
    def playing(self) -> tuple[str, str]:
        """The prompt pair the last frame was made with (none yet: empty)."""
        return ("", "") if self._cond_bank is None else self._cond_bank.prompts

    def played(self, snap: Snapshot) -> dict[str, str]:
        if self._cond_bank is None:  # no frame made yet
            return {}
        texts = zip(TEXTS, self._cond_bank.texts, strict=True)
        return {name: text for name, text in texts if snap[name] != text}

    def replay_with(self, played: Mapping[str, str]) -> None:
        self._replayed = dict(played)

    @torch.inference_mode()
    def reset(self, image: np.ndarray | None = None) -> None:
        if self._path is not None:
            self._path.reset()  # the similarity memory stays: an input seen before is one
        if image is None:
            self._latents, self._frame = None, None
            return
        w, h = self._size
        pixels = torch.from_numpy(np.ascontiguousarray(image[..., :3])).permute(2, 0, 1)[None]
        pixels = F.interpolate(pixels.float(), size=(h, w), mode="bilinear", antialias=True)
        self._frame = pixels[0].round().clamp(0, 255).to(torch.uint8).permute(1, 2, 0).numpy()
        self._latents = self._encode_pixels(pixels)

    def _encode_image(self, image: np.ndarray) -> torch.Tensor:
        """A picture of this generator's size (the live input, fitted) as latents."""
        pixels = torch.from_numpy(np.ascontiguousarray(image)).permute(2, 0, 1)[None]
        return self._encode_pixels(pixels.float())

    def _encode_pixels(self, pixels: torch.Tensor) -> torch.Tensor:
        x = (pixels / 127.5 - 1).to(self.device, self.dtype)
        encoded = self.vae.encode(x)
        latents = encoded.latent_dist.mode() if hasattr(encoded, "latent_dist") else encoded.latents
        return latents * self.latent_scale

    def close(self) -> None:
        if self._encoder is not None:
            self._encoder.close()
            self._encoder = None
