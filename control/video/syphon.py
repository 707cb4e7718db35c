"""Syphon servers as sources (macOS only, through syphon-python's Metal client; NOT
TESTED here: no macOS). Metal textures arrive as BGRA."""

from __future__ import annotations

import sys
from typing import Any

import numpy as np
from performer.control.clock import Clock
from performer.control.video.frames import SourceLost, VideoSourceError
from performer.control.video.source import VideoSource

POLL_S = 0.002


def import_syphon() -> Any:
    if sys.platform != "darwin":
        raise VideoSourceError(f"Syphon exists on macOS only (this is {sys.platform})")
    try:
        import syphon
    except ImportError:
        missing = "Syphon needs syphon-python: pip install 'performer[syphon]'"
        raise VideoSourceError(missing) from None
    return syphon


def list_syphon_servers() -> list[str]:
    syphon = import_syphon()
    servers = syphon.SyphonServerDirectory().servers
    return [f"{server.app_name} ({server.name})" for server in servers]


class SyphonSource(VideoSource):
    def __init__(self, name: str, clock: Clock, server: str) -> None:
        super().__init__(name, clock)
        self.server = server
        self._client: Any = None

    def _open(self) -> None:
        syphon = import_syphon()
        wanted = self.server.lower()
        for server in syphon.SyphonServerDirectory().servers:
            if wanted in f"{server.app_name} {server.name}".lower():
                self._client = syphon.SyphonMetalClient(server)
                return
        raise SourceLost(f"no Syphon server named like {self.server!r}")

    def _read(self) -> np.ndarray | None:
        from syphon.utils.numpy import copy_mtl_texture_to_image

        if not self._client.is_valid:
            raise SourceLost(f"Syphon server {self.server!r} is gone")
        if not self._client.has_new_frame:
            self._stopping.wait(POLL_S)
            return None
        bgra = copy_mtl_texture_to_image(self._client.new_frame_image)
        return np.ascontiguousarray(bgra[:, :, 2::-1])

    def _close(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            client.stop()
