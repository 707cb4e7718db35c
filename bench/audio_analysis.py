"""Onsets and beat: the numpy analyser against librosa and Essentia, on known signals.

Two signals with known onsets and beats (44.1 kHz, so Essentia's rhythm extractor,
which assumes that rate, gets what it expects):

- clicks: short noise bursts at 120 BPM;
- drums: kick on the beat, hi-hat on the off-beat eighths, a bass note every bar and a
  little background noise, at 128 BPM.

For each: the cost per 512-sample hop when fed as a live stream would feed it (the
numpy analyser; librosa's onset strength on the newest frames plus its tempo and beat
tracker on the last 6 s every 0.25 s; Essentia's per-frame flux onset detection), and
the accuracy — onset F-measure within one hop, tempo, beat F-measure within 70 ms
after the first 5 s —
from the streaming numpy analyser and from each library's offline functions (its best
case: it sees the whole signal at once).

Run with the project's venv for numpy alone; librosa and Essentia are measured when
importable (they are not dependencies)::

    python -m venv /tmp/audbench && /tmp/audbench/bin/pip install librosa essentia
    PYTHONPATH=. /tmp/audbench/bin/python bench/audio_analysis.py
"""

from __future__ import annotations

import argparse
import functools
import importlib
import os
import platform
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import numpy as np
from performer.control.analysis import Analyzer

RATE = 44100
HOP = 512
N_FFT = 1024


def burst(length: int, rng: np.random.Generator, decay: float) -> np.ndarray:
    return rng.standard_normal(length) * np.exp(-np.arange(length) / (decay * RATE))


