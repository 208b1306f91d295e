# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Squeeze-and-Excitation Networks, checked
#
# Companion to the note [Squeeze-and-Excitation Networks](../../notes/vision/squeeze-and-excitation/)
# (Hu, Shen, Albanie, Sun, Wu; IEEE TPAMI 2020, arXiv v4, which every number below cites; the
# CVPR 2018 version is by Hu, Shen and Sun). We implement the SE block and the SE-ResNet
# bottleneck it sits in, check both against timm, count what the block costs in parameters and
# multiply-adds (the paper's cost claims), and run one small experiment, on three seeds, on a
# task built so that channel recalibration can help. No ImageNet model is trained.

# %% [markdown]
# ## Setup
#
# One thread and fixed seeds, so that every printed number is the same on every run.

# %%
from papernotes import ClaimLedger, Effect, NotCheckable, PrintedPrecision, configure
from papernotes.costs import count_params, multiply_adds
from papernotes.training import accuracy, train_classifier
from papernotes.weights import copy_weights_in_order

configure(seed=0, threads=1)  # before timm: it also silences the tqdm warning that importing timm prints

import timm
import torch
from timm.layers import SEModule, make_divisible
from torch import nn
from torchvision.ops import SqueezeExcitation as TorchvisionSE

# %% [markdown]
# ## Method (the core)
#
# A convolution mixes channels only inside its receptive field. The SE block lets every channel
# see a summary of the whole image and rescales the channels accordingly. Given a feature map
# $U \in \mathbb{R}^{C\times H\times W}$:
#
# **Squeeze** (Eq. 2): global average pooling gives one number per channel,
# $$z_c = \frac{1}{H W}\sum_{i=1}^{H}\sum_{j=1}^{W} u_c(i,j).$$
#
# **Excitation** (Eq. 3): a bottleneck of two fully connected layers with reduction ratio $r$,
# $$s = \sigma\big(W_2\,\delta(W_1 z)\big),\qquad W_1\in\mathbb{R}^{\frac{C}{r}\times C},\ W_2\in\mathbb{R}^{C\times\frac{C}{r}},$$
# with $\delta$ the ReLU and $\sigma$ the sigmoid, so each gate $s_c$ lies in $(0, 1)$.
#
# **Scale** (Eq. 4): $\tilde{x}_c = s_c\, u_c$, channel by channel.
#
# The paper writes the bottleneck width as $C/r$. timm rounds it to a multiple of 8 (at least 8)
# "for fp16 cudnn performance"; we keep both behind one `divisor` argument.

# %%
# --8<-- [start:core]
import torch
from torch import nn


