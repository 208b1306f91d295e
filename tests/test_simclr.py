"""SimCLR's NT-Xent core against Eq. 1 written with loops, the peer libraries and its invariances."""

import math

import pytest
import torch
import torch.nn.functional as F
from lightly.loss import NTXentLoss as LightlyNTXent
from pytorch_metric_learning.losses import NTXentLoss as PMLNTXent
from pytorch_metric_learning.losses import SelfSupervisedLoss

from papernotes import load_core

core = load_core("companions/simclr.py")


def eq1_with_loops(z1, z2, temperature):
    """Eq. 1 of the paper and its mean over the 2N anchors, one term at a time."""
    views = [view for pair in zip(z1, z2) for view in pair]  # the paper's order: 2k-1, 2k
    cos = [[float(u @ v / (u.norm() * v.norm())) for v in views] for u in views]
    total = 0.0
    for i in range(len(views)):
        j = i + 1 if i % 2 == 0 else i - 1
        denominator = sum(math.exp(cos[i][k] / temperature) for k in range(len(views)) if k != i)
        total += -math.log(math.exp(cos[i][j] / temperature) / denominator)
    return total / len(views)


def randn(*shape, seed=0):
    return torch.randn(*shape, dtype=torch.float64, generator=torch.Generator().manual_seed(seed))


@pytest.mark.parametrize("n, d", [(2, 1), (3, 7), (10, 4), (17, 32)])
@pytest.mark.parametrize("temperature", [0.05, 0.1, 0.5, 1.0, 3.0])
def test_equals_eq1_written_with_loops(n, d, temperature):
    z1, z2 = randn(n, d, seed=n), randn(n, d, seed=n + 100)
    expected = torch.tensor(eq1_with_loops(z1, z2, temperature), dtype=torch.float64)
    torch.testing.assert_close(core.nt_xent(z1, z2, temperature), expected, rtol=0, atol=1e-10)


def grads(loss_fn, z1, z2):
    a, b = z1.clone().requires_grad_(), z2.clone().requires_grad_()
    loss = loss_fn(a, b)
    loss.backward()
    return loss.detach(), a.grad, b.grad


@pytest.mark.parametrize("temperature", [0.07, 0.5])
def test_value_and_gradient_equal_lightly_and_pml(temperature):
    z1, z2 = randn(40, 12, seed=1), randn(40, 12, seed=2)
    ours = grads(lambda a, b: core.nt_xent(a, b, temperature), z1, z2)
    for peer in (LightlyNTXent(temperature=temperature), SelfSupervisedLoss(PMLNTXent(temperature=temperature))):
        for mine, theirs in zip(ours, grads(peer, z1, z2)):
            torch.testing.assert_close(mine, theirs, rtol=1e-10, atol=1e-12)


def test_official_tensorflow_recipe_is_twice_the_paper_loss():
    z1, z2 = randn(20, 8, seed=3), randn(20, 8, seed=4)
    a, b = F.normalize(z1, dim=1), F.normalize(z2, dim=1)
    same_view = torch.eye(20, dtype=torch.bool)
    labels = torch.arange(20)
    loss_a = F.cross_entropy(torch.cat([a @ b.T, (a @ a.T).masked_fill(same_view, -1e9)], dim=1) / 0.1, labels)
    loss_b = F.cross_entropy(torch.cat([b @ a.T, (b @ b.T).masked_fill(same_view, -1e9)], dim=1) / 0.1, labels)
    torch.testing.assert_close(loss_a + loss_b, 2 * core.nt_xent(z1, z2, 0.1), rtol=1e-12, atol=1e-12)


def test_invariances():
    z1, z2 = randn(16, 5, seed=5), randn(16, 5, seed=6)
    base = core.nt_xent(z1, z2, 0.3)
    scale = randn(16, 1, seed=7).abs() + 0.01
    order = torch.randperm(16, generator=torch.Generator().manual_seed(8))
    for variant in (core.nt_xent(z1 * scale, z2 * 3.0, 0.3), core.nt_xent(z1[order], z2[order], 0.3), core.nt_xent(z2, z1, 0.3)):
        torch.testing.assert_close(variant, base, rtol=1e-12, atol=1e-12)


