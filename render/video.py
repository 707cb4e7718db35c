"""Video recording with PyAV: H.264 (libx264, yuv420p) in a crash-safe container.

``.mp4`` files are fragmented and ``.mkv`` files flushed in short clusters, so a
recording cut short by a crash or a kill stays readable up to its last fragment.
"""

from __future__ import annotations

import contextlib
import logging
import math
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import av.container
    import av.video.stream

log = logging.getLogger(__name__)

# Measured (TESTBED.md): after SIGKILL these keep all but the last few frames readable.
CRASH_SAFE_OPTIONS: dict[str, dict[str, str]] = {
    ".mp4": {
        "movflags": "frag_keyframe+empty_moov+default_base_moof",
        "frag_duration": "200000",
        "flush_packets": "1",
    },
    ".mkv": {"flush_packets": "1", "cluster_time_limit": "200"},
}


# FFmpeg's AAC encoder puts one frame of priming samples before the first one written.
# Matroska says so (CodecDelay) and decoders drop them; a fragmented MP4 has no edit list
# to say so: decoders hand them out, and the muxer shifts every stream by as much.
AAC_PRIMING = 1024


class VideoWriteError(OSError):
    """Writing the video file failed (disk full, file removed, …); names the file."""


def _even(n: int) -> int:
    return n + (n % 2)


class VideoWriter:
    """Encodes ``width`` × ``height`` RGB frames at ``fps`` into ``path``.

    yuv420p needs even dimensions: an odd width or height is rounded up by
    **padding** one column/row that repeats the last one (edge replication, so no
    black line appears); the picture is never scaled. :attr:`encoded_size` is the size
    in the file. ``crf`` and ``preset`` go to libx264 as they are.
    """

    def __init__(
        self,
        path: str | Path,
        width: int,
        height: int,
        fps: int | Fraction,
        crf: int = 18,
        preset: str = "veryfast",
        audio_rate: int | None = None,
        audio_channels: int = 2,
        zerolatency: bool = False,
        subframes: int = 1,
    ) -> None:
        import av

        if width <= 0 or height <= 0:
            raise ValueError(f"video size must be positive, got {width}×{height}")
        if fps <= 0:
            raise ValueError(f"fps must be positive, got {fps}")
        self.path = Path(path)
        self.size = (width, height)
        self.encoded_size = (_even(width), _even(height))
        self.frames_written = 0
        self.next_index = 0  # the first whole frame still free
        self._next_pts = 0
        self._closed = False
        self._failed = False
        self._padded = np.empty((self.encoded_size[1], self.encoded_size[0], 3), np.uint8)
        options = CRASH_SAFE_OPTIONS.get(self.path.suffix.lower(), {})
        try:
            self._container: av.container.OutputContainer = av.open(
                str(self.path), mode="w", container_options=options
            )
        except OSError as error:
            raise self._error("opening", error) from error
        rate = Fraction(fps)
        self._stream: av.video.stream.VideoStream = self._container.add_stream(
            "libx264",
            rate=rate,
            options={"crf": str(crf), "preset": preset}
            # live takes: no lookahead or B-frames, so a killed recording loses no more
            # than the last fragment (x264 otherwise holds ~0.4 s of frames back), and
            # one encoder thread, so the cores stay with the generator
            | ({"tune": "zerolatency", "threads": "1"} if zerolatency else {}),
        )
        self._stream.width, self._stream.height = self.encoded_size
        self._stream.pix_fmt = "yuv420p"
        # frames are placed in steps of 1/subframes of a frame: a live take puts each
        # picture at the moment it was shown, not rounded to the frame grid
        self.subframes = subframes
        self._ticks_per_second = float(rate * subframes)
        self._stream.time_base = self._stream.codec_context.time_base = 1 / (rate * subframes)
        self.audio_rate, self.audio_channels = audio_rate, audio_channels
        self.samples_written = 0
        self._audio: Any = None
        if audio_rate:  # AAC in the same file; PyAV regroups blocks into AAC's frame size
            self._audio = self._container.add_stream("aac", rate=audio_rate)
            self._audio.layout = "stereo" if audio_channels == 2 else "mono"

    def write_audio(self, samples: np.ndarray, start: int | None = None) -> None:
        """Append audio: ``(n, channels)`` float32 in -1..1, as sounddevice delivers it.

        ``start`` is the first sample's position on the video's clock (in samples);
        by default it follows the last block. The track is kept whole from the file's
        start: a gap before ``start`` is filled with silence, and a block that overlaps
        what is written loses its overlapping head. So a sample's place in the file is
        its place on the clock (the MP4 muxer would shift a track that starts late or
        has holes against the video).
        """
        self._check_open()
        if self._audio is None:
            raise RuntimeError(f"{self.path} was opened without audio (audio_rate=None)")
        if samples.ndim != 2 or samples.shape[1] != self.audio_channels:
            raise ValueError(
                f"audio must be (n, {self.audio_channels}) for {self.path}, got {samples.shape}"
            )
        start = self.samples_written if start is None else start
        if start < self.samples_written:
            samples = samples[self.samples_written - start :]
        while start > self.samples_written:  # silence, a second at a time at most
            gap = min(start - self.samples_written, self.audio_rate or 1)
            self._encode_audio(np.zeros((gap, self.audio_channels), np.float32))
        if len(samples):
            self._encode_audio(samples)

    def _encode_audio(self, samples: np.ndarray) -> None:
        import av

        planar = np.ascontiguousarray(samples.T, dtype=np.float32)
        frame = av.AudioFrame.from_ndarray(planar, format="fltp", layout=self._audio.layout.name)
        assert self.audio_rate is not None
        frame.sample_rate = self.audio_rate
        frame.pts = self.samples_written
        self.samples_written += samples.shape[0]
        self._mux(self._audio.encode(frame))

    def write(self, frame: np.ndarray, index: int | None = None, time: float | None = None) -> None:
        """Append one H×W×3 uint8 RGB frame (row 0 = top) of the writer's size.

        ``index`` places it at that frame number, or ``time`` at that many seconds
        (frames skipped before it hold the previous picture in players); by default it
        follows the last one.
        """
        self._check_open()
        width, height = self.size
        if frame.shape != (height, width, 3) or frame.dtype != np.uint8:
            raise ValueError(
                f"frame must be {height}×{width}×3 uint8 for {self.path}, "
                f"got shape {frame.shape} dtype {frame.dtype}"
            )
        import av

        video_frame = av.VideoFrame.from_ndarray(self._pad(frame), format="rgb24")
        if time is not None:
            pts = max(round(time * self._ticks_per_second), 0)
        else:
            pts = (self.next_index if index is None else index) * self.subframes
        video_frame.pts = max(pts, self._next_pts)  # never before the last one
        self._mux(self._stream.encode(video_frame))
        self._next_pts = video_frame.pts + 1
        self.next_index = math.ceil(self._next_pts / self.subframes)
        self.frames_written += 1

    def close(self) -> None:
        """Flush the encoder and finish the file (safe twice)."""
        if self._closed:
            return
        self._closed = True
        try:
            if not self._failed:
                self._mux(self._stream.encode(None))
                if self._audio is not None:
                    self._mux(self._audio.encode(None))
        finally:
            self._close_container()

    def __enter__(self) -> VideoWriter:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- internals ----------------------------------------------------------------------

    def _pad(self, frame: np.ndarray) -> np.ndarray:
        if self.size == self.encoded_size:
            return frame
        width, height = self.size
        out = self._padded
        out[:height, :width] = frame
        out[:height, width:] = frame[:, -1:]
        out[height:] = out[height - 1 : height]
        return out

    def _mux(self, packets: Any) -> None:
        try:
            self._container.mux(packets)
        except OSError as error:
            self._failed = True
            raise self._error("writing", error) from error

    def _close_container(self) -> None:
        if self._failed:
            # The error already raised names the cause; a second one would only hide it.
            with contextlib.suppress(OSError):
                self._container.close()
            return
        try:
            self._container.close()
        except OSError as error:
            raise self._error("finishing", error) from error

    def _error(self, doing: str, error: OSError) -> VideoWriteError:
        reason = error.strerror or str(error)
        return VideoWriteError(error.errno, f"{doing} video file {self.path} failed: {reason}")

    def _check_open(self) -> None:
        if self._closed:
            raise RuntimeError(f"VideoWriter for {self.path} used after close()")