def reduced_width(channels: int, reduction: int, divisor: int = 1) -> int:
    """Width of the SE bottleneck: C/r, rounded to the nearest multiple of ``divisor`` (at least ``divisor``).

    ``divisor=1`` is the paper's C/r (Eq. 3; r divides C in every SE-ResNet). ``divisor=8`` is
    timm's ``SEModule`` default, which turns C=64, r=16 into 8 instead of 4.
    """
    for name, value in (("channels", channels), ("reduction", reduction), ("divisor", divisor)):
        if not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be an int >= 1, got {value!r}")
    return max(divisor, int(channels / reduction + divisor / 2) // divisor * divisor)


class SqueezeExcitation(nn.Module):
    """The SE block, Eqs. 2-4: squeeze by global average pooling, excite by FC-ReLU-FC-sigmoid, scale.

    By default the two FC layers carry biases, as in the released models (Eq. 3 writes none).
    ``bias=False`` drops them, as the paper's ablations on ResNet-50 do (Section 6).
    """

    def __init__(self, channels: int, reduction: int = 16, divisor: int = 1, bias: bool = True):
        super().__init__()
        if not isinstance(bias, bool):
            raise ValueError(f"bias must be True or False, got {bias!r}")
        hidden = reduced_width(channels, reduction, divisor)
        self.channels = channels
        self.fc1 = nn.Linear(channels, hidden, bias=bias)  # W_1: C -> C/r
        self.fc2 = nn.Linear(hidden, channels, bias=bias)  # W_2: C/r -> C

    def forward(self, u: torch.Tensor) -> torch.Tensor:
        if u.ndim != 4 or u.shape[1] != self.channels:
            raise ValueError(f"u must have shape (B, {self.channels}, H, W), got {tuple(u.shape)}")
        z = u.mean(dim=(2, 3))  # (B, C)      squeeze, Eq. 2
        s = torch.sigmoid(self.fc2(torch.relu(self.fc1(z))))  # (B, C)      excitation, Eq. 3
        return u * s[:, :, None, None]  # (B, C, H, W) scale, Eq. 4
# --8<-- [end:core]

# %% [markdown]
# **Where the block sits.** In SE-ResNet the block recalibrates the *residual branch* after its
# last convolution and batch norm, before the identity is added (Fig. 3):
#
# $$y = \mathrm{ReLU}\big(x + \mathrm{SE}(F(x))\big),\qquad F = \text{1×1} \to \text{3×3} \to \text{1×1 bottleneck}.$$
#
# The identity path is never gated, so a gate near zero cannot block the signal. ResNet-50 has
# stages of (3, 4, 6, 3) bottlenecks whose outputs have $C = 256, 512, 1024, 2048$ channels.
# Where the stride-2 sits in a downsampling bottleneck is the one choice that changes
# multiply-adds (not parameters): in the 1×1 conv (the original Caffe ResNet, which the paper
# used) or in the 3×3 conv (torchvision and timm).

# %%
# --8<-- [start:core-resnet]
RESNET50_DEPTHS = (3, 4, 6, 3)


class SEBottleneck(nn.Module):
    """ResNet bottleneck with an SE block on the residual branch, before the addition (Fig. 3, right).

    ``se_reduction=None`` gives the plain ResNet bottleneck. ``stride_in_1x1`` puts the stride in
    the first 1x1 conv (Caffe ResNet, as the paper) instead of the 3x3 (torchvision, timm).
    ``se_bias`` keeps or drops the SE block's FC biases.
    """

    expansion = 4

    def __init__(self, in_channels, width, stride=1, se_reduction=16, divisor=1, stride_in_1x1=False, se_bias=True):
        super().__init__()
        out_channels = width * self.expansion
        stride_1x1, stride_3x3 = (stride, 1) if stride_in_1x1 else (1, stride)
        self.conv1, self.bn1 = nn.Conv2d(in_channels, width, 1, stride_1x1, bias=False), nn.BatchNorm2d(width)
        self.conv2, self.bn2 = nn.Conv2d(width, width, 3, stride_3x3, padding=1, bias=False), nn.BatchNorm2d(width)
        self.conv3, self.bn3 = nn.Conv2d(width, out_channels, 1, bias=False), nn.BatchNorm2d(out_channels)
        self.se = nn.Identity() if se_reduction is None else SqueezeExcitation(out_channels, se_reduction, divisor, se_bias)
        self.shortcut = nn.Identity()
        if stride != 1 or in_channels != out_channels:  # projection shortcut, as in ResNet "option B"
            self.shortcut = nn.Sequential(nn.Conv2d(in_channels, out_channels, 1, stride, bias=False), nn.BatchNorm2d(out_channels))

    def forward(self, x):  # (B, C_in, H, W)
        residual = torch.relu(self.bn1(self.conv1(x)))  # (B, width, H', W')
        residual = torch.relu(self.bn2(self.conv2(residual)))  # (B, width, H/s, W/s)
        residual = self.bn3(self.conv3(residual))  # (B, 4*width, H/s, W/s)
        return torch.relu(self.se(residual) + self.shortcut(x))  # (B, 4*width, H/s, W/s)


def build_se_resnet(depths=RESNET50_DEPTHS, se_reduction=16, divisor=1, stride_in_1x1=False, num_classes=1000,
                    se_bias=True) -> nn.Sequential:
    """SE-ResNet (SE-ResNet-50 by default): a 7x7 stem, four stages of SE bottlenecks, pooling and a classifier."""
    if len(depths) != 4 or any(not isinstance(d, int) or d < 1 for d in depths):
        raise ValueError(f"depths must be four ints >= 1, got {depths!r}")
    if num_classes < 1:
        raise ValueError(f"num_classes must be >= 1, got {num_classes!r}")
    layers = [nn.Conv2d(3, 64, 7, 2, padding=3, bias=False), nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(3, 2, padding=1)]
    in_channels = 64
    for stage, depth in enumerate(depths):
        width = 64 * 2**stage  # bottleneck width; the stage outputs 4x as many channels
        for index in range(depth):
            stride = 2 if stage > 0 and index == 0 else 1
            layers.append(SEBottleneck(in_channels, width, stride, se_reduction, divisor, stride_in_1x1, se_bias))
            in_channels = width * SEBottleneck.expansion
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(in_channels, num_classes)]  # (B, num_classes)
    return nn.Sequential(*layers)
