"""Frames per second of the diffusers frame path on real-size random-weight models.

    .venv/bin/python bench/gpu_speed.py                      # on a GPU: everything
    .venv/bin/python bench/gpu_speed.py --model sd-turbo --size 512 --streamdiffusion
    .venv/bin/python bench/gpu_speed.py --tiny               # the same code, tiny, on CPU

Builds the SD-Turbo UNet (SD 2.1 architecture, 866 M parameters), the SDXL-Turbo UNet
and the TAESD decoder from their configs with random weights (no download, no text
encoders: random embeddings of the right shapes) and runs the generator's per-frame
path (``performer.generators.fastpath``, whose step is ``denoise.py``'s: noise, UNet
step(s), TAESD decode, copy to host) at each size, 1 and 2 steps, as txt2img (from
noise) and img2img feedback (on the previous frame); with ``--controlnets N`` and
``--lora-rank R`` the frame also carries N ControlNets or a sweeping live LoRA
(``gpu_conditioning.py``; rows "img2img+controlnet", "img2img+lora"). Prints fps, per-frame latency
p50/p99 and the share of the GPU's dense bf16 peak the model's FLOPs (counted on the
meta device) reach. With ``--streamdiffusion`` it runs StreamDiffusion (``pip install --no-deps
streamdiffusion``) on the same UNet and TAESD in the same process and prints the ratio.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from functools import cache
from pathlib import Path
from typing import Any

import torch

from performer.generators.denoise import Denoiser, Model
from performer.generators.fastpath import FastOptions, FastPath
from performer.generators.prompts import Conditioning

try:
    from bench import gpu_conditioning as conditioning
    from bench.frame_times import percentile, timed
except ModuleNotFoundError:  # run as a script: bench/ itself is on the path
    import gpu_conditioning as conditioning  # type: ignore[no-redef]
    from frame_times import percentile, timed  # type: ignore[no-redef]

# stabilityai/sd-turbo unet/config.json (the SD 2.1 UNet)
SD21_UNET: dict[str, Any] = {
    "sample_size": 64,
    "in_channels": 4,
    "out_channels": 4,
    "down_block_types": ["CrossAttnDownBlock2D"] * 3 + ["DownBlock2D"],
    "up_block_types": ["UpBlock2D"] + ["CrossAttnUpBlock2D"] * 3,
    "block_out_channels": [320, 640, 1280, 1280],
    "layers_per_block": 2,
    "attention_head_dim": [5, 10, 20, 20],
    "cross_attention_dim": 1024,
    "use_linear_projection": True,
    "norm_num_groups": 32,
}
# stabilityai/sdxl-turbo unet/config.json (the SDXL UNet)
SDXL_UNET: dict[str, Any] = {
    "sample_size": 64,
    "in_channels": 4,
    "out_channels": 4,
    "down_block_types": ["DownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D"],
    "up_block_types": ["CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "UpBlock2D"],
    "block_out_channels": [320, 640, 1280],
    "layers_per_block": 2,
    "attention_head_dim": [5, 10, 20],
    "transformer_layers_per_block": [1, 2, 10],
    "cross_attention_dim": 2048,
    "use_linear_projection": True,
    "addition_embed_type": "text_time",
    "addition_time_embed_dim": 256,
    "projection_class_embeddings_input_dim": 2816,
    "norm_num_groups": 32,
}
TAESD: dict[str, Any] = {}  # madebyollin/taesd is AutoencoderTiny's defaults

# the same code on tiny shapes (CPU, tests)
TINY_UNET: dict[str, Any] = {
    "sample_size": 8,
    "block_out_channels": [32, 64],
    "layers_per_block": 1,
    "down_block_types": ["DownBlock2D", "CrossAttnDownBlock2D"],
    "up_block_types": ["CrossAttnUpBlock2D", "UpBlock2D"],
    "attention_head_dim": [2, 4],
    "norm_num_groups": 16,
}
TINY_SD = {**TINY_UNET, "cross_attention_dim": 32}
TINY_XL = {
    **TINY_UNET,
    "cross_attention_dim": 64,
    "addition_embed_type": "text_time",
    "addition_time_embed_dim": 8,
    "projection_class_embeddings_input_dim": 32 + 6 * 8,
}
TINY_TAESD: dict[str, Any] = {
    "encoder_block_out_channels": [16, 16, 16, 16],
    "decoder_block_out_channels": [16, 16, 16, 16],
    "num_encoder_blocks": [1, 1, 1, 1],
    "num_decoder_blocks": [1, 1, 1, 1],
}

# name -> (UNet config, TAESD config, pooled embedding size or None)
MODELS: dict[str, tuple[dict[str, Any], dict[str, Any], int | None]] = {
    "sd-turbo": (SD21_UNET, TAESD, None),
    "sdxl-turbo": (SDXL_UNET, TAESD, 1280),
}
TINY_MODELS: dict[str, tuple[dict[str, Any], dict[str, Any], int | None]] = {
    "sd-turbo": (TINY_SD, TINY_TAESD, None),
    "sdxl-turbo": (TINY_XL, TINY_TAESD, 32),
}
# dense bf16 TFLOP/s; the H100 figure is the one issue 8 states (PCIe ≈ 756, SXM ≈ 989)
PEAK_TFLOPS = {"H100": 790.0, "H200": 989.0}
VAE_SCALE = 8  # TAESD, like the SD VAE, decodes one latent pixel to 8×8


@dataclass
class Row:
    model: str
    size: int
    steps: int
    mode: str  # txt2img | img2img, with "+controlnet", "+2controlnets", "+lora" added
    runner: str  # ours: eager | fast | stream ; streamdiffusion
    fps: float
    p50_ms: float
    p99_ms: float
    tflop_per_frame: float
    peak_share: float | None


def build(name: str, tiny: bool, device: torch.device, dtype: torch.dtype) -> tuple[Any, Any]:
    from diffusers import AutoencoderTiny, UNet2DConditionModel

    unet_cfg, vae_cfg, _ = (TINY_MODELS if tiny else MODELS)[name]
    torch.manual_seed(0)
    with torch.device(device):  # random init straight on the device: seconds, not minutes
        unet: Any = UNet2DConditionModel(**unet_cfg)
        vae: Any = AutoencoderTiny(**vae_cfg)
    return unet.to(dtype).eval(), vae.to(dtype).eval()


def parameters(unet_cfg: dict[str, Any]) -> int:
    """Parameter count of a UNet config, built on the meta device (no memory, instant)."""
    from diffusers import UNet2DConditionModel

    with torch.device("meta"):
        unet: Any = UNet2DConditionModel(**unet_cfg)
    return sum(p.numel() for p in unet.parameters())


def model_for(name: str, tiny: bool, unet: Any, vae: Any, size: int, dtype: torch.dtype) -> Model:
    from diffusers import EulerDiscreteScheduler

    _, _, pooled_dim = (TINY_MODELS if tiny else MODELS)[name]
    device = next(unet.parameters()).device
    scale = VAE_SCALE if not tiny else 2 ** (len(vae.config.decoder_block_out_channels) - 1)
    latent = (1, 4, size // scale, size // scale)
    scheduler: Any = EulerDiscreteScheduler(
        beta_schedule="scaled_linear", beta_start=0.00085, beta_end=0.012, steps_offset=1
    )
    seq, dim = 77, unet.config.cross_attention_dim
    g = torch.Generator().manual_seed(1)
    return Model(
        unet=unet,
        vae=vae,
        alphas=scheduler.alphas_cumprod.to(torch.float32),
        prediction="epsilon",
        latent_scale=float(vae.config.scaling_factor),
        latent_shape=latent,
        uncond=torch.randn(1, seq, dim, generator=g).to(device, dtype),
        uncond_pooled=None
        if pooled_dim is None
        else torch.randn(1, pooled_dim, generator=g).to(device, dtype),
        time_ids=None
        if pooled_dim is None
        else torch.tensor([[size, size, 0, 0, size, size]], device=device, dtype=dtype),
    )


def frame_flops(name: str, tiny: bool, size: int, steps: int, controlnets: int = 0) -> float:
    """FLOPs of one frame ((UNet + ControlNets) × steps + TAESD decode), counted on the
    meta device; a LoRA's low-rank terms are not counted (a fraction of a percent)."""
    unet, decode = _flops(name, tiny, size, controlnets)
    return steps * unet + decode


