"""MIDI learn: arm a parameter, move a control, and a mapping is made.

The mapping is the same table a patch declares (``source``, ``param``, and the
defaults spelled out), so a learned set can be written into a patch as ``[[mappings]]``
with :func:`learned_toml` and edited by hand later.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from performer.control.events import Event
from performer.control.names import safe_name
from performer.control.params import param
from performer.mappings.tables import number_or_none
from performer.mappings.toml_writer import array_of_tables

log = logging.getLogger(__name__)

#: the event sources MIDI learn listens to: controls that move. A note or a program
#: change is a button and audio is the room, so none of those is learned.
LEARN_SOURCES = ("midi:cc:", "midi:nrpn:", "midi:bend:", "osc:")


class Learner:
    def __init__(self) -> None:
        self.armed: str | None = None
        self.learned: list[dict[str, Any]] = []

    def arm(self, name: str) -> None:
        p = param(name)
        if p.kind == "str":
            raise ValueError(f"{name} is text; it cannot be learned onto a control")
        self.armed = name

    def offer(self, event: Event) -> dict[str, Any] | None:
        """The mapping table ``event`` makes when learn is armed and it is a control."""
        if self.armed is None or not event.source.startswith(LEARN_SOURCES):
            return None
        value = event.value[0] if isinstance(event.value, tuple) and event.value else event.value
        if number_or_none(value) is None:  # a text message is not a control
            return None
        p = param(self.armed)
        table: dict[str, Any] = {
            "source": event.source,
            "param": p.name,
            "out": [p.lo, p.hi],
            "curve": "linear",
        }
        self.learned = [t for t in self.learned if t["param"] != p.name] + [table]
        self.armed = None
        return table


def learned_toml(tables: list[dict[str, Any]]) -> str:
    """The tables as ``[[mappings]]``; one that TOML cannot hold is left out with a warning,
    so the file always parses and keeps every other mapping."""
    header = "# Learned mappings: paste into a patch, or keep as a file of their own.\n\n"
    blocks = []
    for table in tables:
        try:
            blocks.append(array_of_tables("mappings", [table]))
        except ValueError as exc:
            log.warning("MIDI learn: %s not saved: %s", str(table.get("source"))[:80], exc)
    return header + "\n".join(blocks)


def learned_path(folder: str | Path, patch_name: str) -> Path:
    """Where the mappings learned while playing ``patch_name`` are saved: one plain file
    name inside ``folder``, whatever the name holds (``../../x`` stays inside)."""
    return Path(folder) / f"{safe_name(patch_name, 'patch')}.toml"


def write(path: str | Path, tables: list[dict[str, Any]]) -> Path:
    """Write the file whole or not at all: a crash mid-write leaves the old one."""
    path = Path(path)
    partial = path.with_name(f".{path.name}.partial")
    partial.write_text(learned_toml(tables), encoding="utf-8")
    os.replace(partial, path)
    return path