def test_gradcheck_and_float32_matches_float64():
    z1 = randn(5, 4, seed=9).requires_grad_()
    z2 = randn(5, 4, seed=10).requires_grad_()
    assert torch.autograd.gradcheck(lambda a, b: core.nt_xent(a, b, 0.2), (z1, z2), eps=1e-6, atol=1e-7)
    big1, big2 = randn(256, 64, seed=11), randn(256, 64, seed=12)
    for temperature in (0.05, 0.5):
        exact = core.nt_xent(big1, big2, temperature)
        torch.testing.assert_close(core.nt_xent(big1.float(), big2.float(), temperature).double(), exact, rtol=1e-5, atol=1e-5)


def test_perfect_alignment_gives_the_lower_bound():
    # Identical views that are mutually orthogonal: each row's softmax has e^(1/tau) against 2N - 2 ones.
    z = torch.eye(4, dtype=torch.float64)
    expected = -math.log(math.exp(1 / 0.5) / (math.exp(1 / 0.5) + 6))
    assert core.nt_xent(z, z.clone(), 0.5).item() == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize(
    "z1, z2, temperature, message",
    [
        (torch.ones(4, 3), torch.ones(5, 3), 0.5, "same shape"),
        (torch.ones(1, 3), torch.ones(1, 3), 0.5, "N >= 2"),
        (torch.ones(4), torch.ones(4), 0.5, "2-D"),
        (torch.ones(2, 4, 3), torch.ones(2, 4, 3), 0.5, "2-D"),
        (torch.ones(4, 3, dtype=torch.long), torch.ones(4, 3, dtype=torch.long), 0.5, "floating-point"),
        (torch.ones(4, 3), torch.ones(4, 3), 0.0, "temperature"),
        (torch.ones(4, 3), torch.ones(4, 3), -1.0, "temperature"),
        (torch.ones(4, 3), torch.ones(4, 3), math.nan, "temperature"),
        (torch.ones(4, 3), torch.ones(4, 3), math.inf, "temperature"),
        (torch.ones(4, 3), torch.ones(4, 3), True, "temperature"),
        (torch.ones(4, 3), torch.ones(4, 3), "0.5", "temperature"),
        (torch.zeros(4, 3), torch.ones(4, 3), 0.5, "non-zero norm"),
        (torch.full((4, 3), math.nan), torch.ones(4, 3), 0.5, "finite"),
    ],
)
def test_bad_input_raises_value_error(z1, z2, temperature, message):
    with pytest.raises(ValueError, match=message):
        core.nt_xent(z1, z2, temperature)


# The fast path (core-fast): the same loss with the gradient written out by hand.


def fast_and_readable(z1, z2, temperature):
    return grads(lambda a, b: core.nt_xent_fast(a, b, temperature), z1, z2), grads(lambda a, b: core.nt_xent(a, b, temperature), z1, z2)


@pytest.mark.parametrize(
    "n, d",
    [
        (2, 1),  # the smallest batch that has a negative, and one channel
        (2, 128),
        (5, 1),  # one channel: every cosine is +1 or -1
        (3, 7),
        (17, 32),
        (64, 128),
        (300, 5),
    ],
)
@pytest.mark.parametrize("temperature", [0.05, 0.1, 0.5, 3.0])
def test_fast_path_equals_the_readable_core_in_value_and_gradient(n, d, temperature):
    z1, z2 = randn(n, d, seed=n * 1000 + d), randn(n, d, seed=n * 1000 + d + 1)
    fast, readable = fast_and_readable(z1, z2, temperature)
    for name, mine, theirs in zip(("loss", "grad z1", "grad z2"), fast, readable):
        torch.testing.assert_close(mine, theirs, rtol=1e-12, atol=1e-14, msg=lambda m, name=name: f"{name}: {m}")


def test_fast_path_gradcheck_and_float32_matches_float64():
    z1 = randn(5, 4, seed=22).requires_grad_()
    z2 = randn(5, 4, seed=23).requires_grad_()
    assert torch.autograd.gradcheck(lambda a, b: core.nt_xent_fast(a, b, 0.2), (z1, z2), eps=1e-6, atol=1e-7)
    big1, big2 = randn(256, 64, seed=11), randn(256, 64, seed=12)
    for temperature in (0.05, 0.5):
        fast32, _ = fast_and_readable(big1.float(), big2.float(), temperature)
        _, exact = fast_and_readable(big1, big2, temperature)
        for mine, theirs in zip(fast32, exact):
            torch.testing.assert_close(mine.double(), theirs, rtol=1e-4, atol=1e-6)


