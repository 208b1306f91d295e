"""GeM pooling and learned whitening against timm, PyTorch's lp_pool2d and brute force."""

import pytest
import torch
import torch.nn.functional as F
from timm.layers import SelectAdaptivePool2d

from papernotes import load_core

core = load_core("companions/gem-retrieval.py")


def positive_map(*shape, seed=0):
    generator = torch.Generator().manual_seed(seed)
    return torch.rand(*shape, generator=generator, dtype=torch.float64) + 0.05


def test_p_one_is_timm_average_pooling():
    x = positive_map(4, 16, 5, 6)
    torch.testing.assert_close(core.gem(x, 1.0), SelectAdaptivePool2d(pool_type="avg", flatten=True)(x), rtol=1e-12, atol=1e-12)


def test_large_p_approaches_timm_max_pooling_within_the_power_mean_bound():
    x = positive_map(4, 16, 5, 6)
    reference = SelectAdaptivePool2d(pool_type="max", flatten=True)(x)
    previous_gap = None
    for p in (2.0, 8.0, 32.0, 128.0, 512.0):
        gap = ((reference - core.gem(x, p)) / reference).max().item()
        assert 0 <= gap <= 1 - 30 ** (-1 / p) + 1e-12
        assert previous_gap is None or gap < previous_gap  # power means grow with p
        previous_gap = gap


def test_brute_force_loop_and_lp_pool2d():
    x = positive_map(2, 3, 4, 4)
    p = torch.tensor([1.5, 3.0, 7.0], dtype=torch.float64)
    ours = core.gem(x, p)
    for b in range(2):
        for c in range(3):
            values = [x[b, c, i, j].item() ** p[c].item() for i in range(4) for j in range(4)]
            assert ours[b, c].item() == pytest.approx((sum(values) / 16) ** (1 / p[c].item()), rel=1e-12)
    shared = F.lp_pool2d(x, 3.0, kernel_size=(4, 4)).flatten(1) * 16 ** (-1 / 3)
    torch.testing.assert_close(core.gem(x, 3.0), shared, rtol=1e-12, atol=1e-12)


def test_clamp_only_touches_values_below_eps():
    x = torch.zeros(1, 1, 2, 2, dtype=torch.float64)
    x[0, 0, 0, 0] = 2.0
    expected = ((2.0**3 + 3 * 1e-6**3) / 4) ** (1 / 3)
    assert core.gem(x, 3.0).item() == pytest.approx(expected, rel=1e-12)


def test_gradient_reaches_p_and_matches_finite_differences():
    x = positive_map(2, 4, 3, 3).requires_grad_()
    p = torch.tensor(2.5, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(core.gem, (x, p))
    pool = core.GeM(p=3.0, channels=4).double()
    pool(x.detach()).sum().backward()
    assert pool.p.grad.shape == (4,) and bool((pool.p.grad != 0).all())


def test_module_parameters_and_defaults():
    assert core.GeM().p.item() == 3.0 and core.GeM().p.shape == ()
    assert core.GeM(p=2.0, channels=8).p.shape == (8,)
    assert [name for name, _ in core.GeM().named_parameters()] == ["p"]


def test_learned_whitening_whitens_matching_differences():
    generator = torch.Generator().manual_seed(1)
    a = torch.randn(400, 6, generator=generator, dtype=torch.float64)
    b = a + torch.linspace(0.2, 2.0, 6, dtype=torch.float64) * torch.randn(400, 6, generator=generator, dtype=torch.float64)
    mean, projection = core.learn_whitening((a, b), (a, b.roll(1, dims=0)))
    whitened = (a - b) @ projection.T
    torch.testing.assert_close(whitened.T @ whitened / 400, torch.eye(6, dtype=torch.float64))
    rotated = (a - b.roll(1, dims=0)) @ projection.T  # non-matching spread, sorted largest first
    spread = (rotated.T @ rotated / 400).diagonal()
    assert bool((spread[:-1] >= spread[1:]).all())
    out = core.whiten(a, mean, projection)
    torch.testing.assert_close(out.norm(dim=1), torch.ones(400, dtype=torch.float64))


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: core.gem(torch.rand(2, 3, 4), 3.0), "x must be"),
        (lambda: core.gem(torch.rand(2, 3, 4, 4), 0.0), "p must be > 0"),
        (lambda: core.gem(torch.rand(2, 3, 4, 4), torch.ones(5)), r"p must be a number or have shape \(3,\)"),
        (lambda: core.GeM(p=0.5), "p must be >= 1"),
        (lambda: core.GeM(eps=0.0), "eps must be > 0"),
        (lambda: core.GeM(channels=0), "channels must be"),
        (lambda: core.learn_whitening((torch.rand(10, 4), torch.rand(10, 3)), (torch.rand(10, 4), torch.rand(10, 4))), "matching must be"),
        (lambda: core.learn_whitening((torch.rand(3, 4), torch.rand(3, 4)), (torch.rand(3, 4), torch.rand(3, 4))), "more than D=4 pairs"),
    ],
)
def test_bad_input_raises_value_error(call, match):
    with pytest.raises(ValueError, match=match):
        call()


# The fast path (core-fast): the readable core differentiated by autograd is the reference.

def map_with_zeros_and_eps(shape, seed=0, dtype=torch.float64):
    """A post-ReLU-like map: exact zeros, some entries exactly at eps, the rest positive."""
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(*shape, generator=generator, dtype=torch.float64).relu()
    x.view(-1)[::5] = 1e-6
    return x.to(dtype)


