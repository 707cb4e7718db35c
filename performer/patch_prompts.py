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
from performer.mappings.tables import PatchError, array_of_tables


def blocks(value: Any) -> dict[str, Any]:
    """The ``[[prompts]]`` tables as parameter values (block_1, block_1_weight, ...)."""
    values: dict[str, Any] = {}
    for i, table in enumerate(array_of_tables(value, "prompts", "prompt blocks", BLOCKS)):
        table.only(("text", "weight"))
        text = table.text("text")
        if not text.strip():
            raise PatchError(table.at("text"), "expected a prompt, got an empty string")
        weight = param(f"block_{i + 1}_weight")
        values[f"block_{i + 1}"] = text
        values[weight.name] = table.number("weight", 1.0, weight.lo, weight.hi)
    return values