def test_fast_path_gradient_for_one_input_and_mixed_dtypes():
    z1 = randn(6, 3, seed=24).float().requires_grad_()
    z2 = randn(6, 3, seed=25)  # float64, no gradient
    core.nt_xent_fast(z1, z2, 0.5).backward()
    expected = torch.autograd.grad(core.nt_xent(z1, z2, 0.5), z1)[0]
    assert z1.grad.dtype == torch.float32
    torch.testing.assert_close(z1.grad, expected)


def test_fast_path_backward_twice_with_retain_graph_accumulates_the_same_gradient():
    z1, z2 = randn(8, 5, seed=26).requires_grad_(), randn(8, 5, seed=27).requires_grad_()
    loss = core.nt_xent_fast(z1, z2, 0.3)
    loss.backward(retain_graph=True)
    first = z1.grad.clone()
    loss.backward()
    torch.testing.assert_close(z1.grad, 2 * first, rtol=1e-14, atol=0)


def test_fast_path_refuses_double_backward():
    z1, z2 = randn(4, 3, seed=28).requires_grad_(), randn(4, 3, seed=29).requires_grad_()
    with pytest.raises(RuntimeError, match="nt_xent_fast has no double backward"):
        torch.autograd.grad(core.nt_xent_fast(z1, z2, 0.5), z1, create_graph=True)


@pytest.mark.parametrize("dtype, temperature", [(torch.float32, 0.011), (torch.float32, 0.005), (torch.float16, 0.1)])
def test_fast_path_hands_temperatures_beyond_the_dtype_range_to_the_readable_core(dtype, temperature):
    # exp(1 / temperature) summed over 2N views would overflow the dtype: the readable core's
    # max-shifted log-sum-exp takes over.
    z1, z2 = randn(16, 8, seed=30).to(dtype), randn(16, 8, seed=31).to(dtype)
    assert 1 / temperature + math.log(32) >= math.log(torch.finfo(dtype).max)
    fast, readable = fast_and_readable(z1, z2, temperature)
    for mine, theirs in zip(fast, readable):
        assert mine.isfinite().all()
        torch.testing.assert_close(mine, theirs)


def test_fast_path_just_inside_the_float32_range_stays_finite_and_accurate():
    temperature = 1 / (math.log(torch.finfo(torch.float32).max) - math.log(32) - 0.5)  # about 0.0120
    z1, z2 = randn(16, 8, seed=32), randn(16, 8, seed=33)
    fast32, _ = fast_and_readable(z1.float(), z2.float(), temperature)
    _, exact = fast_and_readable(z1, z2, temperature)
    for mine, theirs in zip(fast32, exact):
        assert mine.isfinite().all()
        torch.testing.assert_close(mine.double(), theirs, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize(
    "z1, z2, temperature, message",
    [
        (torch.ones(1, 3), torch.ones(1, 3), 0.5, "z1 and z2 need N >= 2"),  # a batch of one image
        (torch.ones(4, 3), torch.ones(5, 3), 0.5, "z1 and z2 must have the same shape"),
        (torch.ones(4), torch.ones(4), 0.5, "z1 must be a 2-D tensor"),
        (torch.ones(4, 3), torch.ones(4, 3, 1), 0.5, "z2 must be a 2-D tensor"),
        (torch.ones(4, 3, dtype=torch.long), torch.ones(4, 3), 0.5, "z1 must be a floating-point tensor"),
        ([[1.0, 2.0]] * 4, torch.ones(4, 2), 0.5, "z1 must be a 2-D tensor"),
        (torch.ones(4, 3), torch.ones(4, 3), 0.0, "temperature must be a finite number > 0"),
        (torch.ones(4, 3), torch.ones(4, 3), -0.5, "temperature must be a finite number > 0"),
        (torch.ones(4, 3), torch.ones(4, 3), math.nan, "temperature must be a finite number > 0"),
        (torch.ones(4, 3), torch.ones(4, 3), torch.tensor(0.5), "temperature must be a finite number > 0"),
        (torch.zeros(4, 3), torch.ones(4, 3), 0.5, "z1 and z2: every row needs a finite, non-zero norm"),
        (torch.ones(4, 3), torch.full((4, 3), math.inf), 0.5, "z1 and z2: every row needs a finite, non-zero norm"),
        (torch.full((4, 3), math.nan), torch.ones(4, 3), 0.5, "z1 and z2: every row needs a finite, non-zero norm"),
    ],
)
def test_fast_path_bad_input_raises_value_error_naming_the_argument(z1, z2, temperature, message):
    with pytest.raises(ValueError, match=message):
        core.nt_xent_fast(z1, z2, temperature)
