"""A virtual camera through pyvirtualcam: v4l2loopback on Linux, OBS's elsewhere."""

from __future__ import annotations

from typing import Any

import numpy as np
from performer.render.sinks.sink import VideoSink, VideoSinkError


class VirtualCameraSink(VideoSink):
    def __init__(self, name: str, device: str | None = None, fps: float = 30.0) -> None:
        super().__init__(name, fps)
        self.device = device
        self._camera: Any = None

    def _open(self, width: int, height: int) -> None:
        try:
            import pyvirtualcam
        except ImportError:
            raise VideoSinkError("vcam needs pyvirtualcam: pip install 'performer[vcam]'") from None
        try:
            self._camera = pyvirtualcam.Camera(
                width, height, self.fps, fmt=pyvirtualcam.PixelFormat.RGB, device=self.device
            )
        except (RuntimeError, ValueError) as error:
            raise VideoSinkError(f"vcam: {' '.join(str(error).split())}") from None

    def _send(self, frame: np.ndarray) -> None:
        try:
            self._camera.send(np.ascontiguousarray(frame))
        except (RuntimeError, ValueError) as error:
            raise VideoSinkError(f"vcam: {error}") from None

    def _close(self) -> None:
        camera, self._camera = self._camera, None
        if camera is not None:
            camera.close()
