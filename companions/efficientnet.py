# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # EfficientNet: compound scaling, checked
#
# Companion to the note [EfficientNet: Rethinking Model Scaling for Convolutional Neural
# Networks](../../notes/vision/efficientnet/) (Tan & Le, ICML 2019). We implement the paper's
# core, *compound scaling*, derive all eight models B0–B7 from the B0 stages and a
# (width, depth, resolution) triple, and check every cost claim of the paper that does not need
# ImageNet training. Everything here runs on a laptop CPU in seconds: no model is trained.

# %% [markdown]
# ## Setup
#
# One thread and fixed seeds, so that every printed number is the same on every run.

# %%
from papernotes import ClaimLedger, Verdict, configure

generator = configure(seed=0, threads=1)  # before importing timm: it also silences tqdm's widget warning

# %%
import math

import matplotlib.pyplot as plt
import timm
import torch

from papernotes.costs import count_params, multiply_adds
from papernotes.weights import copy_weights_in_order

# %% [markdown]
# ## Method (the core)
#
# A ConvNet is scaled along three dimensions: depth $d$ (layers), width $w$ (channels) and input
# resolution $r$. The paper's *compound scaling* (Eq. 3) ties all three to one coefficient $\phi$:
#
# $$d = \alpha^\phi,\qquad w = \beta^\phi,\qquad r = \gamma^\phi,\qquad
#   \text{s.t. } \alpha\cdot\beta^2\cdot\gamma^2 \approx 2,\ \alpha,\beta,\gamma \ge 1 .$$
#
# FLOPs of a convolution grow linearly in depth and quadratically in width and resolution, so
# raising $\phi$ by one should roughly double the FLOPs. A grid search at $\phi=1$ gave
# $\alpha=1.2$, $\beta=1.1$, $\gamma=1.15$. The released models, however, use the hand-set
# multipliers below (from the official `efficientnet_builder.py`): we check in the Claims section how far
# they are from $\alpha^\phi, \beta^\phi, \gamma^\phi$.

# %%
# --8<-- [start:core]
import math
from dataclasses import dataclass
from functools import partial

from torch import nn
from timm.models._efficientnet_blocks import DepthwiseSeparableConv, InvertedResidual, SqueezeExcite

# name -> (width multiplier w, depth multiplier d, input resolution r), as released.
EFFICIENTNET_COEFFS = {
    "efficientnet_b0": (1.0, 1.0, 224),
    "efficientnet_b1": (1.0, 1.1, 240),
    "efficientnet_b2": (1.1, 1.2, 260),
    "efficientnet_b3": (1.2, 1.4, 300),
    "efficientnet_b4": (1.4, 1.8, 380),
    "efficientnet_b5": (1.6, 2.2, 456),
    "efficientnet_b6": (1.8, 2.6, 528),
    "efficientnet_b7": (2.0, 3.1, 600),
}


@dataclass(frozen=True)
class Stage:
    """One stage of MBConv blocks: the paper's Table 1 row."""

    expansion: int
    kernel: int
    stride: int  # stride of the stage's first block; the others use 1
    channels: int
    repeats: int


# Table 1 of the paper, with the strides of the released code (the first arXiv version had the
# strides of the 80- and 112-channel stages swapped).
B0_STAGES = (
    Stage(expansion=1, kernel=3, stride=1, channels=16, repeats=1),
    Stage(expansion=6, kernel=3, stride=2, channels=24, repeats=2),
    Stage(expansion=6, kernel=5, stride=2, channels=40, repeats=2),
    Stage(expansion=6, kernel=3, stride=2, channels=80, repeats=3),
    Stage(expansion=6, kernel=5, stride=1, channels=112, repeats=3),
    Stage(expansion=6, kernel=5, stride=2, channels=192, repeats=4),
    Stage(expansion=6, kernel=3, stride=1, channels=320, repeats=1),
)
B0_STEM, B0_HEAD = 32, 1280
# --8<-- [end:core]

# %% [markdown]
# Width and depth multipliers are real numbers, but channels and layers are integers. The
# official rounding: channels go to the nearest multiple of 8 (hardware-friendly), but never
# more than 10% below $w\cdot c$; repeats round *up*, $\lceil d \cdot n \rceil$, so that any
# $d > 1$ adds layers.

