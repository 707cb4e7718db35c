"""Image generators behind one interface (see ``base.Generator``), chosen by name.

- ``embedded``: the small era model that ships inside the package (the default)
- anything else: a diffusers model, by Hugging Face id or local folder
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from performer.generators.base import Generator, GeneratorError, Setup

__all__ = ["EMBEDDED", "Generator", "GeneratorError", "Setup", "load_generator"]

EMBEDDED = "embedded"


def load_generator(
    model: str | None,
    tiny_vae: str | None = None,
    lora: str | None = None,
    device: str | None = None,
    fast: Mapping[str, Any] | None = None,
    loras: Sequence[tuple[str, str]] = (),
    controlnets: Sequence[tuple[str, str]] = (),
    control_image: str | None = None,
    ip_adapter: str | None = None,
    ip_image: str | None = None,
) -> Generator:
    """The generator for ``model``; backends are imported only when chosen.

    ``lora`` is fused into the model (an LCM-LoRA); each of ``loras`` (source, name)
    plays live, its weight the knob ``lora_<name>`` (``lora.py``); each of
    ``controlnets`` (source, preprocessor) holds the picture to a control image (the
    previous frame, the live input or the still ``control_image``) by its strength knob
    (``control.py``); ``ip_adapter`` prompts with an image (``ip_image``, the live input
    or a grab) by ``ip_scale`` (``ipadapter.py``).

    ``fast`` holds the diffusers fast-path options (compile, cuda_graphs, stream_batch,
    similarity_skip, cfg); see ``fastpath.FastOptions``.
    """
    fast = {k: v for k, v in (fast or {}).items() if v not in (None, False)}
    if not model or model == EMBEDDED:
        if fast or loras or controlnets or ip_adapter:
            logging.getLogger(__name__).warning(
                "%s apply to diffusers models only; the embedded model ignores them",
                ", ".join(
                    [
                        *fast,
                        *(f"--lora {source}:{name}" for source, name in loras),
                        *(f"--controlnet {source}:{pre}" for source, pre in controlnets),
                        *([f"--ip-adapter {ip_adapter}"] if ip_adapter else []),
                    ]
                ),
            )
        try:
            from performer.generators.embedded import EmbeddedGenerator
        except ImportError as exc:
            raise GeneratorError(
                f"the embedded model is not available here ({exc}); pass --model with a "
                "Hugging Face id (e.g. --model stabilityai/sd-turbo) or a model folder"
            ) from None
        return EmbeddedGenerator()
    from performer.generators.diffusion import DiffusersGenerator
    from performer.generators.lora import LoraSpec

    specs = tuple(LoraSpec(source, name) for source, name in loras)
    try:
        return DiffusersGenerator(
            model,
            tiny_vae=tiny_vae,
            lora=lora,
            device=device,
            loras=specs,
            controlnets=tuple((source, pre) for source, pre in controlnets),
            control_image=control_image,
            ip_adapter=ip_adapter,
            ip_image=ip_image,
            **fast,
        )
    except ValueError as exc:  # a fast-path option this machine or build cannot take
        raise GeneratorError(str(exc)) from None
