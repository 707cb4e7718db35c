"""The speed benches on tiny models on the CPU: gpu_speed.py (and its real-size configs)
and latency.py (knob to photon, headless EGL)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from bench import gpu_speed


def test_real_configs_have_the_real_parameter_counts() -> None:
    # SD 2.1 / SD-Turbo UNet 865.9 M, SDXL UNet 2567.5 M (built on the meta device)
    assert round(gpu_speed.parameters(gpu_speed.SD21_UNET) / 1e6, 1) == 865.9
    assert round(gpu_speed.parameters(gpu_speed.SDXL_UNET) / 1e6, 1) == 2567.5


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
def test_knob_to_photon_bench_runs_headless(
    tiny_models: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    from bench import latency

    args = ["--model", str(tiny_models["sd"]), "--size", "32", "--device", "cpu"]
    assert latency.main([*args, "--changes", "4", "--warmup", "1", "--threads", "1"]) == 0
    out = capsys.readouterr().out
    assert "knob to photon over 4 seed changes" in out, out
    assert "in generated frames" in out
