"""NDI sources through cyndilib: the newest frame of a sender whose name contains NAME.

Discovery is NDI's own (mDNS, or the unicast list in ``NDI_CONFIG_DIR``'s
``ndi-config.v1.json``; TESTBED.md). The receiver uses NDI's frame-sync, which always
holds the sender's latest picture; a new timestamp means a new frame. A sender that
stops is noticed after ``LOST_AFTER_S`` without a frame while disconnected; reopening
makes a fresh Finder (measured: an open Finder does not see a sender that came back).
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
from performer.control.clock import Clock
from performer.control.video.frames import SourceLost, VideoSourceError
from performer.control.video.source import VideoSource

#: How long opening looks for the sender, and how long a silent sender may stay away.
FIND_TIMEOUT_S = 2.0
LOST_AFTER_S = 1.0
#: Frame-sync is polled: this is the pause between looks when nothing new came.
POLL_S = 0.002

MISSING = "NDI needs cyndilib: pip install 'performer[ndi]'"


def import_cyndilib() -> Any:
    try:
        import cyndilib
    except ImportError:
        raise VideoSourceError(MISSING) from None
    return cyndilib


def list_ndi_sources(timeout: float = 1.0) -> list[str]:
    """The NDI senders seen within ``timeout`` s (``MACHINE (NAME)``)."""
    cyndilib = import_cyndilib()
    finder = cyndilib.Finder()
    finder.open()
    try:
        finder.wait_for_sources(timeout)
        return sorted(finder.get_source_names())
    finally:
        finder.close()


class NdiSource(VideoSource):
    def __init__(self, name: str, clock: Clock, wanted: str, timeout: float = FIND_TIMEOUT_S):
        super().__init__(name, clock)
        self.wanted = wanted
        self.timeout = timeout
        self._finder: Any = None
        self._receiver: Any = None
        self._video: Any = None
        self._stamp = 0.0
        self._last_new = 0.0

    def _open(self) -> None:
        cyndilib = import_cyndilib()
        from cyndilib.wrapper import RecvBandwidth, RecvColorFormat

        self._finder = cyndilib.Finder()
        self._finder.open()
        source = self._find()
        if source is None:
            seen = ", ".join(self._finder.get_source_names()) or "none"
            self._finder.close()
            raise SourceLost(f"no NDI source named like {self.wanted!r} (seen: {seen})")
        self._receiver = cyndilib.Receiver(
            color_format=RecvColorFormat.RGBX_RGBA, bandwidth=RecvBandwidth.highest
        )
        self._video = cyndilib.VideoFrameSync()
        self._receiver.frame_sync.set_video_frame(self._video)
        self._receiver.set_source(source)
        self._last_new = time.monotonic()

    def _find(self) -> Any:
        deadline = time.monotonic() + self.timeout
        while True:
            for found in self._finder.get_source_names():
                if self.wanted.lower() in found.lower():
                    return self._finder.get_source(found)
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            self._finder.wait_for_sources(min(left, 0.25))

    def _read(self) -> np.ndarray | None:
        self._receiver.frame_sync.capture_video()
        stamp = self._video.get_timestamp_posix()
        width, height = self._video.get_resolution()
        if stamp == self._stamp or width == 0:
            quiet = time.monotonic() - self._last_new
            if quiet > LOST_AFTER_S and not self._receiver.is_connected():
                raise SourceLost(f"the sender went away {quiet:.1f} s ago")
            self._stopping.wait(POLL_S)
            return None
        self._stamp, self._last_new = stamp, time.monotonic()
        rows = self._video.get_array().reshape(height, -1)
        return rows[:, : width * 4].reshape(height, width, 4)[:, :, :3].copy()

    def _close(self) -> None:
        receiver, self._receiver = self._receiver, None
        if receiver is not None:
            receiver.disconnect()
        finder, self._finder = self._finder, None
        if finder is not None:
            finder.close()
