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
from papernotes import ClaimLedger, NotCheckable, PrintedPrecision, configure

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
# The paper's "FLOPs" are multiply-adds: its B0 figure, 0.39B, is what a count of convolution
# and linear multiply-adds gives, while counters that report 2 FLOPs per multiply-add give about
# twice that. PyTorch's `FlopCounterMode` counts 2 FLOPs per multiply-add of convolutions and linear layers
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
# The register below declares every claim and its test before anything is measured. Table 2
# prints parameters and FLOPs to two significant figures, so those claims take the default test:
# ours must round to the printed value (5.3M is met by 5.25M ... 5.35M). The ledger then computes
# each verdict from the measurement.
#
# Two claims are tested against the released models: the paper derives B1–B7 with Eq. 3 (Section
# 4), but prints none of their multipliers, which we take from the official
# `efficientnet_builder.py`. For C4 each model's $\phi$ is read from its resolution, the
# multiplier printed most precisely (to the pixel); Eq. 3 then predicts its depth and width,
# which the release prints to one decimal.

# %%
ledger = ClaimLedger("efficientnet")
ledger.declare(
    "C1", "B0–B7 have 5.3M … 66M parameters", where="arXiv v5, Table 2", unit="M",
    paper={"B0": "5.3", "B1": "7.8", "B2": "9.2", "B3": "12", "B4": "19", "B5": "30", "B6": "43", "B7": "66"},
    test=PrintedPrecision(),
)
ledger.declare(
    "C2", "B0–B7 cost 0.39B … 37B FLOPs (multiply-adds)", where="arXiv v5, Table 2", unit="B",
    paper={"B0": "0.39", "B1": "0.70", "B2": "1.0", "B3": "1.8", "B4": "4.2", "B5": "9.9", "B6": "19", "B7": "37"},
    test=PrintedPrecision(),
)
ledger.declare(
    "C3", "α·β²·γ² ≈ 2 for the searched α=1.2, β=1.1, γ=1.15", where="arXiv v5, Section 3.3 (Eq. 3) and Section 4",
    paper="2", test=PrintedPrecision(), fmt="{:.4f}",
)
ledger.declare(
    "C4", "B1–B7 are B0 scaled by Eq. 3: d = α^φ, w = β^φ, r = γ^φ for growing φ",
    where="arXiv v5, Section 4; multipliers from tensorflow/tpu, models/official/efficientnet/efficientnet_builder.py, efficientnet_params",
    paper={f"{m.removeprefix('efficientnet_').upper()} {dim}": v for m, (w, d, _) in list(EFFICIENTNET_COEFFS.items())[1:]
           for dim, v in (("depth", str(d)), ("width", str(w)))},
    test=PrintedPrecision(), fmt="{:.3f}",
)
ledger.declare(
    "C5", "Scaling by Eq. 3 multiplies FLOPs by about 2^φ", where="arXiv v5, Section 3.3",
    paper={f"φ={phi}": "2" for phi in range(1, 8)}, test=PrintedPrecision(), fmt="{:.2f}",
)
ledger.declare(
    "C6", "EfficientNet-B7 reaches 84.3% top-1 on ImageNet (B0 77.1%)", where="arXiv v5, abstract and Table 2",
    paper="84.3% / 77.1% top-1",
    test=NotCheckable("needs ImageNet training at up to 600 px: thousands of accelerator-hours"),
)
ledger.declare(
    "C7", "At ~1.8B FLOPs, compound scaling of B0 beats depth-, width- or resolution-only scaling",
    where="arXiv v5, Table 7 and Figure 8", paper="81.1% vs 79.0% / 78.9% / 79.1% top-1",
    test=NotCheckable("accuracy needs ImageNet training; the Small experiment checks the cost side"),
)

# %% [markdown]
# TensorFlow's `count_params()` (the paper's framework) also counts each batch norm's moving
# mean and variance. We report that count beside ours; the test uses the trainable parameters.

# %%
def with_moving_statistics(model: nn.Module) -> int:
    """Parameters plus batch-norm moving mean and variance, as TensorFlow's count_params counts."""
    return count_params(model) + sum(m.running_mean.numel() + m.running_var.numel() for m in model.modules() if isinstance(m, nn.BatchNorm2d))