def read_audio(path: Path) -> tuple[int, list[tuple[np.ndarray, int]]] | None:
    """The audio of a file :class:`VideoWriter` made, as ``(rate, [(samples, start)])``:
    ``(n, channels)`` float32 blocks, each with its first sample's position on the
    writer's clock (what ``write_audio`` was given), so that writing them again at those
    positions keeps them where they were against the pictures. None without audio.

    The writer keeps its track whole from the start, so positions are counted from the
    first decoded sample, less the encoder's priming where the decoder hands it out
    (MP4). A file cut off mid-packet (a killed recording) gives what it holds up to there.
    """
    import av

    with av.open(str(path)) as container:
        if not container.streams.audio:
            return None
        stream = container.streams.audio[0]
        mp4 = "mp4" in container.format.name.split(",")
        blocks, decoded = [], -AAC_PRIMING if mp4 else 0
        try:
            for frame in container.decode(stream):
                data = frame.to_ndarray().astype(np.float32)
                if data.shape[0] == 1 and stream.channels == 2:  # packed
                    data = data.reshape(-1, 2).T
                blocks.append((np.ascontiguousarray(data.T), decoded))
                decoded += data.shape[1]
        except av.error.InvalidDataError as exc:  # cut off mid-packet: the rest is whole
            log.warning("the audio of %s ends early: %s", path, exc)
        return stream.rate, blocks
