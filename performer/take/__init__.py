"""The take: a recorded performance, written live and read back for replay.

A take is a folder: ``take.json`` (what played it), ``patch.toml`` (the patch as it
was), ``control.jsonl`` (every tick, event and generated frame, append-only) and
``video.mp4`` (what the audience saw, with its audio).

- :mod:`~performer.take.format`: the values and lines of the log, and their bounds
- :mod:`~performer.take.log`: writing the log and the folder; listing takes
- :mod:`~performer.take.reader`: reading a take back for replay
- :mod:`~performer.take.recorder`: the recorder that writes a take while the show plays
"""

from performer.take.format import BadLines, TakeError
from performer.take.log import INFO, LOG, MAX_FPS, PATCH, VIDEO, list_takes, new_take, read_log
from performer.take.reader import TakeLog, read_take
from performer.take.recorder import TakeRecorder, digest

__all__ = [
    "INFO",
    "LOG",
    "MAX_FPS",
    "PATCH",
    "VIDEO",
    "BadLines",
    "TakeError",
    "TakeLog",
    "TakeRecorder",
    "digest",
    "list_takes",
    "new_take",
    "read_log",
    "read_take",
]
