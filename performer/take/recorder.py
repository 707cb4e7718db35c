"""Recording a take while playing: the video the display shows, the input audio, and
the control log that lets ``performer render TAKE`` play it again.

Started by ``performer play --record`` or OSC ``/performer/record/start``. Every part
stops on its own when it cannot write (a full disk) and says why; the performance
never stops for it.
"""

from __future__ import annotations

import hashlib
import logging
import math
from pathlib import Path

import numpy as np

from performer.session import Frame, Session, Tick
from performer.take import log as takes

log = logging.getLogger(__name__)


def digest(image: np.ndarray) -> str:
    """A fingerprint of a generated frame: replay compares these for bit-identity."""
    return hashlib.sha1(np.ascontiguousarray(image).tobytes()).hexdigest()


class TakeRecorder:
    def __init__(
        self,
        session: Session,
        root: Path,
        size: tuple[int, int],
        fps: int,
        audio_rate: int | None = None,
        audio_channels: int = 2,
        audio_delay: float = 0.0,
    ):
        from performer.render.recorder import Recorder

        self.session, self.fps, self.audio_delay = session, fps, audio_delay
        info = {
            "patch": session.patch.name,
            "model": session.generator.identity,
            "model_arg": session.model,
            "generated_size": list(session.generator.size),
            "video_size": list(size),
            "fps": fps,
            "audio_rate": audio_rate,
            "audio_delay_s": audio_delay,
        }
        self.folder = takes.new_take(root, session.patch.name, session.patch.text, info)
        self.started = session.clock.now()
        self.log = takes.ControlLog(self.folder / takes.LOG)
        self.log.header(info, self.started, session.store.snapshot())
        self.recorder = Recorder(
            self.folder / takes.VIDEO,
            *size,
            fps,
            audio_rate=audio_rate,
            audio_channels=audio_channels,
        )
        self._next_video = 0
        self._last_picture: float | None = None
        session.frame_listeners.append(self._on_frame)
        log.info("recording take to %s", self.folder)

    def _on_frame(self, frame: Frame, ticks: list[Tick]) -> None:
        for tick in ticks:
            self.log.tick(frame.number, tick.time, tick.shown)
            for event in tick.events:
                self.log.event(frame.number, event)
        self.log.frame(frame.number, frame.time, frame.snapshot, digest(frame.image))

    def due(self, now: float) -> bool:
        """Whether the display should hand over a picture now (it records at ``fps``)."""
        return (now - self.started) * self.fps >= self._next_video

    def video(self, picture: np.ndarray, now: float) -> None:
        """The picture on the display since ``now``, at that moment in the file."""
        self._next_video = math.floor((now - self.started) * self.fps) + 1
        self._last_picture = now
        self.recorder.video(picture, now - self.started)

    def audio(self, samples: np.ndarray, now: float) -> None:
        """Input audio that sounded at ``now``, later by ``audio_delay`` in the file: the
        picture answers a sound a little after it (analysis, then the next drawn frame),
        and the take matches sound to picture as a lip-sync delay would."""
        self.recorder.audio(samples, now - self.started + self.audio_delay)

    def stop(self) -> None:
        if self._on_frame in self.session.frame_listeners:
            self.session.frame_listeners.remove(self._on_frame)
        if self._last_picture is not None:  # a replay holds the last frame until then
            self.log.write({"type": "end", "t": self._last_picture})
        self.recorder.close()
        self.log.close()
        problems = [p for p in (self.recorder.error, self.log.error) if p]
        log.info(
            "take saved: %s (%d frames%s)%s",
            self.folder,
            self.recorder.frames_written,
            f", {self.recorder.dropped} dropped" if self.recorder.dropped else "",
            f"; stopped early: {'; '.join(problems)}" if problems else "",
        )
