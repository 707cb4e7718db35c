"""The diffusers backend: SD-Turbo, SDXL-Turbo, LCM models and SD 1.5 + LCM-LoRA.

The pipeline is loaded once for its components; frames are made by calling the UNet
and the VAE directly, with prompt embeddings cached off the frame path (see
``prompts.py``). Guidance ``g`` means ``cond + g * (cond - uncond)``: diffusers'
``guidance_scale = g + 1``. At 0 there is no unconditional pass; LCM models with a
guidance embedding get ``g`` through the embedding, also in one pass.

The options ``compile``, ``cuda_graphs``, ``stream_batch``, ``similarity_skip`` and
``cfg="self"`` switch on the fast per-frame path (``fastpath.py``); without them each
frame runs plainly, in eager PyTorch.
"""

from __future__ import annotations

import logging
import math
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from performer.control.params import Snapshot
from performer.generators.base import Generator, GeneratorError, Setup
from performer.generators.common import is_still, schedule, seed_noise, warp
from performer.generators.fastpath import Cfg, FastOptions, FastPath, Model
from performer.generators.prompts import Conditioning, PromptEncoder

log = logging.getLogger(__name__)


def pick_device(device: str | None = None) -> tuple[torch.device, torch.dtype]:
    """The best device here (CUDA, then MPS, then CPU) and the dtype that suits it."""
    if device is None:
        if torch.cuda.is_available():
            device = "cuda"
        elif torch.backends.mps.is_available():
            device = "mps"
        else:
            device = "cpu"
    dev = torch.device(device)
    if dev.type == "cuda":
        return dev, torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    if dev.type == "mps":
        return dev, torch.float16
    return dev, torch.float32


def looks_like_folder(model: str) -> bool:
    return model.startswith((".", "/", "~")) or Path(model).exists() or model.count("/") > 1


def load_pipeline(model: str, dtype: torch.dtype, lora: str | None = None) -> Any:
    """Load a diffusers pipeline from a Hugging Face id or a local folder, with clear errors."""
    from diffusers import DiffusionPipeline

    if looks_like_folder(model) and not Path(model).expanduser().is_dir():
        raise GeneratorError(f"model folder not found: {model}")
    try:
        pipe = DiffusionPipeline.from_pretrained(
            str(Path(model).expanduser()) if looks_like_folder(model) else model,
            dtype=dtype,
        )
    except (OSError, ValueError) as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise GeneratorError(f"could not load model {model!r}: {reason}") from None
    if not hasattr(pipe, "unet") or not hasattr(pipe, "vae"):
        raise GeneratorError(
            f"model {model!r} is a {type(pipe).__name__}; expected a Stable Diffusion, "
            "SDXL or LCM pipeline with a UNet and a VAE"
        )
    if lora:
        try:
            pipe.load_lora_weights(lora)
            pipe.fuse_lora()
        except ImportError as exc:  # diffusers loads LoRAs through PEFT
            raise GeneratorError(
                f"could not load LoRA {lora!r}: {exc} (install it: pip install 'performer[lora]')"
            ) from None
        except (OSError, ValueError) as exc:
            raise GeneratorError(f"could not load LoRA {lora!r}: {exc}") from None
    return pipe


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


