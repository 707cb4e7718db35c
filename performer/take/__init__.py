"""The take: a recorded performance, written live and read back for replay.

A take is a folder::

    takes/20261125-211503-demo/
        video.mp4       what the window showed (H.264 + the input audio as AAC)
        control.jsonl   append-only: a header with every parameter; then, for every
                        generated frame, the display's ticks before it (each with the
                        frame on screen and the events it applied), and the parameters
                        that changed since the frame before (``set``; takes from before
                        this wrote the whole snapshot, ``params``, every frame), and
                        the prompt texts it was made with where they were not its
                        snapshot's (``played``: a new prompt still encoding); an end
                        line with the last picture's time
        input.mkv       with a video input: each input frame a generated frame started
                        from, once, lossless (input-2.mkv after a change of size); the
                        log says where each is (``input`` lines) and each frame its own
        patch.toml      the patch as it was
        take.json       model identity, size, fps, start time, and what else shaped
                        the picture (LoRAs, ControlNet, ...: its ``conditioning``)

Six modules, one concept each, around the format they share:

- :mod:`~performer.take.format`: what a take holds: its files, the values and lines
  of the log, their bounds and checks, the frame's fingerprint, :class:`TakeError`
- :mod:`~performer.take.writer`: a take's folder (:func:`new_take`) and its log, line by
  line (``ControlLog``)
- :mod:`~performer.take.reader`: a take read back: ``take.json`` (``read_info``), the
  log's good lines (:func:`read_log`), the whole take for replay (:func:`read_take`,
  :class:`TakeLog`), the list of takes (:func:`list_takes`)
- :mod:`~performer.take.inputs`: the take's input video: stored while the show plays
  (``InputWriter``), handed back as the replayed session's source (``RecordedInput``)
- :mod:`~performer.take.conditioning`: the generator's conditioning as played, as
  ``take.json`` records it and replay reads it back
- :mod:`~performer.take.recorder`: :class:`TakeRecorder`, which records a take while
  the show plays: video, audio, and the log and input on its own thread

Why this shape: the writer and the reader change together only where the format
does, and the format is one module both import, so a new kind of line is added in
:mod:`~performer.take.format` (its checks), the writer (a method) and the reader (a
branch). The writer stays free of threads and the session; the recorder owns the
threads and the timing of a live take; the reader owns every bound a damaged file
meets. Replay (:mod:`performer.replay`) reads through the reader and sits outside,
with the session and the renderer it drives.
"""

from performer.take.format import (
    INFO,
    INPUT,
    LOG,
    MAX_FPS,
    PATCH,
    VIDEO,
    BadLines,
    TakeError,
    digest,
)
from performer.take.inputs import RecordedInput
from performer.take.reader import TakeLog, list_takes, read_log, read_take
from performer.take.recorder import TakeRecorder
from performer.take.writer import new_take

__all__ = [
    "INFO",
    "INPUT",
    "LOG",
    "MAX_FPS",
    "PATCH",
    "VIDEO",
    "BadLines",
    "RecordedInput",
    "TakeError",
    "TakeLog",
    "TakeRecorder",
    "digest",
    "list_takes",
    "new_take",
    "read_log",
    "read_take",
]
