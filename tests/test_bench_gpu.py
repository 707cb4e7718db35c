"""The speed benches on tiny models on the CPU: gpu_speed.py (and its real-size configs,
its ControlNets and live LoRA), latency.py (knob to photon, headless EGL), and the GPU
run's script and results (gpu_check.sh, gpu_results.py)."""

from __future__ import annotations

import argparse
import importlib.util
import json
import math
import re
from dataclasses import replace
from pathlib import Path

import pytest
import torch

from bench import gpu_conditioning, gpu_results, gpu_speed
from performer.generators.fastpath import FastOptions, FastPath
from performer.generators.lora import LoraLayer
from performer.generators.prompts import Conditioning

SCRIPT = Path(__file__).parent.parent / "bench" / "gpu_check.sh"


def test_real_configs_have_the_real_parameter_counts() -> None:
    # SD 2.1 / SD-Turbo UNet 865.9 M, SDXL UNet 2567.5 M (built on the meta device)
    assert round(gpu_speed.parameters(gpu_speed.SD21_UNET) / 1e6, 1) == 865.9
    assert round(gpu_speed.parameters(gpu_speed.SDXL_UNET) / 1e6, 1) == 2567.5


def test_each_controlnet_adds_its_flops_to_a_frame() -> None:
    # SD-Turbo 512², 1 step: 0.946 TFLOP plain; a ControlNet (364 M, from the UNet) 0.284
    plain, one, two = (gpu_speed.frame_flops("sd-turbo", False, 512, 1, n) for n in (0, 1, 2))
    assert round(plain / 1e12, 3) == 0.946
    assert round((one - plain) / 1e12, 3) == round((two - one) / 1e12, 3) == 0.284


def test_the_bench_lora_wraps_every_attention_projection_and_sweeps_one_weight() -> None:
    unet, _ = gpu_speed.build("sd-turbo", True, torch.device("cpu"), torch.float32)
    extras = gpu_speed.extras_for(
        unet, argparse.Namespace(controlnets=1, lora_rank=4), torch.float32
    )
    layers = [m for m in unet.modules() if isinstance(m, LoraLayer)]
    # 4 transformer blocks (1 down, 1 mid, 2 up) × 2 attentions × q, k, v, out
    assert len(layers) == 32
    assert len(extras.nets) == 1 and extras.mode("img2img") == "img2img+controlnet+lora"
    weight = extras.lora.weights[gpu_conditioning.LORA_NAME]
    assert all(layer.weights == [weight] for layer in layers)
    seen = []
    for _ in range(4):
        extras.sweep()
        seen.append(float(weight))
    assert seen == pytest.approx([1 - math.cos(0.2 * i) for i in range(4)], abs=1e-6)


def test_gpu_check_gathers_every_stage_json_and_row_e_fits_its_budget() -> None:
    text = SCRIPT.read_text(encoding="utf-8")
    written = set(re.findall(r'--json "\$WORK/(\w+)\.json"', text))
    gather = next(line for line in text.splitlines() if line.startswith("$PY bench/gpu_results"))
    globs = re.findall(r'"\$WORK"/(\S+)\.json', gather)
    assert written and all(any(Path(f).match(g) for g in globs) for f in written), globs
    budgets = [int(b) for b in re.findall(r"^stage e\S* (\d+) ", text, re.M)]
    assert len(budgets) == 4 and sum(budgets) <= 90


def test_results_gather_preprocessor_timings(tmp_path: Path) -> None:
    row = {"model": "sd-turbo", "size": 32, "steps": 1, "mode": "img2img+lora"}
    row |= {"runner": "fast", "fps": 50.0, "p50_ms": 20.0, "p99_ms": 25.0, "peak_share": None}
    pre = {"preprocessor": "canny", "size": 512, "device": "cuda", "p50_ms": 0.5, "p99_ms": 0.7}
    (tmp_path / "e.json").write_text(json.dumps([row]))
    (tmp_path / "p.json").write_text(json.dumps({"preprocess": [pre]}))
    found = gpu_results.collect([tmp_path / "e.json", tmp_path / "p.json", tmp_path / "gone.json"])
    assert found["rows"] == [{k: row[k] for k in gpu_results.ROW_KEYS}]
    assert found["preprocess"] == [pre]
    results = {"device": "X", "torch": "2", "date": "d", "command": "c", **found, "ratios": []}
    assert "| canny | 512² | cuda | 0.50 | 0.70 |" in gpu_results.table(results)
    assert "| img2img+lora | fast |" in gpu_results.table(results)


