"""A Syphon server (macOS only, through syphon-python's Metal server; NOT TESTED here)."""

from __future__ import annotations

import sys
from typing import Any

import numpy as np
from performer.render.sinks.sink import VideoSink, VideoSinkError


class SyphonSink(VideoSink):
    def __init__(self, name: str, server_name: str, fps: float = 30.0) -> None:
        super().__init__(name, fps)
        self.server_name = server_name
        self._server: Any = None
        self._texture: Any = None
        self._bgra = np.zeros((0, 0, 4), np.uint8)

    def _open(self, width: int, height: int) -> None:
        if sys.platform != "darwin":
            raise VideoSinkError(f"Syphon exists on macOS only (this is {sys.platform})")
        try:
            import syphon
            from syphon.utils.raw import create_mtl_texture
        except ImportError:
            missing = "Syphon needs syphon-python: pip install 'performer[syphon]'"
            raise VideoSinkError(missing) from None
        self._server = syphon.SyphonMetalServer(self.server_name)
        self._texture = create_mtl_texture(self._server.device, width, height)
        self._bgra = np.full((height, width, 4), 255, np.uint8)

    def _send(self, frame: np.ndarray) -> None:
        from syphon.utils.numpy import copy_image_to_mtl_texture

        self._bgra[:, :, 2::-1] = frame  # Metal's default texture order is BGRA
        copy_image_to_mtl_texture(self._bgra, self._texture)
        self._server.publish_frame_texture(self._texture)

    def _close(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.stop()
