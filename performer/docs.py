"""Docs generated from the registry: ``python -m performer.docs`` rewrites README.md's table."""

from __future__ import annotations

import re
import sys
from pathlib import Path

from performer.control.params import REGISTRY

START, END = "<!-- params:start -->", "<!-- params:end -->"


def params_table() -> str:
    rows = [
        "| parameter | OSC address | range | default | unit | what it does |",
        "|---|---|---|---|---|---|",
    ]
    for p in REGISTRY.values():
        span = "text" if p.kind == "str" else f"{p.lo:.10g} – {p.hi:.10g}"
        if p.kind == "int":
            span += " (integer)"
        default = repr(p.default) if p.kind == "str" else f"{p.default:g}"
        note = "" if p.live else " Set at start."
        rows.append(
            f"| `{p.name}` | `{p.address}` | {span} | {default} | {p.unit} | {p.doc}{note} |"
        )
    return "\n".join(rows)


def rewrite(readme: Path) -> bool:
    """Put the current table between the markers; True if the file changed."""
    text = readme.read_text(encoding="utf-8")
    block = f"{START}\n{params_table()}\n{END}"
    new = re.sub(re.escape(START) + ".*?" + re.escape(END), lambda _: block, text, flags=re.S)
    if new != text:
        readme.write_text(new, encoding="utf-8")
    return new != text


if __name__ == "__main__":
    path = Path(sys.argv[1] if len(sys.argv) > 1 else "README.md")
    print(f"{path}: {'updated' if rewrite(path) else 'up to date'}")
