# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # MSFP: block floating point for inference, checked
#
# Companion to the note [Pushing the Limits of Narrow Precision Inferencing at Cloud Scale with
# Microsoft Floating Point](../../notes/efficiency/msfp/) (Rouhani et al., NeurIPS 2020). We
# implement the MSFP format and its dot product, check both against integer arithmetic done by
# hand, float64 brute force and the format's own error bounds, recompute the memory-density row
# of the paper's Table 1, and run a small timm ResNet on scikit-learn's digits with every conv and
# linear layer in MSFP16 … MSFP11, per-tensor INT8 and FP32.

# %% [markdown]
# ## Setup
#
# One thread and fixed seeds, so that every printed number is the same on every run.

# %%
import math

import matplotlib.pyplot as plt
import torch
import torch.nn.functional as F
from torch import nn

from papernotes import ClaimLedger, Effect, NotCheckable, PrintedPrecision, configure
from papernotes.data import digits
from papernotes.training import accuracy, train_classifier

generator = configure(seed=0, threads=1)
import timm  # after configure(), which silences the progress-bar warning timm's import triggers

# %% [markdown]
# ## Method (the core)
#
# **The format** (the paper's definition, as summarized second-hand). A vector is cut along its
# dot-product (reduction) axis into *bounding boxes* of `box_size` elements (16 by default). Each
# box stores one 8-bit exponent $E$, shared by all its elements, and each element stores a sign
# and an $m$-bit magnitude $q_i$ with **no hidden bit**:
#
# $$\hat x_i = (-1)^{s_i}\, q_i\, 2^{E + 1 - m}, \qquad q_i \in \{0, 1, \dots, 2^m - 1\},
#   \qquad E = \max_{j \in \text{box}} \lfloor \log_2 |x_j| \rfloor .$$
#
# The largest element of the box has its leading one in the top mantissa bit; smaller elements
# are shifted right by the difference of their exponent and $E$, and lose their low bits.
# MSFP$n$ spends $n$ bits on sign, mantissa and exponent as if the exponent were per element
# ($1 + m + 8 = n$, so $m = n - 9$): MSFP12 has $m = 3$, MSFP16 $m = 7$. Per element it really
# costs $1 + m + 8/16$ bits with boxes of 16.
#
# The shared exponent ranges over $[-126, 127]$, the dynamic range quoted from the paper in the
# reader's notes ($2^{-126} \dots 2^{127}$). Two saturation rules follow, which we state because
# the sources we had do not: a box whose largest exponent is below $-126$ uses $E=-126$ (its elements fall on the
# finer grid $2^{-125-m}$ and tiny ones flush to zero, like FP32 subnormals); a box above $2^{128}$
# (possible only for float64 input) uses $E = 127$ and its magnitudes saturate at
# $(2^m - 1)\,2^{128-m}$. NaN and infinity have no encoding: the quantizer rejects them.

# %%
# --8<-- [start:core]
import math

import torch
import torch.nn.functional as F

SHARED_EXPONENT_RANGE = (-126, 127)  # 8 bits: the paper's dynamic range 2^-126 ... 2^127
ROUNDINGS = ("nearest", "truncate")
FLOAT_DTYPES = (torch.float16, torch.bfloat16, torch.float32, torch.float64)


def mantissa_bits_of(name: str) -> int:
    """MSFPn has n - 9 mantissa bits: 'MSFP12' -> 3, 'MSFP16' -> 7."""
    if not (name.startswith("MSFP") and name[4:].isdigit() and 10 <= int(name[4:]) <= 32):
        raise ValueError(f"name must be 'MSFP10' ... 'MSFP32', got {name!r}")
    return int(name[4:]) - 9


def _check_tensor(x, name: str) -> None:
    if not isinstance(x, torch.Tensor) or x.dtype not in FLOAT_DTYPES:
        allowed = ", ".join(str(d) for d in FLOAT_DTYPES)
        raise ValueError(f"{name} must be a floating-point tensor ({allowed}), got {getattr(x, 'dtype', type(x))}")
    if x.dim() == 0:
        raise ValueError(f"{name} must have at least one dimension, got a 0-d tensor")


def _check_format(mantissa_bits, box_size) -> None:
    if not isinstance(mantissa_bits, int) or not 1 <= mantissa_bits <= 23:
        raise ValueError(f"mantissa_bits must be an int in 1 ... 23, got {mantissa_bits!r}")
    if not isinstance(box_size, int) or box_size < 1:
        raise ValueError(f"box_size must be an int >= 1, got {box_size!r}")


def _powers_of_two(exponents: torch.Tensor, offset: int = 0) -> torch.Tensor:
    """Exactly 2**(e + offset) as float64, built from the bits (no pow, no rounding); e + offset in [-1022, 1023]."""
    return ((exponents.to(torch.int64) + (1023 + offset)) << 52).view(torch.float64)
# --8<-- [end:core]

# %% [markdown]
# **Boxes.** Move the reduction axis last and cut it into boxes. When its length is not a
# multiple of `box_size` the last box is shorter; we pad it with zeros, which never raise a box's
# maximum, and drop the padding afterwards.
#
# **Shared exponent.** $E = \lfloor\log_2 \max_j |x_j|\rfloor$, clamped to the range above. We read
# it with `frexp` ($y = f\,2^k$ with $f \in [\tfrac12, 1)$, so $\lfloor \log_2 y \rfloor = k - 1$)
# rather than `floor(log2(y))`, which can round up for $y$ just below a power of two.
#
# **Mantissas.** Divide by the box's last mantissa place $u = 2^{E+1-m}$ and round to an
# integer: to nearest (ties to even) or toward zero (`truncate`, what the hardware's right shift
# does). With nearest rounding the box maximum can round up to $2^m$, one past the largest
# mantissa; it saturates at $2^m - 1$. So the error bound is $u/2$ except at the very top of the
# box's binade, where it is below $u$ (checked below).

# %%
# --8<-- [start:core-quantize]
def _boxes(x: torch.Tensor, box_size: int, dim: int) -> tuple[torch.Tensor, int]:
    """Move ``dim`` last and cut it into boxes, zero-padding a short last box."""
    moved = x.movedim(dim, -1)  # (..., L)
    length = moved.shape[-1]
    padding = -length % box_size
    if padding:
        moved = F.pad(moved, (0, padding))  # (..., L + padding): zeros never raise a maximum
    n_boxes = (length + padding) // box_size
    return moved.reshape(*moved.shape[:-1], n_boxes, box_size), length  # (..., n_boxes, box_size)


def _unbox(boxes: torch.Tensor, length: int, dim: int) -> torch.Tensor:
    return boxes.flatten(-2)[..., :length].movedim(-1, dim)  # (..., L) -> the input's layout


def _box_maxima(magnitudes: torch.Tensor) -> torch.Tensor:
    """The largest magnitude of each box: (..., n_boxes, box_size) -> (..., n_boxes, 1); NaN propagates."""
    *outer, n_boxes, box_size = magnitudes.shape
    if magnitudes.numel() == 0:
        return magnitudes.new_zeros(*outer, n_boxes, 1)
    # max_pool1d over whole rows is several times faster than an amax over a short last axis.
    rows = magnitudes.reshape(-1, 1, n_boxes * box_size)  # (rows, 1, n_boxes * box_size)
    return F.max_pool1d(rows, box_size).reshape(*outer, n_boxes, 1)


