"""Spout senders as sources (Windows only, through SpoutGL; NOT TESTED here: no Windows).

Thin on purpose: SpoutGL copies the sender's texture into a CPU buffer as RGBA.
"""

from __future__ import annotations

import sys
from typing import Any

import numpy as np
from performer.control.clock import Clock
from performer.control.video.frames import SourceLost, VideoSourceError
from performer.control.video.source import VideoSource

GL_RGBA = 0x1908  # OpenGL's constant, so PyOpenGL is not needed for one number
WAIT_MS = 100


def import_spoutgl() -> Any:
    if sys.platform != "win32":
        raise VideoSourceError(f"Spout exists on Windows only (this is {sys.platform})")
    try:
        import SpoutGL
    except ImportError:
        raise VideoSourceError("Spout needs SpoutGL: pip install 'performer[spout]'") from None
    return SpoutGL


def list_spout_senders() -> list[str]:
    spoutgl = import_spoutgl()
    with spoutgl.SpoutReceiver() as receiver:
        return list(receiver.getSenderList())


class SpoutSource(VideoSource):
    def __init__(self, name: str, clock: Clock, sender: str) -> None:
        super().__init__(name, clock)
        self.sender = sender
        self._receiver: Any = None
        self._buffer = np.zeros(0, np.uint8)

    def _open(self) -> None:
        self._receiver = import_spoutgl().SpoutReceiver()
        self._receiver.setReceiverName(self.sender)

    def _read(self) -> np.ndarray | None:
        receiver = self._receiver
        receiver.waitFrameSync(self.sender, WAIT_MS)
        received = receiver.receiveImage(self._buffer, GL_RGBA, False, 0)
        if receiver.isUpdated():  # the sender's size is known (or changed): size the buffer
            width, height = receiver.getSenderWidth(), receiver.getSenderHeight()
            self._buffer = np.zeros(width * height * 4, np.uint8)
            return None
        if not received:
            if not receiver.isConnected():
                raise SourceLost(f"Spout sender {self.sender!r} is gone")
            return None
        height = receiver.getSenderHeight()
        return self._buffer.reshape(height, -1, 4)[:, :, :3].copy()

    def _close(self) -> None:
        receiver, self._receiver = self._receiver, None
        if receiver is not None:
            receiver.releaseReceiver()
