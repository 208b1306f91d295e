"""MSFP's quantizer and dot product against brute force, exact arithmetic, the format's bounds and qtorch."""

import math
from fractions import Fraction

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from papernotes import load_core

core = load_core("companions/msfp.py")


reference_quantize = core.reference_quantize  # the companion's brute-force reference, written once


def last_places(values, mantissa_bits, box_size):
    """u = 2**(E + 1 - m) of each element's box, from Python's frexp."""
    places = []
    for start in range(0, len(values), box_size):
        box = values[start:start + box_size]
        exponent = max([math.frexp(abs(v))[1] - 1 for v in box if v != 0] or [0])
        places += [math.ldexp(1.0, min(max(exponent, -126), 127) + 1 - mantissa_bits)] * len(box)
    return places


finite32 = st.floats(width=32, allow_nan=False, allow_infinity=False, allow_subnormal=True)
boxes_of_values = st.lists(finite32, min_size=1, max_size=70)
mantissa_bits = st.integers(1, 12)
box_sizes = st.integers(1, 40)
roundings = st.sampled_from(core.ROUNDINGS)


@settings(max_examples=300, deadline=None, derandomize=True)  # the same examples on every run
@given(boxes_of_values, mantissa_bits, box_sizes, roundings)
def test_matches_brute_force_and_is_idempotent(values, bits, box_size, rounding):
    x = torch.tensor(values, dtype=torch.float32)
    q = core.msfp_quantize(x, bits, box_size, rounding=rounding)
    assert q.tolist() == reference_quantize([float(v) for v in x], bits, box_size, rounding)
    assert torch.equal(core.msfp_quantize(q, bits, box_size, rounding=rounding), q)


@settings(max_examples=300, deadline=None, derandomize=True)  # the same examples on every run
@given(boxes_of_values, mantissa_bits, box_sizes, roundings)
def test_zeros_signs_and_error_bounds(values, bits, box_size, rounding):
    x = torch.tensor(values, dtype=torch.float32)
    q = core.msfp_quantize(x, bits, box_size, rounding=rounding)
    for v, r, u in zip(x.tolist(), q.tolist(), last_places(x.tolist(), bits, box_size)):
        assert (v == 0) <= (r == 0) and v * r >= 0
        error = abs(r - v)
        if rounding == "truncate":
            assert error < u and abs(r) <= abs(v)
        elif abs(v) <= (2**bits - 1) * u:
            assert error <= u / 2
        else:  # above the largest mantissa: saturates there
            assert error < u and abs(r) == (2**bits - 1) * u


@settings(max_examples=200, deadline=None, derandomize=True)  # the same examples on every run
@given(finite32, mantissa_bits, box_sizes)
def test_box_of_identical_values(value, bits, box_size):
    x = torch.full((box_size,), value, dtype=torch.float32)
    q = core.msfp_quantize(x, bits, box_size)
    assert torch.all(q == q[0])
    assert q[0].item() == core.msfp_quantize(x[:1], bits, box_size=1).item()
    assert torch.equal(core.msfp_quantize(q, bits, box_size), q)  # on the grid: round-trips


def test_worked_example_by_hand():
    a = torch.tensor([1.5, -0.3, 0.75, 2.6, 0.1, 0.05, -0.2, 0.12])
    b = torch.tensor([0.5, 1.25, -2.0, 0.1, 3.0, -1.0, 0.5, 2.0])
    mantissas, exponents = core.msfp_encode(a, 3, box_size=4)
    assert mantissas.tolist() == [[3, -1, 2, 5], [3, 2, -6, 4]] and exponents.tolist() == [1, -3]
    assert core.msfp_encode(a, 3, 4, rounding="truncate")[0].tolist() == [[3, 0, 1, 5], [3, 1, -6, 3]]
    assert core.msfp_dot(a, b, 3, box_size=4).item() == -7 * 2.0**-2 + 24 * 2.0**-6


@pytest.mark.parametrize("dim", [0, 1, 2, -1])
def test_any_dim_and_short_last_box(dim):
    x = torch.randn(5, 37, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(dim + 7))
    q = core.msfp_quantize(x, 4, box_size=16, dim=dim)
    moved = x.movedim(dim, -1).reshape(-1, x.shape[dim])
    expected = torch.tensor([reference_quantize(row, 4, 16) for row in moved.tolist()], dtype=torch.float64)
    assert q.shape == x.shape and q.dtype == x.dtype
    torch.testing.assert_close(q.movedim(dim, -1).reshape(-1, x.shape[dim]), expected, rtol=0, atol=0)


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16, torch.float64])
def test_dtypes_are_kept_and_agree_with_float32(dtype):
    x = torch.randn(64, 48, generator=torch.Generator().manual_seed(3)).to(dtype)
    q = core.msfp_quantize(x, 5)
    assert q.dtype == dtype
    torch.testing.assert_close(q, core.msfp_quantize(x.float(), 5).to(dtype), rtol=0, atol=0)


def test_dot_equals_exact_arithmetic():
    generator = torch.Generator().manual_seed(4)
    a = torch.randn(20, 300, generator=generator)
    b = torch.randn(20, 300, generator=generator) * 2.0 ** torch.randint(-10, 11, (20, 300), generator=generator)
    for bits in (2, 3, 7, 10):
        ours = core.msfp_dot(a, b, bits, box_size=16)
        qa, qb = core.msfp_quantize(a, bits).double(), core.msfp_quantize(b, bits).double()
        for row, x, y in zip(ours.tolist(), qa.tolist(), qb.tolist()):
            exact = sum(Fraction(u) * Fraction(v) for u, v in zip(x, y))
            assert row == float(exact)  # these sums need fewer than 53 bits: exact in float64