# %%
# --8<-- [start:core-rounding]
def round_channels(channels: int, width: float, divisor: int = 8) -> int:
    """Scale a channel count by ``width`` and round it to a multiple of ``divisor``.

    The official ``round_filters``: the nearest multiple, at least ``divisor``, and one
    ``divisor`` more if plain rounding lost over 10% of ``width * channels``.
    """
    if width <= 0 or channels < 1 or divisor < 1:
        raise ValueError(f"need width > 0, channels >= 1, divisor >= 1; got {width=}, {channels=}, {divisor=}")
    scaled = channels * width
    rounded = max(divisor, int(scaled + divisor / 2) // divisor * divisor)
    if rounded < 0.9 * scaled:
        rounded += divisor
    return rounded


def round_repeats(repeats: int, depth: float) -> int:
    """Scale a stage's block count by ``depth``, rounding up (the official ``round_repeats``)."""
    if depth <= 0 or repeats < 1:
        raise ValueError(f"need depth > 0 and repeats >= 1; got {depth=}, {repeats=}")
    return math.ceil(depth * repeats)


def scale_stages(width: float, depth: float, stages=B0_STAGES) -> list[Stage]:
    """Table 1 scaled by (width, depth): the stage plan of a bigger EfficientNet."""
    return [
        Stage(s.expansion, s.kernel, s.stride, round_channels(s.channels, width), round_repeats(s.repeats, depth))
        for s in stages
    ]
# --8<-- [end:core-rounding]

# %% [markdown]
# The network itself: a stride-2 3×3 stem, the scaled stages of MBConv blocks (an inverted
# bottleneck with a squeeze-and-excitation gate whose bottleneck is a quarter of the block's
# *input* channels), a 1×1 head conv and a linear classifier. Every activation is SiLU (Swish).
# We reuse timm's block implementations; the scaling around them is ours.

# %%
# --8<-- [start:core-build]
def build_efficientnet(width: float, depth: float, num_classes: int = 1000) -> nn.Sequential:
    """EfficientNet scaled from B0 by (width, depth); resolution is chosen by the caller.

    Deviation from the paper: no dropout or stochastic depth (they only act in training), and
    PyTorch's symmetric padding with BatchNorm eps 1e-5, as timm's ``efficientnet_*``.
    """
    if num_classes < 1:
        raise ValueError(f"num_classes must be >= 1, got {num_classes!r}")
    stem = round_channels(B0_STEM, width)
    layers = [nn.Conv2d(3, stem, 3, stride=2, padding=1, bias=False), nn.BatchNorm2d(stem), nn.SiLU()]
    in_chs = stem
    for stage in scale_stages(width, depth):
        for index in range(stage.repeats):
            se = partial(SqueezeExcite, rd_channels=round(in_chs * 0.25))  # from the block's input channels
            common = dict(dw_kernel_size=stage.kernel, stride=stage.stride if index == 0 else 1, act_layer=nn.SiLU, se_layer=se)
            if stage.expansion == 1:
                block = DepthwiseSeparableConv(in_chs, stage.channels, **common)
            else:
                block = InvertedResidual(in_chs, stage.channels, exp_ratio=stage.expansion, **common)
            layers.append(block)  # (B, in_chs, H, W) -> (B, channels, H/stride, W/stride)
            in_chs = stage.channels
    head = round_channels(B0_HEAD, width)
    layers += [nn.Conv2d(in_chs, head, 1, bias=False), nn.BatchNorm2d(head), nn.SiLU()]  # (B, head, h, w)
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(head, num_classes)]  # (B, num_classes)
    return nn.Sequential(*layers)
# --8<-- [end:core-build]

# %% [markdown]
# ## Checks against references
#
# **Rounding.** Our `round_channels` against timm's `make_divisible` (the same rule, written
# independently), for every channel count of Table 1 and the head, at a dense grid of widths.

# %%
from timm.layers import make_divisible

grid = [round(0.5 + 0.05 * i, 2) for i in range(71)]  # widths 0.50 ... 4.00
for channels in [B0_STEM, B0_HEAD] + [s.channels for s in B0_STAGES]:
    for width in grid:
        assert round_channels(channels, width) == make_divisible(channels * width, 8), (channels, width)
print(f"round_channels == timm make_divisible on {len(grid) * (len(B0_STAGES) + 2)} (channels, width) pairs")

# %% [markdown]
# **Parameter counts.** Each of our eight models against timm's `efficientnet_b0` … `b7`
# (`pretrained=False`): the totals must be equal, not close.

