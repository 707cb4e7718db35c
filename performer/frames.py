"""What a performance is made of, frame by frame: the display's ticks, the generated
frames, and where each frame's live input comes from. The session makes them; the take,
replay and the display read them."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from performer.control.events import Event
from performer.control.params import Snapshot
from performer.control.video import InputFrame


@dataclass(frozen=True)
class Tick:
    time: float  # on the performance clock
    events: list[Event]  # applied at that time, before the mappings ticked
    shown: int | None = None  # the number of the frame on screen then (None: none yet)


@dataclass(frozen=True)
class Frame:
    image: np.ndarray  # (height, width, 3) uint8
    number: int  # counts from 0 since start
    time: float  # on the performance clock: the moment its parameters were taken
    seconds: float  # how long the generator took
    snapshot: Snapshot
    input: InputFrame | None = None  # the live input it started from (None: no source)
    # the texts it was made with where they differ from the snapshot's (Generator.played)
    played: Mapping[str, str] = field(default_factory=dict)


class Source(Protocol):
    """Where each frame's input comes from: a live video source, a file on the
    performance clock, or a take's recorded input in replay. ``latest()`` never blocks."""

    def latest(self) -> InputFrame | None: ...


FrameListener = Callable[[Frame, list[Tick]], None]
ChangeListener = Callable[[list[tuple[str, Any]], str], None]