def clicks(seconds: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """Signal, onset times, beat times, tempo."""
    rng = np.random.default_rng(0)
    y = np.zeros(int(seconds * RATE))
    beats = np.arange(0.1, seconds - 0.1, 0.5)
    for t in beats:
        i = round(t * RATE)
        y[i : i + 64] += 0.5 * burst(64, rng, 0.0005)
    return y, beats, beats, 120.0


def drums(seconds: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    rng = np.random.default_rng(1)
    bpm = 128.0
    period = 60.0 / bpm
    y = 0.003 * rng.standard_normal(int(seconds * RATE))
    beats = np.arange(0.2, seconds - 0.5, period)
    hats = beats + period / 2
    kick_n = int(0.25 * RATE)
    k = np.arange(kick_n) / RATE
    kick = np.sin(2 * np.pi * (50 * k + 60 * (1 - np.exp(-k / 0.03)) * 0.03)) * np.exp(-k / 0.12)
    for t in beats:
        i = round(t * RATE)
        y[i : i + kick_n] += 0.6 * kick[: len(y) - i]
    for t in hats:
        i = round(t * RATE)
        n = min(int(0.05 * RATE), len(y) - i)
        hat = burst(n, rng, 0.01)
        y[i : i + n] += 0.15 * np.diff(hat, prepend=0.0)  # a crude high-pass: hiss, not thud
    for t in beats[::4]:
        i = round(t * RATE)
        n = min(int(period * 4 * RATE), len(y) - i)
        y[i : i + n] += 0.1 * np.sin(2 * np.pi * 55 * np.arange(n) / RATE)
    return y, np.sort(np.concatenate([beats, hats])), beats, bpm


def f_measure(found: np.ndarray, truth: np.ndarray, window: float) -> float:
    """Greedy one-to-one matching within ``window`` seconds (as mir_eval, near enough)."""
    used = np.zeros(len(truth), dtype=bool)
    hits = 0
    for t in np.sort(found):
        gaps = np.where(used, np.inf, np.abs(truth - t))
        if len(gaps) and gaps.min() <= window:
            used[int(np.argmin(gaps))] = True
            hits += 1
    if hits == 0:
        return 0.0
    precision, recall = hits / len(found), hits / len(truth)
    return 2 * precision * recall / (precision + recall)


def per_hop_ms(feed: Callable[[np.ndarray], None], y: np.ndarray) -> tuple[float, float]:
    """Median cost of a hop, and the mean extra cost of the hops that re-estimate the
    tempo (every 0.25 s from 3 s on), in milliseconds."""
    hops = len(y) // HOP
    costs = np.zeros(hops)
    for i in range(hops):
        start = time.perf_counter()
        feed(y[i * HOP : (i + 1) * HOP])
        costs[i] = time.perf_counter() - start
    every = round(0.25 * RATE / HOP)
    index = np.arange(1, hops + 1)
    tempo = (index % every == 0) & (index * HOP >= 3 * RATE)
    plain = float(np.median(costs[~tempo]))
    return plain * 1e3, (float(costs[tempo].mean()) - plain) * 1e3


# ------------------------------------------------------------------- numpy (ours)


def run_numpy(y: np.ndarray) -> dict[str, Any]:
    analyzer = Analyzer(RATE, HOP, n_fft=N_FFT)
    events: list[Any] = []
    clock = [0.0]

    def feed(block: np.ndarray) -> None:
        events.extend(analyzer.process(block, clock[0]))
        clock[0] += len(block) / RATE

    cost = per_hop_ms(feed, y)
    onsets = np.array([e.time for e in events if e.source == "audio:onset"])
    beats = np.array([e.time for e in events if e.source == "audio:beat"])
    return {"cost_ms": cost, "onsets": onsets, "beats": beats, "bpm": analyzer.bpm}


# ------------------------------------------------------------------------- librosa


def run_librosa(y: np.ndarray, lr: Any) -> dict[str, Any]:
    y32 = y.astype(np.float32)
    tempo_every = round(0.25 * RATE / HOP)
    env: list[float] = []
    recent = np.zeros(N_FFT + HOP, dtype=np.float32)

    def feed(block: np.ndarray) -> None:
        recent[:-HOP] = recent[HOP:]
        recent[-HOP:] = block
        strength = lr.onset.onset_strength(
            y=recent, sr=RATE, n_fft=N_FFT, hop_length=HOP, center=False
        )
        env.append(float(strength[-1]))
        if len(env) % tempo_every == 0 and len(env) * HOP >= 3 * RATE:
            window = np.asarray(env[-round(6 * RATE / HOP) :])
            lr.beat.beat_track(onset_envelope=window, sr=RATE, hop_length=HOP)

    feed(y32[:HOP])  # numba compiles on the first call: not a cost of a running show
    env.clear()
    cost = per_hop_ms(feed, y32)
    onsets = lr.onset.onset_detect(y=y32, sr=RATE, hop_length=HOP, units="time")
    tempo, beats = lr.beat.beat_track(y=y32, sr=RATE, hop_length=HOP, units="time")
    return {
        "cost_ms": cost,
        "onsets": onsets,
        "beats": beats,
        "bpm": float(np.atleast_1d(tempo)[0]),
    }


# ------------------------------------------------------------------------ Essentia


def run_essentia(y: np.ndarray, es: Any) -> dict[str, Any]:
    y32 = y.astype(np.float32)
    window = es.Windowing(type="hann", size=N_FFT)
    fft, polar = es.FFT(size=N_FFT), es.CartesianToPolar()
    flux = es.OnsetDetection(method="flux", sampleRate=RATE)
    recent = np.zeros(N_FFT, dtype=np.float32)

    def feed(block: np.ndarray) -> None:
        recent[:-HOP] = recent[HOP:]
        recent[-HOP:] = block
        magnitude, phase = polar(fft(window(recent)))
        flux(magnitude, phase)

    rhythm = es.RhythmExtractor2013(method="multifeature")
    start = time.perf_counter()
    for _ in range(3):  # live, it would re-run on the last 6 s a few times a second
        rhythm(y32[: 6 * RATE])
    cost = (per_hop_ms(feed, y32)[0], (time.perf_counter() - start) / 3 * 1e3)
    # Offline, Essentia's recipe: a flux detection function, then its Onsets peak picker.
    import essentia

    frames = es.FrameGenerator(y32, frameSize=N_FFT, hopSize=HOP, startFromZero=True)
    detection = []
    for frame in frames:
        magnitude, phase = polar(fft(window(frame)))
        detection.append(flux(magnitude, phase))
    matrix = essentia.array([detection])
    onsets = es.Onsets(frameRate=RATE / HOP)(matrix, [1])
    onsets = np.asarray(onsets) + N_FFT / 2 / RATE  # frame start → frame centre
    bpm, beats, *_ = rhythm(y32)
    return {"cost_ms": cost, "onsets": onsets, "beats": np.asarray(beats), "bpm": float(bpm)}


def _cpu() -> str:
    try:
        with open("/proc/cpuinfo") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:  # not Linux
        return platform.machine()
    return platform.machine()


def _with_library(
    runner: Callable[[np.ndarray, Any], dict[str, Any]], lib: Any, y: np.ndarray
) -> dict[str, Any]:
    return runner(y, lib)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=30.0)
    args = parser.parse_args()
    print(f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {_cpu()}, {os.cpu_count()} cores,")
    print(f"python {platform.python_version()}, numpy {np.__version__}, {RATE} Hz, hop {HOP}")
    runners: dict[str, Callable[[np.ndarray], dict[str, Any]]] = {"numpy (ours)": run_numpy}
    for module, name, runner in (
        ("librosa", "librosa", run_librosa),
        ("essentia.standard", "essentia", run_essentia),
    ):
        try:
            lib = importlib.import_module(module)
        except ImportError:
            print(f"{name}: not installed, skipped")
            continue
        version = importlib.import_module(name).__version__
        runners[f"{name} {version}"] = functools.partial(_with_library, runner, lib)
    hop_s = HOP / RATE
    header = (
        f"{'signal':7} {'analyser':22} {'ms/hop':>7} {'+tempo':>7} {'onset F':>8} {'BPM':>7} "
        f"{'beat F':>7}"
    )
    print(header)
    for signal_name, make in (("clicks", clicks), ("drums", drums)):
        y, onset_truth, beat_truth, bpm_truth = make(args.seconds)
        for name, run in runners.items():
            r = run(y)
            onset_f = f_measure(r["onsets"], onset_truth, hop_s)
            settled = 5.0  # a live tracker needs a few seconds: score beats after them
            beats = np.asarray(r["beats"])
            beat_f = f_measure(beats[beats >= settled], beat_truth[beat_truth >= settled], 0.07)
            bpm = f"{r['bpm']:.1f}" if r["bpm"] else "-"
            extra = r["cost_ms"][1]
            tempo_ms = f"{extra:.2f}"
            print(
                f"{signal_name:7} {name:22} {r['cost_ms'][0]:7.3f} {tempo_ms:>7} {onset_f:8.2f} "
                f"{bpm:>7} "
                f"{beat_f:7.2f}   (truth {bpm_truth:g} BPM)"
            )


if __name__ == "__main__":
    main()