# %%
ours, theirs = {}, {}
for name, (width, depth, _) in EFFICIENTNET_COEFFS.items():
    with torch.device("meta"):  # shapes only: no memory, no initialisation cost
        ours[name] = count_params(build_efficientnet(width, depth))
        theirs[name] = count_params(timm.create_model(name, pretrained=False))
    assert ours[name] == theirs[name], (name, ours[name], theirs[name])
    print(f"{name}: {ours[name]:>10,} parameters (timm: {theirs[name]:,})")

# %% [markdown]
# **Same function, not just the same size.** Copy timm's B0 weights (random, `pretrained=False`)
# into our model tensor by tensor, then compare outputs on a random batch in float64.

# %%
reference = timm.create_model("efficientnet_b0", pretrained=False).double().eval()
mine = build_efficientnet(1.0, 1.0).double().eval()
copied = copy_weights_in_order(mine, reference)
x = torch.randn(2, 3, 96, 96, dtype=torch.float64)
with torch.no_grad():
    torch.testing.assert_close(mine(x), reference(x), rtol=1e-10, atol=1e-10)
print(f"outputs agree to 1e-10 on a {tuple(x.shape)} batch; {copied} tensors copied")

# %% [markdown]
# ## Baseline (timm)
#
# The paper's "FLOPs" are multiply-adds (the authors confirmed this in google/automl#51).
# PyTorch's `FlopCounterMode` counts 2 FLOPs per multiply-add of convolutions and linear layers
# (nothing else), so we halve it. Counting on the `meta` device costs no arithmetic.
#
# timm's default input sizes (`pretrained_cfg`) are not always the paper's resolution: the table
# shows both.

# %%
macs, timm_sizes = {}, {}
print(f"{'model':16} {'paper res':>9} {'timm res':>8} {'MACs @ paper res':>17}")
for name, (width, depth, resolution) in EFFICIENTNET_COEFFS.items():
    with torch.device("meta"):
        model = build_efficientnet(width, depth).eval()
        reference = timm.create_model(name, pretrained=False).eval()
    macs[name] = multiply_adds(model, resolution)
    assert macs[name] == multiply_adds(reference, resolution)
    timm_sizes[name] = reference.pretrained_cfg["input_size"][-1]
    print(f"{name:16} {resolution:>9} {timm_sizes[name]:>8} {macs[name] / 1e9:>16.3f}G")

# %% [markdown]
# ## Claims
#
# Each claim of the paper, the number it reports, ours, and a verdict. Table 2 prints parameters
# and FLOPs to two significant figures; we call a value *exact* when ours rounds to the paper's
# printed value, and otherwise report the relative gap against a 5% tolerance, chosen because
# counting conventions (which layers a counter includes) differ by a few percent.

# %%
ledger = ClaimLedger("efficientnet")
PAPER_PARAMS_M = {"b0": 5.3, "b1": 7.8, "b2": 9.2, "b3": 12, "b4": 19, "b5": 30, "b6": 43, "b7": 66}
PAPER_MACS_B = {"b0": 0.39, "b1": 0.70, "b2": 1.0, "b3": 1.8, "b4": 4.2, "b5": 9.9, "b6": 19, "b7": 37}


def compare_table(paper: dict, measured: dict, scale: float) -> tuple[list[str], list[str], float]:
    """Models whose value rounds to the paper's, the others with their gap, and the worst gap."""
    exact, off, worst = [], [], 0.0
    for key, printed in paper.items():
        value = measured[f"efficientnet_{key}"] / scale
        digits = len(str(printed).replace(".", "").lstrip("0"))  # significant figures printed
        rounded = float(f"{value:.{digits}g}")
        gap = value / printed - 1
        worst = max(worst, abs(gap))
        if math.isclose(rounded, printed):
            exact.append(key)
        else:
            off.append(f"{key.upper()} {value:.3g} vs {printed} ({gap:+.1%})")
    return exact, off, worst


exact, off, worst = compare_table(PAPER_PARAMS_M, ours, 1e6)
ledger.record(
    "C1", "B0–B7 have 5.3M … 66M parameters", "Table 2", "5.3M, 7.8M, 9.2M, 12M, 19M, 30M, 43M, 66M",
    ", ".join(f"{v / 1e6:.2f}M" for v in ours.values()),
    Verdict.EXACT if not off else Verdict.WITHIN_TOLERANCE,
    f"{len(exact)}/8 round to the printed value; " + ("; ".join(off) or "all do") + f"; worst gap {worst:.1%} (tolerance 5%)",
)
assert worst < 0.05