# --8<-- [end:core-resnet]

# %% [markdown]
# ## Checks against references
#
# **The bottleneck width.** `reduced_width` against timm's `make_divisible` (which `SEModule`
# uses with `round_limit=0`) for every channel count from 1 to 2048, every $r$ of the paper's
# ablation, and divisors 1 and 8.

# %%
pairs = 0
for channels in range(1, 2049):
    for reduction in (2, 4, 8, 16, 32):
        for divisor in (1, 8):
            assert reduced_width(channels, reduction, divisor) == make_divisible(channels / reduction, divisor, round_limit=0.0)
            pairs += 1
print(f"reduced_width == timm make_divisible on {pairs:,} (channels, r, divisor) triples")

# %% [markdown]
# **The block.** Copy the weights of timm's `SEModule` (its FCs are 1×1 convolutions) and of
# torchvision's `SqueezeExcitation` into ours and compare outputs in float64, at channel counts
# where timm's rounding is a no-op and where it is not (C = 64: 4 vs 8).

# %%
for channels, divisor in [(64, 1), (64, 8), (256, 8), (2048, 8)]:
    mine = SqueezeExcitation(channels, 16, divisor).double()
    timm_se = SEModule(channels, rd_ratio=1 / 16, rd_divisor=divisor).double()
    tv_se = TorchvisionSE(channels, reduced_width(channels, 16, divisor)).double()
    u = torch.randn(2, channels, 7, 5, dtype=torch.float64)
    copy_weights_in_order(mine, timm_se)
    torch.testing.assert_close(mine(u), timm_se(u), rtol=1e-12, atol=1e-12)
    copy_weights_in_order(mine, tv_se)
    torch.testing.assert_close(mine(u), tv_se(u), rtol=1e-12, atol=1e-12)
    print(f"C={channels:4}, divisor {divisor}: bottleneck {mine.fc1.out_features:3}; equals timm SEModule and torchvision")
mine, timm_se = SqueezeExcitation(256, 16, bias=False).double(), SEModule(256, rd_ratio=1 / 16, rd_divisor=1, bias=False).double()
copy_weights_in_order(mine, timm_se)
u = torch.randn(2, 256, 7, 5, dtype=torch.float64)
torch.testing.assert_close(mine(u), timm_se(u), rtol=1e-12, atol=1e-12)
print("without FC biases (the paper's ablation setting): equals timm SEModule(bias=False)")

# %% [markdown]
# **SE-ResNet-50 as a whole.** Parameter totals against timm (`pretrained=False`), on the `meta`
# device: our plain ResNet-50 against `resnet50`, our SE-ResNet-50 against `seresnet50`
# (stride in the 3×3) and against `legacy_seresnet50` (the port of the authors' Caffe models,
# stride in the 1×1). Then the same function: copy `seresnet50`'s random weights into ours and
# compare outputs in float64.

# %%
variants = {  # timm name -> our builder's arguments
    "resnet50": dict(se_reduction=None),
    "seresnet50": dict(se_reduction=16, divisor=8),
    "legacy_seresnet50": dict(se_reduction=16, stride_in_1x1=True),
}
params = {}
for name, kwargs in variants.items():
    with torch.device("meta"):
        params[name] = count_params(build_se_resnet(**kwargs))
        assert params[name] == count_params(timm.create_model(name, pretrained=False)), name
    print(f"{name:18} {params[name]:>11,} parameters, equal to timm")

# %%
reference = timm.create_model("seresnet50", pretrained=False).double().eval()
mine = build_se_resnet(divisor=8).double().eval()
copied = copy_weights_in_order(mine, reference)
x = torch.randn(2, 3, 64, 64, dtype=torch.float64)
with torch.no_grad():
    torch.testing.assert_close(mine(x), reference(x), rtol=1e-10, atol=1e-10)