@cache
def _flops(name: str, tiny: bool, size: int, controlnets: int) -> tuple[float, float]:
    from torch.utils.flop_counter import FlopCounterMode

    meta = torch.device("meta")
    unet, vae = build(name, tiny, meta, torch.float32)
    nets = conditioning.controlnets(unet, controlnets, torch.float32)
    m = replace(model_for(name, tiny, unet, vae, size, torch.float32), controlnets=nets)
    step = Denoiser(m, torch.float32, self_cfg=False).step
    x = torch.zeros(m.latent_shape, device=meta)
    params = torch.zeros(4, 1, device=meta)
    h, w = (VAE_SCALE * n for n in m.latent_shape[2:])
    control = torch.zeros(controlnets, 3, h, w, device=meta) if nets else None
    strength = torch.ones(1, controlnets, device=meta) if nets else None
    with FlopCounterMode(display=False) as counter:
        step(x, x, params, m.uncond, m.uncond_pooled, None, control, strength, guided=False)
    unet_flops = counter.get_total_flops()
    with FlopCounterMode(display=False) as counter:
        vae.decode(x, return_dict=False)
    return float(unet_flops), float(counter.get_total_flops())


def ours(fast: FastPath, m: Model, steps: int, mode: str, extras: Any) -> Callable[[], Any]:
    """One frame through the fast path, as the generator runs it (warp off, guidance 0),
    with ``extras``' ControlNets and sweeping LoRA, if any."""
    levels = [1.0 * (steps - i) / steps for i in range(steps)]  # txt2img: from pure noise
    if mode == "img2img":
        levels = [0.6 * (steps - i) / steps for i in range(steps)]
    state = {"latents": torch.zeros(m.latent_shape, device=m.uncond.device, dtype=m.uncond.dtype)}
    # a prompt's embeddings, as the generator hands them over (not the uncond tensor itself)
    pooled = None if m.uncond_pooled is None else torch.randn_like(m.uncond_pooled)
    cond = Conditioning(torch.randn_like(m.uncond), pooled)
    control, scales = extras.control(m.latent_shape, fast.scale, steps, m.uncond.device)

    def frame() -> Any:
        extras.sweep()
        src = state["latents"] if mode == "img2img" else torch.zeros_like(state["latents"])
        noise = fast.noise(0, 0.0, steps)
        inputs = fast.inputs(cond, 0.0, control, scales)
        state["latents"] = fast.denoise(src, levels, noise, inputs)
        return fast.decode(state["latents"])  # uint8 on the host

    return frame


