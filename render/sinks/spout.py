"""A Spout sender (Windows only, through SpoutGL; NOT TESTED here: no Windows)."""

from __future__ import annotations

import sys
from typing import Any

import numpy as np
from performer.render.sinks.sink import VideoSink, VideoSinkError

GL_RGBA = 0x1908


class SpoutSink(VideoSink):
    def __init__(self, name: str, sender_name: str, fps: float = 30.0) -> None:
        super().__init__(name, fps)
        self.sender_name = sender_name
        self._sender: Any = None
        self._rgba = np.zeros((0, 0, 4), np.uint8)

    def _open(self, width: int, height: int) -> None:
        if sys.platform != "win32":
            raise VideoSinkError(f"Spout exists on Windows only (this is {sys.platform})")
        try:
            import SpoutGL
        except ImportError:
            raise VideoSinkError("Spout needs SpoutGL: pip install 'performer[spout]'") from None
        self._sender = SpoutGL.SpoutSender()
        self._sender.setSenderName(self.sender_name)
        self._rgba = np.full((height, width, 4), 255, np.uint8)

    def _send(self, frame: np.ndarray) -> None:
        self._rgba[:, :, :3] = frame
        height, width = frame.shape[:2]
        if not self._sender.sendImage(self._rgba, width, height, GL_RGBA, False, 0):
            raise VideoSinkError("Spout refused the frame")
        self._sender.setFrameSync(self.sender_name)

    def _close(self) -> None:
        sender, self._sender = self._sender, None
        if sender is not None:
            sender.releaseSender()
