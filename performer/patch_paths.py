"""What a patch may name on disk: only what lies in its own folder.

A patch is data passed between performers, so nothing in it may reach a file outside
the folder it lies in. It names two kinds of things:

- a **file** (the ``[input]`` file, a still image): a relative path inside the folder,
  with no ``..`` (:func:`file_in_folder`);
- **weights** (``model``, ``tiny_vae``, ``lora``, ``[[loras]]``, ``[[controlnets]]``,
  ``[ip_adapter]``): a Hugging Face id (``org/name``) or a file or folder inside the
  patch's folder, written ``./models/tiny`` (:func:`weights_source`).

The command line may name anything; these rules are only for patches.
"""

from __future__ import annotations

import re
from pathlib import Path, PurePosixPath, PureWindowsPath

from performer.mappings.tables import PatchError

#: a Hugging Face id: ``name`` or ``org/name``, letters, digits and ``._-``, perhaps with
#: a file in it (``h94/IP-Adapter/models/ip-adapter_sd15.safetensors``)
HUB_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,95}(/[A-Za-z0-9][A-Za-z0-9._-]{0,95}){0,6}")


def file_in_folder(spec: str, key: str, path: Path | None) -> str:
    """``spec``, a file inside the folder of the patch at ``path`` (None: a patch read
    from text, kept as it is), as a path to open; else a PatchError at ``key``."""
    if _leaves(spec):
        raise PatchError(key, "a file must lie in the patch's folder (a relative path, no ..)")
    if path is None:
        return spec
    folder = path.parent.resolve()
    if not (folder / spec).resolve().is_relative_to(folder):  # a link that leads out
        raise PatchError(key, "a file must lie in the patch's folder (it links outside)")
    return str(folder / spec)


def weights_source(value: str, key: str, path: Path | None) -> str:
    """A model, VAE, LoRA or ControlNet a patch names: a Hugging Face id as it is, or a
    file or folder inside the patch's folder (``./...``, or a name found there) as a
    path; else a PatchError at ``key``."""
    is_id = HUB_ID.fullmatch(value) and ".." not in value and not value.startswith(".")
    if is_id and (path is None or not (path.parent / value).exists()):
        if path is not None and Path(value).exists():  # the loaders would read it here
            raise PatchError(
                key,
                f"{value!r} is a path in the current folder, not in the patch's: write "
                "./name for one in the patch's folder, or name it on the command line",
            )
        return value  # an id, for the Hub (or its cache) to find
    if _leaves(value):
        raise PatchError(
            key,
            f"{value!r}: expected a Hugging Face id (org/name) or a path in the "
            "patch's folder (./name)",
        )
    return file_in_folder(value, key, path)


def _leaves(spec: str) -> bool:
    """Whether ``spec`` reaches outside a folder on any system: absolute, a drive,
    ``~`` or a ``..``."""
    posix, windows = PurePosixPath(spec), PureWindowsPath(spec)
    return (
        posix.is_absolute()
        or windows.is_absolute()
        or bool(windows.drive)
        or spec.startswith("~")
        or ".." in posix.parts
        or ".." in windows.parts
    )


def split_spec(text: str, noun: str) -> tuple[str, str | None]:
    """``SOURCE[:SUFFIX]`` as the command line writes a LoRA or a ControlNet: the source
    and what follows its last colon (None: nothing, or the colon of a Windows drive or a
    URL). An empty source is a ValueError naming ``noun``."""
    source, colon, suffix = text.rpartition(":")
    if colon and not suffix:
        raise ValueError(f"{text!r}: nothing after its last ':'")
    if not colon or "/" in suffix or "\\" in suffix:
        source, suffix = text, ""
    if not source:
        raise ValueError(f"expected a {noun} id, folder or file, got {text!r}")
    return source, suffix or None