with torch.device("meta"):
    tf_counts = {name: with_moving_statistics(build_efficientnet(w, d)) for name, (w, d, _) in EFFICIENTNET_COEFFS.items()}
ledger.measure(
    "C1", {name.removeprefix("efficientnet_").upper(): count / 1e6 for name, count in ours.items()},
    note="trainable parameters, as timm and torchvision count them; counting batch-norm moving statistics too: "
    + ", ".join(f"{name.removeprefix('efficientnet_').upper()} {count / 1e6:.2f}M" for name, count in tf_counts.items()),
)

# %%
ledger.measure("C2", {name.removeprefix("efficientnet_").upper(): count / 1e9 for name, count in macs.items()},
               note="convolution and linear multiply-adds at the paper's resolutions")

# %% [markdown]
# **The constraint and the exponents.** With $\alpha=1.2$, $\beta=1.1$, $\gamma=1.15$ the product
# $\alpha\beta^2\gamma^2$ should be about 2. For each released model we then ask which $\phi$
# its depth, width and resolution multipliers imply, $\phi_d = \log d / \log \alpha$ and so on:
# if the models were compound-scaled as Eq. 3 says, the three would agree.

# %%
alpha, beta, gamma = 1.2, 1.1, 1.15
ledger.measure("C3", alpha * beta**2 * gamma**2)
implied = {}
print(f"{'model':16} {'phi_depth':>9} {'phi_width':>9} {'phi_res':>8}")
for name, (width, depth, resolution) in EFFICIENTNET_COEFFS.items():
    implied[name] = (math.log(depth) / math.log(alpha), math.log(width) / math.log(beta), math.log(resolution / 224) / math.log(gamma))
    print(f"{name:16} {implied[name][0]:>9.2f} {implied[name][1]:>9.2f} {implied[name][2]:>8.2f}")

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

# %% [markdown]
# C4 reads $\phi$ from each model's resolution and predicts its depth $\alpha^\phi$ and width
# $\beta^\phi$ with Eq. 3.

# %%
predicted = {}
for name in list(EFFICIENTNET_COEFFS)[1:]:
    phi, model = implied[name][2], name.removeprefix("efficientnet_").upper()
    predicted[f"{model} depth"], predicted[f"{model} width"] = alpha**phi, beta**phi
ledger.measure("C4", predicted, note="φ read from each model's resolution")

# %% [markdown]
# **FLOPs under Eq. 3.** Our builder can scale B0 exactly as Eq. 3 says: depth $\alpha^\phi$,
# width $\beta^\phi$ and resolution $224\gamma^\phi$ (rounded to the pixel), for
# $\phi = 1 \ldots 7$. Each model's multiply-adds over B0's give its growth $G_\phi$, and
# $G_\phi^{1/\phi}$ is the base that the paper says is about 2. The released models are shown
# beside them, with $\phi$ read from their resolution.

# %%
def macs_of(width, depth, resolution):
    """Multiply-adds of B0 scaled by (width, depth) at ``resolution``, counted on the meta device."""
    with torch.device("meta"):
        return multiply_adds(build_efficientnet(width, depth).eval(), resolution)


base = macs["efficientnet_b0"]
eq3_base = {}
print(f"{'phi':>4} {'width':>6} {'depth':>6} {'res':>4} {'growth':>7} {'base':>5}")
for phi in range(1, 8):
    resolution = round(224 * gamma**phi)
    growth = macs_of(beta**phi, alpha**phi, resolution) / base
    eq3_base[f"φ={phi}"] = growth ** (1 / phi)
    print(f"{phi:>4} {beta**phi:>6.3f} {alpha**phi:>6.3f} {resolution:>4} {growth:>7.2f} {eq3_base[f'φ={phi}']:>5.2f}")
released_base = {
    name.removeprefix("efficientnet_").upper(): (macs[name] / base) ** (1 / implied[name][2]) for name in list(EFFICIENTNET_COEFFS)[1:]
}
print("released models, base with φ from resolution:", ", ".join(f"{k} {v:.2f}" for k, v in released_base.items()))

# %%
ledger.measure("C5", eq3_base, note="base = (multiply-adds over B0)^(1/φ) of models built by Eq. 3")
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
