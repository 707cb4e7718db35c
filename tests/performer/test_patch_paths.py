"""A patch names weights and files only inside its own folder (performer/patch_paths.py):
a Hugging Face id passes as it is, a path that reaches out is refused in one line."""

from __future__ import annotations

from pathlib import Path

import pytest

from performer import patch
from performer.patch import PatchError

OUTSIDE = [
    "/etc/passwd",
    "../models/tiny",
    "./a/../../b",
    "~/loras/ink",
    r"C:\loras\ink",
    "a/../../b",
]


@pytest.mark.parametrize("value", OUTSIDE)
@pytest.mark.parametrize(
    "template",
    [
        'model = "{}"',
        'tiny_vae = "{}"',
        'lora = "{}"',
        '[[loras]]\nsource = "{}"\nname = "ink"',
        '[[controlnets]]\nsource = "{}"',
    ],
)
def test_weights_outside_the_patch_folder_are_refused(
    tmp_path: Path, template: str, value: str
) -> None:
    (tmp_path / "p.toml").write_text(template.format(value.replace("\\", "\\\\")))
    with pytest.raises(PatchError, match="patch's folder") as caught:
        patch.load(tmp_path / "p.toml")
    assert "\n" not in str(caught.value)


def test_a_link_that_leads_out_of_the_folder_is_refused(tmp_path: Path) -> None:
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "show").mkdir()
    (tmp_path / "show" / "ink").symlink_to(tmp_path / "elsewhere")
    (tmp_path / "show" / "p.toml").write_text('[[loras]]\nsource = "./ink"\nname = "ink"')
    with pytest.raises(PatchError, match="links outside"):
        patch.load(tmp_path / "show" / "p.toml")


def test_ids_pass_and_paths_in_the_folder_resolve(tmp_path: Path) -> None:
    (tmp_path / "ink.safetensors").write_bytes(b"")
    (tmp_path / "p.toml").write_text(
        'model = "stabilityai/sd-turbo"\ntiny_vae = "./vae"\n'
        '[[loras]]\nsource = "ink.safetensors"\nname = "ink"\n'
        '[[loras]]\nsource = "org/fog"\nname = "fog"\n'
    )
    loaded = patch.load(tmp_path / "p.toml")
    assert loaded.model == "stabilityai/sd-turbo"
    assert loaded.tiny_vae == str(tmp_path.resolve() / "vae")
    assert loaded.loras == (
        (str(tmp_path.resolve() / "ink.safetensors"), "ink"),
        ("org/fog", "fog"),
    )
