"""A patch's ``[[prompts]]``: prompt blocks, each a text and a weight.

Each block becomes the registry parameters ``block_<n>`` and ``block_<n>_weight``
(``n`` from 1, in the order written), so OSC, MIDI, timelines and scenes play a block
like any knob::

    [[prompts]]
    text = "a red boat"
    weight = 0.5                  # 0..1, default 1; the prompt's is prompt_weight
"""

from __future__ import annotations

from typing import Any

from performer.control.params import BLOCKS, param
from performer.mappings.tables import PatchError, Table, shown


def blocks(value: Any) -> dict[str, Any]:
    """The ``[[prompts]]`` tables as parameter values (block_1, block_1_weight, ...)."""
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise PatchError("prompts", f"expected [[prompts]] tables, got {shown(value)}")
    if len(value) > BLOCKS:
        raise PatchError("prompts", f"{len(value)} prompt blocks; at most {BLOCKS}")
    values: dict[str, Any] = {}
    for i, data in enumerate(value):
        table = Table(data, f"prompts[{i}]")
        table.only(("text", "weight"))
        text = table.text("text")
        if not text.strip():
            raise PatchError(table.at("text"), "expected a prompt, got an empty string")
        weight = param(f"block_{i + 1}_weight")
        values[f"block_{i + 1}"] = text
        values[weight.name] = table.number("weight", 1.0, weight.lo, weight.hi)
    return values
