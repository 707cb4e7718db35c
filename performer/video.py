"""Video in and out of a show: the input its frames may start from, and the outputs
that carry its picture on to TouchDesigner, OBS, Resolume or another instrument.

::

    source = open_input("camera", clock)                 # control.video, not started
    outputs = VideoOutputs(["ndi:stage", "vcam?frames=generated"], fps=30)
    outputs.start(512, 512)                              # VideoSinkError: one line
    outputs.display(picture, now)                        # what the audience sees
    outputs.generated(frame.image, now)                  # each generated frame
    outputs.stop()

An output gets the composited display picture, at the display's rate, unless its spec
ends with ``?frames=generated``: then it gets each generated frame as it is made.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import numpy as np

from performer.control.clock import Clock
from performer.control.params import Snapshot
from performer.control.video import FITS, InputFrame, VideoSource, fit, open_source
from performer.render.sinks import SINKS, VideoSink, VideoSinkError, open_sink

log = logging.getLogger(__name__)

#: what an output may carry, after ``?frames=`` in its spec
FRAMES = ("display", "generated")
MAX_OUTPUTS = 8  # each has a thread and a copy of the picture in flight


def open_input(spec: str, clock: Clock) -> VideoSource:
    """The show's input source (not started): a file plays on the performance clock
    from the show's start, as it does offline, so frame N meets the same moment."""
    source = open_source(spec, clock)
    if hasattr(source, "start_time"):
        source.start_time = 0.0
    return source


class InputFit:
    """Each input frame fitted to the generator's size as ``input_fit`` and
    ``input_mirror`` ask, once: a generator faster than its source reuses it."""

    def __init__(self) -> None:
        self._key: tuple[Any, ...] | None = None
        self._fitted: np.ndarray | None = None

    def __call__(self, seen: InputFrame, snap: Snapshot, size: tuple[int, int]) -> np.ndarray:
        width, height = size
        key = (seen.number, seen.time, width, height, snap["input_fit"], snap["input_mirror"])
        if self._fitted is None or self._key != key:
            mode = FITS[int(snap["input_fit"])]
            fitted = fit(seen.image, width, height, mode, mirror=bool(snap["input_mirror"]))
            # an input of the generator's own size comes back as it is: read-only
            self._fitted = fitted if fitted.flags.writeable else fitted.copy()
            self._key = key
        return self._fitted


@dataclass(frozen=True)
class Output:
    sink: VideoSink
    generated: bool  # True: each generated frame; False: the picture the audience sees


def parse_output(spec: str) -> tuple[str, bool]:
    """(the sink's own spec, whether it carries the generated frames)."""
    sink, sep, option = spec.partition("?")
    if not sep:
        return spec, False
    key, _, value = option.partition("=")
    if key != "frames" or value not in FRAMES:
        raise VideoSinkError(
            f"output {spec!r}: the only option is ?frames=display or ?frames=generated"
        )
    return sink, value == "generated"


class VideoOutputs:
    """The show's outputs; each send returns at once (the sinks send on their threads)."""

    def __init__(self, specs: list[str], fps: float = 30.0):
        if len(specs) > MAX_OUTPUTS:
            raise VideoSinkError(f"{len(specs)} outputs; at most {MAX_OUTPUTS}")
        self.outputs = []
        for spec in specs:
            sink, generated = parse_output(spec)
            self.outputs.append(Output(open_sink(sink, fps), generated))
        self.wants_display = any(not o.generated for o in self.outputs)

    def start(self, width: int, height: int) -> None:
        """Open every output for frames of this size (a frame of another size reopens
        its output); one that cannot open stops the others and raises, in one line."""
        started: list[VideoSink] = []
        try:
            for output in self.outputs:
                output.sink.start(width, height)
                started.append(output.sink)
                carries = "generated frames" if output.generated else "the display"
                log.info("video out: %s (%s)", output.sink.name, carries)
        except VideoSinkError:
            for sink in started:
                sink.stop()
            raise

    def display(self, picture: np.ndarray, now: float) -> None:
        for output in self.outputs:
            if not output.generated:
                output.sink.send(picture, now)

    def generated(self, image: np.ndarray, now: float) -> None:
        for output in self.outputs:
            if output.generated:
                output.sink.send(image, now)

    def stop(self) -> None:
        for output in self.outputs:
            output.sink.stop()


__all__ = ["FRAMES", "SINKS", "InputFit", "VideoOutputs", "open_input", "parse_output"]