# %%
exact, off, worst = compare_table(PAPER_MACS_B, macs, 1e9)
ledger.record(
    "C2", "B0–B7 cost 0.39B … 37B FLOPs (multiply-adds)", "Table 2", "0.39B, 0.70B, 1.0B, 1.8B, 4.2B, 9.9B, 19B, 37B",
    ", ".join(f"{v / 1e9:.3g}B" for v in macs.values()),
    Verdict.EXACT if not off else (Verdict.WITHIN_TOLERANCE if worst < 0.05 else Verdict.NOT_REPRODUCED),
    f"conv and linear multiply-adds at the paper's resolutions; {len(exact)}/8 round to the printed value; "
    + "; ".join(off) + f"; worst gap {worst:.1%} (tolerance 5%)",
)

# %% [markdown]
# **The constraint and the exponents.** With $\alpha=1.2$, $\beta=1.1$, $\gamma=1.15$ the product
# $\alpha\beta^2\gamma^2$ should be about 2. For each released model we then ask which $\phi$
# its depth, width and resolution multipliers imply, $\phi_d = \log d / \log \alpha$ and so on:
# if the models were compound-scaled as Eq. 3 says, the three would agree.

# %%
alpha, beta, gamma = 1.2, 1.1, 1.15
product = alpha * beta**2 * gamma**2
print(f"alpha * beta^2 * gamma^2 = {product:.4f}")
implied = {}
print(f"{'model':16} {'phi_depth':>9} {'phi_width':>9} {'phi_res':>8} {'MACs/B0':>8} {'log2':>6}")
for name, (width, depth, resolution) in EFFICIENTNET_COEFFS.items():
    phis = (math.log(depth) / math.log(alpha), math.log(width) / math.log(beta), math.log(resolution / 224) / math.log(gamma))
    implied[name] = phis
    growth = macs[name] / macs["efficientnet_b0"]
    print(f"{name:16} {phis[0]:>9.2f} {phis[1]:>9.2f} {phis[2]:>8.2f} {growth:>8.2f} {math.log2(growth):>6.2f}")

# %% [markdown]
# The same table as a picture: under Eq. 3 the three markers of each model would coincide.

# %%
fig, ax = plt.subplots(figsize=(6, 3.2))
names = [k.removeprefix("efficientnet_").upper() for k in implied]
for index, (label, marker) in enumerate([("depth", "o"), ("width", "s"), ("resolution", "^")]):
    ax.plot(names, [phis[index] for phis in implied.values()], marker=marker, linestyle="none", label=f"φ implied by {label}")
ax.set_ylabel("implied φ")
ax.set_title("Released EfficientNets against Eq. 3")
ax.legend()
plt.show()

# %%
ledger.record(
    "C3", "α·β²·γ² ≈ 2 for the searched α=1.2, β=1.1, γ=1.15", "Section 3.3, Eq. 3", "≈ 2",
    f"{product:.4f}", Verdict.WITHIN_TOLERANCE, f"{product / 2 - 1:+.1%} from 2 (tolerance 5%)",
)
spread = {k.removeprefix("efficientnet_"): max(p) - min(p) for k, p in implied.items() if k != "efficientnet_b0"}
b7 = implied["efficientnet_b7"]
ledger.record(
    "C4", "B1–B7 are B0 scaled by d=α^φ, w=β^φ, r=γ^φ for growing φ", "Section 4", "one φ per model",
    f"implied φ disagree by up to {max(spread.values()):.1f} within one model (B7: depth {b7[0]:.1f}, width {b7[1]:.1f}, resolution {b7[2]:.1f})",
    Verdict.NOT_REPRODUCED,
    "the released multipliers are hand-set, not powers of α, β, γ; only B2 is close to φ=1",
)

# %% [markdown]
# FLOPs should grow by about $2^\phi$. We take the depth-implied $\phi$ (B1 = 0.52 … B7 = 6.2)
# and compare $2^\phi$ with the measured growth of multiply-adds over B0.

