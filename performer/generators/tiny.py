"""Tiny diffusers pipelines with random weights, saved to a folder: for tests and benches.

They load through exactly the same code as a real model folder, so the whole backend is
exercised with no download. Their pictures are noise-like: they prove plumbing, not art.
"""

from __future__ import annotations

import string
from pathlib import Path
from typing import Any, Literal

import torch

Kind = Literal["sd", "lcm", "xl"]


def _tokenizer() -> Any:
    """A character-level CLIP tokenizer with a vocabulary made here (no one else's files)."""
    from transformers import CLIPTokenizer

    chars = list(string.ascii_lowercase + string.digits + ",.-'")
    tokens = ["<|startoftext|>", "<|endoftext|>", *chars, *(c + "</w>" for c in chars)]
    return CLIPTokenizer(
        vocab={tok: i for i, tok in enumerate(tokens)}, merges=[], model_max_length=77
    )


def _text_encoder(dim: int, projection: bool = False) -> Any:
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTextModelWithProjection

    config = CLIPTextConfig(
        vocab_size=100,
        hidden_size=dim,
        intermediate_size=2 * dim,
        num_hidden_layers=2,
        num_attention_heads=2,
        max_position_embeddings=77,
        projection_dim=dim,
        bos_token_id=0,
        eos_token_id=1,
        pad_token_id=1,
    )
    return CLIPTextModelWithProjection(config) if projection else CLIPTextModel(config)


def save_tiny_pipeline(folder: str | Path, kind: Kind = "sd", seed: int = 0) -> Path:
    """Build a tiny pipeline of ``kind`` and ``save_pretrained`` it into ``folder``."""
    from diffusers import StableDiffusionPipeline, StableDiffusionXLPipeline

    folder = Path(folder)
    torch.manual_seed(seed)
    # the weights are drawn in this order, so a seed always gives the same pipeline
    unet, vae, scheduler, tokenizer = _unet(kind), _vae(), _scheduler(kind), _tokenizer()
    pipe: Any
    if kind == "xl":
        pipe = StableDiffusionXLPipeline(
            vae=vae,
            unet=unet,
            scheduler=scheduler,
            text_encoder=_text_encoder(32),
            tokenizer=tokenizer,
            text_encoder_2=_text_encoder(32, projection=True),
            tokenizer_2=tokenizer,
        )
    else:
        pipe = StableDiffusionPipeline(
            vae=vae,
            unet=unet,
            scheduler=scheduler,
            text_encoder=_text_encoder(32),
            tokenizer=tokenizer,
            safety_checker=None,
            feature_extractor=None,
            requires_safety_checker=False,
        )
    pipe.save_pretrained(folder)
    return folder


def _unet(kind: Kind) -> Any:
    from diffusers import UNet2DConditionModel

    xl = kind == "xl"
    return UNet2DConditionModel(
        block_out_channels=(32, 64),
        layers_per_block=1,
        sample_size=8,
        in_channels=4,
        out_channels=4,
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
        cross_attention_dim=64 if xl else 32,
        attention_head_dim=(2, 4),
        norm_num_groups=16,
        time_cond_proj_dim=32 if kind == "lcm" else None,
        addition_embed_type="text_time" if xl else None,
        addition_time_embed_dim=8 if xl else None,
        projection_class_embeddings_input_dim=32 + 6 * 8 if xl else None,
    )


def _vae() -> Any:
    from diffusers import AutoencoderKL

    return AutoencoderKL(
        block_out_channels=(16, 32),
        in_channels=3,
        out_channels=3,
        down_block_types=("DownEncoderBlock2D", "DownEncoderBlock2D"),
        up_block_types=("UpDecoderBlock2D", "UpDecoderBlock2D"),
        latent_channels=4,
        norm_num_groups=16,
        sample_size=32,
    )


def _scheduler(kind: Kind) -> Any:
    from diffusers import EulerDiscreteScheduler, LCMScheduler

    schedule = {"beta_schedule": "scaled_linear", "beta_start": 0.00085, "beta_end": 0.012}
    if kind == "lcm":
        return LCMScheduler(**schedule, steps_offset=1)
    return EulerDiscreteScheduler(**schedule, steps_offset=1)


def save_tiny_vae(folder: str | Path, seed: int = 0) -> Path:
    """A tiny AutoencoderTiny (TAESD-shaped) matching the tiny pipelines' 2x latent scale."""
    from diffusers import AutoencoderTiny

    torch.manual_seed(seed)
    vae: Any = AutoencoderTiny(
        encoder_block_out_channels=(16, 16),
        decoder_block_out_channels=(16, 16),
        num_encoder_blocks=(1, 1),
        num_decoder_blocks=(1, 1),
        latent_channels=4,
    )
    vae.save_pretrained(folder)
    return Path(folder)


#: the tiny UNet's layers a tiny LoRA touches: attention, and the resnets' convolutions
LORA_TARGETS = ("to_q", "to_k", "to_v", "to_out.0", "conv1", "conv2")


