"""Saving and loading the embedded model: safetensors weights plus a JSON config."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from safetensors.torch import load_file, save_file

from performer.embedded.model import EraDenoiser, ModelConfig

PACKAGE_DIR = Path(__file__).resolve().parent
WEIGHTS, CONFIG = "era.safetensors", "config.json"


def save(model: EraDenoiser, folder: Path, meta: dict[str, Any]) -> None:
    """Write ``era.safetensors`` and ``config.json``; each through a temporary file, so a
    reader never sees half a checkpoint."""
    folder.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().contiguous().clone() for k, v in model.state_dict().items()}
    tmp = folder / (WEIGHTS + ".tmp")
    save_file(state, str(tmp))
    tmp.replace(folder / WEIGHTS)
    tmp = folder / (CONFIG + ".tmp")
    tmp.write_text(json.dumps({"model": model.config.to_dict(), **meta}, indent=2) + "\n")
    tmp.replace(folder / CONFIG)


def load(folder: Path = PACKAGE_DIR) -> tuple[EraDenoiser, dict[str, Any]]:
    """The model in ``folder`` (the package's own by default), in eval mode, on CPU."""
    weights, config = folder / WEIGHTS, folder / CONFIG
    for path in (weights, config):
        if not path.is_file():
            raise FileNotFoundError(
                f"embedded model: {path} is missing; train one with `performer train-embedded`"
            )
    meta = json.loads(config.read_text())
    model = EraDenoiser(ModelConfig.from_dict(meta["model"]))
    model.load_state_dict(load_file(str(weights)))
    return model.eval(), meta
