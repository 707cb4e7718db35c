"""The one interface every image generator shares.

``prepare()`` once (heavy: load, allocate, encode what can be encoded), then call the
generator once per frame with a parameter :class:`~performer.control.params.Snapshot`
(and the live input, when there is one); it returns an ``(height, width, 3)`` ``uint8``
RGB frame. Feedback (img2img on the previous frame) is state the generator keeps between
calls; ``reset()`` clears it or seeds it with a given picture.

A backend that encodes prompts off the frame path may make a frame with the previous
prompt texts while the new ones encode: :meth:`Generator.played` says which texts a
frame was made with, a take records them, and replay hands them back
(:meth:`Generator.replay_with`) so each frame is made again with the same texts.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from performer.control.params import BLOCKS, Snapshot

#: the parameters whose texts a frame's prompts are made of (text models encode them)
TEXTS = ("prompt", "prompt_b", *(f"block_{n}" for n in range(1, BLOCKS + 1)))


@dataclass(frozen=True)
class Setup:
    """What a generator is prepared for; fixed for the life of a performance."""

    width: int = 512
    height: int = 512
    # year -> phrase describing the records of that time ("daguerreotype", "VHS ...")
    anchors: Mapping[float, str] = field(default_factory=dict)
    # how the prompt and an era phrase are joined into one text for text models
    template: str = "{prompt}, {era}"


class Generator(ABC):
    """Snapshot in, frame out."""

    #: identity of the loaded model, written into takes and reports
    identity: str = "unprepared"

    @abstractmethod
    def prepare(self, setup: Setup) -> None:
        """Load and allocate everything the per-frame path needs."""

    @abstractmethod
    def __call__(self, snap: Snapshot, live: np.ndarray | None = None) -> np.ndarray:
        """Generate the next frame: ``(height, width, 3)`` uint8 RGB. ``live`` is the
        live input, fitted to :attr:`size`: the frame starts from it by ``input_mix``
        (0: the previous frame only, 1: the input only), then is re-noised by timestep."""

    @abstractmethod
    def reset(self, image: np.ndarray | None = None) -> None:
        """Forget the previous frame; with ``image``, feed back from that picture instead."""

    @property
    @abstractmethod
    def size(self) -> tuple[int, int]:
        """``(width, height)`` of the frames this generator returns."""

    def holds(self, snap: Snapshot) -> bool:
        """Whether a frame from ``snap``, asked for right after one made from the same
        snapshot, is that frame again, with no state of the generator moved on: then
        the live loop need not ask (``Session.holding``). True at timestep 0 with no
        feedback motion, where every backend returns its previous frame as it is; a
        backend that moves a held picture in other ways says False there."""
        return (
            snap["timestep"] <= 0.0
            and snap["zoom"] == 1.0
            and snap["rotate"] == 0.0
            and snap["translate_x"] == 0.0
            and snap["translate_y"] == 0.0
        )

    def played(self, snap: Snapshot) -> dict[str, str]:
        """The texts (of :data:`TEXTS`) the last frame was made with where they differ
        from those of ``snap``, the snapshot it was made from: live, a backend may play
        the previous prompt while a new one encodes. {}: the snapshot's own, always so
        for a backend that reads its texts in the frame call."""
        return {}

    def replay_with(self, played: Mapping[str, str]) -> None:
        """Offline (replay): make the next frame with exactly its snapshot's texts, but
        ``played`` in place of those it names (what the take recorded of the live
        frame, :meth:`played`), waiting for their encoding however long it takes. A
        backend that reads its texts in the frame call already does."""
        return None

    def close(self) -> None:
        """Release background threads and device memory; safe to call twice."""
        return None


class GeneratorError(RuntimeError):
    """A model that cannot be loaded or run, with a message a performer can act on."""
