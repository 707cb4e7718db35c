"""An NDI sender through cyndilib (the binding chosen in performer.control.video).

Video clocking is off: the send thread writes as frames come, at the show's rate.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import numpy as np
from performer.render.sinks.sink import VideoSink, VideoSinkError


class NdiSink(VideoSink):
    def __init__(self, name: str, sender_name: str, fps: float = 30.0) -> None:
        super().__init__(name, fps)
        self.sender_name = sender_name
        self._sender: Any = None
        self._rgba = np.zeros((0, 0, 4), np.uint8)

    def _open(self, width: int, height: int) -> None:
        try:
            import cyndilib
        except ImportError:
            raise VideoSinkError("NDI needs cyndilib: pip install 'performer[ndi]'") from None
        video = cyndilib.VideoSendFrame()
        video.set_resolution(width, height)
        video.set_frame_rate(Fraction(self.fps).limit_denominator(1001))
        video.set_fourcc(cyndilib.FourCC.RGBA)
        sender = cyndilib.Sender(self.sender_name, clock_video=False)
        sender.set_video_frame(video)
        sender.open()
        self._sender = sender
        self._rgba = np.full((height, width, 4), 255, np.uint8)

    def _send(self, frame: np.ndarray) -> None:
        self._rgba[:, :, :3] = frame
        if not self._sender.write_video(self._rgba.ravel()):
            raise VideoSinkError("NDI refused the frame")

    def _close(self) -> None:
        sender, self._sender = self._sender, None
        if sender is not None:
            sender.close()