class Results:
    """The rows as they come: printed, and written to ``--json`` after each one, so a
    run cut short by its time budget keeps what it measured."""

    def __init__(self, path: Path | None):
        self.rows: list[Row] = []
        self.path = path
        self.failed = 0  # runners that raised

    def add(self, r: Row) -> None:
        self.rows.append(r)
        print(line(r), flush=True)
        if self.path:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.path.write_text(json.dumps([asdict(r) for r in self.rows], indent=1))


def extras_for(unet: Any, args: argparse.Namespace, dtype: torch.dtype) -> Any:
    """The ControlNets (made from the plain UNet) and then the LoRA (wrapped into it)."""
    nets = conditioning.controlnets(unet, args.controlnets, dtype)
    lora = None
    if args.lora_rank:
        with tempfile.TemporaryDirectory() as folder:  # read once, into the UNet
            xl = unet.config.addition_embed_type == "text_time"
            lora = conditioning.live_lora(unet, args.lora_rank, Path(folder), xl)
    return conditioning.Extras(nets, lora)


def run_ours(
    name: str,
    args: argparse.Namespace,
    device: torch.device,
    dtype: torch.dtype,
    peak: float | None,
    results: Results,
) -> tuple[Any, Any]:
    unet, vae = build(name, args.tiny, device, dtype)
    extras = extras_for(unet, args, dtype)
    runners = args.runners or ["eager", "fast"] + (["stream"] if args.stream else [])
    for size in args.size:
        m = replace(model_for(name, args.tiny, unet, vae, size, dtype), controlnets=extras.nets)
        for runner in runners:
            try:
                time_runner(name, size, runner, m, extras, args, device, dtype, peak, results)
            except RuntimeError:  # logged whole, and the next runner still runs
                traceback.print_exc()
                print(f"# FAILED: {name} {size}² {runner} (traceback above)", flush=True)
                results.failed += 1
    return unet, vae