print(f"outputs agree to 1e-10 on a {tuple(x.shape)} batch; {copied} tensors copied")

# %% [markdown]
# **timm's rounding.** Every SE width in ResNet-50 ($C/16$ = 16, 32, 64, 128) is already a
# multiple of 8, so timm's rule changes nothing there. It does in ResNet-18/34, whose first
# stage has $C = 64$: timm's `seresnet18` uses 8 where the paper's $C/r$ is 4, and the
# `legacy_seresnet18` port keeps 4. Each of the two first-stage blocks gains
# $2\cdot 64\cdot(8-4)$ weights and $8-4$ biases.

# %%
with torch.device("meta"):
    rounded, plain = (count_params(timm.create_model(n, pretrained=False)) for n in ("seresnet18", "legacy_seresnet18"))
predicted = 2 * (2 * 64 * (reduced_width(64, 16, 8) - reduced_width(64, 16)) + (reduced_width(64, 16, 8) - reduced_width(64, 16)))
assert rounded - plain == predicted
print(f"seresnet18 {rounded:,} - legacy_seresnet18 {plain:,} = {rounded - plain:,} = predicted {predicted:,}")

# %% [markdown]
# **The overhead formula** (Eq. 5): the FC weights of all SE blocks are
# $\frac{2}{r}\sum_{s=1}^{S} N_s\, C_s^2$, with $N_s$ blocks of $C_s$ output channels in stage $s$.
# It leaves out the biases, $N_s\,(C_s + C_s/r)$ per stage, which the paper calls negligible.
# This holds by construction (a $C \to C/r$ linear layer has $C^2/r$ weights), so it is a check
# of our builder, not a claim: with biases the SE-ResNet-50 overhead must be weights plus
# biases, and without them the weights alone, for every $r$ of Table 10.

