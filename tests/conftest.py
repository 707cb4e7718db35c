"""Shared fixtures: tiny diffusers model folders written once per test session."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
os.environ.setdefault("HF_HUB_OFFLINE", "1")


@pytest.fixture(scope="session")
def tiny_models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Folders holding tiny SD, LCM and SDXL pipelines and a tiny TAESD, saved for real."""
    from performer.generators.tiny import save_tiny_pipeline, save_tiny_vae

    root = tmp_path_factory.mktemp("models")
    folders = {kind: save_tiny_pipeline(root / kind, kind) for kind in ("sd", "lcm", "xl")}
    folders["taesd"] = save_tiny_vae(root / "taesd")
    return folders
