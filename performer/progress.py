"""Progress bars for long work (renders, replays, probes, warm-up).

On a terminal a bar redraws in place. Into a file or a pipe (a CI log, ``nohup``) it
would write a line per redraw, so there it reports at most every 30 seconds.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from typing import Any, TypeVar

from tqdm import tqdm

T = TypeVar("T")

LOG_INTERVAL_S = 30.0


def progress(iterable: Iterable[T] | None = None, **options: Any) -> tqdm[T]:
    """A ``tqdm`` bar that stays quiet in logs: one line every 30 s off a terminal."""
    stream = options.get("file") or sys.stderr
    if not getattr(stream, "isatty", lambda: False)():
        options.setdefault("mininterval", LOG_INTERVAL_S)
        options.setdefault("maxinterval", LOG_INTERVAL_S)
    return tqdm(iterable, **options)
