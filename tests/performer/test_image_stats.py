"""One image-statistics module: each statistic is defined once, and the training's torch
path computes the very numbers the probe and the era evaluation read with numpy."""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest
import torch

from performer import image_stats as s
from performer.embedded import dataset, loss, media
from performer.embedded import stats as embedded_stats
from performer.probe import reference
from performer.probe import stats as probe_stats

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("performer", "control", "mappings", "render")


def _top_level_names(path: Path) -> list[str]:
    names = []
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.FunctionDef | ast.ClassDef):
            names.append(node.name)
        elif isinstance(node, ast.Assign):
            names += [t.id for t in node.targets if isinstance(t, ast.Name)]
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.append(node.target.id)
    return names


def test_each_statistic_is_defined_once() -> None:
    """No module but image_stats defines a statistic or LUMA, none but reference a Spearman."""
    public = {n for n in vars(s) if not n.startswith("_") and (n.islower() or n.isupper())}
    public -= {"np", "annotations"}
    where: dict[str, list[str]] = defaultdict(list)
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            for name in _top_level_names(path):
                if name in public | {"spearman", "ranks"}:
                    where[name].append(str(path.relative_to(ROOT)))
    twice = {name: paths for name, paths in where.items() if len(paths) > 1}
    assert not twice, f"defined more than once: {twice}"
    assert where["LUMA"] == ["performer/image_stats.py"]
    assert where["spearman"] == ["performer/probe/reference.py"]


def test_the_probe_the_dataset_and_the_training_read_the_same_functions() -> None:
    assert probe_stats.s is s and embedded_stats.s is s and loss.s is s
    assert media.luma is s.luma
    assert embedded_stats.NAMED == ("soft_saturation", "warmth", "texture", "line_energy")
    assert set(embedded_stats.NAMED) <= set(vars(s))
    assert reference.spearman.__module__ == "performer.probe.reference"


def pictures() -> np.ndarray:
    """A few float64 RGB images with something in each statistic: records of four eras
    (sepia, Technicolor, VHS scanlines, JPEG blocks), noise, and stripes."""
    records = [dataset.sample(3, year) for year in (1876.0, 1942.0, 1990.0, 2004.0)]
    rng = np.random.default_rng(7)
    noise = (rng.random((64, 64, 3)) * 255).astype(np.uint8)
    stripes = np.full((64, 64, 3), 90, np.uint8)
    stripes[1::2, :, 0] = 200
    return np.stack([*records, noise, stripes]).astype(np.float64) / 255.0


def _both(x: np.ndarray) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    t = torch.from_numpy(x)
    yn, yt = s.luma(x), s.luma(t)
    return {
        "luma": (yn, yt),
        "soft_saturation": (s.soft_saturation(x), s.soft_saturation(t)),
        "warmth": (s.warmth(x), s.warmth(t)),
        "texture": (s.texture(yn), s.texture(yt)),
        "rows": (s.line_energy(yn.mean(-1)), s.line_energy(yt.mean(-1))),
        "columns": (s.line_energy(yn.mean(-2)), s.line_energy(yt.mean(-2))),
        "scanline": (s.scanline(yn), s.scanline(yt)),
    }


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_numpy_and_torch_agree(dtype: type) -> None:
    x = pictures().astype(dtype)
    tolerance = 1e-12 if dtype == np.float64 else 1e-6
    for name, (a, b) in _both(x).items():
        assert isinstance(b, torch.Tensor) and b.dtype == torch.from_numpy(a).dtype, name
        np.testing.assert_allclose(b.numpy(), a, rtol=tolerance, atol=tolerance, err_msg=name)
    # the stripes are seen, not only agreed on: odd rows carry 110 more levels of red
    assert float(s.scanline(s.luma(x[5]))) == pytest.approx(0.299 * 110 / 255 / 2, rel=1e-5)


def test_the_training_term_measures_what_the_evaluation_measures() -> None:
    """loss.image_stats on records in -1..1 gives the numpy statistics of the same records."""
    x = pictures()[:4]
    images = np.round(x * 255).astype(np.uint8)
    trained = loss.image_stats(loss.to_tensor(images)).double().numpy()
    shown = images.astype(np.float64) / 255.0
    y = s.luma(shown)
    np.testing.assert_allclose(trained[:, 0], s.soft_saturation(shown), atol=1e-5)
    np.testing.assert_allclose(trained[:, 4] / 10, s.line_energy(y.mean(-1)), atol=1e-5)
    np.testing.assert_allclose(trained[:, 5] / 10, s.line_energy(y.mean(-2)), atol=1e-5)
    np.testing.assert_allclose(trained[:, 6] / 20, s.scanline(y), atol=1e-6)
    named = embedded_stats.named(images)
    np.testing.assert_allclose(trained[:, 0], named[:, 0], atol=1e-5)
    np.testing.assert_allclose(trained[:, 4] / 10, named[:, 3], atol=1e-5)


def test_the_training_term_has_a_gradient_everywhere() -> None:
    flat = torch.zeros(2, 3, 16, 16, requires_grad=True)  # no lines at all: roots at 0
    loss.image_stats(flat).sum().backward()
    assert flat.grad is not None and torch.isfinite(flat.grad).all()
