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


def test_an_id_that_names_a_folder_here_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A loader looks on disk before the Hub: an id that is a folder in the current
    folder, not the patch's, would load from outside the patch's folder."""
    (tmp_path / "here" / "org" / "net").mkdir(parents=True)
    (tmp_path / "show").mkdir()
    (tmp_path / "show" / "p.toml").write_text('[[controlnets]]\nsource = "org/net"')
    monkeypatch.chdir(tmp_path / "here")
    with pytest.raises(PatchError, match="a path in the current folder, not in the patch's"):
        patch.load(tmp_path / "show" / "p.toml")
    monkeypatch.chdir(tmp_path)
    assert patch.load(tmp_path / "show" / "p.toml").controlnets == (("org/net", "luma"),)


@pytest.mark.parametrize("text", [":canny", "", ":x", "org/net:", "x:depth:"])
def test_a_spec_with_no_source_or_nothing_after_its_colon_is_refused(text: str) -> None:
    from performer.patch_control import parse_spec as controlnet
    from performer.patch_loras import parse_spec as lora

    for parse in (controlnet, lora):
        with pytest.raises(ValueError, match=r"expected a .* id|nothing after its last"):
            parse(text)