def save_tiny_lora(folder: str | Path, model: str | Path, seed: int = 0) -> Path:
    """A rank-4 LoRA made with PEFT on a tiny pipeline's UNet (``model``), random up
    weights (PEFT starts them at zero, which would change nothing), saved in diffusers'
    format; returns the file."""
    from diffusers import StableDiffusionPipeline, UNet2DConditionModel
    from diffusers.utils import convert_state_dict_to_diffusers
    from peft import LoraConfig
    from peft.utils import get_peft_model_state_dict

    unet: Any = UNet2DConditionModel.from_pretrained(Path(model) / "unet")
    unet.add_adapter(LoraConfig(r=4, lora_alpha=4, target_modules=list(LORA_TARGETS)))
    torch.manual_seed(seed)
    for name, p in unet.named_parameters():
        if "lora_B" in name:
            torch.nn.init.normal_(p, std=0.3)
    layers = convert_state_dict_to_diffusers(get_peft_model_state_dict(unet))
    StableDiffusionPipeline.save_lora_weights(folder, unet_lora_layers=layers)
    return Path(folder) / "pytorch_lora_weights.safetensors"


def save_tiny_controlnet(folder: str | Path, model: str | Path, seed: int = 0) -> Path:
    """A ControlNet made from a tiny pipeline's UNet (``model``), its conditioning
    embedding scaled to the tiny latents (2x), and its zero convolutions filled with
    random weights (zeros, as training starts them, would change nothing)."""
    from diffusers import ControlNetModel, UNet2DConditionModel

    unet: Any = UNet2DConditionModel.from_pretrained(Path(model) / "unet")
    controlnet: Any = ControlNetModel.from_unet(unet, conditioning_embedding_out_channels=(8, 16))
    torch.manual_seed(seed)
    zero_convs = [*controlnet.controlnet_down_blocks, controlnet.controlnet_mid_block]
    conditioning = controlnet.controlnet_cond_embedding.conv_out
    with torch.no_grad():
        for conv in [*zero_convs, conditioning]:
            torch.nn.init.normal_(conv.weight, std=0.2)
    controlnet.save_pretrained(folder)
    return Path(folder)


def save_tiny_depth(folder: str | Path, side: int = 32, patch: int = 8, seed: int = 0) -> Path:
    """A tiny DPT depth model (reading ``side``² pictures in ``patch``² patches) with its
    image processor, ``save_pretrained`` into ``folder``: the ``depth:`` preprocessor's."""
    from transformers import DPTConfig, DPTForDepthEstimation, DPTImageProcessor

    torch.manual_seed(seed)
    config = DPTConfig(
        hidden_size=32,
        num_hidden_layers=4,
        num_attention_heads=2,
        intermediate_size=64,
        image_size=side,
        patch_size=patch,
        backbone_out_indices=[0, 1, 2, 3],
        neck_hidden_sizes=[8, 16, 16, 16],
        fusion_hidden_size=16,
    )
    DPTForDepthEstimation(config).save_pretrained(folder)
    DPTImageProcessor(size={"height": side, "width": side}).save_pretrained(folder)
    return Path(folder)


def save_tiny_ip_adapter(folder: str | Path, model: str | Path, seed: int = 0) -> Path:
    """A tiny IP-Adapter for a tiny pipeline (``model``): a CLIP image encoder built from
    config in ``image_encoder/``, and ``ip-adapter.safetensors`` with the image projection
    and a random ``to_k_ip``/``to_v_ip`` pair for each cross-attention of the UNet, keyed
    as the original IP-Adapter files are (diffusers' loader reads them); returns ``folder``."""
    from diffusers import UNet2DConditionModel
    from safetensors.torch import save_file
    from transformers import CLIPVisionConfig, CLIPVisionModelWithProjection

    folder = Path(folder)
    torch.manual_seed(seed)
    config = CLIPVisionConfig(
        hidden_size=32,
        intermediate_size=64,
        projection_dim=16,
        num_hidden_layers=2,
        num_attention_heads=2,
        image_size=32,
        patch_size=8,
    )
    CLIPVisionModelWithProjection(config).save_pretrained(folder / "image_encoder")
    unet: Any = UNet2DConditionModel.from_pretrained(Path(model) / "unet")
    cross, widths = unet.config.cross_attention_dim, unet.config.block_out_channels
    tokens = 4  # the plain IP-Adapter's image tokens
    weights = {
        "image_proj.proj.weight": torch.randn(tokens * cross, config.projection_dim) * 0.5,
        "image_proj.proj.bias": torch.randn(tokens * cross) * 0.1,
        "image_proj.norm.weight": torch.ones(cross),
        "image_proj.norm.bias": torch.zeros(cross),
    }
    # the original files number every attention layer, self (even) and cross (odd)
    cross_attention = [n for n in unet.attn_processors if n.endswith("attn2.processor")]
    for k, name in enumerate(cross_attention):
        width = _width(name, widths)
        weights[f"ip_adapter.{2 * k + 1}.to_k_ip.weight"] = torch.randn(width, cross) * 0.3
        weights[f"ip_adapter.{2 * k + 1}.to_v_ip.weight"] = torch.randn(width, cross) * 0.3
    save_file(weights, folder / "ip-adapter.safetensors")
    return folder


def _width(processor: str, widths: tuple[int, ...]) -> int:
    """The channels of the UNet block an attention processor sits in (as diffusers reads it)."""
    if processor.startswith("mid_block"):
        return widths[-1]
    block = int(processor.split(".")[1])
    return (widths[::-1] if processor.startswith("up_blocks") else widths)[block]