def time_runner(
    name: str,
    size: int,
    runner: str,
    m: Model,
    extras: Any,
    args: argparse.Namespace,
    device: torch.device,
    dtype: torch.dtype,
    peak: float | None,
    results: Results,
) -> None:
    opts = FastOptions()
    if runner != "eager":
        opts = FastOptions(
            compile=False if runner == "graphs" else args.compile or False,
            cuda_graphs=device.type == "cuda" and not args.no_cuda_graphs,
            stream_batch=runner == "stream",
            stream_steps=tuple(args.steps),
        )
    fast = FastPath(m, device, dtype, opts)
    with torch.inference_mode():
        fast.warm_up(args.steps, progress=not args.quiet, guided_too=False)
        graphs = compiled_graphs()
        for steps in args.steps:
            if runner == "stream" and steps == 1:
                continue  # a batch of one: the same as "fast"
            # a stream call of k holds k UNet samples: a k-step frame's FLOPs
            flops = frame_flops(name, args.tiny, size, steps, len(extras.nets))
            for mode in args.modes:
                frame = ours(fast, m, steps, mode, extras)
                timed(frame, args.warmup, lambda: None)
                seconds = timed(frame, args.frames, lambda: None)
                results.add(row(name, size, steps, extras.mode(mode), runner, seconds, flops, peak))
    if compiled_graphs() != graphs:  # the timed frames must run what warm-up built
        print(f"# WARNING: {compiled_graphs() - graphs} graphs compiled while timing")


def compiled_graphs() -> int:
    from torch._dynamo.utils import counters

    return int(counters["stats"]["unique_graphs"])


def row(
    name: str,
    size: int,
    steps: int,
    mode: str,
    runner: str,
    seconds: list[float],
    flops: float,
    peak: float | None,
) -> Row:
    fps = len(seconds) / sum(seconds)
    share = None if peak is None or flops == 0 else flops * fps / (peak * 1e12)
    return Row(
        name,
        size,
        steps,
        mode,
        runner,
        fps,
        1e3 * statistics.median(seconds),
        1e3 * percentile(seconds, 0.99),
        flops / 1e12,
        share,
    )


def line(r: Row) -> str:
    share = "" if r.peak_share is None else f"  {100 * r.peak_share:5.1f}% of peak"
    return (
        f"{r.model:<11} {r.size:>5}² {r.steps} step  {r.mode:<8} {r.runner:<15} "
        f"{r.fps:8.1f} fps  p50 {r.p50_ms:7.2f} ms  p99 {r.p99_ms:7.2f} ms  "
        f"{r.tflop_per_frame:.3g} TFLOP/frame{share}"
    )