def test_exponent_saturation():
    m = 3
    huge = torch.tensor([2.0**130, -(2.0**129), 1.0], dtype=torch.float64)
    assert core.msfp_encode(huge, m)[1].tolist() == [127]
    assert core.msfp_quantize(huge, m).tolist() == [7 * 2.0**125, -7 * 2.0**125, 0.0]
    tiny = torch.tensor([2.0**-130, 2.0**-128, 3 * 2.0**-129], dtype=torch.float64)
    assert core.msfp_encode(tiny, m)[1].tolist() == [-126]
    assert core.msfp_quantize(tiny, m).tolist() == [0.0, 2.0**-128, 2.0**-127]
    largest = torch.tensor([torch.finfo(torch.float32).max])
    assert core.msfp_quantize(largest, 23).item() == (2**23 - 1) * 2.0**105  # float32 max itself


def test_empty_and_gradients():
    assert core.msfp_quantize(torch.empty(0, 5), 3).shape == (0, 5)
    assert core.msfp_quantize(torch.empty(5, 0), 3).shape == (5, 0)
    assert core.msfp_dot(torch.empty(0), torch.empty(0), 3).item() == 0.0
    weight = torch.randn(4, 16, requires_grad=True)
    assert not core.msfp_quantize(weight, 3).requires_grad  # no error: rounding is not differentiable


@pytest.mark.parametrize(
    "kwargs, argument",
    [
        (dict(box_size=0), "box_size"),
        (dict(box_size=2.0), "box_size"),
        (dict(mantissa_bits=0), "mantissa_bits"),
        (dict(mantissa_bits=24), "mantissa_bits"),
        (dict(dim=2), "dim"),
        (dict(dim=-3), "dim"),
        (dict(rounding="stochastic"), "rounding"),
        (dict(x=torch.arange(8)), "x"),
        (dict(x=torch.tensor(1.0)), "x"),
    ],
)
def test_bad_arguments_raise(kwargs, argument):
    call = dict(x=torch.randn(4, 8), mantissa_bits=3) | kwargs
    with pytest.raises(ValueError, match=argument):
        core.msfp_quantize(**call)


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), float("-inf")])
def test_non_finite_values_are_rejected(bad):
    with pytest.raises(ValueError, match="NaN or infinity"):
        core.msfp_quantize(torch.tensor([1.0, bad, 2.0]), 3)
    with pytest.raises(ValueError, match="NaN or infinity"):
        core.msfp_dot(torch.tensor([1.0, bad]), torch.ones(2), 3)


def test_dot_bad_arguments_raise():
    with pytest.raises(ValueError, match="same shape"):
        core.msfp_dot(torch.ones(4), torch.ones(5), 3)
    with pytest.raises(ValueError, match="b must be"):
        core.msfp_dot(torch.ones(4), torch.ones(4, dtype=torch.int32), 3)
    with pytest.raises(ValueError, match="box_size"):
        core.msfp_dot(torch.ones(4), torch.ones(4), 23, box_size=129)  # box sums could exceed 2**53
    with pytest.raises(ValueError, match="name"):
        core.mantissa_bits_of("FP16")
    assert [core.mantissa_bits_of(f"MSFP{n}") for n in (11, 12, 16)] == [2, 3, 7]


def _qtorch_block_quantize():
    """qtorch compiles a C++ extension on import; where that fails the peer test is skipped."""
    try:
        from qtorch.quant import block_quantize
    except Exception as error:  # ImportError, or the extension's build error
        pytest.skip(f"qtorch unavailable (pip install qtorch==0.3.0 needs g++ and ninja): {type(error).__name__}: {error}")
    return block_quantize


@pytest.mark.parametrize("bits", [3, 7])
def test_against_qtorch(bits):
    """Equal everywhere except exact ties (qtorch: toward +inf) and near-ties (its rebase rounds twice)."""
    block_quantize = _qtorch_block_quantize()
    generator = torch.Generator().manual_seed(bits)
    x = torch.randn(50_000, 16, generator=generator) * 2.0 ** torch.randint(-20, 21, (50_000, 1), generator=generator)
    theirs = block_quantize(x, bits + 1, dim=0, rounding="nearest")  # wl = sign + magnitude bits
    ours = core.msfp_quantize(x, bits)
    differ = ours != theirs
    _, k = torch.frexp(x.abs().amax(1, keepdim=True))
    place = (2.0 ** (k - bits)).expand_as(x)  # u = 2**(E + 1 - m), E = k - 1
    distance_to_tie = ((x / place).abs().frac() - 0.5).abs()
    assert torch.all(distance_to_tie[differ] <= 2.0 ** (bits - 23))  # ties and near-ties only ...
    assert torch.equal((ours - theirs).abs()[differ], place[differ])  # ... and one step apart
    assert differ.sum() < 1e-4 * x.numel()


def test_qtorch_ties_go_up_ours_to_even():
    block_quantize = _qtorch_block_quantize()
    x = torch.tensor([[2.6, 0.75, -0.75, 1.25, -1.25]])  # MSFP12, E = 1, u = 0.5: ties at 1.5 and 2.5 units
    assert block_quantize(x, 4, dim=0, rounding="nearest").tolist() == [[2.5, 1.0, -0.5, 1.5, -1.0]]
    assert core.msfp_quantize(x, 3).tolist() == [[2.5, 1.0, -1.0, 1.0, -1.0]]


def test_qtorch_overflows_at_the_top_exponent():
    block_quantize = _qtorch_block_quantize()
    x = torch.tensor([[2.0**127, 1.0]])
    assert torch.all(block_quantize(x, 4, dim=0, rounding="nearest") < -2.9e38)  # garbage
    assert core.msfp_quantize(x, 3).tolist() == [[2.0**127, 0.0]]
