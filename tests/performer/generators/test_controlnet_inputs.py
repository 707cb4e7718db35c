"""What feeds the ControlNets: the preprocessors' images, a tiny depth model, the step
window rule, ``--controlnet`` specs and a patch's ``[[controlnets]]``."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest
import torch
from performer.control.params import REGISTRY, forget
from performer.mappings.tables import PatchError

from performer.generators.base import GeneratorError
from performer.generators.control import keep, step_scales
from performer.generators.preprocess import canny, in_grey, make, soft_edge
from performer.generators.tiny import save_tiny_depth
from performer.options import add_model_options
from performer.patch import loads
from performer.patch_control import parse_spec

CPU = torch.device("cpu")


@pytest.fixture(autouse=True)
def _forget_knobs() -> object:
    yield
    for n in range(1, 5):
        forget(f"control_strength_{n}")


def square(size: int = 64) -> torch.Tensor:
    """A white square (rows and columns 16..47) on black, ``[1, 3, H, W]`` in 0..255."""
    picture = torch.zeros((1, 3, size, size))
    picture[..., 16:48, 16:48] = 255.0
    return picture


def test_luma_is_the_grey_picture() -> None:
    image = in_grey(torch.full((1, 3, 2, 3), 255.0))
    assert image.shape == (1, 3, 2, 3) and torch.allclose(image, torch.ones(1, 3, 2, 3))
    red = torch.zeros((1, 3, 1, 1))
    red[:, 0] = 255.0
    assert torch.allclose(in_grey(red), torch.full((1, 3, 1, 1), 0.299))


def test_canny_finds_the_edge_of_a_square() -> None:
    edges = canny(square())
    assert edges.shape == (1, 3, 64, 64) and set(edges.unique().tolist()) <= {0.0, 1.0}
    found = edges[0, 0] > 0
    ring = torch.zeros_like(found)
    ring[14:50, 14:50] = True
    ring[18:46, 18:46] = False  # within two pixels of the square's border
    assert found.sum() > 4 * 28, "the whole border is found"
    assert not (found & ~ring).any(), "no edge away from the border"
    assert canny(torch.full((1, 3, 64, 64), 128.0)).sum() == 0, "a flat picture has none"
    faint = square() * 0.1  # a step of 25 grey levels: under the low threshold
    assert canny(faint).sum() == 0


def test_soft_edge_is_soft_and_bright_on_edges() -> None:
    edges = soft_edge(square())
    assert edges.shape == (1, 3, 64, 64) and edges.min() >= 0 and edges.max() <= 1
    grey = edges[0, 0]
    assert grey[16, 32] > 0.9 and grey[32, 32] < 0.01 and grey[2, 2] < 0.01
    assert 0.05 < grey[12, 32] < grey[15, 32], "it fades away from the edge"
    assert soft_edge(square() * 0.2)[0, 0, 16, 32] < grey[16, 32], "fainter edges are darker"


@pytest.fixture(scope="module")
def tiny_depth(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny DPT depth model from config, saved with its image processor."""
    return save_tiny_depth(tmp_path_factory.mktemp("depth"))


def test_depth_loads_a_model_by_folder(tiny_depth: Path) -> None:
    depth = make(f"depth:{tiny_depth}", CPU, torch.float32)
    with torch.inference_mode():
        image = depth(square(48))
        other = depth(torch.rand((1, 3, 48, 48)) * 255)
    assert image.shape == (1, 3, 48, 48) and image.min() >= 0 and image.max() <= 1
    assert image.max() == 1 and image.min() == 0, "min-max scaled"
    assert not torch.allclose(image, other), "the depth of another picture is another"
    with pytest.raises(GeneratorError, match="could not load depth model"):
        make("depth:/no/such/depth-model", CPU, torch.float32)


def test_the_step_window_follows_diffusers() -> None:
    assert [keep(k, 4, 0.0, 1.0) for k in range(4)] == [True] * 4
    assert [keep(k, 4, 0.25, 0.75) for k in range(4)] == [False, True, True, False]
    assert [keep(k, 2, 0.0, 0.4) for k in range(2)] == [False, False]
    assert step_scales((1.5, 0.5), 2, 0.5, 1.0) == ((0.0, 0.0), (1.5, 0.5))


