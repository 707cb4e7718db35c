"""File names made from data: a patch's name, a learned-mapping file, a probe's output.

Anything that comes from a patch, a take or the network is reduced to one plain file
name, so that no name can reach outside the folder it is written in.
"""

from __future__ import annotations

import re
import unicodedata

MAX_LENGTH = 64
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")


def safe_name(text: str, fallback: str = "untitled") -> str:
    """``text`` as one file name: letters, digits, ``_ . -`` only, no leading dot, at most
    64 characters. ``"../../tmp/x"`` becomes ``"tmp_x"``; an empty result is ``fallback``.
    """
    ascii_text = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode()
    name = _UNSAFE.sub("_", ascii_text)
    name = re.sub(r"\.{2,}", "_", name).strip("._-")
    return name[:MAX_LENGTH].rstrip("._-") or fallback
