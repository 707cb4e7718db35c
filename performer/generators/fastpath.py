"""The per-frame path of the diffusers backend: noise, the denoise steps, the decode.

Every frame goes through here. With every option off it runs the step of
``denoise.py`` eagerly, one step after another: the reference the options are held
to. Each option is opt-in:

- ``compile``: ``torch.compile`` (inductor) of the step and of the decode, static shapes:
  one graph per resolution, model and batch shape, never one per knob value, all built
  and warmed in ``prepare()`` behind a progress bar.
- ``cuda_graphs`` (CUDA only): each compiled step and the decode captured as a CUDA
  graph and replayed, so a frame costs a handful of launches, not thousands.
- ``cfg="self"``: guidance with no second UNet pass (see ``denoise.py``); ``"full"``
  batches uncond and cond.
- ``stream_batch``: StreamDiffusion's denoising batch: with ``steps`` = k, frame n's
  first step, frame n-1's second, ... run in one UNet batch of k; a frame is finished
  k-1 frames after it entered (throughput of one step per frame, latency of k).
- ``similarity_skip``: a frame whose input and knobs match the last one is not made
  again (``similarity.py``; the generator asks before it denoises).

Any option on also lays the UNet and VAE out channels_last (faster convolutions);
with all off the model keeps its own layout, so the reference gives the frames the
backend always gave.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import torch

from performer.generators.common import seed_noise
from performer.generators.denoise import (
    Denoiser,
    Model,
    StepInputs,
    guidance_embedding,
    text_batch,
)
from performer.generators.graphs import CudaGraph
from performer.generators.ipadapter import ImageEmbeds
from performer.generators.prompts import Conditioning

log = logging.getLogger(__name__)

# name -> (torch.compile backend, inductor mode)
COMPILE_MODES: dict[str, tuple[str, str | None]] = {
    "default": ("inductor", None),
    "max-autotune": ("inductor", "max-autotune-no-cudagraphs"),  # graphs are ours
    "eager": ("eager", None),  # dynamo only: cheap, for tests of recompilation
    "aot_eager": ("aot_eager", None),
}
Cfg = Literal["full", "self"]
NOISE_STRIDE = 7919  # step k of a frame re-noises with seed + NOISE_STRIDE * k
Scales = tuple[tuple[float, ...], ...]  # ControlNet strengths: [steps][controlnets]


@dataclass(frozen=True)
class FastOptions:
    compile: bool | str = False
    cuda_graphs: bool = False
    stream_batch: bool = False
    similarity_skip: float | None = None
    cfg: Cfg = "full"
    stream_steps: tuple[int, ...] = (1, 2)  # stream batch sizes warmed up in prepare()

    @property
    def enabled(self) -> bool:
        return bool(self.compile or self.cuda_graphs or self.stream_batch) or (
            self.similarity_skip is not None or self.cfg != "full"
        )

    def compile_mode(self) -> tuple[str, str | None] | None:
        if not self.compile:
            return None
        name = "default" if self.compile is True else str(self.compile)
        if name not in COMPILE_MODES:
            raise ValueError(f"unknown compile mode {name!r}; known: {', '.join(COMPILE_MODES)}")
        return COMPILE_MODES[name]


class FastPath:
    """Noise (``noise``), conditioning (``inputs``), steps (``denoise``), ``decode``."""

    def __init__(
        self,
        model: Model,
        device: torch.device,
        dtype: torch.dtype,
        opts: FastOptions,
        scale: int = 8,
    ):
        if opts.cuda_graphs and device.type != "cuda":
            raise ValueError(f"cuda_graphs needs a CUDA device, not {device.type}")
        self.m, self.device, self.dtype, self.opts = model, device, dtype, opts
        self.scale = scale  # pixels per latent, each way (a control image is in pixels)
        self.cfg_batch = opts.cfg == "full" and model.w_dim is None
        if opts.enabled:
            for module in (model.unet, model.vae, *model.controlnets):
                module.to(memory_format=torch.channels_last)
        self.eager = Denoiser(model, dtype, self_cfg=opts.cfg == "self")
        self._step: Callable[..., torch.Tensor] = self.eager.step
        self._decode: Callable[[torch.Tensor], torch.Tensor] = self.eager.decode
        mode = opts.compile_mode()
        if mode is not None:
            backend, inductor_mode = mode
            # dynamic=False: each batch shape its own static graph, never a dynamic one
            self._step = torch.compile(
                self.eager.step, backend=backend, mode=inductor_mode, dynamic=False
            )
            self._decode = torch.compile(
                self.eager.decode, backend=backend, mode=inductor_mode, dynamic=False
            )
        self._graphs: dict[tuple[Any, ...], CudaGraph] = {}
        self._built: set[tuple[int, bool]] = set()  # (batch, guided) variants made so far
        self._warm = False
        self._pool = torch.cuda.graph_pool_handle() if opts.cuda_graphs else None
        self._noise_key: tuple[int, float] | None = None
        self._noise = torch.empty(0)
        self._text_for: tuple[Conditioning, bool] | None = None
        self._text: tuple[torch.Tensor, torch.Tensor | None] = (torch.empty(0), None)
        self._w_for: float | None = None
        self._params_for: tuple[Any, ...] | None = None
        self._steps: list[torch.Tensor] = []
        self._w: torch.Tensor | None = None
        self._stream: torch.Tensor | None = None  # x0 of earlier frames still in flight
        self._host: torch.Tensor | None = None  # pinned output buffer (CUDA)
        self._copied = torch.cuda.Event() if device.type == "cuda" else None
        # ControlNet strengths [batch, n] by (batch, step), written in place; at most 8
        self._strength: dict[tuple[int, int], tuple[Scales, torch.Tensor]] = {}

    # -- set-up --------------------------------------------------------------------------
    @torch.inference_mode()
    def warm_up(
        self, steps: Sequence[int] = (1,), progress: bool = True, guided_too: bool = True
    ) -> None:
        """Compile and capture every variant a frame can need now, not mid-performance."""
        from performer.progress import progress as progress_bar

        batches = sorted({self._batch(k) for k in steps})
        guided = [False, True] if self.cfg_batch and guided_too else [False]
        jobs = [(b, g) for b in batches for g in guided]
        what = "compiling" if self.opts.compile else "warming up"
        bar = progress_bar(total=len(jobs) + 1, desc=f"{what} the frame path", disable=not progress)
        latents = torch.zeros(self.m.latent_shape, device=self.device, dtype=self.dtype)
        # copies: dynamo would guard on a frame's embeddings *being* the uncond ones
        pooled = None if self.m.uncond_pooled is None else self.m.uncond_pooled.clone()
        cond = Conditioning(self.m.uncond.clone(), pooled)
        w = None
        if self.m.w_dim is not None:
            w = guidance_embedding(0.0, self.m.w_dim, self.device, self.dtype)
        n, control = len(self.m.controlnets), None
        if n:
            h, w_ = (self.m.latent_shape[2] * self.scale, self.m.latent_shape[3] * self.scale)
            control = torch.zeros((n, 3, h, w_), device=self.device, dtype=self.dtype)
        shape = self.m.image_shape
        for b, g in jobs:
            text = text_batch(self.m, cond, g, self.dtype)
            strength = self._strengths(((1.0,) * n,) * b if n else ())
            image = (
                None
                if shape is None
                else torch.zeros((1 + g, *shape[1:]), device=self.device, dtype=self.dtype)
            )
            inputs = StepInputs(*text, w, g, float(g), control, strength, image)
            (params,) = self._params([0.5 + 0.1 * i for i in range(b)], float(g), batched=True)
            batch = latents.expand(b, -1, -1, -1)
            self._run_step(batch, params, torch.zeros_like(batch), inputs, *strength[:1])
            bar.update()
        self._run_decode(latents)
        bar.update()
        bar.close()
        self._warm = True
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)

    def _batch(self, steps: int) -> int:
        return steps if self.opts.stream_batch else 1

    # -- per frame -----------------------------------------------------------------------
    def noise(self, seed: int, travel: float, steps: int) -> torch.Tensor:
        """Each step's noise, ``[steps, C, H, W]`` (at least one row): made again only when
        the seed or seed travel moved, or more steps are asked for than were made."""
        if self._noise_key != (seed, travel) or len(self._noise) < steps:
            rows = [
                seed_noise(self.m.latent_shape, seed + NOISE_STRIDE * k, travel)
                for k in range(max(1, steps))
            ]
            self._noise = torch.cat(rows).to(self.device, self.dtype)
            self._noise_key = (seed, travel)
        return self._noise[:steps]

    def inputs(
        self,
        cond: Conditioning,
        guidance: float,
        control: torch.Tensor | None = None,
        scales: Scales = (),
        image: ImageEmbeds | None = None,
    ) -> StepInputs:
        """The steps' conditioning: the text batch made again only when ``cond`` changed
        or guidance turned on or off, the guidance embedding only when guidance moved;
        with ControlNets, this frame's control images, and each step's strengths
        (``scales``, [steps][controlnets]) written in place where they moved; with an
        IP-Adapter, its image prompt's tensor for this batch (guided or not)."""
        guided = self.cfg_batch and guidance > 0
        made = self._text_for
        if made is None or made[0] is not cond or made[1] != guided:
            self._text = text_batch(self.m, cond, guided, self.dtype)
            self._text_for = (cond, guided)
        if self.m.w_dim is not None and guidance != self._w_for:
            self._w = guidance_embedding(guidance, self.m.w_dim, self.device, self.dtype)
            self._w_for = guidance
        strength = self._strengths(scales)
        picture = None if image is None else image.guided if guided else image.plain
        return StepInputs(*self._text, self._w, guided, guidance, control, strength, picture)

    def _strengths(self, scales: Scales) -> tuple[torch.Tensor, ...]:
        """Each UNet call's ControlNet strengths on the device, ``[batch, n]``: one per
        step, or with stream batching one for the batch of steps. Each call keeps its own
        tensor, written in place when a value moved: no graph sees a new one."""
        if not scales:
            return ()
        batched = self.opts.stream_batch and len(scales) > 1
        calls = [scales] if batched else [(row,) for row in scales]
        tensors = []
        for k, values in enumerate(calls):
            key = (len(values), k)
            made = self._strength.get(key)
            if made is None:
                tensor = torch.tensor(values, device=self.device, dtype=self.dtype)
            else:
                tensor = made[1]
                if made[0] != values:
                    tensor.copy_(torch.tensor(values, dtype=self.dtype), non_blocking=True)
            self._strength[key] = (values, tensor)
            tensors.append(tensor)
        return tuple(tensors)

    def denoise(
        self,
        latents: torch.Tensor,
        levels: Sequence[float],
        noise: torch.Tensor,
        inputs: StepInputs,
    ) -> torch.Tensor:
        """The clean latents after ``levels``; with stream batching, those of an earlier frame."""
        if self.opts.stream_batch and len(levels) > 1:
            return self._stream_step(latents, levels, noise, inputs)
        self._stream = None
        for k, params in enumerate(self._params(levels, inputs.guidance, batched=False)):
            strength = inputs.strength[k] if inputs.strength else None
            latents = self._run_step(latents, params, noise[k : k + 1], inputs, strength)
        # a graph's output is overwritten by its next replay; the frame keeps its own
        return latents.clone() if self.opts.cuda_graphs else latents

    def _stream_step(
        self,
        latents: torch.Tensor,
        levels: Sequence[float],
        noise: torch.Tensor,
        inputs: StepInputs,
    ) -> torch.Tensor:
        k = len(levels)
        if self._stream is None or self._stream.shape[0] != k - 1:
            self._stream = latents.expand(k - 1, -1, -1, -1).clone()
        batch = torch.cat([latents, self._stream])
        (params,) = self._params(levels, inputs.guidance, batched=True)
        x0 = self._run_step(batch, params, noise[:k], inputs, *inputs.strength[:1])
        self._stream = x0[:-1].clone()
        return x0[-1:].clone()

    def reset(self) -> None:
        self._stream = None

    def _params(
        self, levels: Sequence[float], guidance: float, batched: bool
    ) -> list[torch.Tensor]:
        """The steps' ``params`` on the device, rows t, √ᾱ, √(1-ᾱ), guidance: one ``[4, 1]``
        per step, or ``batched``, one ``[4, steps]``; made again only when the schedule or
        guidance moved."""
        key = (tuple(levels), guidance, batched)
        if key != self._params_for:
            ts = [round(level * (len(self.m.alphas) - 1)) for level in levels]
            alphas = self.m.alphas[ts]
            rows = [ts, alphas.sqrt().tolist(), (1 - alphas).sqrt().tolist(), [guidance] * len(ts)]
            columns = [rows] if batched else [[[r[k]] for r in rows] for k in range(len(ts))]
            self._steps = [torch.tensor(c).to(self.device, non_blocking=True) for c in columns]
            self._params_for = key
        return self._steps

    def _run_step(
        self,
        latents: torch.Tensor,
        params: torch.Tensor,
        noise: torch.Tensor,
        inputs: StepInputs,
        strength: torch.Tensor | None = None,
    ) -> torch.Tensor:
        b, guided = latents.shape[0], inputs.guided
        layout = torch.channels_last if self.opts.enabled else torch.contiguous_format
        args = [
            latents.contiguous(memory_format=layout),
            noise.expand(b, -1, -1, -1).contiguous(memory_format=layout),
            params,
            inputs.embeds,
            inputs.pooled,
            inputs.w,
            inputs.control,
            strength,
            inputs.image,
        ]
        if (b, guided) not in self._built:
            self._built.add((b, guided))
            if self._warm and (self.opts.compile or self.opts.cuda_graphs):
                log.warning("building the frame path for a batch of %d mid-performance", b)
        if not self.opts.cuda_graphs:
            return self._step(*args, guided=guided)
        key = ("step", b, guided)
        if key not in self._graphs:
            step = self._step

            def fn(*xs: torch.Tensor | None) -> torch.Tensor:
                return step(*xs, guided=guided)

            self._graphs[key] = CudaGraph(fn, args, self._pool)
        out: torch.Tensor = self._graphs[key](*args)
        return out

    # -- decode --------------------------------------------------------------------------
    def decode(self, latents: torch.Tensor) -> np.ndarray:
        image = self._run_decode(latents)
        if self._copied is None:
            return image.cpu().numpy()
        if self._host is None:
            self._host = torch.empty(image.shape, dtype=torch.uint8, pin_memory=True)
        self._host.copy_(image, non_blocking=True)
        self._copied.record()
        self._copied.synchronize()  # waits with the GIL released: the display keeps drawing
        return self._host.numpy().copy()  # the pinned buffer is reused by the next frame

    def _run_decode(self, latents: torch.Tensor) -> torch.Tensor:
        layout = torch.channels_last if self.opts.enabled else torch.contiguous_format
        x = latents.contiguous(memory_format=layout)
        if not self.opts.cuda_graphs:
            return self._decode(x)
        key = ("decode",)
        if key not in self._graphs:
            self._graphs[key] = CudaGraph(self._decode, [x], self._pool)
        out: torch.Tensor = self._graphs[key](x)
        return out