def _encode_boxes(boxes: torch.Tensor, mantissa_bits: int, rounding: str):
    """Signed integer mantissas (as floats) and each box's exponent and last place 2**(E + 1 - m)."""
    magnitudes = boxes.abs()  # (..., n_boxes, box_size)
    largest = _box_maxima(magnitudes)  # (..., n_boxes, 1)
    if largest.numel() and not math.isfinite(largest.max()):  # max propagates NaN
        raise ValueError("the tensor to quantize contains NaN or infinity: MSFP has no encoding for them")
    _, k = torch.frexp(largest)  # largest = f * 2**k, f in [1/2, 1)
    exponent = (k - 1).clamp_(*SHARED_EXPONENT_RANGE)  # (..., n_boxes, 1) int32
    place = _powers_of_two(exponent, 1 - mantissa_bits).to(boxes.dtype)  # (..., n_boxes, 1)
    # Exact: a division by a power of two. Reusing the magnitudes' buffer halves the page faults.
    if rounding == "nearest":
        mantissas = torch.div(boxes, place, out=magnitudes).round_()  # ties to even
    else:
        mantissas = torch.div(boxes, place, rounding_mode="trunc", out=magnitudes)  # toward zero
    top = 2**mantissa_bits - 1
    return mantissas.clamp_(-top, top), exponent, place


def _validate(x, mantissa_bits, box_size, dim, rounding) -> int:
    _check_tensor(x, "x")
    _check_format(mantissa_bits, box_size)
    if not isinstance(dim, int) or not -x.dim() <= dim < x.dim():
        raise ValueError(f"dim must be an int in [{-x.dim()}, {x.dim() - 1}] for a {x.dim()}-d tensor, got {dim!r}")
    if rounding not in ROUNDINGS:
        raise ValueError(f"rounding must be one of {ROUNDINGS}, got {rounding!r}")
    return dim % x.dim()


@torch.no_grad()  # rounding has zero gradient almost everywhere: train through it with a straight-through estimator
def msfp_quantize(x, mantissa_bits: int, box_size: int = 16, dim: int = -1, rounding: str = "nearest"):
    """Round ``x`` to MSFP with ``mantissa_bits`` and boxes of ``box_size`` along ``dim``; dequantize.

    The paper's format: one shared exponent per box, the largest element exponent,
    and sign + ``mantissa_bits`` magnitude bits per element, no hidden bit. Returns a tensor of
    x's shape and dtype holding the values MSFP can represent. Deviations, all stated in the
    text: ties round to even (the paper gives no rule); the exponent saturates at [-126, 127];
    NaN and infinity raise; half-precision inputs are computed in float32 (exactly).
    """
    dim = _validate(x, mantissa_bits, box_size, dim, rounding)
    work = x if x.dtype in (torch.float32, torch.float64) else x.float()
    boxes, length = _boxes(work, box_size, dim)  # (..., n_boxes, box_size)
    mantissas, _, place = _encode_boxes(boxes, mantissa_bits, rounding)
    return _unbox(mantissas.mul_(place), length, dim).to(x.dtype)  # exact: times a power of two


@torch.no_grad()
def msfp_encode(x, mantissa_bits: int, box_size: int = 16, rounding: str = "nearest"):
    """The stored bits along the last axis: integer mantissas (..., n_boxes, box_size) and exponents (..., n_boxes)."""
    _validate(x, mantissa_bits, box_size, -1, rounding)
    work = x if x.dtype in (torch.float32, torch.float64) else x.float()
    boxes, _ = _boxes(work, box_size, -1)
    mantissas, exponent, _ = _encode_boxes(boxes, mantissa_bits, rounding)
    return mantissas.to(torch.int32), exponent.squeeze(-1)
# --8<-- [end:core-quantize]

# %% [markdown]
# **The dot product.** For two vectors boxed alike, box $b$ contributes
#
# $$\sum_{i \in b} \hat a_i \hat b_i
#   = \Big(\sum_{i \in b} \pm q^a_i\, q^b_i\Big)\; 2^{(E^a_b + 1 - m) + (E^b_b + 1 - m)} ,$$
#
# so the hardware needs $n$ fixed-point multiplies of $m$-bit magnitudes, an adder tree of
# $n-1$ fixed-point additions, and **one** exponent addition per box pair. The per-box results
# are then scaled and summed in floating point. We sum the integers in int64 and the scaled box
# results in float64: a box sum of at most $n\,(2^m-1)^2 < 2^{53}$ is exact in float64, so the
# only rounding left is that of the float accumulation, which the paper does not specify.

# %%
# --8<-- [start:core-dot]
def msfp_dot(a, b, mantissa_bits: int, box_size: int = 16) -> torch.Tensor:
    """MSFP dot product along the last axis, as the paper's hardware computes it.

    Integer mantissa products summed per box, one exponent addition per box pair, then scaled
    and accumulated in float64 (the paper does not give the accumulator; we take one wide
    enough that each box result is exact). Equals the float64 dot product of
    ``msfp_quantize(a)`` and ``msfp_quantize(b)`` up to the rounding of that accumulation.
    Returns float64 of shape ``a.shape[:-1]``.
    """
    _check_tensor(a, "a")
    _check_tensor(b, "b")
    if a.shape != b.shape:
        raise ValueError(f"a and b must have the same shape, got {tuple(a.shape)} and {tuple(b.shape)}")
    _check_format(mantissa_bits, box_size)
    if box_size * (2**mantissa_bits - 1) ** 2 >= 2**53:
        raise ValueError(f"box_size * (2**mantissa_bits - 1)**2 must be < 2**53 for exact box sums, got {box_size=}, {mantissa_bits=}")
    mantissas_a, exponents_a = msfp_encode(a, mantissa_bits, box_size)  # (..., n_boxes, box_size), (..., n_boxes)
    mantissas_b, exponents_b = msfp_encode(b, mantissa_bits, box_size)
    box_sums = (mantissas_a.long() * mantissas_b.long()).sum(-1)  # (..., n_boxes): multiplies and adder tree
    box_exponents = exponents_a + exponents_b + 2 * (1 - mantissa_bits)  # (..., n_boxes): one addition per box
    return (box_sums.double() * _powers_of_two(box_exponents)).sum(-1)  # (...,)
# --8<-- [end:core-dot]

# %% [markdown]
# ## Checks against references
#
# **A worked example by hand.** MSFP12 ($m = 3$) with boxes of 4, two boxes per vector.
# By hand: box 1 of $a$ has maximum 2.6, so $E = 1$ and the last place is $2^{1+1-3} = 0.5$; its
# mantissas are $1.5/0.5 = 3$, $-0.3/0.5 \to -1$, $0.75/0.5 = 1.5 \to 2$ (a tie, to even),
# $2.6/0.5 \to 5$. Box 2 of $a$ has maximum 0.2, $E = -3$, place $2^{-5}$: mantissas
# $3, 2, -6, 4$. For $b$: $E = 1$ in both boxes, mantissas $1, 2, -4, 0$ ($1.25/0.5 = 2.5$ is a
# tie, to even) and $6, -2, 1, 4$. The integer box sums are $3 - 2 - 8 + 0 = -7$ and
# $18 - 4 - 6 + 16 = 24$; the exponent sums are $(-1) + (-1) = -2$ and $(-5) + (-1) = -6$; so the
# dot product is $-7 \cdot 2^{-2} + 24 \cdot 2^{-6} = -1.75 + 0.375 = -1.375$.

