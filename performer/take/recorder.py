"""Recording a take while playing: the video the display shows, the input audio, the
input video frames the generated frames started from, and the control log that lets
``performer render TAKE`` play it again.

Started by ``performer play --record`` or OSC ``/performer/record/start``. Every part
stops on its own when it cannot write (a full disk) and says why; the performance
never stops for it.

The generator thread only hands each frame over (:meth:`TakeRecorder._on_frame`): the
frame's fingerprint (a SHA-1 of the picture, ~1 ms at 512x512) and its log lines are
made on the recorder's own thread, in the order the frames came, and so is the
lossless encoding of each input frame used, once however many frames started from it
(at 640x480 and 1280x720: ~3 and ~10 ms for FFmpeg's testsrc2, ~10 and ~28 ms
with a camera's grain added; bench/input_encode.py). Between the two
threads is a queue of at most :data:`QUEUE_FRAMES` frames. The writer is normally a
frame behind; a full queue means the disk has stalled for seconds. Then a frame is
not logged rather than the show held up: each gap is counted, warned of once a
second, and written in the log where it fell (a ``lost`` line), so a replay says the
take differs from the show after it.
"""

from __future__ import annotations

import logging
import math
import queue
import threading
from pathlib import Path

import numpy as np

from performer.control.throttle import Throttle
from performer.control.video.frames import InputFrame
from performer.frames import Frame, Tick
from performer.session import Session
from performer.take.conditioning import absolute
from performer.take.format import LOG, VIDEO, digest
from performer.take.inputs import InputWriter
from performer.take.writer import ControlLog, new_take

log = logging.getLogger(__name__)

# 2 s of frames at 30 a second: a disk's stall is seconds long, a hash 1 ms; the
# pictures waiting cost at most 50 MB at 512x512, 200 MB at 1024x1024
QUEUE_FRAMES = 64
_STOP = None  # what stop() puts in the queue after the last frame
_Handed = tuple[Frame, list[Tick], tuple[int, int] | None]


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
            # a model folder as an absolute path, so the take finds it wherever it moves
            "model_arg": absolute(session.model) if session.model else session.model,
            "conditioning": session.conditioning,
            "generated_size": list(session.generator.size),
            "video_size": list(size),
            "fps": fps,
            "audio_rate": audio_rate,
            "audio_delay_s": audio_delay,
        }
        self.folder = new_take(root, session.patch.name, session.patch.text, info)
        self.started = session.clock.now()
        self.log = ControlLog(self.folder / LOG)
        self.log.header(info, self.started, session.store.snapshot())
        self.recorder = Recorder(
            self.folder / VIDEO, *size, fps, audio_rate=audio_rate, audio_channels=audio_channels
        )
        self._next_video = 0
        self._last_picture: float | None = None
        self.inputs: InputWriter | None = None  # made when the first input frame comes
        self._input: InputFrame | None = None  # the input frame stored last
        self._input_number: int | None = None  # its number, None if it was not stored
        # frames from the generator's thread to the writer's, each with the gap before
        # it (first frame lost, how many) if frames were lost; _STOP after the last
        self._frames: queue.Queue[_Handed | None] = queue.Queue(QUEUE_FRAMES)
        self._handing = threading.Lock()  # a frame handed over, or the recorder stopping
        self._stopping = False
        self.lost = 0  # frames never logged: the queue was full
        self._gap: tuple[int, int] | None = None  # lost since the last frame handed over
        self._warnings = Throttle(1.0)
        self._writer = threading.Thread(target=self._write_frames, name="take log", daemon=True)
        self._writer.start()
        session.subscribe(self._on_frame)
        log.info("recording take to %s", self.folder)

    def _on_frame(self, frame: Frame, ticks: list[Tick]) -> None:
        """On the generator's thread: hand the frame to the writer; never wait for it."""
        with self._handing:
            if self._stopping:
                return
            try:
                self._frames.put_nowait((frame, ticks, self._gap))
            except queue.Full:
                self.lost += 1
                first, count = self._gap or (frame.number, 0)
                self._gap = (first, count + 1)
            else:
                self._gap = None
                return
        self._warnings.log(
            log,
            logging.WARNING,
            "lost",
            "the take's log is %d frames behind (a slow disk): frame %d not logged "
            "(%d so far); its replay will differ from the show",
            QUEUE_FRAMES,
            frame.number,
            self.lost,
        )

    def _write_frames(self) -> None:
        """The recorder's thread: each frame's ticks, events and fingerprint, in order."""
        while (item := self._frames.get()) is not _STOP:
            frame, ticks, gap = item
            try:
                if gap is not None:
                    self.log.lost(*gap)
                for tick in ticks:
                    self.log.tick(frame.number, tick.time, tick.shown)
                    for event in tick.events:
                        self.log.event(frame.number, event)
                number = self._store_input(frame.input)
                picture = digest(frame.image)
                self.log.frame(
                    frame.number, frame.time, frame.snapshot, picture, number, frame.played
                )
            except Exception:  # the log goes on with the next frame, as the show does
                self._warnings.log(
                    log,
                    logging.ERROR,
                    "failed",
                    "logging frame %d failed",
                    frame.number,
                    exc_info=True,
                )

    def _store_input(self, seen: InputFrame | None) -> int | None:
        """The number of the stored input frame ``seen``: stored, and its line logged,
        when a frame first started from it (a generator faster than the source starts
        several from one). None: no input, or it could not be stored."""
        if seen is None:
            return None
        if seen is not self._input:  # a source hands over the same object until a new one
            self._input, self._input_number = seen, None
            if self.inputs is None:
                self.inputs = InputWriter(self.folder, self.started)
            stored = self.inputs.write(seen)
            if stored is not None:
                self.log.input(seen, stored)
                self._input_number = seen.number
        return self._input_number

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
        """Stop taking frames, write every frame already handed over, then close."""
        self.session.unsubscribe(self._on_frame)
        with self._handing:  # a frame being handed over now is the last one
            self._stopping = True
        self._frames.put(_STOP)  # waits while the queue is full: the writer is emptying it
        self._writer.join()
        if self._gap is not None:  # lost at the very end, after the last frame logged
            self.log.lost(*self._gap)
        if self._last_picture is not None:  # a replay holds the last frame until then
            self.log.write({"type": "end", "t": self._last_picture})
        self.recorder.close()
        self.log.close()
        inputs = self.inputs
        if inputs is not None:
            inputs.close()
        problems = [p for p in (self.recorder.error, self.log.error) if p]
        problems += [inputs.error] if inputs is not None and inputs.error else []
        log.info(
            "take saved: %s (%d frames%s%s%s)%s",
            self.folder,
            self.recorder.frames_written,
            f", {inputs.frames_written} input frames" if inputs is not None else "",
            f", {self.recorder.dropped} dropped" if self.recorder.dropped else "",
            f", {self.lost} generated frames not logged" if self.lost else "",
            f"; stopped early: {'; '.join(problems)}" if problems else "",
        )
