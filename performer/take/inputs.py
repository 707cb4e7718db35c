"""The take's input: the video frames its generated frames started from, stored while
the show plays (:class:`InputWriter`) and handed back to the session in replay
(:class:`RecordedInput`).

Stored losslessly, because a replay must give the generator the very pixels the show
had: H.264 in its lossless RGB mode (libx264rgb at qp 0), which takes less than half
FFV1's time per frame here, for files 1.2 to 1.8 times as large (bench/input_encode.py), in
Matroska flushed in short clusters, so a killed take keeps all but its last moments.
Each picture's SHA-1 is in its log line: an H.264 decoder hides damage rather than
failing, and the reader must tell a damaged file from a good one.

One file per input size: an input that changes size midway (a sender set to another
resolution) goes on in ``input-2.mkv``, and so on.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from performer.control.video.frames import InputFrame, one_line
from performer.render.video import CRASH_SAFE_OPTIONS
from performer.take.format import digest, input_file

log = logging.getLogger(__name__)

CODEC, PIX_FMT = "libx264rgb", "rgb24"
# lossless; no lookahead, so each frame is in the file as soon as it is encoded; one
# thread, so the cores stay with the generator
OPTIONS = {"qp": "0", "preset": "ultrafast", "tune": "zerolatency", "threads": "1"}
TIME_BASE = Fraction(1, 1000)  # the file plays at the input's own times, to the ms


@dataclass(frozen=True)
class Stored:
    """Where an input frame went: frame ``at`` (from 0) of ``file``, whose picture
    has the fingerprint ``sha1``."""

    file: str
    at: int
    sha1: str


class InputWriter:
    """Writes input frames into a take's folder, on the recorder's thread. A write
    error stops it with one line; the show and the take's log go on."""

    def __init__(self, folder: Path, started: float):
        self.folder, self.started = folder, started
        self.error: str | None = None
        self.frames_written = 0
        self._container: Any = None
        self._stream: Any = None
        self._part = 0  # the file being written: input_file(part)
        self._size: tuple[int, int] | None = None
        self._at = 0  # frames in that file so far
        self._pts = -1

    def write(self, frame: InputFrame) -> Stored | None:
        """Store ``frame``'s picture; None if it could not be (the writer has stopped)."""
        import av

        if self.error is not None:
            return None
        height, width = frame.image.shape[:2]
        try:
            if (width, height) != self._size:
                self._next_file(width, height)
            picture = av.VideoFrame.from_ndarray(frame.image, format="rgb24")
            # the input's own time in the file; never before the frame stored last
            self._pts = max(self._pts + 1, round((frame.time - self.started) / TIME_BASE))
            picture.pts = self._pts
            for packet in self._stream.encode(picture):
                self._container.mux(packet)
        except (av.FFmpegError, OSError, ValueError) as exc:
            self._fail(exc)
            return None
        stored = Stored(input_file(self._part), self._at, digest(frame.image))
        self._at += 1
        self.frames_written += 1
        return stored

    def _next_file(self, width: int, height: int) -> None:
        import av

        self._finish()
        self._part += 1
        path = self.folder / input_file(self._part)
        self._container = av.open(str(path), mode="w", container_options=CRASH_SAFE_OPTIONS[".mkv"])
        self._stream = self._container.add_stream(CODEC, options=OPTIONS)
        self._stream.width, self._stream.height = width, height
        self._stream.pix_fmt = PIX_FMT
        self._stream.time_base = self._stream.codec_context.time_base = TIME_BASE
        self._size, self._at = (width, height), 0

    def _finish(self) -> None:
        """Flush the encoder and close the file being written, if any."""
        container, self._container = self._container, None
        if container is None:
            return
        try:
            for packet in self._stream.encode(None):
                container.mux(packet)
        finally:
            container.close()

    def _fail(self, exc: Exception) -> None:
        path = self.folder / input_file(self._part)
        self.error = f"writing {path} failed: {one_line(exc)}"
        log.error("the take's input stopped: %s; the take goes on without it", self.error)
        container, self._container = self._container, None
        if container is not None:
            try:
                container.close()
            except (OSError, ValueError) as closing:  # a full disk fails the close too
                log.debug("closing %s failed: %s", path, closing)

    def close(self) -> None:
        """Finish the last file (safe twice)."""
        import av

        if self.error is None:
            try:
                self._finish()
            except (av.FFmpegError, OSError, ValueError) as exc:
                self._fail(exc)