# %%
a = torch.tensor([1.5, -0.3, 0.75, 2.6, 0.1, 0.05, -0.2, 0.12])
b = torch.tensor([0.5, 1.25, -2.0, 0.1, 3.0, -1.0, 0.5, 2.0])
mantissas_a, exponents_a = msfp_encode(a, 3, box_size=4)
mantissas_b, exponents_b = msfp_encode(b, 3, box_size=4)
print("a mantissas", mantissas_a.tolist(), "exponents", exponents_a.tolist())
print("b mantissas", mantissas_b.tolist(), "exponents", exponents_b.tolist())
assert mantissas_a.tolist() == [[3, -1, 2, 5], [3, 2, -6, 4]] and exponents_a.tolist() == [1, -3]
assert mantissas_b.tolist() == [[1, 2, -4, 0], [6, -2, 1, 4]] and exponents_b.tolist() == [1, 1]
box_sums = (mantissas_a * mantissas_b).sum(-1)
print("integer box sums", box_sums.tolist(), "exponent sums", (exponents_a + exponents_b - 4).tolist())
dot = msfp_dot(a, b, 3, box_size=4)
quantized_dot = torch.dot(msfp_quantize(a, 3, 4).double(), msfp_quantize(b, 3, 4).double())
print(f"msfp_dot = {dot.item()}, float dot of the quantized vectors = {quantized_dot.item()}, exact dot = {torch.dot(a.double(), b.double()).item():.4f}")
assert dot.item() == quantized_dot.item() == -1.375

# %% [markdown]
# MSFP12 is coarse: the exact dot product of the unquantized vectors is $-0.475$. With
# `truncate` (what the hardware's right shift does) every value moves toward zero instead:
# $-0.3/0.5 \to 0$, the tie $0.75/0.5 \to 1$, $0.12/2^{-5} = 3.84 \to 3$.

# %%
print("truncate, a:", msfp_encode(a, 3, box_size=4, rounding="truncate")[0].tolist())
print("truncate, b:", msfp_encode(b, 3, box_size=4, rounding="truncate")[0].tolist())

# %% [markdown]
# **An independent brute-force reference.** The same format written element by element in plain
# Python floats: `math.frexp` for the exponent, `round` (ties to even) for the mantissa. It shares
# no code with the core. On float64 data whose magnitudes span $2^{-40} \dots 2^{40}$, with short
# last boxes, the two must agree exactly, for both roundings and every MSFP width.

# %%
# --8<-- [start:core-reference]
def reference_quantize(values: list[float], mantissa_bits: int, box_size: int, rounding: str = "nearest") -> list[float]:
    """MSFP element by element in Python floats: frexp for the exponent, round() (ties to even).

    The independent reference the core is checked against, here and in the unit tests.
    """
    out = []
    for start in range(0, len(values), box_size):
        box = values[start:start + box_size]
        exponent = max([math.frexp(abs(v))[1] - 1 for v in box if v != 0] or [0])
        place = math.ldexp(1.0, min(max(exponent, -126), 127) + 1 - mantissa_bits)
        for v in box:
            q = round(v / place) if rounding == "nearest" else math.trunc(v / place)
            out.append(max(-(2**mantissa_bits - 1), min(2**mantissa_bits - 1, q)) * place)
    return out
# --8<-- [end:core-reference]


wide = torch.randn(3, 999, dtype=torch.float64, generator=generator) * 2.0 ** torch.randint(-40, 41, (3, 999), generator=generator)
checked = 0
for mantissa_bits in range(2, 8):
    for rounding in ROUNDINGS:
        for box_size in (1, 16, 100):
            ours = msfp_quantize(wide, mantissa_bits, box_size, rounding=rounding)
            for row, values in zip(ours, wide.tolist()):
                assert row.tolist() == reference_quantize(values, mantissa_bits, box_size, rounding)
            checked += wide.numel()
print(f"msfp_quantize == brute force, exactly, on {checked:,} elements (MSFP11-16, both roundings, boxes 1/16/100)")

# %% [markdown]
# **Properties the format implies**, on random float32 boxes of every MSFP width: boxes scaled
# by $2^{-30} \dots 2^{30}$, and elements spread over six binades inside each box (so that small
# elements lose bits). With $u = 2^{E+1-m}$ the box's last place:
#
# - quantizing twice equals quantizing once, zeros stay zero, signs are kept;
# - truncation errs by less than $u$ and never increases a magnitude;
# - nearest errs by at most $u/2$, except elements above the largest mantissa
#   $(2^m - 1)\,u$, which saturate there with an error below $u$;
# - a box of identical values comes back identical, each value rounded to $m$ significant bits,
#   so values already on that grid round-trip.

# %%
def box_places(x: torch.Tensor, mantissa_bits: int, box_size: int) -> torch.Tensor:
    """u = 2**(E + 1 - m) for every element, computed independently with float64 log2 of the box maximum."""
    largest = x.double().reshape(-1, box_size).abs().amax(-1, keepdim=True)
    exponent = torch.floor(torch.log2(largest)).clamp(-126, 127)  # float64 log2 of a float32 never rounds up to an integer
    return (2.0 ** (exponent + 1 - mantissa_bits)).expand(-1, box_size).reshape(x.shape)


x = torch.randn(4096, 16, generator=generator) * 2.0 ** torch.randint(-30, 31, (4096, 1), generator=generator)
x = x * 2.0 ** torch.randint(-6, 1, (4096, 16), generator=generator)  # spread within each box
x[::7, 3] = 0.0
for mantissa_bits in range(2, 8):
    u = box_places(x, mantissa_bits, 16)
    top = (2**mantissa_bits - 1) * u
    for rounding in ROUNDINGS:
        q = msfp_quantize(x, mantissa_bits, rounding=rounding)
        assert torch.equal(msfp_quantize(q, mantissa_bits, rounding=rounding), q)
        assert torch.all(q[x == 0] == 0) and torch.all(q * x >= 0)
        error = (q.double() - x.double()).abs()
        if rounding == "truncate":
            assert torch.all(error < u) and torch.all(q.abs() <= x.abs())
        else:
            saturated = x.double().abs() > top
            assert torch.all(error[~saturated] <= u[~saturated] / 2) and torch.all(error[saturated] < u[saturated])
print(f"idempotent, zeros, signs, error bounds: hold on {x.numel():,} elements x 6 widths x 2 roundings")

# %%
same = torch.full((1, 16), 0.1) * torch.tensor([[1.0], [-3.0], [1e-30], [7.0]]).expand(4, 16)  # one value per box
for mantissa_bits in (3, 7):
    q = msfp_quantize(same, mantissa_bits)
    alone = msfp_quantize(same.reshape(-1, 1), mantissa_bits, box_size=1).reshape(same.shape)
    assert torch.equal(q, alone) and torch.all(q == q[:, :1])
on_grid = torch.tensor([[1.75] * 16, [-0.375] * 16, [2.0**-100] * 16])  # 3 significant bits or fewer
assert torch.equal(msfp_quantize(on_grid, 3), on_grid)
print("boxes of identical values: identical outputs, equal to per-element rounding; values on the grid round-trip")

# %% [markdown]
# **Saturation at the exponent range.** Float32 inputs never exceed $E = 127$, so only the bottom
# of the range can bind for them: a box of subnormals uses $E = -126$. Float64 inputs can leave
# the range at both ends.

