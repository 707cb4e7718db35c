"""The one interface every image generator shares.

``prepare()`` once (heavy: load, allocate, encode what can be encoded), then call the
generator once per frame with a parameter :class:`~performer.control.params.Snapshot`
(and the live input, when there is one); it returns an ``(height, width, 3)`` ``uint8``
RGB frame. Feedback (img2img on the previous frame) is state the generator keeps between
calls; ``reset()`` clears it or seeds it with a given picture.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from performer.control.params import Snapshot


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

    def close(self) -> None:
        """Release background threads and device memory; safe to call twice."""
        return None


class GeneratorError(RuntimeError):
    """A model that cannot be loaded or run, with a message a performer can act on."""
