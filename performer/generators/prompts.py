"""Prompt conditioning for text models: encoded off the frame path, blended per frame.

Each prompt is encoded once per anchor phrase ("a street, daguerreotype", "a street,
VHS camcorder footage", ...). Per frame, ``era`` picks the two neighbouring anchors
and slerps between their embeddings, and ``prompt_mix`` slerps from prompt to
prompt_b. Encoding runs on a background thread: the frame path keeps using the
embeddings it has until the new ones are ready, so a prompt change never blanks or
stalls the picture.
"""

from __future__ import annotations

import bisect
import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import torch

from performer.generators.common import slerp

log = logging.getLogger(__name__)

# texts -> (token embeddings [n, seq, dim], pooled embeddings [n, dim] or None)
EncodeFn = Callable[[list[str]], tuple[torch.Tensor, torch.Tensor | None]]


@dataclass(frozen=True)
class Conditioning:
    embeds: torch.Tensor  # [1, seq, dim]
    pooled: torch.Tensor | None  # [1, dim] (SDXL) or None


@dataclass(frozen=True)
class PromptBank:
    """One prompt pair encoded at every era anchor."""

    prompts: tuple[str, str]
    years: tuple[float, ...]
    embeds: torch.Tensor  # [2, anchors, seq, dim]: prompt, prompt_b
    pooled: torch.Tensor | None  # [2, anchors, dim]

    def at(self, era: float, mix: float) -> Conditioning:
        lo, hi, t = neighbours(self.years, era)
        a = slerp(self.embeds[0, lo], self.embeds[0, hi], t)
        b = slerp(self.embeds[1, lo], self.embeds[1, hi], t)
        embeds = slerp(a, b, mix)[None]
        pooled = None
        if self.pooled is not None:
            pa = slerp(self.pooled[0, lo], self.pooled[0, hi], t)
            pb = slerp(self.pooled[1, lo], self.pooled[1, hi], t)
            pooled = slerp(pa, pb, mix)[None]
        return Conditioning(embeds, pooled)


def neighbours(years: Sequence[float], era: float) -> tuple[int, int, float]:
    """Indices of the anchors either side of ``era`` and how far it lies between them."""
    if len(years) == 1 or era <= years[0]:
        return 0, 0, 0.0
    if era >= years[-1]:
        return len(years) - 1, len(years) - 1, 0.0
    hi = bisect.bisect_right(years, era)
    lo = hi - 1
    return lo, hi, (era - years[lo]) / (years[hi] - years[lo])


def encode_bank(
    encode: EncodeFn, prompts: tuple[str, str], anchors: Mapping[float, str], template: str
) -> PromptBank:
    """Encode both prompts at every anchor in one batch (no anchors: the prompts alone)."""
    prompt_b = prompts[1] or prompts[0]
    phrases = list(anchors.values()) or [""]
    texts = []
    for prompt in (prompts[0], prompt_b):
        for phrase in phrases:
            texts.append(template.format(prompt=prompt, era=phrase) if phrase else prompt)
    embeds, pooled = encode(texts)
    n = len(phrases)
    return PromptBank(
        prompts=prompts,
        years=tuple(anchors) or (0.0,),
        embeds=embeds.reshape(2, n, *embeds.shape[1:]),
        pooled=None if pooled is None else pooled.reshape(2, n, *pooled.shape[1:]),
    )


class PromptEncoder:
    """Encodes prompt pairs on a background thread; the newest request wins."""

    def __init__(self, encode: EncodeFn, anchors: Mapping[float, str], template: str):
        self._encode, self._anchors, self._template = encode, dict(anchors), template
        self._wanted: tuple[str, str] | None = None
        self._bank: PromptBank | None = None
        self._cond = threading.Condition()
        self._stopped = False
        self._thread = threading.Thread(target=self._run, name="prompt-encoder", daemon=True)
        self._thread.start()

    def encode_now(self, prompts: tuple[str, str]) -> PromptBank:
        """Encode synchronously (start-up only, before the first frame)."""
        bank = encode_bank(self._encode, prompts, self._anchors, self._template)
        with self._cond:
            self._bank = bank
        return bank

    def request(self, prompts: tuple[str, str]) -> None:
        with self._cond:
            if prompts != self._wanted:
                self._wanted = prompts
                self._cond.notify_all()

    def latest(self, prompts: tuple[str, str], wait_s: float = 0.0) -> PromptBank | None:
        """The newest bank; waits up to ``wait_s`` for the one that matches ``prompts``."""
        with self._cond:
            self._cond.wait_for(
                lambda: self._bank is not None and self._bank.prompts == prompts, wait_s
            )
            return self._bank

    def close(self) -> None:
        with self._cond:
            self._stopped = True
            self._cond.notify_all()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        done: tuple[str, str] | None = None
        while True:
            with self._cond:
                while not self._stopped and self._wanted == done:
                    self._cond.wait()
                if self._stopped:
                    return
                wanted = self._wanted
                # encode_now() may have made it already
                have = self._bank is not None and self._bank.prompts == wanted
            assert wanted is not None
            if have:
                done = wanted
                continue
            try:
                bank = encode_bank(self._encode, wanted, self._anchors, self._template)
            except (RuntimeError, ValueError) as exc:  # keep playing the old prompt
                log.error("could not encode prompt %r: %s", wanted[0], exc)
                done = wanted
                continue
            with self._cond:
                # a bank for the same prompts stays: the frame path caches by its identity
                if self._bank is None or self._bank.prompts != wanted:
                    self._bank = bank
                self._cond.notify_all()
            done = wanted