# %%
m = 3
huge = torch.tensor([2.0**130, -(2.0**129), 1.0], dtype=torch.float64)
largest_value = (2**m - 1) * 2.0 ** (128 - m)  # mantissa 7 at E = 127
print(msfp_encode(huge, m)[1].tolist(), msfp_quantize(huge, m).tolist() == [largest_value, -largest_value, 0.0])
tiny = torch.tensor([2.0**-130, 2.0**-128, 3 * 2.0**-129], dtype=torch.float64)  # grid at E = -126: 2**-128
print(msfp_encode(tiny, m)[1].tolist(), msfp_quantize(tiny, m).tolist() == [0.0, 2.0**-128, 2.0**-127])
subnormal = torch.tensor([2.0**-140, 2.0**-149], dtype=torch.float32)  # float32 subnormals: E clamps to -126
print(msfp_encode(subnormal, m)[1].tolist(), msfp_quantize(subnormal, m).tolist() == [0.0, 0.0])

# %% [markdown]
# **The dot product on random data.** `msfp_dot` (integer arithmetic per box) against the float64
# dot product of the two quantized vectors, for every MSFP width and several box sizes. Every
# product of two quantized values is exact in float64, and here every partial sum is too (the
# values span far fewer than 53 bits), so the two must be *equal*, not close.

# %%
vectors_a = torch.randn(200, 1000, generator=generator)
vectors_b = torch.randn(200, 1000, generator=generator) * 2.0 ** torch.randint(-8, 9, (200, 1), generator=generator)
compared = 0
for mantissa_bits in range(2, 8):
    for box_size in (16, 64, 1000):
        ours = msfp_dot(vectors_a, vectors_b, mantissa_bits, box_size)
        qa = msfp_quantize(vectors_a, mantissa_bits, box_size).double()
        qb = msfp_quantize(vectors_b, mantissa_bits, box_size).double()
        assert torch.equal(ours, (qa * qb).sum(-1)) and torch.equal(ours, torch.stack([q @ r for q, r in zip(qa, qb)]))
        compared += len(ours)
print(f"msfp_dot == float64 dot of the quantized vectors, exactly, on {compared:,} dot products of length 1000")

# %% [markdown]
# **A peer: qtorch.** qtorch 0.3.0's `block_quantize(x, wl, dim, rounding="nearest")` (a C++
# extension compiled when it is imported) installs from PyPI and builds here. It shares one exponent across every dimension except `dim`, so MSFP boxes are
# rows of a `(n_boxes, box_size)` view with `dim=0`, and `wl` counts sign + magnitude, so MSFPn
# is `wl = n - 8`. Its grid and saturation are ours; it differs in four ways:
#
# - **ties**: it adds $6\cdot 2^E$ to every element and rounds the sum half *up*, so exact ties
#   go toward $+\infty$ (MSFP12 with $E = 1$: $-0.75 \to -0.5$ where we give $-1$, to even); and because that addition
#   itself rounds to float32, values within $2^{E-22}$ of a tie are rounded twice and can land on
#   the far side (one step off);
# - **no truncation mode** (only nearest and stochastic), so the hardware's right shift cannot be
#   emulated with it;
# - **exponent range**: for a box whose maximum reaches $2^{127}$, $6\cdot 2^E$ overflows and every
#   element of the box comes back as $-2.98\cdot 10^{38}$; ours represents $2^{127}$ exactly;
# - **layout**: float32 and contiguous only; no box axis and no short last box of its own.
#
# The comparison runs in `tests/test_msfp.py` (skipped with its reason where qtorch cannot be built),
# not here: compiling the extension takes tens of seconds of this notebook's budget. There the two
# agree on every element of random data except exact ties and near-ties, which differ by one step.

# %% [markdown]
# ## Baseline (timm)
#
# The paper's accuracy results are on ResNet-50, BERT and production models, which a CPU budget
# of seconds cannot train. Our stand-in: timm's `resnet10t` (`pretrained=False`; basic residual
# blocks, one per stage) narrowed to 16-32-64-128 channels, on scikit-learn's 8×8 digits upsampled
# to 16×16. Training: AdamW with batches of 128, 12 epochs at lr $3\cdot10^{-3}$, then 3 at
# $3\cdot10^{-4}$, with random shifts of up to 2 pixels. A seed fixes both the initial weights
# and the order of the batches, so the claims below can be tested on several independently
# trained networks; this section trains the first one.

# %%
data = digits(size=16)


