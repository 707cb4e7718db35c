"""Prompt conditioning for text models: encoded off the frame path, blended per frame.

Each prompt is encoded once per anchor phrase ("a street, daguerreotype", "a street,
VHS camcorder footage", ...). Per frame, ``era`` picks the two neighbouring anchors
and slerps between their embeddings, and ``prompt_mix`` slerps from prompt to
prompt_b. Prompt blocks (``block_<n>``, each at every anchor too) then blend in by
their weights against ``prompt_weight``: a weighted mean, linear or by slerp
(``block_blend``). Encoding runs on a background thread: the frame path keeps using the
embeddings it has until the new ones are ready, so a prompt change never blanks or
stalls the picture. Offline (replay) a frame asks for its texts :meth:`~PromptEncoder.exactly`
and waits for them however long they take.
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


#: what a bank is encoded from: prompt, prompt_b, then each block's text ("" for none)
Texts = tuple[str, ...]


@dataclass(frozen=True)
class PromptBank:
    """The prompt pair and the prompt blocks encoded at every era anchor."""

    texts: Texts
    years: tuple[float, ...]
    embeds: torch.Tensor  # [2, anchors, seq, dim]: prompt, prompt_b
    pooled: torch.Tensor | None  # [2, anchors, dim]
    # the blocks with text: their numbers (0-based) and [blocks, anchors, ...] embeddings
    blocks: tuple[int, ...] = ()
    block_embeds: torch.Tensor | None = None
    block_pooled: torch.Tensor | None = None

    @property
    def prompts(self) -> tuple[str, str]:
        return self.texts[0], self.texts[1]

    def at(
        self,
        era: float,
        mix: float,
        weights: Sequence[float] = (),
        base: float = 1.0,
        slerped: bool = False,
    ) -> Conditioning:
        """The conditioning at ``era``, ``mix``, and each block's weight in ``weights``
        (the prompt's is ``base``), blended linearly or ``slerped``."""
        lo, hi, t = neighbours(self.years, era)
        a = slerp(self.embeds[0, lo], self.embeds[0, hi], t)
        b = slerp(self.embeds[1, lo], self.embeds[1, hi], t)
        embeds = slerp(a, b, mix)
        pooled = None
        if self.pooled is not None:
            pa = slerp(self.pooled[0, lo], self.pooled[0, hi], t)
            pb = slerp(self.pooled[1, lo], self.pooled[1, hi], t)
            pooled = slerp(pa, pb, mix)
        blend = slerp if slerped else _lerp
        total = base
        for row, block in enumerate(self.blocks):
            weight = weights[block] if block < len(weights) else 0.0
            if weight <= 0.0:  # a block at 0 leaves the conditioning as it was, exactly
                continue
            total += weight
            share = weight / total  # a running weighted mean: the prompt's weight is base
            assert self.block_embeds is not None
            e = self.block_embeds[row]
            embeds = blend(embeds, slerp(e[lo], e[hi], t), share)
            if pooled is not None and self.block_pooled is not None:
                p = self.block_pooled[row]
                pooled = blend(pooled, slerp(p[lo], p[hi], t), share)
        return Conditioning(embeds[None], None if pooled is None else pooled[None])


def _lerp(a: torch.Tensor, b: torch.Tensor, t: float) -> torch.Tensor:
    return a if t <= 0.0 else torch.lerp(a, b, t)


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
    encode: EncodeFn, texts: Texts, anchors: Mapping[float, str], template: str
) -> PromptBank:
    """Encode the prompts, then the blocks with text, at every anchor (no anchors: the
    texts alone). The pair is one batch as it always was, so its embeddings never
    depend on the blocks beside it."""
    phrases = list(anchors.values()) or [""]
    pair = (texts[0], texts[1] or texts[0])
    embeds, pooled = _at_anchors(encode, pair, phrases, template)
    blocks = tuple(i for i, text in enumerate(texts[2:]) if text)
    block_embeds = block_pooled = None
    if blocks:
        block_texts = [texts[2 + i] for i in blocks]
        block_embeds, block_pooled = _at_anchors(encode, block_texts, phrases, template)
    return PromptBank(
        texts=texts,
        years=tuple(anchors) or (0.0,),
        embeds=embeds,
        pooled=pooled,
        blocks=blocks,
        block_embeds=block_embeds,
        block_pooled=block_pooled,
    )


def _at_anchors(
    encode: EncodeFn, prompts: Sequence[str], phrases: list[str], template: str
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Each prompt joined with each anchor phrase, encoded in one batch:
    ``[prompts, anchors, ...]``."""
    texts = []
    for prompt in prompts:
        for phrase in phrases:
            texts.append(template.format(prompt=prompt, era=phrase) if phrase else prompt)
    embeds, pooled = encode(texts)
    n, m = len(prompts), len(phrases)
    return (
        embeds.reshape(n, m, *embeds.shape[1:]),
        None if pooled is None else pooled.reshape(n, m, *pooled.shape[1:]),
    )


class PromptEncoder:
    """Encodes prompts and blocks on a background thread; the newest request wins."""

    def __init__(self, encode: EncodeFn, anchors: Mapping[float, str], template: str):
        self._encode, self._anchors, self._template = encode, dict(anchors), template
        self._wanted: Texts | None = None
        self._bank: PromptBank | None = None
        self._cond = threading.Condition()
        self._stopped = False
        self._thread = threading.Thread(target=self._run, name="prompt-encoder", daemon=True)
        self._thread.start()

    def encode_now(self, texts: Texts) -> PromptBank:
        """Encode synchronously (at start-up, before the first frame, and offline)."""
        bank = encode_bank(self._encode, texts, self._anchors, self._template)
        with self._cond:
            self._bank = bank
        return bank

    def exactly(self, texts: Texts) -> PromptBank:
        """The bank of ``texts``: the newest if it is theirs, else encoded now, on the
        caller's thread (offline: a frame has no deadline to keep)."""
        with self._cond:
            bank = self._bank
        return bank if bank is not None and bank.texts == texts else self.encode_now(texts)

    def request(self, texts: Texts) -> None:
        with self._cond:
            if texts != self._wanted:
                self._wanted = texts
                self._cond.notify_all()

    def latest(self, texts: Texts, wait_s: float = 0.0) -> PromptBank | None:
        """The newest bank; waits up to ``wait_s`` for the one that matches ``texts``."""
        with self._cond:
            self._cond.wait_for(
                lambda: self._bank is not None and self._bank.texts == texts, wait_s
            )
            return self._bank

    def close(self) -> None:
        with self._cond:
            self._stopped = True
            self._cond.notify_all()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        done: Texts | None = None
        while True:
            with self._cond:
                while not self._stopped and self._wanted == done:
                    self._cond.wait()
                if self._stopped:
                    return
                wanted = self._wanted
                # encode_now() may have made it already
                have = self._bank is not None and self._bank.texts == wanted
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
                if self._bank is None or self._bank.texts != wanted:
                    self._bank = bank
                self._cond.notify_all()
            done = wanted
