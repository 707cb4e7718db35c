"""The fast per-frame path of the diffusers backend: static shapes, compiled, graph-captured.

Everything a knob can change (timestep, guidance, seed, era) enters as a tensor, so no
change of a parameter changes a graph: one compiled graph per resolution, model and
batch shape, all built and warmed in ``prepare()`` behind a progress bar. Per frame
the device sees the UNet step(s) and the decode, and a few small copies into their
inputs. What it can do, each opt-in:

- ``compile``: ``torch.compile`` (inductor) of the step and of the decode, static shapes.
- ``cuda_graphs`` (CUDA only): each compiled step and the decode captured as a CUDA
  graph and replayed, so a frame costs a handful of launches, not thousands.
- ``cfg="self"``: guidance with no second UNet pass: the noise this frame was re-noised
  with stands in for the unconditional prediction (StreamDiffusion's self-negative
  residual CFG). ``"full"`` batches uncond and cond (the plain path's result).
- ``stream_batch``: StreamDiffusion's denoising batch: with ``steps`` = k, frame n's
  first step, frame n-1's second, ... run in one UNet batch of k; a frame is finished
  k-1 frames after it entered (throughput of one step per frame, latency of k).
- ``similarity_skip``: a frame whose input and parameters match the last one (cosine
  similarity ≥ the threshold) is not generated again; the last frame is returned.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import torch
import torch.nn.functional as F

from performer.generators.common import seed_noise

log = logging.getLogger(__name__)

# name -> (torch.compile backend, inductor mode)
COMPILE_MODES: dict[str, tuple[str, str | None]] = {
    "default": ("inductor", None),
    "max-autotune": ("inductor", "max-autotune-no-cudagraphs"),  # graphs are ours
    "eager": ("eager", None),  # dynamo only: cheap, for tests of recompilation
    "aot_eager": ("aot_eager", None),
}
Cfg = Literal["full", "self"]
MAX_SKIPS = 10  # a skipped frame's input is the same again: refresh now and then


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


@dataclass(frozen=True)
class Model:
    """What the fast path needs of a loaded model; the bench fills it with no pipeline."""

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


class _Graph:
    """A function of tensors captured as one CUDA graph; inputs are copied into its buffers."""

    def __init__(self, fn: Callable[..., Any], inputs: Sequence[torch.Tensor], pool: Any):
        self.inputs = [x.clone() for x in inputs]
        side = torch.cuda.Stream()
        side.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(side):  # warm on a side stream, as capture requires
            for _ in range(2):
                fn(*self.inputs)
        torch.cuda.current_stream().wait_stream(side)
        self.graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(self.graph, pool=pool):
            self.output = fn(*self.inputs)

    def __call__(self, *inputs: torch.Tensor) -> Any:
        for buffer, x in zip(self.inputs, inputs, strict=True):
            if x.data_ptr() != buffer.data_ptr():
                buffer.copy_(x, non_blocking=True)
        self.graph.replay()
        return self.output


class FastPath:
    """Renoise, UNet, guidance and x0 (``denoise``); decode to uint8 (``decode``)."""

    def __init__(self, model: Model, device: torch.device, dtype: torch.dtype, opts: FastOptions):
        if opts.cuda_graphs and device.type != "cuda":
            raise ValueError(f"cuda_graphs needs a CUDA device, not {device.type}")
        self.m, self.device, self.dtype, self.opts = model, device, dtype, opts
        self.cfg_batch = opts.cfg == "full" and model.w_dim is None
        for module in (model.unet, model.vae):
            module.to(memory_format=torch.channels_last)
        mode = opts.compile_mode()
        self._step: Callable[..., torch.Tensor] = self._step_eager
        self._decode: Callable[[torch.Tensor], torch.Tensor] = self._decode_eager
        if mode is not None:
            backend, inductor_mode = mode
            # dynamic=False: each batch shape its own static graph, never a dynamic one
            self._step = torch.compile(
                self._step_eager, backend=backend, mode=inductor_mode, dynamic=False
            )
            self._decode = torch.compile(
                self._decode_eager, backend=backend, mode=inductor_mode, dynamic=False
            )
        self._graphs: dict[tuple[Any, ...], _Graph] = {}
        self._built: set[tuple[int, bool]] = set()  # (batch, guided) variants made so far
        self._warm = False
        self._pool = torch.cuda.graph_pool_handle() if opts.cuda_graphs else None
        half = (model.w_dim or 2) // 2
        self._freqs = torch.exp(
            -math.log(10000.0) * torch.arange(half, dtype=torch.float32) / max(1, half - 1)
        ).to(device)
        self._noises: dict[tuple[int, float, int], torch.Tensor] = {}
        self._stream: torch.Tensor | None = None  # x0 of earlier frames still in flight
        self._host: torch.Tensor | None = None  # pinned output buffer (CUDA)
        self._copied = torch.cuda.Event() if device.type == "cuda" else None
        self._last: tuple[torch.Tensor, Any, torch.Tensor, np.ndarray] | None = None
        self._skips_in_a_row = 0
        self.skipped = 0

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
        for b, g in jobs:
            levels = [0.5 + 0.1 * i for i in range(b)]
            self._run_step(latents.expand(b, -1, -1, -1), levels, 1.0 if g else 0.0, None)
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
    def noise(self, seed: int, travel: float, k: int) -> torch.Tensor:
        key = (seed, travel, k)
        if key not in self._noises:
            if len(self._noises) >= 32:
                self._noises.clear()
            one = seed_noise(self.m.latent_shape, seed + 7919 * k, travel)
            self._noises[key] = one.to(self.device, self.dtype)
        return self._noises[key]

    def recall(self, latents: torch.Tensor, key: Any) -> tuple[torch.Tensor, np.ndarray] | None:
        """The last frame made (latents, picture) if this input and these parameters match
        the ones it was made from (cosine similarity ≥ ``similarity_skip``); else None."""
        threshold, last = self.opts.similarity_skip, self._last
        if threshold is None or last is None or last[1] != key:
            return None
        if self._skips_in_a_row >= MAX_SKIPS:
            self._skips_in_a_row = 0
            return None
        a, b = last[0].flatten().float(), latents.flatten().float()
        if float(F.cosine_similarity(a, b, dim=0)) < threshold:
            return None
        self._skips_in_a_row += 1
        self.skipped += 1
        return last[2], last[3]

    def remember(
        self, latents: torch.Tensor, key: Any, made: torch.Tensor, frame: np.ndarray
    ) -> None:
        if self.opts.similarity_skip is not None:
            self._last = (latents, key, made, frame)
            self._skips_in_a_row = 0

    def denoise(
        self,
        latents: torch.Tensor,
        levels: Sequence[float],
        noises: Sequence[torch.Tensor],
        embeds: torch.Tensor,
        pooled: torch.Tensor | None,
        guidance: float,
    ) -> torch.Tensor:
        """The clean latents after ``levels``; with stream batching, those of an earlier frame."""
        if self.opts.stream_batch and len(levels) > 1:
            return self._stream_step(latents, levels, noises, embeds, pooled, guidance)
        self._stream = None
        for level, noise in zip(levels, noises, strict=True):
            latents = self._run_step(latents, [level], guidance, (noise, embeds, pooled))
        # a graph's output is overwritten by its next replay; the frame keeps its own
        return latents.clone() if self.opts.cuda_graphs else latents

    def _stream_step(
        self,
        latents: torch.Tensor,
        levels: Sequence[float],
        noises: Sequence[torch.Tensor],
        embeds: torch.Tensor,
        pooled: torch.Tensor | None,
        guidance: float,
    ) -> torch.Tensor:
        k = len(levels)
        if self._stream is None or self._stream.shape[0] != k - 1:
            self._stream = latents.expand(k - 1, -1, -1, -1).clone()
        batch = torch.cat([latents, self._stream])
        x0 = self._run_step(batch, levels, guidance, (torch.cat(list(noises)), embeds, pooled))
        self._stream = x0[:-1].clone()
        return x0[-1:].clone()

    def reset(self) -> None:
        self._stream = None  # the similarity memory stays: an input seen before is one

    def _run_step(
        self,
        latents: torch.Tensor,
        levels: Sequence[float],
        guidance: float,
        inputs: tuple[torch.Tensor, torch.Tensor, torch.Tensor | None] | None,
    ) -> torch.Tensor:
        b = latents.shape[0]
        ts = [round(level * (len(self.m.alphas) - 1)) for level in levels]
        alphas = self.m.alphas[ts]
        g = [guidance] * b
        params = torch.tensor([ts, alphas.sqrt().tolist(), (1 - alphas).sqrt().tolist(), g])
        if inputs is None:  # warm-up: any values of the right shapes
            noise = torch.zeros_like(latents)
            # copies: dynamo would guard on a frame's embeddings *being* the uncond ones
            embeds = self.m.uncond.clone()
            pooled = None if self.m.uncond_pooled is None else self.m.uncond_pooled.clone()
        else:
            noise, embeds, pooled = inputs
        args = [
            latents.contiguous(memory_format=torch.channels_last),
            noise.expand(b, -1, -1, -1).contiguous(memory_format=torch.channels_last),
            params.to(self.device, non_blocking=True),
            embeds.to(self.dtype),
        ]
        if pooled is not None:
            args.append(pooled.to(self.dtype))
        guided = self.cfg_batch and guidance > 0
        if (b, guided) not in self._built:
            self._built.add((b, guided))
            if self._warm and (self.opts.compile or self.opts.cuda_graphs):
                log.warning("building the frame path for a batch of %d mid-performance", b)
        if not self.opts.cuda_graphs:
            return self._step(*args, guided=guided)
        key = ("step", b, guided)
        if key not in self._graphs:
            step = self._step

            def fn(*xs: torch.Tensor) -> torch.Tensor:
                return step(*xs, guided=guided)

            self._graphs[key] = _Graph(fn, args, self._pool)
        out: torch.Tensor = self._graphs[key](*args)
        return out

    def _step_eager(
        self,
        latents: torch.Tensor,
        noise: torch.Tensor,
        params: torch.Tensor,
        embeds: torch.Tensor,
        pooled: torch.Tensor | None = None,
        *,
        guided: bool,
    ) -> torch.Tensor:
        """One denoising step for a batch; ``params`` rows: t, √ᾱ, √(1-ᾱ), guidance."""
        m, b = self.m, latents.shape[0]
        t, sa, s1a, g = params.unbind(0)
        sa4, s1a4, g4 = (v.view(-1, 1, 1, 1).to(self.dtype) for v in (sa, s1a, g))
        x = sa4 * latents + s1a4 * noise
        embeds = embeds.expand(b, -1, -1)
        kwargs: dict[str, Any] = {}
        if m.w_dim is not None:
            angles = (g[:, None] * 1000.0) * self._freqs[None]
            w = torch.cat([torch.sin(angles), torch.cos(angles)], dim=1)
            kwargs["timestep_cond"] = F.pad(w, (0, m.w_dim % 2)).to(self.dtype)
        if pooled is not None:
            pooled = pooled.expand(b, -1)
        x_in = x
        if guided:
            x_in, t = torch.cat([x, x]), torch.cat([t, t])
            embeds = torch.cat([m.uncond.to(self.dtype).expand(b, -1, -1), embeds])
            if pooled is not None and m.uncond_pooled is not None:
                pooled = torch.cat([m.uncond_pooled.to(self.dtype).expand(b, -1), pooled])
        if m.time_ids is not None:
            assert pooled is not None
            kwargs["added_cond_kwargs"] = {
                "text_embeds": pooled,
                "time_ids": m.time_ids.to(self.dtype).expand(x_in.shape[0], -1),
            }
        out = m.unet(x_in, t, encoder_hidden_states=embeds, return_dict=False, **kwargs)[0]
        if guided:
            uncond, cond = out.chunk(2)
            out = cond + g4 * (cond - uncond)
        if self.opts.cfg == "self" and m.w_dim is None:
            eps = self._to_eps(out, x, sa4, s1a4)
            return (x - s1a4 * (eps + g4 * (eps - noise))) / sa4
        if m.prediction == "v_prediction":
            return sa4 * x - s1a4 * out
        if m.prediction == "sample":
            return out
        return (x - s1a4 * out) / sa4

    def _to_eps(
        self, out: torch.Tensor, x: torch.Tensor, sa: torch.Tensor, s1a: torch.Tensor
    ) -> torch.Tensor:
        if self.m.prediction == "v_prediction":
            return sa * out + s1a * x
        if self.m.prediction == "sample":
            return (x - sa * out) / s1a
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
        x = latents.contiguous(memory_format=torch.channels_last)
        if not self.opts.cuda_graphs:
            return self._decode(x)
        key = ("decode",)
        if key not in self._graphs:
            self._graphs[key] = _Graph(self._decode, [x], self._pool)
        out: torch.Tensor = self._graphs[key](x)
        return out

    def _decode_eager(self, latents: torch.Tensor) -> torch.Tensor:
        image = self.m.vae.decode(latents / self.m.latent_scale, return_dict=False)[0]
        image = ((image[0].float().clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)
        return image.permute(1, 2, 0).contiguous()