@pytest.mark.parametrize(
    ("text", "spec"),
    [
        ("org/net", ("org/net", "luma")),
        ("org/net:canny", ("org/net", "canny")),
        ("./nets/a:soft_edge", ("./nets/a", "soft_edge")),
        (
            "org/depth-net:depth:Intel/dpt-hybrid-midas",
            ("org/depth-net", "depth:Intel/dpt-hybrid-midas"),
        ),
        ("C:\\nets\\canny", ("C:\\nets\\canny", "luma")),
        ("C:\\nets\\a:depth:C:\\dpt", ("C:\\nets\\a", "depth:C:\\dpt")),
    ],
)
def test_a_controlnet_spec_names_its_preprocessor(text: str, spec: tuple[str, str]) -> None:
    assert parse_spec(text) == spec


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("org/net:pose", "pose needs"),
        ("org/net:blur", "unknown preprocessor"),
        ("a:depth", "depth:"),
    ],
)
def test_a_bad_spec_is_one_line(text: str, error: str) -> None:
    with pytest.raises(ValueError, match=error):
        parse_spec(text)


def test_the_command_line_takes_several_controlnets() -> None:
    parser = argparse.ArgumentParser()
    add_model_options(parser)
    args = parser.parse_args(
        ["--controlnet", "a/b:canny", "--controlnet", "c/d", "--set", "control_strength_2=0.5"]
    )
    assert args.controlnets == [("a/b", "canny"), ("c/d", "luma")]
    assert args.sets == [("control_strength_2", 0.5)] and "control_strength_2" in REGISTRY
    assert parser.parse_args(["--control-image", "x.png"]).control_image == "x.png"
    with pytest.raises(SystemExit):
        parser.parse_args(["--controlnet", "a/b"] * 5)


def test_a_patch_declares_its_controlnets(tmp_path: Path) -> None:
    patch = loads('[[controlnets]]\nsource = "org/lineart"\nimage = "input"\nstrength = 0.5\n')
    assert patch.controlnets == (("org/lineart", "luma"),) and patch.control_image is None
    assert patch.params == {"control_source": 1, "control_strength": 0.5}
    assert loads("").controlnets == ()
    (tmp_path / "dpt").mkdir()
    text = (
        '[[controlnets]]\nsource = "org/a"\npreprocessor = "canny"\nimage = "still:s.png"\n'
        '[[controlnets]]\nsource = "org/b"\npreprocessor = "depth:./dpt"\nstrength = 1.5\n'
    )
    patch = loads(text, path=tmp_path / "show.toml")
    assert patch.controlnets == (("org/a", "canny"), ("org/b", f"depth:{tmp_path / 'dpt'}"))
    assert patch.control_image == str(tmp_path / "s.png")
    assert patch.params == {"control_source": 2, "control_strength_2": 1.5}
    assert "control_strength_1" in REGISTRY


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("controlnets = 1", "controlnets: expected"),
        ('[[controlnets]]\nsource = "a"\n' * 5, "5 ControlNets; at most 4"),
        ('[[controlnets]]\nsource = "a"\nimage = "depth"', r"controlnets\[0\].image: unknown"),
        ('[[controlnets]]\nsource = "a"\nstrength = 3', "expected a number in 0..2"),
        ("[[controlnets]]\nimage = 'input'", r"controlnets\[0\].source: required"),
        ('[[controlnets]]\nsource = "a"\nstrength = 1\n[params]\ncontrol_strength = 1', "set by"),
        ('[[controlnets]]\nsource = "a"\npreprocessor = "pose"', "pose needs"),
        ('[[controlnets]]\nsource = "a"\nimage = "still:../x.png"', "in the patch's folder"),
        ('[[controlnets]]\nsource = "a"\nstill = "/etc/x.png"', "in the patch's folder"),
        ('[[controlnets]]\nsource = "a"\nimage = "still"', "needs a file"),
        (
            '[[controlnets]]\nsource = "a"\nstill = "x.png"\n'
            '[[controlnets]]\nsource = "b"\nstill = "y.png"',
            "one still image",
        ),
        (
            '[[controlnets]]\nsource = "a"\nimage = "input"\n'
            '[[controlnets]]\nsource = "b"\nimage = "previous"',
            "share one control image",
        ),
    ],
)
def test_bad_controlnets_are_one_line_errors(text: str, error: str) -> None:
    with pytest.raises(PatchError, match=error) as caught:
        loads(text)
    assert "\n" not in str(caught.value)
