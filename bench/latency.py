"""Knob to photon: from an OSC message arriving to the first displayed frame that shows it.

    .venv/bin/python bench/latency.py --tiny                       # CPU, tiny model
    .venv/bin/python bench/latency.py --random sd-turbo --compile default --cuda-graphs

The whole instrument runs as in ``performer play --headless``: a session with the
generator on its own thread, the OSC server on 127.0.0.1, and the display loop on an
EGL context (``Stage`` + ``Compositor``) drawing at ``--fps``. A client sends
``/performer/seed`` with a new value at a random moment within a frame, stamped with
``perf_counter``; the display loop finds the first frame it draws (and ``finish()``es)
whose parameter snapshot carries that seed. Reported: p50/p99 in ms and in generated
frames (latency over the mean interval between generated frames). Crossfade is 0, so
"shows it" means the whole picture (with stream batching: a frame each of whose steps
ran with the new seed).

``--random sd-turbo`` writes a real-size SD-Turbo pipeline with random weights (UNet
from ``bench/gpu_speed.py``'s config, TAESD, a one-layer text encoder) to a temporary
folder and loads it through the generator's own loading code.
"""

from __future__ import annotations

import argparse
import importlib
import json
import random
import socket
import statistics
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import torch
from performer.control.osc import OscRouter, encode
from performer.control.osc_server import OscServer

from performer import patch
from performer.frames import Frame
from performer.generators.diffusion import DiffusersGenerator
from performer.live import Stage
from performer.session import Session

try:
    from bench.frame_times import percentile
except ModuleNotFoundError:  # run as a script: bench/ itself is on the path
    from frame_times import percentile  # type: ignore[no-redef]


def write_random_sd_turbo(folder: Path) -> tuple[Path, Path]:
    """A real-size SD-Turbo pipeline (random weights, bf16) and TAESD, saved to ``folder``."""
    try:
        speed = importlib.import_module("bench.gpu_speed")
    except ModuleNotFoundError:  # run as a script: bench/ itself is on the path
        speed = importlib.import_module("gpu_speed")
    dtype = torch.bfloat16
    unet, vae = speed.build("sd-turbo", False, torch.device("cpu"), dtype)
    pipe = speed.sd_pipeline(unet, vae, torch.device("cpu"), dtype)
    pipe.save_pretrained(folder / "pipe")
    vae.save_pretrained(folder / "taesd")
    return folder / "pipe", folder / "taesd"


def tiny_folders(folder: Path) -> tuple[Path, Path]:
    from performer.generators.tiny import save_tiny_pipeline, save_tiny_vae

    return save_tiny_pipeline(folder / "pipe", "sd"), save_tiny_vae(folder / "taesd")


def measure(
    session: Session, stage: Stage, args: argparse.Namespace
) -> tuple[list[tuple[float, int]], list[float]]:
    """(seconds, frames finished since) from each seed change sent to its first display;
    and how long each generated frame took."""
    done: dict[int, int] = {}  # frame number -> seed it was made with
    first: dict[int, int] = {}  # seed -> number of the first frame made with it
    # a stream-batched frame started k - 1 calls before it finished: the first one made
    # wholly with the new seed comes k - 1 frames after the first one touched by it
    lag = args.steps - 1 if args.stream_batch else 0
    took: list[float] = []
    lock = threading.Lock()

    def seen(frame: Frame, _ticks: list[Any]) -> None:
        with lock:
            done[frame.number] = frame.snapshot["seed"]
            first.setdefault(frame.snapshot["seed"], frame.number)
            took.append(frame.seconds)

    session.subscribe(seen)
    server = OscServer(OscRouter(session.inbox, session.clock, session.store), port=0)
    server.start()
    client = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    rng = random.Random(0)
    period = 1.0 / (args.fps or 60)  # --fps 0: draw each new frame at once (no vsync)
    results: list[tuple[float, int]] = []
    session.start()
    try:
        while session.latest() is None:
            time.sleep(0.01)
        next_draw = time.perf_counter()
        for i in range(args.warmup + args.changes):
            seed = 1000 + i
            # send at a random moment in the frame, as a performer's hand would
            send_at = time.perf_counter() + rng.uniform(0.0, 2.0 * period)
            sent, latest = 0.0, None
            while True:
                now = time.perf_counter()
                if not sent and now >= send_at:
                    latest = session.latest()
                    sent = time.perf_counter()
                    client.sendto(encode("/performer/seed", seed), server.address)
                if args.fps:
                    if now < next_draw:
                        time.sleep(min(0.002, next_draw - now))
                        continue
                    next_draw = max(next_draw + period, now)
                else:
                    newest = session.latest()
                    if newest is None or newest.number == stage._shown:
                        time.sleep(0.0005)
                        continue
                stage.draw(session.clock.now())
                stage.surface.ctx.finish()  # the picture is in the framebuffer: the "photon"
                shown = stage._shown
                with lock:
                    whole = done.get(shown) == seed and shown - first[seed] >= lag
                if sent and whole:
                    photon = time.perf_counter()
                    assert latest is not None
                    if i >= args.warmup:
                        results.append((photon - sent, shown - latest.number))
                    break
                if sent and time.perf_counter() - sent > 30:
                    raise RuntimeError(f"seed {seed} never reached the display")
    finally:
        session.stop()
        server.stop()
        client.close()
    return results, took


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--tiny", action="store_true", help="tiny random model (CPU)")
    source.add_argument("--random", choices=["sd-turbo"], help="real-size, random weights")
    source.add_argument("--model", help="a model folder or id (real weights)")
    parser.add_argument("--tiny-vae", help="TAESD folder for --model")
    parser.add_argument("--size", type=int, default=None, help="square (tiny: 64, else 512)")
    parser.add_argument("--changes", type=int, default=100, help="seed changes measured")
    parser.add_argument("--warmup", type=int, default=5, help="seed changes not measured")
    parser.add_argument(
        "--fps", type=int, default=60, help="display rate (0: draw each new frame at once)"
    )
    parser.add_argument("--steps", type=int, default=1)
    parser.add_argument("--compile", default=None, help="fast-path compile mode")
    parser.add_argument("--cuda-graphs", action="store_true")
    parser.add_argument("--stream-batch", action="store_true")
    parser.add_argument("--device", default=None)
    parser.add_argument("--threads", type=int, help="CPU threads (default: torch's; --tiny: 1)")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    from diffusers.utils import logging as diffusers_logging

    diffusers_logging.set_verbosity_error()
    before = torch.get_num_threads()
    if args.threads or args.tiny:
        torch.set_num_threads(args.threads or 1)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            return run(args, Path(tmp))
    finally:
        torch.set_num_threads(before)


