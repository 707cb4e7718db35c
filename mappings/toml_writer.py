"""A small TOML writer for what the mappings package writes back: learned mappings.

Only the shapes a mapping table holds: strings, numbers, booleans, arrays of those,
and inline tables (``smooth = { kind = "euro" }``). ``tomllib`` reads the result back.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from typing import Any

BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")
#: what a TOML basic string may not hold as it is: the quote, the backslash, every
#: control character (U+0000-U+001F and DEL, U+007F). A JSON string is not enough: JSON
#: lets DEL through, and TOML then refuses the whole file.
_ESCAPE = re.compile(r'["\\\x00-\x1f\x7f]')
_SHORT = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}
_SURROGATE = re.compile(r"[\ud800-\udfff]")


def string(text: str) -> str:
    """``text`` as a TOML basic string that ``tomllib`` reads back as ``text``.

    Lone surrogates (which no UTF-8 file can hold) are refused rather than written.
    """
    if _SURROGATE.search(text):
        raise ValueError(f"TOML cannot hold {text[:40]!r}: a lone surrogate is no character")
    body = _ESCAPE.sub(lambda m: _SHORT.get(m.group()) or f"\\u{ord(m.group()):04X}", text)
    return f'"{body}"'


def key(name: str) -> str:
    return name if BARE_KEY.match(name) else string(name)


def value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if not math.isfinite(v):
            raise ValueError(f"TOML has no place for {v!r} in a patch")
        return repr(v)
    if isinstance(v, str):
        return string(v)
    if isinstance(v, list | tuple):
        return "[" + ", ".join(value(item) for item in v) + "]"
    if isinstance(v, Mapping):
        return "{ " + ", ".join(f"{key(k)} = {value(x)}" for k, x in v.items()) + " }"
    raise ValueError(f"cannot write {v!r} ({type(v).__name__}) as TOML")


def array_of_tables(name: str, tables: Iterable[Mapping[str, Any]]) -> str:
    """``[[name]]`` blocks, one per table, separated by blank lines."""
    blocks = []
    for table in tables:
        lines = [f"[[{key(name)}]]"] + [f"{key(k)} = {value(v)}" for k, v in table.items()]
        blocks.append("\n".join(lines) + "\n")
    return "\n".join(blocks)
