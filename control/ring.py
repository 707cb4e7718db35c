"""Lock-free rings between the audio thread and the analysis thread.

The PortAudio callback (the producer) only copies into preallocated arrays and then
publishes a counter; the analysis thread (the consumer) reads up to that counter and
checks afterwards that it was not lapped meanwhile. Publishing a Python int is atomic,
which is all the ordering this needs: no lock, no buffer made on the audio thread.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import numpy.typing as npt


class SampleRing:
    """A single-producer, single-consumer ring of frames, with no lock.

    The producer copies a block in, then advances ``written``; the consumer reads up to
    ``written`` and checks afterwards that the producer has not lapped it meanwhile.
    """

    def __init__(self, frames: int, channels: int):
        self.data = np.zeros((frames, channels), dtype=np.float32)
        self.written = 0  # frames ever written (only the producer changes it)
        self.read = 0  # frames ever read (only the consumer changes it)
        self.lost = 0  # frames the consumer skipped because it fell behind
        self.hole = (-1, -1)  # the last stretch of stand-in silence (skip()): frames

    def write(self, block: npt.NDArray[np.float32], columns: tuple[int, ...]) -> None:
        """Producer: copy ``block[:, columns]`` in, column by column (no temporaries)."""
        size = len(self.data)
        n = len(block)
        start = self.written % size
        first = min(n, size - start)
        for j, c in enumerate(columns):
            self.data[start : start + first, j] = block[:first, c]
            if first < n:
                self.data[: n - first, j] = block[first:, c]
        self.written += n

    def skip(self, n: int) -> None:
        """Producer: ``n`` frames of silence (input the device lost)."""
        size = len(self.data)
        start = self.written % size
        first = min(n, size - start)
        self.data[start : start + first] = 0.0
        self.data[: n - first] = 0.0
        self.hole = (self.written, self.written + n)  # one reference: published whole
        self.written += n

    def level_before(self, frame: int, n: int) -> float:
        """Peak level of the ``n`` frames before ``frame`` (0 where they are gone)."""
        size = len(self.data)
        if frame - n < max(0, self.written - size):
            return 0.0
        rows = np.arange(frame - n, frame) % size
        return float(np.abs(self.data[rows]).max()) if n else 0.0

    def read_into(self, out: npt.NDArray[np.float32]) -> int | None:
        """Consumer: fill ``out`` with the next ``len(out)`` frames; their first frame's
        number, or None when not that many are there yet."""
        n, size = len(out), len(self.data)
        if self.written - self.read > size:  # lapped: skip ahead
            skip_to = self.written - size // 2
            self.lost += skip_to - self.read
            self.read = skip_to
        if self.written - self.read < n:
            return None
        first_frame = self.read
        start = first_frame % size
        first = min(n, size - start)
        out[:first] = self.data[start : start + first]
        out[first:] = self.data[: n - first]
        if self.written - first_frame > size:  # overwritten while copying: drop it
            self.lost += n
            self.read += n
            return None
        self.read += n
        return first_frame


class CaptureTimes:
    """When each block was captured: (monotonic time of its first sample, its first
    frame number), one record per callback, the latest ``slots`` kept for the clock
    (1024: 5 s of 256-frame blocks)."""

    def __init__(self, slots: int = 1024):
        self.records = np.zeros((slots, 2))
        self.written = 0  # records ever written (only the producer changes it)

    def write(self, at: float, frame: int) -> None:
        """Producer: note one block."""
        slot = self.written % len(self.records)
        self.records[slot, 0] = at
        self.records[slot, 1] = frame
        self.written += 1

    def since(self, seen: int, newest: int) -> Iterator[tuple[float, int]]:
        """Consumer: the records after the first ``seen`` up to ``newest`` (as many as
        are still kept)."""
        for i in range(max(seen, newest - len(self.records)), newest):
            at, frame = self.records[i % len(self.records)]
            yield float(at), int(frame)
