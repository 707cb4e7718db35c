"""Loading a diffusers model for the backend: the device here, the pipeline, a tiny VAE.

A model is a Hugging Face id or a local folder; every failure is one line a performer
can act on (a ``GeneratorError``), never a traceback from deep inside diffusers.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch

from performer.generators.base import GeneratorError


def reason(exc: BaseException) -> str:
    """The first line of an error's message (or its type): what a one-line error says."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def read_picture(file: str, what: str) -> np.ndarray:
    """An image file as ``(H, W, 3)`` uint8 RGB, or one GeneratorError naming ``what``
    (a missing file, not a picture, or one too large to open safely)."""
    from PIL import Image

    path = Path(file).expanduser()
    if not path.is_file():
        raise GeneratorError(f"{what} {file!r}: no such file")
    try:
        with Image.open(path) as image:
            return np.array(image.convert("RGB"))
    except (OSError, ValueError, Image.DecompressionBombError) as exc:
        raise GeneratorError(f"{what} {file!r}: not a usable picture ({reason(exc)})") from None


def pick_device(device: str | None = None) -> tuple[torch.device, torch.dtype]:
    """The best device here (CUDA, then MPS, then CPU) and the dtype that suits it."""
    if device is None:
        if torch.cuda.is_available():
            device = "cuda"
        elif torch.backends.mps.is_available():
            device = "mps"
        else:
            device = "cpu"
    dev = torch.device(device)
    if dev.type == "cuda":
        return dev, torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    if dev.type == "mps":
        return dev, torch.float16
    return dev, torch.float32


def looks_like_folder(model: str) -> bool:
    return model.startswith((".", "/", "~")) or Path(model).exists() or model.count("/") > 1


def load_pipeline(model: str, dtype: torch.dtype, lora: str | None = None) -> Any:
    """Load a diffusers pipeline from a Hugging Face id or a local folder, with clear errors."""
    from diffusers import DiffusionPipeline

    if looks_like_folder(model) and not Path(model).expanduser().is_dir():
        raise GeneratorError(f"model folder not found: {model}")
    try:
        pipe = DiffusionPipeline.from_pretrained(
            str(Path(model).expanduser()) if looks_like_folder(model) else model,
            dtype=dtype,
        )
    except (OSError, ValueError) as exc:
        raise GeneratorError(f"could not load model {model!r}: {reason(exc)}") from None
    if not hasattr(pipe, "unet") or not hasattr(pipe, "vae"):
        raise GeneratorError(
            f"model {model!r} is a {type(pipe).__name__}; expected a Stable Diffusion, "
            "SDXL or LCM pipeline with a UNet and a VAE"
        )
    if lora:
        _fuse_lora(pipe, lora)
    return pipe


def _fuse_lora(pipe: Any, lora: str) -> None:
    try:
        pipe.load_lora_weights(lora)
        pipe.fuse_lora()
    except ImportError as exc:  # diffusers loads LoRAs through PEFT
        raise GeneratorError(
            f"could not load LoRA {lora!r}: {exc} (install it: pip install 'performer[lora]')"
        ) from None
    except (OSError, ValueError) as exc:
        raise GeneratorError(f"could not load LoRA {lora!r}: {exc}") from None


def load_tiny_vae(name: str, dtype: torch.dtype) -> Any:
    """A tiny autoencoder (TAESD) to decode with instead of the model's own VAE."""
    from diffusers import AutoencoderTiny

    if looks_like_folder(name) and not Path(name).expanduser().is_dir():
        raise GeneratorError(f"tiny VAE folder not found: {name}")
    try:
        return AutoencoderTiny.from_pretrained(name, dtype=dtype)
    except (OSError, ValueError) as exc:
        raise GeneratorError(f"could not load tiny VAE {name!r}: {exc}") from None