@pytest.mark.slow
def test_tiny_bench_prints_every_row(capsys: pytest.CaptureFixture[str]) -> None:
    args = ["--tiny", "--frames", "3", "--warmup", "1", "--quiet", "--stream"]
    if importlib.util.find_spec("streamdiffusion") is not None:
        args.append("--streamdiffusion")
    assert gpu_speed.main([*args, "--size", "32"]) == 0
    out = capsys.readouterr().out
    rows = [line for line in out.splitlines() if " fps " in line and "ratio" not in line]
    # 2 models × (eager, fast: 2 steps × 2 modes; stream: 2 steps only × 2 modes)
    ours = [r for r in rows if "streamdiffusion" not in r]
    assert len(ours) == 2 * (4 + 4 + 2), out
    assert all("p50" in r and "p99" in r and "TFLOP/frame" in r for r in rows)


@pytest.mark.slow
def test_tiny_bench_times_controlnets_and_a_sweeping_lora(tmp_path: Path) -> None:
    common = ["--tiny", "--frames", "2", "--warmup", "1", "--quiet", "--model", "sd-turbo"]
    common += ["--size", "32", "--steps", "1", "--modes", "img2img", "--runners", "eager"]
    for extra, mode in (
        ("--controlnets 2", "img2img+2controlnets"),
        ("--lora-rank 4", "img2img+lora"),
    ):
        out = tmp_path / f"{mode}.json"
        assert gpu_speed.main([*common, *extra.split(), "--json", str(out)]) == 0
        (row,) = json.loads(out.read_text())
        assert row["mode"] == mode and row["fps"] > 0 and row["p99_ms"] >= row["p50_ms"]


@pytest.mark.slow
def test_knob_to_photon_bench_runs_headless(
    tiny_models: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    from bench import latency

    args = ["--model", str(tiny_models["sd"]), "--size", "32", "--device", "cpu"]
    assert latency.main([*args, "--changes", "4", "--warmup", "1", "--threads", "1"]) == 0
    out = capsys.readouterr().out
    assert "knob to photon over 4 seed changes" in out, out
    assert "in generated frames" in out


def conditioned_steps(device: torch.device, opts: FastOptions) -> list[torch.Tensor]:
    """One step's latents from noise on the tiny SD-Turbo with 2 ControlNets and the
    bench's LoRA, at (LoRA weight, ControlNet strength) (0, 1), (2, 1), (0, 0), (0, 1):
    each set after the path is built, as a performer's knob turns come."""
    unet, vae = gpu_speed.build("sd-turbo", True, device, torch.float32)
    args = argparse.Namespace(controlnets=2, lora_rank=4)
    extras = gpu_speed.extras_for(unet, args, torch.float32)
    g = torch.Generator().manual_seed(5)
    for net in extras.nets:  # from_unet leaves its output convolutions zero: no effect
        for p in [*net.controlnet_down_blocks.parameters(), *net.controlnet_mid_block.parameters()]:
            p.data.copy_(torch.randn(p.shape, generator=g) * 0.1)
    m = gpu_speed.model_for("sd-turbo", True, unet, vae, 32, torch.float32)
    m = replace(m, controlnets=extras.nets)
    fast = FastPath(m, device, torch.float32, opts)
    cond = Conditioning(torch.randn(m.uncond.shape, generator=g).to(device), None)
    control, _ = extras.control(m.latent_shape, fast.scale, 1, device)
    out = []
    with torch.inference_mode():
        fast.warm_up([1], progress=False, guided_too=False)
        zeros = torch.zeros(m.latent_shape, device=device)
        for weight, strength in ((0.0, 1.0), (2.0, 1.0), (0.0, 0.0), (0.0, 1.0)):
            extras.lora.play({f"lora_{gpu_conditioning.LORA_NAME}": weight})
            inputs = fast.inputs(cond, 0.0, control, ((strength, strength),))
            latents = fast.denoise(zeros, [1.0], fast.noise(0, 0.0, 1), inputs)
            fast.decode(latents)
            out.append(latents.float().cpu())
    return out


def assert_follows_the_reference(made: list[torch.Tensor], reference: list[torch.Tensor]) -> None:
    def apart(a: torch.Tensor, b: torch.Tensor) -> float:
        return float((a - b).norm() / b.norm())

    assert all(apart(a, b) < 1e-2 for a, b in zip(made, reference, strict=True))
    assert apart(reference[1], reference[0]) > 0.02  # the LoRA's weight shows
    assert apart(reference[2], reference[0]) > 0.05  # and the ControlNets' strength
    assert apart(reference[3], reference[0]) == 0.0  # and both come back


@pytest.mark.slow
def test_a_traced_frame_path_follows_controlnets_and_a_live_lora() -> None:
    cpu = torch.device("cpu")
    reference = conditioned_steps(cpu, FastOptions())
    assert_follows_the_reference(conditioned_steps(cpu, FastOptions(compile="eager")), reference)


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_graphs_follow_controlnets_and_a_live_lora() -> None:
    # CUDA graphs with ControlNets had never run before the GPU run: caught here, tiny
    cuda = torch.device("cuda")
    reference = conditioned_steps(cuda, FastOptions())
    assert_follows_the_reference(conditioned_steps(cuda, FastOptions(cuda_graphs=True)), reference)
