"""The pieces every backend shares: slerp, noise by seed, the few-step schedule."""

from __future__ import annotations

import math

import pytest
import torch

from performer.generators.common import schedule, seed_noise, slerp


def test_slerp_keeps_the_norm_of_noise_half_way() -> None:
    a, b = seed_noise((4, 32, 32), 1), seed_noise((4, 32, 32), 2)
    middle = slerp(a, b, 0.5)
    assert math.isclose(middle.norm().item(), a.norm().item(), rel_tol=0.02)
    assert (0.5 * a + 0.5 * b).norm() < 0.8 * a.norm(), "a lerp would shrink it"
    assert torch.equal(slerp(a, b, 0.0), a) and torch.equal(slerp(a, b, 1.0), b)


@pytest.mark.parametrize("t", [0.25, 0.5, 0.9])
def test_slerp_of_nearly_parallel_tensors_is_the_lerp(t: float) -> None:
    a = torch.randn(77, 32, generator=torch.Generator().manual_seed(0))
    for b in (a, 2.0 * a, a + 1e-7):  # an angle of 0 or ~0: sin(omega) would divide by 0
        out = slerp(a, b, t)
        assert torch.isfinite(out).all()
        torch.testing.assert_close(out, (1 - t) * a + t * b)


def test_slerp_follows_the_arc() -> None:
    a, b = torch.tensor([1.0, 0.0]), torch.tensor([0.0, 1.0])
    torch.testing.assert_close(
        slerp(a, b, 1 / 3), torch.tensor([math.cos(math.pi / 6), math.sin(math.pi / 6)])
    )


def test_slerp_never_asks_the_device_for_a_value() -> None:
    """No Python branch on a tensor: one graph with no break, so no host sync on a GPU."""
    compiled = torch.compile(slerp, fullgraph=True, backend="eager")
    a, b = torch.randn(2, 16), torch.randn(2, 16)
    torch.testing.assert_close(compiled(a, b, 0.3), slerp(a, b, 0.3))
    torch.testing.assert_close(compiled(a, a, 0.3), a)  # the near-parallel side as well


def test_seed_noise_is_the_seed_and_travel_glides() -> None:
    assert torch.equal(seed_noise((1, 4, 8, 8), 5), seed_noise((1, 4, 8, 8), 5))
    assert torch.equal(seed_noise((1, 4, 8, 8), 5, 1.0), seed_noise((1, 4, 8, 8), 6))


def test_schedule_spreads_steps_below_the_timestep() -> None:
    assert schedule(0.0, 4) == []
    assert schedule(1.0, 1) == [1.0]
    assert schedule(0.6, 3) == pytest.approx([0.6, 0.4, 0.2])