class _Damage(Exception):
    """What is wrong with an input file, in words for the one line replay gives."""


class RecordedInput:
    """A take's recorded input as the replayed session's source. :meth:`cue` the input
    line of the frame to be made next; :meth:`latest` hands over its picture. Decoded
    on demand in the order stored, one picture in memory at a time.

    A missing or damaged file gives one line; the frames that started from it then
    replay without their input (counted in :attr:`unfed`): their pictures may differ.
    """

    def __init__(self, folder: Path):
        self.folder = folder
        self.unfed = 0  # frames cued whose recorded input could not be handed over
        self._line: dict[str, Any] | None = None
        self._frame: InputFrame | None = None
        self._file: str | None = None  # the file open for decoding
        self._container: Any = None
        self._pictures: Any = None  # its decoder, frame by frame
        self._next = 0  # the place in it of the frame the decoder gives next
        self._broken: set[str] = set()

    def cue(self, line: dict[str, Any] | None) -> None:
        """The frame about to be made started from the input ``line`` (None: none)."""
        if line is not self._line:  # the frames made from one input share it
            self._line = line
            self._frame = None if line is None else self._decode(line)
        if line is not None and self._frame is None:
            self.unfed += 1

    def latest(self) -> InputFrame | None:
        return self._frame

    def _decode(self, line: dict[str, Any]) -> InputFrame | None:
        file, at = line["file"], line["at"]
        if file in self._broken:
            return None
        try:
            picture = self._picture(file, at)
            if digest(picture) != line["sha1"]:
                raise _Damage(f"frame {at} is not the picture recorded (damaged)")
        except _Damage as damage:
            self._broken.add(file)
            self.close()
            log.warning(
                "%s: %s; the frames that started from it replay without their input, "
                "and may differ from the show",
                self.folder / file,
                damage,
            )
            return None
        picture.flags.writeable = False
        return InputFrame(picture, line["number"], line["index"], float(line["t"]))

    def _picture(self, file: str, at: int) -> np.ndarray:
        """Frame ``at`` of ``file``, decoding forward from where the decoder is."""
        import av

        if file != self._file or at < self._next:
            self._open(file)
        try:
            while True:
                frame = next(self._pictures, None)
                if frame is None:
                    held = f"{self._next} frame{'s' * (self._next != 1)}"
                    raise _Damage(f"holds only {held}; the log names frame {at}")
                self._next += 1
                if self._next > at:
                    return frame.to_ndarray(format="rgb24")
        except (av.FFmpegError, OSError) as exc:
            raise _Damage(f"cannot be decoded at frame {self._next} ({one_line(exc)})") from None

    def _open(self, file: str) -> None:
        import av

        self.close()
        path = self.folder / file
        if not path.is_file():
            raise _Damage("missing")
        try:
            self._container = av.open(str(path))
            stream = self._container.streams.video[0]
        except (av.FFmpegError, OSError, IndexError) as exc:
            self.close()
            why = "has no video" if isinstance(exc, IndexError) else one_line(exc)
            raise _Damage(f"cannot be opened ({why})") from None
        self._file, self._pictures, self._next = file, self._container.decode(stream), 0

    def close(self) -> None:
        """Close the file being decoded (safe twice)."""
        container, self._container = self._container, None
        self._file, self._pictures = None, None
        if container is not None:
            container.close()