def values_and_gradients(pool, x, p, upstream):
    """pool(x, p) and, for the upstream gradient dL/dpooled, dL/dx and dL/dp."""
    inputs = (x.clone().requires_grad_(), p.clone().requires_grad_())
    pooled = pool(*inputs)
    return (pooled, *torch.autograd.grad(pooled, inputs, upstream))


@pytest.mark.parametrize(
    "shape",
    [(1, 4, 5, 5), (3, 1, 4, 4), (2, 3, 3, 7), (2, 3, 7, 2), (2, 5, 1, 1)],
    ids=["batch-of-1", "one-channel", "wide-map", "tall-map", "one-position"],
)
@pytest.mark.parametrize("per_channel", [False, True], ids=["shared-p", "per-channel-p"])
def test_fast_path_matches_readable_core_values_and_gradients(shape, per_channel):
    x = map_with_zeros_and_eps(shape, seed=sum(shape))
    generator = torch.Generator().manual_seed(1)
    p = 1 + 4 * torch.rand((shape[1],) if per_channel else (), generator=generator, dtype=torch.float64)
    upstream = torch.randn(shape[:2], generator=generator, dtype=torch.float64)
    fast = values_and_gradients(core.gem_fast, x, p, upstream)
    readable = values_and_gradients(core.gem, x, p, upstream)
    for ours, reference in zip(fast, readable):
        torch.testing.assert_close(ours, reference, rtol=1e-10, atol=1e-12)


def test_fast_path_matches_in_float32_and_for_channels_last_maps():
    x = map_with_zeros_and_eps((4, 16, 6, 6), dtype=torch.float32)
    p = torch.linspace(1.0, 5.0, 16)
    upstream = torch.randn(4, 16, generator=torch.Generator().manual_seed(2))
    readable = values_and_gradients(core.gem, x, p, upstream)
    for layout in (x, x.to(memory_format=torch.channels_last)):
        for ours, reference in zip(values_and_gradients(core.gem_fast, layout, p, upstream), readable):
            torch.testing.assert_close(ours, reference)


def test_fast_path_gradients_when_only_x_or_only_p_needs_one():
    x = map_with_zeros_and_eps((2, 3, 4, 4))
    p = torch.tensor(2.5, dtype=torch.float64)
    upstream = torch.ones(2, 3, dtype=torch.float64)
    only_x = x.clone().requires_grad_()
    fast_x, = torch.autograd.grad(core.gem_fast(only_x, p), only_x, upstream)
    readable_x, = torch.autograd.grad(core.gem(only_x, p), only_x, upstream)
    torch.testing.assert_close(fast_x, readable_x, rtol=1e-10, atol=1e-12)
    only_p = p.clone().requires_grad_()
    fast_p, = torch.autograd.grad(core.gem_fast(x, only_p), only_p, upstream)
    readable_p, = torch.autograd.grad(core.gem(x, only_p), only_p, upstream)
    torch.testing.assert_close(fast_p, readable_p, rtol=1e-10, atol=1e-12)
    with torch.no_grad():
        torch.testing.assert_close(core.gem_fast(x, 2.5), core.gem(x, 2.5), rtol=0, atol=0)


def test_fast_path_gradcheck_and_a_second_backward_gives_the_same_gradient():
    x = positive_map(2, 3, 3, 4).requires_grad_()
    for p in (torch.tensor(2.5, dtype=torch.float64), torch.tensor([1.0, 2.0, 6.0], dtype=torch.float64)):
        assert torch.autograd.gradcheck(core.gem_fast, (x, p.requires_grad_()))
    pooled = core.gem_fast(x, 3.0).sum()
    first, = torch.autograd.grad(pooled, x, retain_graph=True)
    second, = torch.autograd.grad(pooled, x)  # backward must not consume what it saved
    torch.testing.assert_close(first, second, rtol=0, atol=0)


def test_fast_module_learns_the_same_p_gradient_as_the_readable_module():
    x = map_with_zeros_and_eps((3, 8, 5, 5))
    readable, fast = core.GeM(p=3.0, channels=8).double(), core.GeMFast(p=3.0, channels=8).double()
    for pool in (readable, fast):
        (pool(x) ** 2).sum().backward()
    torch.testing.assert_close(fast.p.grad, readable.p.grad, rtol=1e-10, atol=1e-12)
    assert isinstance(fast, core.GeM) and [name for name, _ in fast.named_parameters()] == ["p"]


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: core.gem_fast(torch.rand(2, 3, 4), 3.0), "x must be"),
        (lambda: core.gem_fast(torch.ones(2, 3, 4, 4, dtype=torch.int64), 3.0), "x must be a floating-point"),
        (lambda: core.gem_fast(torch.rand(2, 3, 4, 4), -1.0), "p must be > 0"),
        (lambda: core.gem_fast(torch.rand(2, 3, 4, 4), torch.ones(2)), r"p must be a number or have shape \(3,\)"),
        (lambda: core.gem_fast(torch.rand(2, 3, 4, 4), torch.ones(3, 1)), r"p must be a number or have shape \(3,\)"),
        (lambda: core.gem_fast(torch.rand(2, 3, 4, 4), 3.0, eps=0.0), "eps must be > 0"),
        (lambda: core.GeMFast(p=0.5), "p must be >= 1"),
    ],
)
def test_fast_path_bad_input_raises_value_error(call, match):
    with pytest.raises(ValueError, match=match):
        call()
