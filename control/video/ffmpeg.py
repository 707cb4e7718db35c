"""Live sources through PyAV/FFmpeg: cameras, screens, and any FFmpeg input by URL.

``camera``, ``screen`` and ``ffmpeg:`` specs all end here as an (url, format, options)
triple for ``av.open``, so a lavfi test graph runs through the very code a camera does.
The per-system device formats (measured on Linux only; TESTBED.md "Video in and out"):

=========  =====================  ==========================  ==========================
system     camera                 camera:DEVICE               screen
=========  =====================  ==========================  ==========================
Linux      v4l2 ``/dev/video0``   a number or a /dev path     x11grab ``$DISPLAY+0,0``
macOS      avfoundation ``0``     its number or name          avfoundation ``Capture
                                                              screen 0``
Windows    dshow (name needed)    ``video=NAME``              gdigrab ``desktop``
=========  =====================  ==========================  ==========================
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Iterator
from typing import Any

import numpy as np
from performer.control.clock import Clock
from performer.control.video.frames import SourceLost, VideoSourceError, one_line
from performer.control.video.source import VideoSource

#: av.open's timeouts (open, read) in s: a stalled device gives up and is reopened.
OPEN_TIMEOUT_S = 5.0
READ_TIMEOUT_S = 2.0

_AREA = re.compile(r"^(?P<w>\d+)x(?P<h>\d+)(?:\+(?P<x>\d+)[+,](?P<y>\d+))?$")


def camera_input(device: str) -> tuple[str, str, dict[str, str]]:
    """(url, format, options) of ``camera[:DEVICE]`` on this system."""
    if sys.platform.startswith("linux"):
        url = f"/dev/video{device or 0}" if device.isdigit() or not device else device
        return url, "v4l2", {}
    if sys.platform == "darwin":
        return f"{device or 0}:none", "avfoundation", {"framerate": "30"}
    if sys.platform == "win32":
        if not device:
            raise VideoSourceError("name the camera on Windows: camera:NAME (performer devices)")
        return f"video={device}", "dshow", {}
    raise VideoSourceError(f"no camera format known for {sys.platform}")


def screen_input(area: str) -> tuple[str, str, dict[str, str]]:
    """(url, format, options) of ``screen[:AREA]``: AREA is WxH+X+Y, or on Linux an
    x11grab display such as ``:99.0`` or ``:99.0+10,20``."""
    match = _AREA.match(area)
    if area and match is None and not (area.startswith(":") and sys.platform != "win32"):
        raise VideoSourceError(f"screen area {area!r}: expected WxH+X+Y or a display like :99.0")
    options = {"framerate": "30"}
    x, y = "0", "0"
    if match:
        options["video_size"] = f"{match['w']}x{match['h']}"
        x, y = match["x"] or "0", match["y"] or "0"
    if sys.platform.startswith("linux"):
        display = area if area.startswith(":") else os.environ.get("DISPLAY", "")
        if not display:
            raise VideoSourceError("screen: no DISPLAY set; name one, e.g. screen::0.0")
        url = display if match is None and "+" in display else f"{display}+{x},{y}"
        return url, "x11grab", options
    if sys.platform == "darwin":
        screen = area if area and not match else "Capture screen 0"
        return f"{screen}:none", "avfoundation", options
    if sys.platform == "win32":
        return "desktop", "gdigrab", {**options, "offset_x": x, "offset_y": y}
    raise VideoSourceError(f"no screen format known for {sys.platform}")


class FFmpegSource(VideoSource):
    """Frames from ``av.open(url, format=..., options=...)``, as fast as they come.

    FFmpeg's live inputs pace themselves (a camera, a screen grab, a network stream);
    a lavfi graph does not: end it with ``,realtime`` to play it at its rate.
    """

    def __init__(
        self, name: str, clock: Clock, url: str, format: str | None, options: dict[str, str]
    ) -> None:
        super().__init__(name, clock)
        self.url, self.format, self.options = url, format, options
        self._container: Any = None
        self._frames: Iterator[Any] | None = None

    def _open(self) -> None:
        import av

        try:
            container = av.open(
                self.url,
                format=self.format,
                options=self.options,
                timeout=(OPEN_TIMEOUT_S, READ_TIMEOUT_S),
            )
        except (av.FFmpegError, OSError) as error:
            raise SourceLost(f"cannot open {self.name}: {one_line(error)}") from None
        if not container.streams.video:
            container.close()
            raise VideoSourceError(f"{self.name} has no video stream")
        self._container = container
        self._frames = container.decode(container.streams.video[0])

    def _read(self) -> np.ndarray | None:
        import av

        assert self._frames is not None
        try:
            frame = next(self._frames)
        except StopIteration:
            raise SourceLost("it ended") from None
        except (av.FFmpegError, OSError) as error:
            raise SourceLost(one_line(error)) from None
        return frame.to_ndarray(format="rgb24")

    def _close(self) -> None:
        container, self._container, self._frames = self._container, None, None
        if container is not None:
            container.close()