def run_streamdiffusion(
    unet: Any,
    vae: Any,
    args: argparse.Namespace,
    device: torch.device,
    dtype: torch.dtype,
    peak: float | None,
    results: Results,
) -> None:
    """StreamDiffusion 0.1.1's own pipeline on the same UNet and TAESD (SD-Turbo only)."""
    from streamdiffusion import StreamDiffusion

    for module in (unet, vae):  # as StreamDiffusion finds them, not as our path left them
        module.to(memory_format=torch.contiguous_format)
    pipe = sd_pipeline(unet, vae, device, dtype)
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    for size in args.size:
        for steps in args.steps:
            # indices into a 50-step LCM schedule; strength is irrelevant to speed
            t_index = [32, 45][:steps] if steps <= 2 else list(range(0, 50, 50 // steps))[:steps]
            stream = StreamDiffusion(
                pipe, t_index, torch_dtype=dtype, width=size, height=size, cfg_type="none"
            )
            stream.prepare("a street", num_inference_steps=50, guidance_scale=1.0)
            image = torch.rand(1, 3, size, size, device=device, dtype=dtype)
            flops = frame_flops("sd-turbo", args.tiny, size, steps)
            calls = {"txt2img": stream.txt2img}
            if device.type == "cuda":  # its __call__ times itself with CUDA events
                calls["img2img"] = lambda s=stream, i=image: s(i)
            for mode, call in calls.items():
                with torch.inference_mode():
                    timed(call, args.warmup, sync)
                    seconds = timed(call, args.frames, sync)
                results.add(
                    row("sd-turbo", size, steps, mode, "streamdiffusion", seconds, flops, peak)
                )


def sd_pipeline(unet: Any, vae: Any, device: torch.device, dtype: torch.dtype) -> Any:
    """A StableDiffusionPipeline around the same UNet and TAESD; a 1-layer random text
    encoder of the UNet's width feeds StreamDiffusion's prepare() (not timed)."""
    from diffusers import EulerDiscreteScheduler, StableDiffusionPipeline
    from transformers import CLIPTextConfig, CLIPTextModel

    from performer.generators.tiny import _tokenizer

    dim = unet.config.cross_attention_dim
    text = CLIPTextModel(
        CLIPTextConfig(
            vocab_size=100,
            hidden_size=dim,
            intermediate_size=dim,
            num_hidden_layers=1,
            num_attention_heads=max(1, dim // 64),
            max_position_embeddings=77,
            bos_token_id=0,
            eos_token_id=1,
            pad_token_id=1,
        )
    )
    scheduler = EulerDiscreteScheduler(
        beta_schedule="scaled_linear", beta_start=0.00085, beta_end=0.012, steps_offset=1
    )
    pipe: Any = StableDiffusionPipeline(
        vae=vae,
        unet=unet,
        scheduler=scheduler,
        text_encoder=text,
        tokenizer=_tokenizer(),
        safety_checker=None,
        feature_extractor=None,
        requires_safety_checker=False,
    )
    return pipe.to(device=device, dtype=dtype)


def ratio_lines(rows: list[Row]) -> list[str]:
    """Ours over StreamDiffusion at each size/steps/mode (its default batches the steps, as
    our "stream" runner does; "fast" runs them one after another)."""
    out = []
    for theirs in (r for r in rows if r.runner == "streamdiffusion"):
        for mine in rows:
            same = (mine.model, mine.size, mine.steps, mine.mode) == (
                theirs.model,
                theirs.size,
                theirs.steps,
                theirs.mode,
            )
            if not same or mine.runner not in ("fast", "stream"):
                continue
            goal = "  (goal ≥ 1.5×)" if (theirs.size, theirs.steps) == (512, 1) else ""
            out.append(
                f"ratio {theirs.model} {theirs.size}² {theirs.steps} step {theirs.mode} "
                f"{mine.runner}: {mine.fps / theirs.fps:.2f}× StreamDiffusion "
                f"({mine.fps:.1f} vs {theirs.fps:.1f} fps){goal}"
            )
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tiny", action="store_true", help="tiny configs (CPU, tests)")
    parser.add_argument("--model", nargs="+", choices=list(MODELS), default=list(MODELS))
    parser.add_argument("--size", nargs="+", type=int, help="square sizes (default 512 1024)")
    parser.add_argument("--steps", nargs="+", type=int, default=[1, 2])
    parser.add_argument("--frames", type=int, default=200, help="timed frames per row")
    parser.add_argument("--warmup", type=int, default=20, help="untimed frames per row")
    parser.add_argument(
        "--compile", default=None, help="fast-path compile mode (default, max-autotune, eager)"
    )
    parser.add_argument("--no-cuda-graphs", action="store_true")
    parser.add_argument("--stream", action="store_true", help="also time stream batching")
    parser.add_argument(
        "--runners",
        nargs="+",
        choices=["eager", "graphs", "fast", "stream"],
        help="which of ours to time (default: eager fast, and stream with --stream); "
        "graphs: CUDA graphs without compile, fast: compile and CUDA graphs",
    )
    parser.add_argument("--streamdiffusion", action="store_true", help="compare (SD-Turbo)")
    parser.add_argument(
        "--modes", nargs="+", choices=["txt2img", "img2img"], default=["txt2img", "img2img"]
    )
    parser.add_argument(
        "--controlnets", type=int, default=0, help="N ControlNets on each frame (from the UNet)"
    )
    parser.add_argument(
        "--lora-rank", type=int, default=0, help="a random LoRA of this rank, sweeping live"
    )
    parser.add_argument("--dtype", default=None, help="bfloat16, float16 or float32")
    parser.add_argument("--peak-tflops", type=float, help="the device's dense peak")
    parser.add_argument("--json", type=Path, help="write the rows here")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    parser.add_argument("--threads", type=int, help="CPU threads (default: torch's; --tiny: 1)")
    args = parser.parse_args(argv)
    if args.controlnets < 0 or args.lora_rank < 0:
        parser.error("--controlnets and --lora-rank count: 0 or more")
    if args.streamdiffusion and (args.controlnets or args.lora_rank):
        parser.error("--streamdiffusion compares the plain frame: no --controlnets, --lora-rank")
    args.argv = sys.argv[1:] if argv is None else argv
    from diffusers.utils import logging as diffusers_logging

    diffusers_logging.set_verbosity_error()  # "modules to keep in float32": none here
    threads, before = args.threads or (1 if args.tiny else None), torch.get_num_threads()
    if threads:  # a shared small CPU stalls badly with OpenMP threads spinning on each other
        torch.set_num_threads(threads)
    try:
        return run(args)
    finally:
        torch.set_num_threads(before)


def run(args: argparse.Namespace) -> int:

    device = torch.device("cuda" if torch.cuda.is_available() and not args.tiny else "cpu")
    cuda = device.type == "cuda"
    dtype = getattr(torch, args.dtype) if args.dtype else torch.bfloat16 if cuda else torch.float32
    args.size = args.size or ([32, 64] if args.tiny else [512, 1024])
    if args.compile is None and cuda:
        args.compile = "default"
    name = torch.cuda.get_device_name(device) if cuda else "CPU"
    peak = args.peak_tflops or next((v for k, v in PEAK_TFLOPS.items() if k in name), None)
    print(
        f"# {name}, torch {torch.__version__}, {dtype}, {time.strftime('%Y-%m-%d %H:%M %Z')}\n"
        f"# {' '.join(['bench/gpu_speed.py', *args.argv])}\n"
        f"# fast: compile={args.compile} cuda_graphs={cuda and not args.no_cuda_graphs}; "
        f"peak {peak} TFLOP/s; {args.frames} frames/row after {args.warmup}; "
        f"{torch.get_num_threads()} CPU threads"
    )
    for model in args.model:
        cfg = (TINY_MODELS if args.tiny else MODELS)[model][0]
        print(f"# {model} UNet: {parameters(cfg) / 1e6:.1f} M parameters")
    if args.controlnets or args.lora_rank:
        print(f"# each frame: {args.controlnets} ControlNets, LoRA rank {args.lora_rank} sweeping")
    results = Results(args.json)
    for model in args.model:
        unet, vae = run_ours(model, args, device, dtype, peak, results)
        if args.streamdiffusion and model == "sd-turbo":
            try:
                run_streamdiffusion(unet, vae, args, device, dtype, peak, results)
            except ImportError as exc:
                print(
                    f"# StreamDiffusion not importable ({exc}): pip install --no-deps "
                    "streamdiffusion"
                )
        del unet, vae
        if cuda:
            torch.cuda.empty_cache()
    for text in ratio_lines(results.rows):
        print(text)
    return 1 if results.failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