# %%
def se_weights(reduction, depths=RESNET50_DEPTHS):
    return sum(2 * n * (256 * 2**s) ** 2 // reduction for s, n in enumerate(depths))


def se_biases(reduction, depths=RESNET50_DEPTHS):
    return sum(n * (256 * 2**s + 256 * 2**s // reduction) for s, n in enumerate(depths))


for reduction in (2, 4, 8, 16, 32):
    with torch.device("meta"):
        with_bias = count_params(build_se_resnet(se_reduction=reduction))
        without_bias = count_params(build_se_resnet(se_reduction=reduction, se_bias=False))
    assert with_bias == params["resnet50"] + se_weights(reduction) + se_biases(reduction), reduction
    assert without_bias == params["resnet50"] + se_weights(reduction), reduction
print(f"Eq. 5 counts the FC weights exactly for r = 2 ... 32; at r = 16: {se_weights(16):,} weights + {se_biases(16):,} biases")

# %% [markdown]
# ## Baseline (timm)
#
# Multiply-adds at 224×224. PyTorch's `FlopCounterMode` counts 2 FLOPs per multiply-add of
# convolutions and linear layers only, so we halve it; the SE block's pooling and its
# channel-wise product are not counted by it, so we add them by hand (one operation per
# element each, $2HWC$ per block). Our models must count exactly what timm's do.

# %%
def pool_and_scale_ops(resolution: int = 224, depths=RESNET50_DEPTHS) -> int:
    """Element-wise work of all SE blocks: a sum for the squeeze and a product for the scale."""
    side, total = resolution // 4, 0
    for stage, depth in enumerate(depths):
        side = side // 2 if stage > 0 else side
        total += depth * 2 * side * side * 256 * 2**stage
    return total


macs = {}
for name, kwargs in variants.items():
    with torch.device("meta"):
        macs[name] = multiply_adds(build_se_resnet(**kwargs).eval())
        assert macs[name] == multiply_adds(timm.create_model(name, pretrained=False).eval()), name
with torch.device("meta"):
    macs["caffe resnet50"] = multiply_adds(build_se_resnet(se_reduction=None, stride_in_1x1=True).eval())
se_elementwise = pool_and_scale_ops()
for name, value in macs.items():
    print(f"{name:18} {value / 1e9:.4f} GMACs (conv + FC)")
print(f"SE pooling + scaling, all 16 blocks: {se_elementwise / 1e9:.4f} G operations")

# %% [markdown]
# ## Claims
#
# The register below declares every claim and its test before anything is measured; the ledger
# computes the verdicts. Every number is from arXiv v4 (the TPAMI version). The cost claims are
# printed numbers about the architecture, so they take the default test: our count must round
# to the printed value. Two facts about the paper's setup decide what we count, and neither
# comes from our measurements. Its ResNet-50 is the original one, which puts the stride of a
# downsampling block in its first 1×1 convolution: so do the authors' released Caffe
# SE-ResNet-50 (ported to timm as `legacy_seresnet50`, whose multiply-adds our build matches
# above) and the ResNet models whose results Table 2 quotes. And its ablations, Table 10 among
# them, drop the biases of the SE block's FC layers (Section 6). The accuracy claims need ImageNet;
# the one effect we can test, that SE improves accuracy, is declared on three seeds of a small
# task and must hold on each.

# %%
ledger = ClaimLedger("squeeze-and-excitation")
SEEDS = (0, 1, 2)
ledger.declare(
    "C1", "SE-ResNet-50 adds about 2.5M parameters to ResNet-50, an increase of about 10%",
    where="arXiv v4, Section 4", paper={"added parameters (M)": "2.5", "increase (%)": "10"}, test=PrintedPrecision(),
)
ledger.declare(
    "C3", "Without the SE blocks of the last stage, the parameter increase falls to about 4%",
    where="arXiv v4, Section 4", paper="4", unit="%", test=PrintedPrecision(), fmt="{:.1f}",
)
ledger.declare(
    "C4", "SE-ResNet-50 has 45.7M / 35.7M / 30.7M / 28.1M / 26.9M parameters at r = 2 / 4 / 8 / 16 / 32 (ResNet-50 25.6M)",
    where="arXiv v4, Table 10 (Section 6.1)", unit="M",
    paper={"r=2": "45.7", "r=4": "35.7", "r=8": "30.7", "r=16": "28.1", "r=32": "26.9", "ResNet-50": "25.6"},
    test=PrintedPrecision(),
)
ledger.declare(
    "C5", "ResNet-50 costs 3.86 GFLOPs and SE-ResNet-50 3.87 GFLOPs at 224×224",
    where="arXiv v4, Table 2 and Section 4", unit="G",
    paper={"ResNet-50": "3.86", "SE-ResNet-50": "3.87"}, test=PrintedPrecision(),
)
ledger.declare(
    "C6", "SE adds 0.26% to ResNet-50's GFLOPs", where="arXiv v4, Section 4", paper="0.26", unit="%",
    test=PrintedPrecision(), fmt="{:.2f}",
)
ledger.declare(
    "C7", "SE-ResNet-50 reaches 23.29% top-1 error on ImageNet against 24.80% for ResNet-50", where="arXiv v4, Table 2",
    paper="23.29% against 24.80% top-1 error (both re-implemented, single 224 crop)",
    test=NotCheckable("needs ImageNet training: days of accelerator time"),
)
ledger.declare(
    "C8", "Accuracy hardly changes for r from 2 to 16 and drops at r = 32", where="arXiv v4, Table 10 (Section 6.1)",
    paper="top-1 error 22.29 / 22.25 / 22.26 / 22.28 / 22.72% at r = 2 / 4 / 8 / 16 / 32",
    test=NotCheckable("needs ImageNet training of five SE-ResNet-50s; their parameter counts are C4"),
)
ledger.declare(
    "C9", "Adding an SE block improves accuracy (tested on a task where the useful channels depend on global context)",
    where="arXiv v4, Section 5.1 and Table 2",
    paper="lower top-1 error for every network of Table 2 with SE blocks than without",
    test=Effect(
        statistic="test accuracy with one SE block minus without", at_least=0.001, seeds=SEEDS,  # one test image of 1,000: a tie is no improvement
        setup="a generated 24×24 channel-selection task (1,500 training and 1,000 test images); two 3×3 conv-BN-ReLU "
              "layers of 16 channels with and without an SE block (r = 4) before global pooling; Adam, lr 0.01, 10 epochs",
    ),
    fmt="{:+.3f}",
)

# %% [markdown]
# **Parameters** (C1, C3). Section 4 describes the standard SE-ResNet-50, whose released models
# carry FC biases, so we count with biases; without them the overhead is slightly smaller and
# rounds the same. The last stage's three blocks have $C = 2048$.

# %%
overhead = params["seresnet50"] - params["resnet50"]
ledger.measure(
    "C1", {"added parameters (M)": overhead / 1e6, "increase (%)": 100 * overhead / params["resnet50"]},
    note=f"{overhead:,} parameters added to ResNet-50's {params['resnet50']:,} (the paper rounds the latter to ~25 million "
         "here and prints 25.6M in Table 10); timm's seresnet50 and resnet50 count the same",
)
last_stage = 3 * (2 * 2048**2 // 16 + 2048 + 2048 // 16)
ledger.measure(
    "C3", 100 * (overhead - last_stage) / params["resnet50"],
    note=f"the last stage holds {last_stage / overhead:.0%} of the SE parameters",
)

# %% [markdown]
# **The reduction ratio** (C4). Table 10's models have no FC biases (Section 6), so we count
# SE-ResNet-50 without them for each $r$; the cell prints the counts with biases too.

# %%
by_ratio = {}
for reduction in (2, 4, 8, 16, 32):
    with torch.device("meta"):
        by_ratio[f"r={reduction}"] = count_params(build_se_resnet(se_reduction=reduction, se_bias=False)) / 1e6
    print(f"r={reduction:2}: {by_ratio[f'r={reduction}']:.3f}M parameters without FC biases, "
          f"{by_ratio[f'r={reduction}'] + se_biases(reduction) / 1e6:.3f}M with them")
by_ratio["ResNet-50"] = params["resnet50"] / 1e6
ledger.measure("C4", by_ratio, note="SE-ResNet-50 counted without FC biases, as in the paper's ablations")

# %% [markdown]
# **Multiply-adds** (C5, C6). The paper's FLOPs are multiply-adds of the Caffe ResNet-50. The
# torchvision/timm ResNet-50 runs the first 1×1 conv of each downsampling block at the input
# resolution, four times the positions, so it counts more; it is shown in the note for comparison.
# The SE cost is the FC multiply-adds plus the pooling and scaling.

# %%
caffe_plain = macs["caffe resnet50"]
caffe_se = macs["legacy_seresnet50"] + se_elementwise
ledger.measure(
    "C5", {"ResNet-50": caffe_plain / 1e9, "SE-ResNet-50": caffe_se / 1e9},
    note=f"Caffe ResNet-50 (stride in the 1×1 conv); the torchvision/timm layout counts {macs['resnet50'] / 1e9:.3f} → "
         f"{(macs['seresnet50'] + se_elementwise) / 1e9:.3f} G",
)
ledger.measure(
    "C6", 100 * (caffe_se - caffe_plain) / caffe_plain,
    note=f"FC multiply-adds alone add {100 * (macs['legacy_seresnet50'] - caffe_plain) / caffe_plain:.2f}%; "
         "3.87 / 3.86 − 1 of the rounded totals is 0.26%",
)

# %% [markdown]
# ## Small experiment
#
# Does recalibration help when the right channel to trust depends on the whole image? We
# generate 3-channel 24×24 images. Channel 0 is noise whose mean is $+0.1$ or $-0.1$ (the
# *context*): invisible in a 5×5 patch (standard error 0.2), clear over the whole image
# (standard error 0.04). Channels 1 and 2 carry stripes, one vertical and one horizontal, under
# unit noise. The label is the orientation in channel 1 when the context is positive and in
# channel 2 when it is negative. So the network must pick a channel by a global property:
# exactly what the SE gate computes.

# %%
def context_task(n: int, seed: int, size: int = 24, shift: float = 0.1, period: int = 4):
    """Images (n, 3, size, size) and labels (n,) of the channel-selection task above."""
    g = torch.Generator().manual_seed(seed)
    context, label = torch.randint(0, 2, (n,), generator=g), torch.randint(0, 2, (n,), generator=g)
    x = torch.randn(n, 3, size, size, generator=g)
    x[:, 0] += (2 * context - 1).float()[:, None, None] * shift
    phase = torch.rand(n, 1, 1, generator=g) * 2 * torch.pi
    wave = torch.arange(size).float() * 2 * torch.pi / period
    vertical = torch.sin(wave[None, None, :] + phase).expand(n, size, size)  # varies along the width
    horizontal = torch.sin(wave[None, :, None] + phase).expand(n, size, size)  # varies along the height
    relevant = torch.where(label[:, None, None] == 1, vertical, horizontal)
    distractor = torch.where(label[:, None, None] == 1, horizontal, vertical)
    positive = context[:, None, None] == 1
    x[:, 1] += torch.where(positive, relevant, distractor)
    x[:, 2] += torch.where(positive, distractor, relevant)
    return x, label


x_train, y_train = context_task(1500, seed=1)
x_test, y_test = context_task(1000, seed=2)
print(f"train {tuple(x_train.shape)}, test {tuple(x_test.shape)}, positives {int(y_train.sum())}/{len(y_train)}")

# %% [markdown]
# The two networks are the same two 3×3 conv-BN-ReLU layers (16 channels), global average
# pooling and a linear classifier; one has an SE block ($r=4$) before the pooling. Same data,
# same optimiser (Adam, lr 0.01, 10 epochs), three seeds each.

# %%
def small_net(with_se: bool, width: int = 16) -> nn.Sequential:
    layers = [nn.Conv2d(3, width, 3, padding=1), nn.BatchNorm2d(width), nn.ReLU(),
              nn.Conv2d(width, width, 3, padding=1), nn.BatchNorm2d(width), nn.ReLU()]
    if with_se:
        layers.append(SqueezeExcitation(width, reduction=4))
    return nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(width, 2))


results = {True: [], False: []}
for seed in SEEDS:
    for with_se in (False, True):
        torch.manual_seed(seed)
        model = small_net(with_se)
        train_classifier(model, x_train, y_train, epochs=10, lr=1e-2, seed=seed)
        results[with_se].append(accuracy(model, x_test, y_test))
extra = count_params(small_net(True)) - count_params(small_net(False))
print(f"SE adds {extra} parameters to {count_params(small_net(False))}")

# %% [markdown]
# Each seed gives one difference, with SE minus without; the ledger computes the verdict from
# the three. The accuracy digits come from training; they reproduce exactly on re-execution and
# at one and two threads, so nbval compares these cells' outputs like every other.

# %%
for seed, plain, se in zip(SEEDS, results[False], results[True]):
    print(f"seed {seed}: without SE {plain:.3f}, with SE {se:.3f}")

# %%
ledger.measure(
    "C9", [se - plain for plain, se in zip(results[False], results[True])],
    note="test accuracy without / with SE: " + "; ".join(
        f"seed {seed} {plain:.3f} / {se:.3f}" for seed, plain, se in zip(SEEDS, results[False], results[True])
    ) + f"; the SE block adds {extra} parameters to {count_params(small_net(False))}",
)
ledger.show()

# %% [markdown]
# ## What this does not show
#
# - **ImageNet accuracy.** Every error rate of the paper (Tables 2–16) needs ImageNet training
#   and is recorded as not checkable on CPU; the cost side of each comparison is checked.
# - **The overhead formula as a claim.** An earlier version listed Eq. 5 as claim C2. It counts
#   the FC weights by construction, so no measurement could contradict it; it is now asserted
#   among the checks above.
# - **The "slight extra cost" of C9.** In the small network the SE block adds a few percent to
#   the parameters (printed above); the cost claims are tested on SE-ResNet-50 (C1, C3 to C6).
# - **That SE helps on natural images.** The small task was *built* so that a global channel
#   choice matters. A first version with a stronger context signal (mean ±0.25 on 16×16 images)
#   was solved perfectly by both networks: global average pooling at the end of a plain CNN can
#   also integrate context, if the context is visible locally.
# - **The other ablations** (squeeze by max pooling, ReLU or tanh gates, SE-PRE / SE-POST /
#   SE-Identity placements): the code supports some of them with a line of change, but their
#   effect is an ImageNet number.
# - **Speed.** The paper's GPU and CPU timings (Section 4) are not comparable with this runner;
#   the benchmark script times the block against timm's instead.