# %%
ratios = {k: (macs[k] / macs["efficientnet_b0"]) / 2 ** implied[k][0] for k in EFFICIENTNET_COEFFS if k != "efficientnet_b0"}
ledger.record(
    "C5", "FLOPs grow by about 2^φ", "Section 3.3", "growth ≈ 2^φ",
    f"measured growth / 2^φ_depth = {min(ratios.values()):.2f} … {max(ratios.values()):.2f} (B1 … B7)",
    Verdict.NOT_REPRODUCED,
    f"with φ implied by the depth multiplier the released models grow {min(ratios.values()):.1f}–{max(ratios.values()):.1f}× "
    "as fast as 2^φ (table above): width and resolution grew faster than β^φ and γ^φ",
)
ledger.record(
    "C6", "EfficientNet-B7 reaches 84.3% top-1 on ImageNet (B0 77.1%)", "Table 2 (arXiv v5)", "84.3% / 77.1%",
    "not measured", Verdict.NOT_CHECKABLE, "needs ImageNet training at 600 px: thousands of accelerator-hours",
)
ledger.record(
    "C7", "At ~1.8B FLOPs, compound scaling of B0 beats depth-, width- or resolution-only scaling", "Table 7, Figure 8",
    "81.1% vs 79.0% / 78.9% / 79.1%", "cost side only (next section)", Verdict.NOT_CHECKABLE,
    "accuracy needs ImageNet training; the Small experiment checks that the four models do cost the same",
)
ledger.show()

# %% [markdown]
# ## Small experiment
#
# The paper's cleanest claim (C7) compares scaling one dimension against compound scaling at
# the same cost. Its accuracy numbers need ImageNet, but the costs can be checked: for each
# single-dimension scaling we search for the multiplier that brings B0 to the compound model's
# multiply-adds (the paper's compound point $d=1.4$, $w=1.2$, $r=1.3$), then compare parameters.
# We do not train: on a data set a CPU can handle (8×8 digits) every variant saturates, which
# would say nothing about ImageNet.

# %%
def macs_of(width, depth, resolution):
    with torch.device("meta"):
        return multiply_adds(build_efficientnet(width, depth).eval(), resolution)


def solve(make, lo, hi, target, steps=12):
    """Bisect a multiplier until its model's multiply-adds reach ``target``."""
    for _ in range(steps):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if make(mid) < target else (lo, mid)
    return hi


target = macs_of(1.2, 1.4, round(224 * 1.3))
variants = {
    "compound (d=1.4, w=1.2, r=1.3)": (1.2, 1.4, round(224 * 1.3)),
    "depth only": (1.0, solve(lambda d: macs_of(1.0, d, 224), 1.0, 8.0, target), 224),
    "width only": (solve(lambda w: macs_of(w, 1.0, 224), 1.0, 4.0, target), 1.0, 224),
    "resolution only": (1.0, 1.0, math.ceil(solve(lambda r: macs_of(1.0, 1.0, round(224 * r)), 1.0, 4.0, target) * 224)),
}

# %%
params = {}
print(f"{'variant':32} {'w':>5} {'d':>5} {'res':>4} {'MACs':>7} {'params':>7}")
for label, (width, depth, resolution) in variants.items():
    with torch.device("meta"):
        params[label] = count_params(build_efficientnet(width, depth))
    cost = macs_of(width, depth, resolution)
    print(f"{label:32} {width:>5.2f} {depth:>5.2f} {resolution:>4} {cost / 1e9:>6.2f}G {params[label] / 1e6:>6.2f}M")
    assert abs(cost / target - 1) < 0.1, label
print(f"most parameters: {max(params, key=params.get)}; fewest: {min(params, key=params.get)}")

# %% [markdown]
# At the same cost the four models differ a lot in size: resolution-only scaling adds no
# parameters, and the single-dimension multipliers we find land near the paper's own choices
# for this comparison ($d=4$, $w=2$, $r=2$). Which of the four is most accurate is the part of
# the claim we cannot check.

# %% [markdown]
# ## What this does not show
#
# - **Accuracy.** Every accuracy claim (Table 2, Table 3, Figure 8) needs ImageNet training and
#   is recorded as not checkable on CPU. The cost side of each comparison is checked.
# - **Latency.** The paper's CPU latency comparison (Table 4) used a specific machine and
#   batch size; wall-clock numbers from this runner would not be comparable.
# - **The search.** B0 came out of a neural architecture search that we take as given.
# - **Training-time regularisation.** Dropout 0.2–0.5 and stochastic depth are left out of
#   `build_efficientnet`: they do not change parameters or multiply-adds.
