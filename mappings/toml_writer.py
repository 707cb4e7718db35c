"""A small TOML writer for what the mappings package writes back: learned mappings.

Only the shapes a mapping table holds: strings, numbers, booleans, arrays of those,
and inline tables (``smooth = { kind = "euro" }``). ``tomllib`` reads the result back.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping
from typing import Any

BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def key(name: str) -> str:
    return name if BARE_KEY.match(name) else json.dumps(name)


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
        return json.dumps(v, ensure_ascii=False)  # a JSON string is a TOML basic string
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
