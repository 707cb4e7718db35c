"""The embedded era model as a generator: ships in the package, runs on a laptop CPU.

Its native resolution is 64×64 (``setup.width``/``height`` are ignored; the compositor
scales frames up). ``era`` is the model's own conditioning input, ``guidance`` is
classifier-free guidance against the learned null condition (0 is one forward pass),
and ``timestep`` is img2img strength on the previous frame. Scene words in the prompt
("day", "dusk", "night", "crowd", "traffic") condition it too.

Noise: frame ``n`` (counted from the last reset), step ``i`` re-noises with
``seed_noise(seed + 104729 * (4 n + i), seed_travel)``, so the first frame after a reset
grows from ``seed`` itself, later frames stay alive, and the same snapshots from a reset
give the same frames.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from performer.control.params import Snapshot
from performer.embedded.model import EraDenoiser
from performer.embedded.streets import WORDS
from performer.embedded.weights import PACKAGE_DIR, load
from performer.generators.base import Generator, GeneratorError, Setup
from performer.generators.common import schedule, seed_noise, warp

_SEED_STRIDE = 104729


class EmbeddedGenerator(Generator):
    """Snapshot in, 64×64 frame out, from the era model in ``folder`` (the package's)."""

    def __init__(self, folder: Path | None = None):
        self.folder = folder or PACKAGE_DIR
        self._model: EraDenoiser | None = None
        self._native = 64
        self._previous: np.ndarray | None = None
        self._frame = 0

    def prepare(self, setup: Setup) -> None:
        try:
            model, meta = load(self.folder)
        except FileNotFoundError as err:
            raise GeneratorError(str(err)) from err
        self._model = model
        self._native = model.config.size
        self.identity = str(meta.get("identity", "embedded:era"))
        self._shape = (1, 3, self._native, self._native)
        # condition rows: [conditioned, null]; the null row only runs when guidance > 0
        self._year = torch.zeros(2)
        self._words = torch.zeros(2, model.config.words)
        self._keep = torch.tensor([1.0, 0.0])
        self._level = torch.zeros(2)
        self._prompt: str | None = None  # the prompt whose scene words self._words holds
        self.reset()

    @property
    def size(self) -> tuple[int, int]:
        return (self._native, self._native)

    def reset(self, image: np.ndarray | None = None) -> None:
        self._frame = 0
        if image is None:
            self._previous = None
            return
        if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
            raise ValueError(f"reset: expected (H, W, 3) uint8, got {image.shape} {image.dtype}")
        x = _to_tensor(image)
        if x.shape[-2:] != (self._native, self._native):
            x = F.interpolate(x, size=(self._native, self._native), mode="area")
        self._previous = _to_frame(x)

    def holds(self, snap: Snapshot) -> bool:
        # at timestep 0 this model returns its previous frame as it is, moved or not
        return snap["timestep"] <= 0.0 and self._previous is not None

    def __call__(self, snap: Snapshot, live: np.ndarray | None = None) -> np.ndarray:
        model = self._model
        if model is None:
            raise GeneratorError("embedded model: call prepare() before generating frames")
        with torch.inference_mode():
            # 1. Where this frame starts: the held frame, the moved previous frame, or
            #    noise; mixed with the live input by input_mix
            levels = schedule(snap["timestep"], snap["steps"])
            mix = float(snap["input_mix"])
            start = _to_tensor(live) if live is not None and mix > 0.0 else None
            if self._previous is None:
                if start is None:
                    levels = schedule(1.0, snap["steps"])  # nothing to start from: noise
                x = torch.zeros(self._shape) if start is None else start
            elif not levels and start is None:
                return self._previous.copy()
            else:
                x = self._moved(self._previous, snap)
                x = x if start is None else torch.lerp(x, start, mix)
            # 2. The condition: era and scene words; a null row for guidance
            guidance = float(snap["guidance"])
            rows = 2 if guidance > 0 else 1
            self._year.fill_(float(snap["era"]))
            prompt = str(snap.get("prompt", ""))
            if prompt != self._prompt:  # the scene words change only with the prompt
                self._words[0] = _words(prompt)
                self._prompt = prompt
            # 3. Re-noise to each level of the schedule and denoise
            for i, level in enumerate(levels):
                seed = (int(snap["seed"]) + _SEED_STRIDE * (4 * self._frame + i)) % 2**31
                noise = seed_noise(self._shape, seed, float(snap["seed_travel"]))
                x_t = ((1 - level) * x + level * noise).expand(rows, -1, -1, -1)
                self._level.fill_(level)
                out = model(
                    x_t,
                    self._level[:rows],
                    self._year[:rows],
                    self._words[:rows],
                    self._keep[:rows],
                )
                x = out[:1] + guidance * (out[:1] - out[1:]) if rows == 2 else out
            # 4. Quantise to a frame and keep it for feedback
            self._previous = _to_frame(x)
            self._frame += 1
            return self._previous.copy()

    @staticmethod
    def _moved(previous: np.ndarray, snap: Snapshot) -> torch.Tensor:
        """The previous frame moved by the feedback motion."""
        motion = (snap["zoom"], snap["rotate"], snap["translate_x"], snap["translate_y"])
        return warp(_to_tensor(previous), *motion)


def _words(prompt: str) -> torch.Tensor:
    tokens = set(re.findall(r"[a-z]+", prompt.lower()))
    return torch.tensor([float(w in tokens) for w in WORDS])


def _to_tensor(frame: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(frame).permute(2, 0, 1)[None].float().div_(127.5).sub_(1.0)


def _to_frame(x: torch.Tensor) -> np.ndarray:
    x = x[0].clamp(-1.0, 1.0).add(1.0).mul(127.5).round().to(torch.uint8)
    return np.ascontiguousarray(x.permute(1, 2, 0).numpy())