def random_shift(images: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Shift the whole batch by up to 2 pixels in x and y, filling with the background value."""
    padded = F.pad(images, (2, 2, 2, 2), value=float(images.min()))  # (B, 1, 20, 20)
    dx, dy = torch.randint(0, 5, (2,), generator=generator).tolist()
    return padded[..., dy:dy + 16, dx:dx + 16]  # (B, 1, 16, 16)


def make_network() -> nn.Module:
    return timm.create_model(
        "resnet10t", pretrained=False, num_classes=10, in_chans=1, channels=(16, 32, 64, 128), stem_width=16
    )


def train_network(seed: int) -> nn.Module:
    """The narrow resnet10t, initialized and trained from ``seed``; returned in eval mode."""
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be an int >= 0, got {seed!r}")
    torch.manual_seed(seed)  # timm draws the initial weights from the global generator
    net = make_network()
    for epochs, lr, phase in ((12, 3e-3, 0), (3, 3e-4, 1)):
        train_classifier(net, data.x_train, data.y_train, epochs=epochs, lr=lr, batch_size=128, optimizer="adamw",
                         weight_decay=0.05, augment=random_shift, seed=100 * seed + phase)
    return net.eval()


model = train_network(0)
layers = [m for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
print(f"resnet10t (narrow): {sum(p.numel() for p in model.parameters()):,} parameters, {len(layers)} conv/linear layers")
print(f"train {len(data.y_train)} / test {len(data.y_test)} images of {tuple(data.x_train.shape[1:])}")

# %% [markdown]
# **Quantized inference.** Every conv and linear layer gets its weight quantized once and its input
# quantized on every call (a forward pre-hook); everything else (batch norm, ReLU, pooling, the
# residual additions) stays in float32, as the paper keeps vector operations in higher precision.
# The boxes run along the reduction axis: input channels for convolutions (dimension 1 of both
# the activation $(B, C, H, W)$ and the weight $(C_\text{out}, C_\text{in}, k, k)$), the last axis
# for linear layers. The paper keeps the final classifier in float32; we quantize it too, a
# stricter setting that can only cost accuracy.
#
# The **INT8 baseline** is symmetric per tensor: scale $= \max|x| / 127$, round to nearest, one scale
# per weight tensor and one per image for activations (computed on the fly).

# %%
def int8_per_tensor(t: torch.Tensor) -> torch.Tensor:
    """Symmetric INT8 with one scale per leading index: (N, ...) -> (N, ...)."""
    _check_tensor(t, "t")
    flat = t.reshape(t.shape[0], -1)  # (N, features)
    scale = flat.abs().amax(1, keepdim=True) / 127
    scale = torch.where(scale > 0, scale, 1.0)
    return ((flat / scale).round().clamp(-127, 127) * scale).reshape(t.shape)


def msfp_boxes(mantissa_bits: int, box_size: int | None):
    """A quantizer (tensor, reduction dim) -> tensor; box_size None = one box per leading index."""
    _check_format(mantissa_bits, 1 if box_size is None else box_size)

    def quantize(t: torch.Tensor, dim: int) -> torch.Tensor:
        if box_size is None:
            flat = t.reshape(t.shape[0], -1)  # (N, features): one box per image, or per weight tensor
            return msfp_quantize(flat, mantissa_bits, box_size=flat.shape[1]).reshape(t.shape)
        return msfp_quantize(t, mantissa_bits, box_size=box_size, dim=dim)
    return quantize

# %%
def fresh_copy(net: nn.Module) -> nn.Module:
    copy = make_network()
    copy.load_state_dict(net.state_dict())
    return copy


def reduction_dim(layer: nn.Module) -> int:
    return 1 if isinstance(layer, nn.Conv2d) else -1  # input channels of (B, C, H, W) and (C_out, C_in, k, k)


def quantize_weight(quantize, weight: torch.Tensor, dim: int) -> torch.Tensor:
    """A leading axis of 1 makes the whole weight one 'image' for the per-tensor modes."""
    return quantize(weight[None], dim if dim < 0 else dim + 1)[0]


def quantized_copy(net: nn.Module, quantize) -> nn.Module:
    """A copy of ``net`` whose conv/linear weights and inputs pass through ``quantize(t, dim)``."""
    copy = fresh_copy(net)
    for layer in copy.modules():
        if isinstance(layer, (nn.Conv2d, nn.Linear)):
            dim = reduction_dim(layer)
            with torch.no_grad():
                layer.weight.copy_(quantize_weight(quantize, layer.weight, dim))
            layer.register_forward_pre_hook(lambda _, inputs, dim=dim: (quantize(inputs[0], dim),))
    return copy.eval()


def test_accuracy(net: nn.Module, quantize=None) -> float:
    """Test accuracy (a fraction of the 450 images) of ``net``, quantized by ``quantize`` if given."""
    if not isinstance(net, nn.Module):
        raise ValueError(f"net must be an nn.Module, got {type(net).__name__}")
    return accuracy(net if quantize is None else quantized_copy(net, quantize), data.x_test, data.y_test)


def int8(t: torch.Tensor, dim: int) -> torch.Tensor:
    return int8_per_tensor(t)  # per tensor: the reduction axis plays no part

# %%
fp32_0, int8_0 = test_accuracy(model), test_accuracy(model, int8)
print(f"seed 0: FP32 test accuracy {fp32_0:.1%}; per-tensor INT8 {int8_0:.1%}")
assert fp32_0 > 0.95, "the baseline must be good before quantization says anything"

# %% [markdown]
# ## Claims
#
# **Sources.** The paper's full text was not available to us. Its abstract is quoted from the
# NeurIPS 2020 proceedings page (and, where it differs, from the NeurIPS virtual-site page of
# the poster), and the captions of Table 1 and Figure 1 from a reproduction of them. Table 1's
# values and the statements about box sizes, fine-tuning and SQNR are second-hand: they come
# from a third-party structured summary of the paper and a reader's notes on it, both on GitHub.
# Each claim's `where` says which.
#
# **The register.** Every claim with its test, before anything is measured. The accuracy claims
# are effects: a statistic computed on each of three networks trained from seeds 0, 1 and 2,
# which must clear the line on every seed. The line comes from the paper: "negligible impact to
# accuracy (<1%)" in the abstract, so a loss of at most 1 point passes. On 450 test images one
# image is 0.22 points, so a loss of 4 images (0.89) passes and 5 images (1.11) fails, whether
# the 1% is read as points or relative to an FP32 accuracy above 89%. The paper's account of
# the dot product (one exponent addition, $n$ multiplies and $n-1$ additions per box pair, as a
# reader's notes give it) is not a claim here: it is the algebra of the format, which our
# `msfp_dot` implements and the checks above verify as our own code's correctness (see "What
# this does not show").

# %%
SEEDS = (0, 1, 2)
SETUP = (
    "timm resnet10t narrowed to 16-32-64-128 channels (0.3M parameters), trained from each seed (15 epochs of AdamW) "
    "on scikit-learn digits at 16x16 px (1,347 train / 450 test images, one image = 0.22 points); the weights and inputs of all 16 "
    "conv/linear layers quantized, MSFP boxes along input channels, nearest rounding, no fine-tuning unless stated"
)
SECOND_HAND = "second-hand: a third-party structured summary of the paper on GitHub, not read in the PDF"
READER_NOTES = "second-hand: a reader's notes on the paper and a third-party summary of it, not read in the PDF"

ledger = ClaimLedger("msfp")
ledger.declare(
    "C2", "Memory density of MSFP16 ... MSFP11 against FP32, with an 8-bit shared exponent and boxes of 16",
    where=f"Table 1, memory-density row (caption checked; values {SECOND_HAND})",
    paper={"MSFP16": "3.8", "MSFP15": "4.3", "MSFP14": "4.9", "MSFP13": "5.8", "MSFP12": "7.1", "MSFP11": "9.1"},
    unit="x", test=PrintedPrecision(),
)
ledger.declare(
    "C3", "MSFP reaches accuracy comparable to or better than Bfloat16 and INT8 at 3x and 4x lower cost, respectively; "
    "MAC density 8.8x (MSFP16) ... 50.9x (MSFP11) FP32's",
    where=f"Abstract (NeurIPS 2020 proceedings page); Table 1, MAC-density row (values {SECOND_HAND})",
    paper="3x and 4x lower cost than Bfloat16 and INT8 (abstract); MAC density 8.8, 10.8, 13.9, 18.3, 31.9, 50.9 x FP32 (Table 1)",
    test=NotCheckable("cost is silicon area and energy from topographical synthesis in TSMC 16nm FF+; nothing here models "
                      "hardware, and the CPU time of our emulation says nothing about it"),
)
ledger.declare(
    "C4", "Accuracy within 1% of FP32 on CNNs, RNNs and Transformers, with no change to the model topology",
    where="Abstract (NeurIPS 2020 proceedings page); Table 2 (its values were not available to us)",
    paper="negligible impact to accuracy (<1%)",
    test=NotCheckable("needs ImageNet-, BERT- and production-scale models and data; C5-C7 test the same 1% bar on a small CNN"),
)
ledger.declare(
    "C5", "MSFP16 loses less than 1% accuracy as a direct cast, without fine-tuning",
    where=f"Abstract ('<1%'); that MSFP15/16 need no fine-tuning is {SECOND_HAND}",
    paper="negligible impact to accuracy (<1%)", unit=" points", fmt="{:.2f}",
    test=Effect(statistic="test accuracy of FP32 minus that of the MSFP16 direct cast, in points",
                at_most=1.0, seeds=SEEDS, setup=SETUP + "; boxes of 16"),
)
ledger.declare(
    "C6", "MSFP12 loses less than 1% accuracy, after 1-10 epochs of fine-tuning where a direct cast is not enough",
    where=f"Abstract ('<1%'); that MSFP11/12 may need 1-10 epochs of fine-tuning is {SECOND_HAND}",
    paper="negligible impact to accuracy (<1%); 1-10 epochs of fine-tuning for the narrowest formats", unit=" points", fmt="{:.2f}",
    test=Effect(statistic="test accuracy of FP32 minus that of the better of the MSFP12 direct cast and MSFP12 after "
                "2 epochs of quantization-aware fine-tuning, in points",
                at_most=1.0, seeds=SEEDS, setup=SETUP + "; boxes of 16; fine-tuning: 2 epochs of AdamW at lr 3e-4 with "
                "the quantizers in the forward pass and a straight-through gradient"),
)
ledger.declare(
    "C7", "MSFP12 gives accuracy comparable to or better than INT8",
    where="Abstract as printed on the NeurIPS 2020 virtual site (neurips.cc/virtual/2020/poster/19041), which pairs MSFP12 "
    "with INT8; the proceedings abstract says 'MSFP' without naming the width",
    paper="MSFP12 has 4x lower cost than INT8 'while delivering a comparable or better accuracy'", unit=" points", fmt="{:+.2f}",
    test=Effect(statistic="test accuracy of the MSFP12 direct cast minus that of the per-tensor INT8 direct cast, in points "
                "(both formats treated alike: no fine-tuning for either); 'comparable' read with the paper's own bar for "
                "negligible, 1%", at_least=-1.0, seeds=SEEDS,
                setup=SETUP + "; boxes of 16; INT8 symmetric, one scale per weight tensor and per image of each activation"),
)
ledger.declare(
    "C8", "Bounding boxes of 16 to 128 elements preserve accuracy",
    where=f"bounding-box discussion ('16-128 effective'; {READER_NOTES})",
    paper="bounding boxes of 16-128 are effective at preserving accuracy", unit=" points", fmt="{:.2f}",
    test=Effect(statistic="largest loss of test accuracy of boxes of 32, 64 or 128 against boxes of 16, over the MSFP16 "
                "and MSFP12 direct casts, in points", at_most=1.0, seeds=SEEDS, setup=SETUP),
)
ledger.declare(
    "C9", "With outliers present, one bounding box per tensor loses more than 1 point of accuracy, for both MSFP16 and MSFP12",
    where=f"bounding-box discussion ({READER_NOTES})",
    paper="a single bounding box for the whole matrix can lead to severe accuracy loss due to outliers; no size is given",
    unit=" points", fmt="{:.2f}",
    test=Effect(statistic="test accuracy of FP32 minus that of one MSFP box per tensor (per weight tensor, per image of "
                "each activation) with injected outliers, the smaller of the MSFP16 and MSFP12 losses, in points: the smaller "
                "at least 1 means both lose more than 1 point (on 450 images no loss equals 1 point exactly). The line is "
                "the paper's own 1% bar for negligible; the paper gives no size for 'severe', so this tests only that the "
                "loss is not negligible",
                at_least=1.0, seeds=SEEDS,
                setup=SETUP + "; outliers: in each residual block, channel 0 scaled by 2^8 after the first batch norm and "
                "scaled back in the next convolution's weights, which leaves the FP32 function unchanged"),
)
ledger.declare(
    "C10", "SQNR falls by about 0.52 dB per doubling of the bounding box (MSFP15)",
    where=f"QSNR characterization (its p.6 according to the summary; {SECOND_HAND}); the same summary's "
    "'-3.2 dB per added mantissa bit' contradicts the textbook ~6 dB per bit of a uniform quantizer, so its QSNR numbers are uncertain",
    paper="0.52", unit=" dB",
    test=PrintedPrecision(),
)
ledger.declare(
    "C11", "With the same outliers, boxes of 16 keep their accuracy",
    where=f"bounding-box discussion: boxes of 16-128 'effective' at preserving accuracy, finer boxes better than one per "
    f"matrix ({READER_NOTES})",
    paper="finer bounding boxes (16-128) preserve accuracy where a single box loses it to outliers", unit=" points", fmt="{:.2f}",
    test=Effect(statistic="test accuracy of boxes of 16 without the injected outliers minus that with them, the larger of "
                "the MSFP16 and MSFP12 losses, in points", at_most=1.0, seeds=SEEDS,
                setup=SETUP + "; boxes of 16; outliers as in C9"),
)

# %% [markdown]
# **Memory density.** An MSFPn element costs $1 + m + 8/b$ bits with boxes of $b$ (sign, mantissa,
# its share of the exponent), so its memory density against FP32 is $32 / (1 + m + 8/b)$. We read
# the bits off what `msfp_encode` stores: the sign, the bit length of the largest magnitude a box
# can hold, and one 8-bit exponent per box. The bit layout of each width, with boxes of 16:

# %%
def stored_bits_per_element(mantissa_bits: int, box_size: int = 16) -> float:
    """Bits per element of what msfp_encode stores for a box whose maximum fills the mantissa field."""
    mantissas, exponents = msfp_encode(torch.linspace(-1.0, 1.0, box_size), mantissa_bits, box_size)  # (1, box), (1,)
    magnitude_bits = int(mantissas.abs().max()).bit_length()  # the box maximum lies in [2**(m-1), 2**m - 1]: m bits
    exponent_bits = SHARED_EXPONENT_RANGE[1] - SHARED_EXPONENT_RANGE[0] + 1  # 254 exponents: 8 bits
    return (mantissas.numel() * (1 + magnitude_bits) + exponents.numel() * math.ceil(math.log2(exponent_bits))) / mantissas.numel()


print(f"{'format':7} {'sign':>4} {'mantissa':>8} {'shared exp':>10} {'bits/elem':>9} {'x FP32':>6} {'levels':>6}")
density = {}
for n in range(16, 10, -1):
    m = mantissa_bits_of(f"MSFP{n}")
    bits = stored_bits_per_element(m)
    density[f"MSFP{n}"] = 32 / bits
    print(f"MSFP{n:<3} {1:>4} {m:>8} {'8 / 16':>10} {bits:>9} {density[f'MSFP{n}']:>6.2f} {2 ** (m + 1) - 1:>6}")
ledger.measure("C2", density, note="32 / (1 + m + 8/16): sign, m mantissa bits and a 16th of the 8-bit exponent")

# %% [markdown]
# ## Small experiment
#
# **Networks.** The baseline network (seed 0) and two more trained the same way from seeds 1 and
# 2, each with its FP32 and per-tensor INT8 accuracy.

# %%
networks = {seed: model if seed == 0 else train_network(seed) for seed in SEEDS}
fp32 = {seed: test_accuracy(net) for seed, net in networks.items()}
int8_acc = {seed: test_accuracy(net, int8) for seed, net in networks.items()}
for seed in SEEDS:
    print(f"seed {seed}: FP32 {fp32[seed]:.1%}, per-tensor INT8 {int8_acc[seed]:.1%}")
    assert fp32[seed] > 0.95, f"seed {seed}: the baseline must be good before quantization says anything"


def points(better: float, worse: float) -> float:
    """The difference of two accuracies in points, rounded to wash out float noise (one image = 0.22 points)."""
    return round(100 * (better - worse), 6)

# %% [markdown]
# **Direct cast, every width.** Each network with every conv and linear layer in MSFPn (boxes of
# 16, nearest rounding), no fine-tuning.

# %%
widths = {n: mantissa_bits_of(f"MSFP{n}") for n in range(16, 10, -1)}
direct = {(seed, n): test_accuracy(networks[seed], msfp_boxes(m, 16)) for seed in SEEDS for n, m in widths.items()}
print("seed   FP32   INT8 " + " ".join(f"MSFP{n:<2}" for n in widths))
for seed in SEEDS:
    print(f"{seed:>4} {fp32[seed]:>6.1%} {int8_acc[seed]:>6.1%} " + " ".join(f"{direct[seed, n]:>6.1%}" for n in widths))

# %% [markdown]
# C5 compares the MSFP16 direct cast with FP32. C7 compares the MSFP12 direct cast with the
# per-tensor INT8 direct cast: both formats get the same treatment, no fine-tuning. (Fine-tuning
# MSFP12 and not INT8 would favour the claim; fine-tuned MSFP12 is tested against FP32 in C6.)

# %%
ledger.measure("C5", [points(fp32[s], direct[s, 16]) for s in SEEDS],
               note="; ".join(f"seed {s}: FP32 {fp32[s]:.1%}, MSFP16 {direct[s, 16]:.1%}" for s in SEEDS))
ledger.measure("C7", [points(direct[s, 12], int8_acc[s]) for s in SEEDS],
               note="; ".join(f"seed {s}: MSFP12 {direct[s, 12]:.1%} vs INT8 {int8_acc[s]:.1%}" for s in SEEDS)
               + "; both direct casts, boxes of 16 for MSFP12")

# %% [markdown]
# **MSFP12 with fine-tuning.** The narrowest formats may need 1–10 epochs of quantization-aware
# fine-tuning (second-hand, see C6). We fine-tune each network for 2 epochs at lr $3\cdot10^{-4}$
# (batches of 64) with the quantizers in the forward pass and a straight-through gradient
# ($\partial \hat x / \partial x = 1$).

# %%
class StraightThrough(nn.Module):
    """Quantize in the forward pass; pass the gradient through unchanged."""

    def __init__(self, quantize):
        super().__init__()
        self.quantize = quantize

    def forward(self, t: torch.Tensor) -> torch.Tensor:
        return t + (self.quantize(t.detach()) - t.detach())


def fine_tune(net: nn.Module, quantize, seed: int, epochs: int = 2) -> nn.Module:
    """A copy of ``net`` trained with quantized weights (a parametrization) and quantized inputs (a hook)."""
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be an int >= 0, got {seed!r}")
    tuned = fresh_copy(net)
    for layer in tuned.modules():
        if isinstance(layer, (nn.Conv2d, nn.Linear)):
            dim = reduction_dim(layer)
            weights = StraightThrough(lambda w, dim=dim: quantize_weight(quantize, w, dim))
            nn.utils.parametrize.register_parametrization(layer, "weight", weights)
            inputs = StraightThrough(lambda x, dim=dim: quantize(x, dim))
            layer.register_forward_pre_hook(lambda _, args, inputs=inputs: (inputs(args[0]),))
    train_classifier(tuned, data.x_train, data.y_train, epochs=epochs, lr=3e-4, optimizer="adamw",
                     weight_decay=0.05, augment=random_shift, seed=100 * seed + 2)
    return tuned.eval()

# %%
tuned12 = {seed: accuracy(fine_tune(networks[seed], msfp_boxes(widths[12], 16), seed), data.x_test, data.y_test) for seed in SEEDS}
best12 = {seed: max(direct[seed, 12], tuned12[seed]) for seed in SEEDS}
for seed in SEEDS:
    print(f"seed {seed}: MSFP12 direct cast {direct[seed, 12]:.1%}, after 2 epochs of fine-tuning {tuned12[seed]:.1%}; "
          f"FP32 {fp32[seed]:.1%}, per-tensor INT8 {int8_acc[seed]:.1%}")

# %%
ledger.measure("C6", [points(fp32[s], best12[s]) for s in SEEDS],
               note="; ".join(f"seed {s}: FP32 {fp32[s]:.1%}, MSFP12 direct {direct[s, 12]:.1%}, fine-tuned {tuned12[s]:.1%}" for s in SEEDS))

# %% [markdown]
# **Box size.** MSFP16 and MSFP12 (direct cast) with boxes of 16, 32, 64 and 128 along the input
# channels, and with one box per tensor (per weight tensor, per image for activations). The
# network's layers have 1 to 128 input channels, so a box of 128 already spans all channels of
# a pixel.

# %%
box_sizes = (16, 32, 64, 128, None)
by_box = {(seed, n, box): direct[seed, n] if box == 16 else test_accuracy(networks[seed], msfp_boxes(widths[n], box))
          for seed in SEEDS for n in (16, 12) for box in box_sizes}
print(f"{'seed':>4} {'format':>7} " + " ".join(f"{str(box or 'tensor'):>7}" for box in box_sizes))
for seed in SEEDS:
    for n in (16, 12):
        print(f"{seed:>4} {'MSFP' + str(n):>7} " + " ".join(f"{by_box[seed, n, box]:>7.1%}" for box in box_sizes))

# %%
box_loss = {s: max(points(by_box[s, n, 16], by_box[s, n, box]) for n in (16, 12) for box in (32, 64, 128)) for s in SEEDS}
ledger.measure("C8", [box_loss[s] for s in SEEDS],
               note="; ".join(f"seed {s}: " + ", ".join(f"MSFP{n} " + "/".join(f"{by_box[s, n, box]:.1%}" for box in (16, 32, 64, 128))
                                                        for n in (16, 12)) for s in SEEDS) + " (boxes 16/32/64/128)")

# %% [markdown]
# **Outliers.** A reader's notes on the paper record that, like fixed point, MSFP is affected by
# extreme outliers, which is why one box per matrix can lose accuracy severely. We inject outliers
# without changing the network's function: in each residual block, channel 0 of the first batch
# norm is scaled by $s = 2^8$ (its weight and bias), so after the ReLU that channel is $2^8$ times
# larger, and the second convolution's weights for that input channel are divided by $2^8$. Since
# $\mathrm{ReLU}(s z) = s\,\mathrm{ReLU}(z)$ for $s > 0$ and a power of two scales floats exactly,
# the FP32 logits are bit-for-bit unchanged; only the quantizers see a different tensor.

# %%
OUTLIER_SCALE = 2.0**8


def with_outliers(net: nn.Module) -> nn.Module:
    """A copy of ``net`` with channel 0 of each block's middle activation scaled up by OUTLIER_SCALE, same function."""
    if not isinstance(net, nn.Module) or not hasattr(net, "layer4"):
        raise ValueError(f"net must be a timm ResNet (with layer1 ... layer4), got {type(net).__name__}")
    copy = fresh_copy(net).eval()
    with torch.no_grad():
        for stage in (copy.layer1, copy.layer2, copy.layer3, copy.layer4):
            block = stage[0]
            block.bn1.weight[0] *= OUTLIER_SCALE
            block.bn1.bias[0] *= OUTLIER_SCALE
            block.conv2.weight[:, 0] /= OUTLIER_SCALE
    return copy


outlier_nets = {seed: with_outliers(net) for seed, net in networks.items()}
with torch.no_grad():
    for seed in SEEDS:
        assert torch.equal(outlier_nets[seed](data.x_test), networks[seed](data.x_test))
    activation = {}
    hook = outlier_nets[0].layer2[0].conv2.register_forward_pre_hook(lambda _, args: activation.setdefault("conv2", args[0]))
    outlier_nets[0](data.x_test[:1])
    hook.remove()
channel_max = activation["conv2"].abs().amax(dim=(0, 2, 3))
print(f"FP32 logits unchanged on every seed; seed 0, layer2 conv2 input: channel 0 peaks at "
      f"{channel_max[0] / channel_max[1:].max():.0f}x the largest other channel")

# %%
outlier = {(seed, n, box): test_accuracy(outlier_nets[seed], msfp_boxes(widths[n], box))
           for seed in SEEDS for n in (16, 12) for box in (16, None)}
outlier_int8 = {seed: test_accuracy(outlier_nets[seed], int8) for seed in SEEDS}
for seed in SEEDS:
    print(f"seed {seed}: FP32 {fp32[seed]:.1%}, per-tensor INT8 {outlier_int8[seed]:.1%} (was {int8_acc[seed]:.1%})")
    for n in (16, 12):
        print(f"  MSFP{n}: boxes of 16 {outlier[seed, n, 16]:.1%} (was {by_box[seed, n, 16]:.1%}); "
              f"one box per tensor {outlier[seed, n, None]:.1%} (was {by_box[seed, n, None]:.1%})")

# %% [markdown]
# C9 takes, per seed, the smaller of the MSFP16 and MSFP12 losses of one box per tensor: if even
# the smaller is at least 1 point, both widths lose more than 1 point. C11 takes the larger of the
# two losses of boxes of 16: it holds only if neither width loses more than 1 point.

# %%
ledger.measure("C9", [min(points(fp32[s], outlier[s, n, None]) for n in (16, 12)) for s in SEEDS],
               note="; ".join(f"seed {s}: one box per tensor with outliers, MSFP16 {outlier[s, 16, None]:.1%}, MSFP12 "
                              f"{outlier[s, 12, None]:.1%}, FP32 {fp32[s]:.1%}" for s in SEEDS)
               + "; without outliers one box per tensor already costs MSFP12 "
               + ", ".join(f"{points(fp32[s], by_box[s, 12, None]):.1f}" for s in SEEDS) + " points")
ledger.measure("C11", [max(points(by_box[s, n, 16], outlier[s, n, 16]) for n in (16, 12)) for s in SEEDS],
               note="; ".join(f"seed {s}: boxes of 16 without/with outliers, MSFP16 {by_box[s, 16, 16]:.1%}/{outlier[s, 16, 16]:.1%}, "
                              f"MSFP12 {by_box[s, 12, 16]:.1%}/{outlier[s, 12, 16]:.1%}" for s in SEEDS))

# %% [markdown]
# **SQNR against box size and mantissa bits.** The signal-to-quantization-noise ratio
# $\mathrm{SQNR} = 10 \log_{10} \big(\sum x^2 / \sum (x - \hat x)^2\big)$ dB, on $2^{18}$ samples of a
# Gaussian and of a heavy-tailed Student-$t$ (3 degrees of freedom), for every MSFP width and box
# sizes 4 … 1024. For a uniform quantizer the textbook rule is that each added bit buys
# $20\log_{10} 2 \approx 6.02$ dB (a rule, not a measurement; the cell below prints the slope we
# measure). A larger box raises the shared exponent of most boxes and costs SQNR, more so for
# heavy tails. C10's slope (MSFP15, dB lost per doubling of the box from 16 to 128, a third of the
# 16 → 128 drop) is measured on a Gaussian, as declared, from a separate draw of $2^{21}$ samples,
# eight times the figure's, to keep sampling noise small; the Student-$t$ value is shown beside it.

# %%
torch.manual_seed(0)  # the Student-t sampler draws from the global generator
samples = {
    "Gaussian": torch.randn(256, 1024, generator=generator),
    "Student-t (3 dof)": torch.distributions.StudentT(3.0).sample((256, 1024)),
}
sqnr_boxes = (4, 8, 16, 32, 64, 128, 256, 1024)


def sqnr_db(x: torch.Tensor, q: torch.Tensor) -> float:
    if not isinstance(x, torch.Tensor) or not isinstance(q, torch.Tensor) or x.shape != q.shape:
        raise ValueError(f"x and q must be tensors of the same shape, got {getattr(x, 'shape', x)!r} and {getattr(q, 'shape', q)!r}")
    return 10 * math.log10(x.double().square().sum() / (x.double() - q.double()).square().sum())


sqnr = {
    (name, m, box): sqnr_db(x, msfp_quantize(x, m, box))
    for name, x in samples.items() for m in range(2, 8) for box in sqnr_boxes
}
figure, axes = plt.subplots(1, 2, figsize=(10, 3.8), sharey=True)
for axis, name in zip(axes, samples):
    for m in range(7, 1, -1):
        axis.plot(sqnr_boxes, [sqnr[name, m, box] for box in sqnr_boxes], marker="o", label=f"MSFP{m + 9}")
    axis.set(xscale="log", title=name, xlabel="box size (elements)")
    axis.set_xticks(sqnr_boxes, [str(b) for b in sqnr_boxes])
axes[0].set_ylabel("SQNR (dB)")
axes[1].legend(fontsize=8, ncol=2)
plt.tight_layout()
plt.show()

# %%
per_bit = (sqnr["Gaussian", 7, 16] - sqnr["Gaussian", 2, 16]) / 5
large = {"Gaussian": torch.randn(1 << 21, generator=generator), "Student-t (3 dof)": torch.distributions.StudentT(3.0).sample((1 << 21,))}
per_doubling = {name: (sqnr_db(x, msfp_quantize(x, 6, 16)) - sqnr_db(x, msfp_quantize(x, 6, 128))) / 3 for name, x in large.items()}
print(f"Gaussian, boxes of 16: {per_bit:.1f} dB per mantissa bit (MSFP11 -> MSFP16)")
for name, value in per_doubling.items():
    print(f"{name}, MSFP15: {value:.2f} dB lost per doubling of the box, 16 -> 128")
ledger.measure("C10", per_doubling["Gaussian"],
               note=f"Gaussian, 2^21 samples; a Student-t with 3 degrees of freedom loses {per_doubling['Student-t (3 dof)']:.2f} dB "
               "per doubling, so the value depends on the data, and the paper's sampled tensors are not available; "
               f"{per_bit:.1f} dB per mantissa bit")

# %%
ledger.show()

# %% [markdown]
# ## What this does not show
#
# - **The paper's accuracy numbers.** ResNet-50, BERT and the production models of Table 2 are
#   beyond a CPU budget (C4); three 0.3M-parameter networks on 8×8 digits show the trend of each
#   claim, not its size. Their 450 test images make one image 0.22 points, so the 1-point bars of
#   C5–C9 and C11 are 4–5 images.
# - **Hardware cost.** Area, energy and MAC density (C3) come from synthesis; nothing here models
#   silicon. The benchmark times our emulation, which says nothing about MSFP hardware speed.
# - **The dot product as a claim.** The paper describes an MSFP dot product as one exponent
#   addition, $n$ fixed-point multiplies and $n-1$ fixed-point additions per box pair. That is the
#   algebra of the format: any correct implementation computes the same number, and `msfp_dot`,
#   written that way, equals the float64 dot product of the quantized vectors by construction.
#   An earlier version of this companion listed that equality as claim C1; it checks our code, not
#   the paper, so it is now an assert in "Checks against references". What the paper gains from
#   the algebra, cheaper multiply-accumulate hardware, is C3 and needs synthesis.
# - **The numbers we could not verify.** Table 1's values, the 16–128 box sizes, the 1–10 epochs of
#   fine-tuning and the 0.52 dB of C10 come from a third-party summary and a reader's notes, not
#   from the paper's text; each claim's `where` says so.
# - **The exact conversion rule.** The paper's text was not available to us: ties to even, the
#   saturation of the exponent at $[-126, 127]$ and the float64 accumulator are our choices, stated
#   above. Nearest rounding is what we use in the experiment; `truncate` emulates a right shift.
# - **Which layers.** We quantize every conv and linear layer, the classifier included, with boxes
#   along input channels only; the paper's hardware tiles the kernel window too and keeps the last
#   classifier in float32. Fine-tuning used 2 epochs with a straight-through estimator; the paper's
#   recipe (1–10 epochs) is not given in detail.
# - **How firm the verdicts are.** Several accuracy verdicts sit close to their lines, and they
#   depend on how the FP32 networks were trained. With networks trained in batches of 64, C6 and
#   C9 (and C7 as it was then declared, with fine-tuned MSFP12) did not hold on every seed. We
#   report batches of 128, which we chose for runtime; read these verdicts as depending on the
#   training recipe. That run is not part of this notebook, so none of its numbers are given.
# - **How severe.** The paper calls the loss of one box per matrix severe without a size. C9 tests
#   only that it is not negligible: more than the paper's 1-point bar, for both widths. It says
#   nothing about how much worse than 1 point "severe" is.
# - **The outliers.** C9 and C11 use outliers we injected (one channel per block, $2^8$ times
#   larger), not the ones of a real network; another scale or placement would change both numbers.
# - **A peer in the notebook.** qtorch is compared in `tests/test_msfp.py`, not here (see Checks).