class DiffusersGenerator(Generator):
    """A diffusers model played as img2img on its own previous frame."""

    def __init__(
        self,
        model: str,
        tiny_vae: str | None = None,
        lora: str | None = None,
        device: str | None = None,
        *,
        compile: bool | str = False,
        cuda_graphs: bool = False,
        stream_batch: bool = False,
        similarity_skip: float | None = None,
        cfg: Cfg = "full",
        warm_steps: tuple[int, ...] = (1, 2),
    ):
        self.model, self.tiny_vae, self.lora = model, tiny_vae, lora
        self.fast = FastOptions(
            compile, cuda_graphs, stream_batch, similarity_skip, cfg, stream_steps=warm_steps
        )
        self.fast.compile_mode()  # an unknown mode fails here, not after loading
        self._fast: FastPath | None = None
        self.device, self.dtype = pick_device(device)
        if cuda_graphs and self.device.type != "cuda":  # fail before minutes of loading
            raise ValueError(f"--cuda-graphs needs a CUDA device, not {self.device.type}")
        self.identity = f"diffusers:{model}" + (f"+{lora}" if lora else "")
        self._encoder: PromptEncoder | None = None
        self._latents: torch.Tensor | None = None
        self._frame: np.ndarray | None = None
        self._frame_seconds = 0.0
        self._size = (0, 0)
        self.playing: tuple[str, str] = ("", "")  # the prompts the last frame was made with

    # -- set-up ------------------------------------------------------------------------
    def prepare(self, setup: Setup) -> None:
        pipe = load_pipeline(self.model, self.dtype, self.lora)
        self.unet = pipe.unet.to(self.device).eval()
        self.vae = pipe.vae
        if self.tiny_vae:
            self.vae = self._load_tiny_vae(self.tiny_vae)
        self.vae = self.vae.to(self.device).eval()
        self.vae_scale = int(pipe.vae_scale_factor)  # from the main VAE; a tiny VAE matches it
        self.latent_scale = float(self.vae.config.scaling_factor)
        self.alphas = pipe.scheduler.alphas_cumprod.to(torch.float32)
        self.prediction = pipe.scheduler.config.get("prediction_type", "epsilon")
        self.w_dim = self.unet.config.time_cond_proj_dim
        self.is_xl = hasattr(pipe, "text_encoder_2")

        w = max(8, setup.width // self.vae_scale * self.vae_scale)
        h = max(8, setup.height // self.vae_scale * self.vae_scale)
        self._size = (w, h)
        self.latent_shape = (
            1,
            self.unet.config.in_channels,
            h // self.vae_scale,
            w // self.vae_scale,
        )
        self.time_ids = torch.tensor([[h, w, 0, 0, h, w]], device=self.device, dtype=self.dtype)

        self._pipe = pipe
        self._encoder = PromptEncoder(self._encode, setup.anchors, setup.template)
        self._uncond = self._encode([""])
        self._noise_key: tuple[int, float, int] | None = None
        self._cond_key: tuple[Any, ...] = ()
        if self.fast.enabled:
            self._fast = FastPath(self._fast_model(), self.device, self.dtype, self.fast)
            if self.fast.compile or self.fast.cuda_graphs:  # else there is nothing to build
                self._fast.warm_up(self.fast.stream_steps)
        log.info("prepared %s on %s (%s), %dx%d", self.identity, self.device, self.dtype, w, h)

    def _fast_model(self) -> Model:
        embeds, pooled = self._uncond
        return Model(
            self.unet,
            self.vae,
            self.alphas,
            self.prediction,
            self.latent_scale,
            self.latent_shape,
            embeds.to(self.dtype),
            None if pooled is None else pooled.to(self.dtype),
            self.time_ids if self.is_xl else None,
            self.w_dim,
        )

    def _load_tiny_vae(self, name: str) -> Any:
        from diffusers import AutoencoderTiny

        if looks_like_folder(name) and not Path(name).expanduser().is_dir():
            raise GeneratorError(f"tiny VAE folder not found: {name}")
        try:
            return AutoencoderTiny.from_pretrained(name, dtype=self.dtype)
        except (OSError, ValueError) as exc:
            raise GeneratorError(f"could not load tiny VAE {name!r}: {exc}") from None

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
    def conditioning(self, snap: Snapshot) -> Conditioning:
        """The text conditioning this snapshot asks for, from the newest encoded prompts."""
        assert self._encoder is not None, "prepare() first"
        prompts = (snap["prompt"], snap["prompt_b"])
        self._encoder.request(prompts)
        # wait a little for a fresh prompt: within one frame when encoding is quick,
        # never long enough to stall the picture when it is not
        bank = self._encoder.latest(prompts, wait_s=max(0.002, 0.5 * self._frame_seconds))
        if bank is None:  # the very first frame: nothing to show yet, so encode now
            bank = self._encoder.encode_now(prompts)
        self.playing = bank.prompts
        key = (id(bank), snap["era"], snap["prompt_mix"])
        if key != self._cond_key:  # slerp only when era, mix or prompt moved
            # holding the bank keeps its id from being reused while the key lives
            self._cond_key, self._cond_bank = key, bank
            self._cond = bank.at(snap["era"], snap["prompt_mix"])
        return self._cond

    @torch.inference_mode()
    def __call__(self, snap: Snapshot) -> np.ndarray:
        started = time.perf_counter()
        # 1. conditioning: text embeddings for this era and prompt mix
        cond = self.conditioning(snap)
        # 2. the previous frame, moved by the feedback motion
        motion = (snap["zoom"], snap["rotate"], snap["translate_x"], snap["translate_y"])
        levels = schedule(snap["timestep"], snap["steps"])
        if self._latents is None:
            levels = schedule(1.0, snap["steps"])  # nothing to feed back: start from noise
            latents = torch.zeros(self.latent_shape, device=self.device, dtype=self.dtype)
        elif not levels and is_still(*motion):
            return self._frame if self._frame is not None else self._decode(self._latents)
        else:
            latents = warp(self._latents, *motion)
        # 3. denoise through the few-step schedule
        if self._fast is not None:
            return self._fast_frame(snap, cond, latents, levels, started)
        for k, level in enumerate(levels):
            t = round(level * (len(self.alphas) - 1))
            alpha = self.alphas[t]
            noise = self._noise(snap["seed"], snap["seed_travel"], k)
            latents = alpha.sqrt() * latents + (1 - alpha).sqrt() * noise
            latents = self._denoise(latents, t, alpha, cond, snap["guidance"])
        # 4. decode and keep for the next frame
        self._latents = latents
        self._frame = self._decode(latents)
        self._frame_seconds = time.perf_counter() - started
        return self._frame

    def _fast_frame(
        self,
        snap: Snapshot,
        cond: Conditioning,
        latents: torch.Tensor,
        levels: list[float],
        started: float,
    ) -> np.ndarray:
        fast = self._fast
        assert fast is not None
        seen = fast.recall(latents, snap)
        if seen is not None:  # made from this input before: the same frame again
            self._latents, self._frame = seen
            return self._frame
        noises = [fast.noise(snap["seed"], snap["seed_travel"], k) for k in range(len(levels))]
        made = fast.denoise(latents, levels, noises, cond.embeds, cond.pooled, snap["guidance"])
        self._latents, self._frame = made, fast.decode(made)
        fast.remember(latents, snap, made, self._frame)
        self._frame_seconds = time.perf_counter() - started
        return self._frame

    def _noise(self, seed: int, travel: float, k: int) -> torch.Tensor:
        key = (seed, travel, k)
        if key != self._noise_key or k > 0:
            self._noise_cache = seed_noise(self.latent_shape, seed + 7919 * k, travel).to(
                self.device, self.dtype
            )
            self._noise_key = key
        return self._noise_cache

    def _denoise(
        self, x: torch.Tensor, t: int, alpha: torch.Tensor, cond: Conditioning, guidance: float
    ) -> torch.Tensor:
        """One step: predict the clean latents at timestep ``t``."""
        embeds, pooled = cond.embeds.to(self.dtype), cond.pooled
        kwargs: dict[str, Any] = {}
        batch = 1
        if guidance > 0 and self.w_dim is None:  # classic CFG: uncond and cond in one batch
            embeds = torch.cat([self._uncond[0].to(self.dtype), embeds])
            if pooled is not None and self._uncond[1] is not None:
                pooled = torch.cat([self._uncond[1], pooled])
            batch = 2
        if self.w_dim is not None:
            kwargs["timestep_cond"] = guidance_embedding(
                guidance, self.w_dim, self.device, self.dtype
            )
        if self.is_xl:
            assert pooled is not None
            kwargs["added_cond_kwargs"] = {
                "text_embeds": pooled.to(self.dtype),
                "time_ids": self.time_ids.expand(batch, -1),
            }
        out = self.unet(
            x.expand(batch, -1, -1, -1),
            t,
            encoder_hidden_states=embeds,
            return_dict=False,
            **kwargs,
        )[0]
        if batch == 2:
            uncond, c = out.chunk(2)
            out = c + guidance * (c - uncond)
        if self.prediction == "v_prediction":
            return alpha.sqrt() * x - (1 - alpha).sqrt() * out
        if self.prediction == "sample":
            return out
        return (x - (1 - alpha).sqrt() * out) / alpha.sqrt()

    def _decode(self, latents: torch.Tensor) -> np.ndarray:
        image = self.vae.decode(latents / self.latent_scale, return_dict=False)[0]
        image = ((image[0].float().clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)
        return image.permute(1, 2, 0).contiguous().cpu().numpy()

    @torch.inference_mode()
    def reset(self, image: np.ndarray | None = None) -> None:
        if self._fast is not None:
            self._fast.reset()
        if image is None:
            self._latents, self._frame = None, None
            return
        w, h = self._size
        pixels = torch.from_numpy(np.ascontiguousarray(image[..., :3])).permute(2, 0, 1)[None]
        pixels = F.interpolate(pixels.float(), size=(h, w), mode="bilinear", antialias=True)
        self._frame = pixels[0].round().clamp(0, 255).to(torch.uint8).permute(1, 2, 0).numpy()
        x = (pixels / 127.5 - 1).to(self.device, self.dtype)
        encoded = self.vae.encode(x)
        latents = encoded.latent_dist.mode() if hasattr(encoded, "latent_dist") else encoded.latents
        self._latents = latents * self.latent_scale

    def close(self) -> None:
        if self._encoder is not None:
            self._encoder.close()
            self._encoder = None