def run(args: argparse.Namespace, tmp: Path) -> int:
    from performer.render.headless import Headless

    size = args.size or (64 if args.tiny else 512)
    if args.model:
        model, taesd = args.model, args.tiny_vae
    else:
        folders = tiny_folders(tmp) if args.tiny else write_random_sd_turbo(tmp)
        model, taesd = str(folders[0]), str(folders[1])
    generator = DiffusersGenerator(
        model,
        tiny_vae=taesd,
        device=args.device or ("cpu" if args.tiny else None),
        compile=args.compile or False,
        cuda_graphs=args.cuda_graphs,
        stream_batch=args.stream_batch,
        warm_steps=(args.steps,),
    )
    overrides = {"width": size, "height": size, "steps": args.steps, "timestep": 0.6}
    session = Session(patch.loads("[params]\ncrossfade = 0.0\n"), generator, overrides=overrides)
    session.prepare()
    with Headless(size, size) as surface:
        stage = Stage(session, surface, fps=args.fps)
        try:
            results, took = measure(session, stage, args)
        finally:
            stage.close()
    session.close()
    seconds = [r[0] for r in results]
    counted = [float(r[1]) for r in results]
    frame_s = statistics.median(took)
    in_frames = [s / frame_s for s in seconds]
    gpu = torch.cuda.get_device_name() if torch.cuda.is_available() else "CPU"
    print(
        f"# {gpu}, torch {torch.__version__}, {time.strftime('%Y-%m-%d %H:%M %Z')}\n"
        f"# {generator.identity} {size}² steps {args.steps} compile={args.compile} "
        f"cuda_graphs={args.cuda_graphs} stream_batch={args.stream_batch}; "
        f"display {f'{args.fps} Hz' if args.fps else 'on each new frame'}\n"
        f"knob to photon over {len(seconds)} seed changes: "
        f"p50 {1e3 * statistics.median(seconds):.1f} ms, "
        f"p99 {1e3 * percentile(seconds, 0.99):.1f} ms (max {1e3 * max(seconds):.1f} ms)\n"
        f"in generated frames ({1e3 * frame_s:.1f} ms each, median): "
        f"p50 {statistics.median(in_frames):.2f}, p99 {percentile(in_frames, 0.99):.2f}\n"
        f"frames finished from the send to the one shown (that one included): "
        f"p50 {statistics.median(counted):g}, p99 {percentile(counted, 0.99):g}"
    )
    if args.json:
        figures = {
            "model": args.model or args.random or "tiny",
            "size": size,
            "steps": args.steps,
            "display_hz": args.fps,
            "p50_ms": 1e3 * statistics.median(seconds),
            "p99_ms": 1e3 * percentile(seconds, 0.99),
            "p50_frames": statistics.median(in_frames),
            "p99_frames": percentile(in_frames, 0.99),
            "frame_ms": 1e3 * frame_s,
        }
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"latency": figures}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
