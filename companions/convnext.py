# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # ConvNeXt: the modernised ConvNet, checked
#
# Companion to the note [A ConvNet for the 2020s](../../notes/vision/convnext/) (Liu, Mao, Wu,
# Feichtenhofer, Darrell, Xie; CVPR 2022). We implement the ConvNeXt block and ConvNeXt-T,
# check them against timm tensor for tensor, and rebuild the paper's "modernizing" roadmap from
# ResNet-50 to ConvNeXt-T as thirteen real models whose parameters and multiply-adds we count.
# The roadmap's accuracies need ImageNet and are quoted, not measured; no model is trained.

# %% [markdown]
# ## Setup
#
# One thread and fixed seeds, so that every printed number is the same on every run.

# %%
from papernotes import ClaimLedger, Verdict, configure
from papernotes.costs import count_params, multiply_adds
from papernotes.weights import copy_weights_in_order

configure(seed=0, threads=1)  # before timm: it also silences the tqdm warning that importing timm prints

import timm
import torch
from torch import nn

# %% [markdown]
# ## Method (the core)
#
# A ConvNeXt block keeps the ResNet recipe (a residual branch added to the identity) but
# borrows the layout of a Transformer block: a spatial mixing step followed by a channel MLP
# with an inverted bottleneck. For an input $x \in \mathbb{R}^{C\times H\times W}$:
#
# $$y = x + \gamma \odot W_2\,\mathrm{GELU}\big(W_1\,\mathrm{LN}(\mathrm{DWConv}_{7\times 7}(x))\big),$$
#
# where $\mathrm{DWConv}_{7\times7}$ is a depthwise convolution (one 7×7 filter per channel,
# like self-attention mixing only across space), LN a LayerNorm over the channels of each
# position, $W_1 \in \mathbb{R}^{4C\times C}$ and $W_2\in\mathbb{R}^{C\times 4C}$ the two 1×1
# convolutions (linear layers applied at every position), and $\gamma\in\mathbb{R}^C$ the
# *layer scale*, initialised to $10^{-6}$ so that every block starts as (almost) the identity.
# One norm and one activation per block, where a ResNet bottleneck has three of each.
# Its parameters: $49C + C$ (depthwise) $+ 2C$ (LN) $+ 4C^2 + 4C$ $+ 4C^2 + C$ $+ C$ (γ)
# $= 8C^2 + 58C$.

# %%
# --8<-- [start:core]
import torch
import torch.nn.functional as F
from torch import nn


class LayerNorm2d(nn.LayerNorm):
    """LayerNorm over the channels of a (B, C, H, W) map, eps 1e-6 as in the paper's code."""

    def __init__(self, channels: int, eps: float = 1e-6):
        super().__init__(channels, eps=eps)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, C, H, W)
        return super().forward(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)  # normalised over C


class ConvNeXtBlock(nn.Module):
    """y = x + gamma * W2 GELU(W1 LN(DWConv7x7(x))): the block of Fig. 4 (right).

    As the official code, the 1x1 convs are linear layers on channels-last tensors and GELU
    is the exact (erf) one. Deviation: no stochastic depth (a training-time regulariser).
    """

    def __init__(self, dim: int, kernel_size: int = 7, expansion: int = 4, layer_scale_init: float = 1e-6):
        super().__init__()
        if dim < 1 or expansion < 1:
            raise ValueError(f"dim and expansion must be >= 1, got dim={dim!r}, expansion={expansion!r}")
        if kernel_size < 1 or kernel_size % 2 == 0:
            raise ValueError(f"kernel_size must be odd and >= 1 (same padding), got {kernel_size!r}")
        self.gamma = nn.Parameter(torch.full((dim,), float(layer_scale_init)))  # layer scale
        self.dwconv = nn.Conv2d(dim, dim, kernel_size, padding=kernel_size // 2, groups=dim)
        self.norm = nn.LayerNorm(dim, eps=1e-6)
        self.pwconv1 = nn.Linear(dim, expansion * dim)  # W_1: C -> 4C
        self.pwconv2 = nn.Linear(expansion * dim, dim)  # W_2: 4C -> C

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, C, H, W)
        y = self.dwconv(x).permute(0, 2, 3, 1)  # (B, H, W, C)   spatial mixing, channels last
        y = self.pwconv2(F.gelu(self.pwconv1(self.norm(y))))  # (B, H, W, C)   C -> 4C -> C
        return x + (self.gamma * y).permute(0, 3, 1, 2)  # (B, C, H, W)
# --8<-- [end:core]

# %% [markdown]
# **ConvNeXt-T.** A "patchify" stem (a 4×4 convolution with stride 4, then LN) turns the image
# into a grid of 56×56 patches at 224 px. Four stages of (3, 3, 9, 3) blocks with
# (96, 192, 384, 768) channels follow, separated by their own downsampling layers (LN, then a
# 2×2 convolution with stride 2) instead of a strided first block. The head is global average
# pooling, LN and a linear classifier.

# %%
# --8<-- [start:core-net]
CONVNEXT_T = dict(depths=(3, 3, 9, 3), dims=(96, 192, 384, 768))


def build_convnext(depths=(3, 3, 9, 3), dims=(96, 192, 384, 768), kernel_size=7, num_classes=1000) -> nn.Sequential:
    """ConvNeXt (ConvNeXt-T by default) from ConvNeXt blocks and separate downsampling layers."""
    if len(depths) != len(dims) or not depths or any(d < 1 for d in depths) or any(c < 1 for c in dims):
        raise ValueError(f"depths and dims must be equally long sequences of ints >= 1, got {depths!r}, {dims!r}")
    if num_classes < 1:
        raise ValueError(f"num_classes must be >= 1, got {num_classes!r}")
    layers = [nn.Conv2d(3, dims[0], 4, stride=4), LayerNorm2d(dims[0])]  # (B, 96, H/4, W/4)
    for stage, (depth, dim) in enumerate(zip(depths, dims)):
        if stage > 0:  # (B, C, h, w) -> (B, 2C, h/2, w/2)
            layers += [LayerNorm2d(dims[stage - 1]), nn.Conv2d(dims[stage - 1], dim, 2, stride=2)]
        layers += [ConvNeXtBlock(dim, kernel_size) for _ in range(depth)]  # (B, C, h, w)
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.LayerNorm(dims[-1], eps=1e-6), nn.Linear(dims[-1], num_classes)]
    return nn.Sequential(*layers)  # (B, num_classes)
# --8<-- [end:core-net]

# %% [markdown]
# ## Checks against references
#
# **The block.** Copy the weights of timm's `ConvNeXtBlock` into ours (same tensors, other
# names) and compare outputs in float64. timm's layer scale starts at $10^{-6}$, which would hide
# any error in the branch, so we randomise $\gamma$ first.

# %%
from timm.models.convnext import ConvNeXtBlock as TimmConvNeXtBlock


for dim in (8, 96):
    reference = TimmConvNeXtBlock(dim).double().eval()
    nn.init.normal_(reference.gamma)
    block = ConvNeXtBlock(dim).double().eval()
    copy_weights_in_order(block, reference)
    x = torch.randn(2, dim, 9, 11, dtype=torch.float64)
    torch.testing.assert_close(block(x), reference(x), rtol=1e-12, atol=1e-12)
    print(f"C={dim}: block equals timm's ConvNeXtBlock; {sum(p.numel() for p in block.parameters()):,} parameters = 8C²+58C = {8 * dim**2 + 58 * dim:,}")

# %% [markdown]
# **ConvNeXt-T.** Parameter total against timm's `convnext_tiny` (`pretrained=False`), then the
# same function: timm's random weights copied into ours, outputs compared in float64.

# %%
with torch.device("meta"):
    ours_params, timm_params = count_params(build_convnext()), count_params(timm.create_model("convnext_tiny", pretrained=False))
assert ours_params == timm_params
print(f"ConvNeXt-T: {ours_params:,} parameters (timm convnext_tiny: {timm_params:,})")

reference = timm.create_model("convnext_tiny", pretrained=False).double().eval()
for module in reference.modules():  # as above: make layer scale matter
    if isinstance(module, TimmConvNeXtBlock):
        nn.init.uniform_(module.gamma, 0.5, 1.5)
mine = build_convnext().double().eval()
copied = copy_weights_in_order(mine, reference)
x = torch.randn(2, 3, 64, 64, dtype=torch.float64)
with torch.no_grad():
    torch.testing.assert_close(mine(x), reference(x), rtol=1e-10, atol=1e-10)
print(f"outputs agree to 1e-10 on a {tuple(x.shape)} batch; {copied} tensors copied")

# %% [markdown]
# ## Baseline (timm)
#
# The paper's "FLOPs" are multiply-adds as counted by fvcore (one per multiply-add). PyTorch's
# `FlopCounterMode` counts 2 per multiply-add of convolutions and matrix products, and nothing
# else (norms, GELU, pooling), so we halve it. Counting on the `meta` device costs no arithmetic.

# %%
with torch.device("meta"):
    convnext_macs = multiply_adds(build_convnext().eval())
    timm_macs = {name: multiply_adds(timm.create_model(name, pretrained=False).eval()) for name in ("convnext_tiny", "resnet50")}
assert convnext_macs == timm_macs["convnext_tiny"]
for name, value in timm_macs.items():
    print(f"timm {name:13}: {value / 1e9:.3f} GMACs at 224 px")

# %% [markdown]
# ### The roadmap as real models
#
# Fig. 2 of the paper walks from ResNet-50 to ConvNeXt-T in small steps, each trained on
# ImageNet with the same modern recipe. The intermediate models were not released, so we build
# them from the text, one `Design` per step, each step changing one field of the previous one:
#
# 1. **stage ratio**: blocks per stage (3, 4, 6, 3) → (3, 3, 9, 3), as Swin-T's 1:1:3:1;
# 2. **patchify stem**: the 7×7 stride-2 convolution and max pool become one 4×4 stride-4 convolution;
# 3. **depthwise**: the bottleneck's 3×3 convolution gets one group per channel (ResNeXt taken to the limit);
# 4. **width**: 64 → 96 channels in the first stage (all stages ×1.5);
# 5. **inverted bottleneck**: block $C \to 4C \to C$ with the depthwise conv on the wide $4C$ part, instead of $4C \to C \to 4C$;
# 6. **depthwise first**: move the depthwise conv to the top of the block, to the narrow $C$ channels;
# 7. **kernel 7×7**; 8. **GELU** instead of ReLU; 9. **fewer activations**: one, between the 1×1 convs;
# 10. **fewer norms**: one, after the depthwise conv; 11. **LN** instead of BN;
# 12. **separate downsampling**: LN + 2×2 stride-2 conv between stages, LN after the stem and before the classifier.
#
# Where the text is silent we choose, and say so in the `Design` docstring.

# %%
# --8<-- [start:core-roadmap]
from dataclasses import dataclass, replace


@dataclass(frozen=True)
class Design:
    """One model of the roadmap (Fig. 2); the defaults are ResNet-50 as in torchvision and timm.

    Our choices where the paper is silent: the patchify stem keeps a norm but no activation
    (as ConvNeXt's), a strided block downsamples in its depthwise/3x3 conv with a 1x1 strided
    projection shortcut (as ResNet), and layer scale appears only at the last step.
    """

    depths: tuple = (3, 4, 6, 3)
    width: int = 64  # channels of the first stage's narrow part
    patchify_stem: bool = False
    depthwise: bool = False
    block: str = "bottleneck"  # "bottleneck" (4C->C->C->4C), "inverted" (C->4C->4C->C), "dw_first" (dw C, C->4C->C)
    kernel: int = 3
    gelu: bool = False
    fewer_activations: bool = False  # one activation, between the two 1x1 convs
    fewer_norms: bool = False  # one norm, after the depthwise conv
    layer_norm: bool = False
    separate_downsampling: bool = False
    layer_scale: bool = False


BLOCKS = ("bottleneck", "inverted", "dw_first")
# --8<-- [end:core-roadmap]

# %% [markdown]
# A block is a list of convolutions, each followed by an optional norm and activation, plus a
# shortcut. Writing the three block layouts as data makes each roadmap step a one-field change.

# %%
# --8<-- [start:core-roadmap-block]
class RoadmapBlock(nn.Module):
    """Residual block of one roadmap step: (B, c_in, H, W) -> (B, c_out, H/stride, W/stride)."""

    def __init__(self, design: Design, c_in: int, narrow: int, stride: int):
        super().__init__()
        if design.block not in BLOCKS:
            raise ValueError(f"design.block must be one of {BLOCKS}, got {design.block!r}")
        wide, k = 4 * narrow, design.kernel
        c_out = wide if design.block == "bottleneck" else narrow
        spatial_in = {"bottleneck": narrow, "inverted": wide, "dw_first": c_in}[design.block]
        groups = spatial_in if design.depthwise else 1  # depthwise: one filter per channel
        convs = {  # (in, out, kernel, stride, groups), top to bottom
            "bottleneck": [(c_in, narrow, 1, 1, 1), (narrow, narrow, k, stride, groups), (narrow, wide, 1, 1, 1)],
            "inverted": [(c_in, wide, 1, 1, 1), (wide, wide, k, stride, groups), (wide, narrow, 1, 1, 1)],
            "dw_first": [(c_in, c_in, k, stride, groups), (c_in, wide, 1, 1, 1), (wide, narrow, 1, 1, 1)],
        }[design.block]
        spatial = 0 if design.block == "dw_first" else 1  # index of the k x k conv
        layers = []
        for index, (cin, cout, kernel, s, g) in enumerate(convs):
            normed = not design.fewer_norms or index == spatial
            bias = not normed or design.layer_norm  # BN would cancel a bias; LN over channels does not
            layers.append(nn.Conv2d(cin, cout, kernel, s, padding=kernel // 2, groups=g, bias=bias))
            if normed:
                layers.append(roadmap_norm(design, cout))
            if index < 2 and (not design.fewer_activations or index == 1):
                layers.append(nn.GELU() if design.gelu else nn.ReLU())
        self.branch = nn.Sequential(*layers)
        self.gamma = nn.Parameter(torch.full((c_out,), 1e-6)) if design.layer_scale else None
        self.shortcut = nn.Identity()
        if stride != 1 or c_in != c_out:  # projection shortcut
            self.shortcut = nn.Sequential(nn.Conv2d(c_in, c_out, 1, stride, bias=False), roadmap_norm(design, c_out))
        self.post = nn.Identity() if design.fewer_activations else (nn.GELU() if design.gelu else nn.ReLU())

    def forward(self, x):  # (B, c_in, H, W)
        y = self.branch(x)  # (B, c_out, H/stride, W/stride)
        if self.gamma is not None:
            y = self.gamma[:, None, None] * y
        return self.post(y + self.shortcut(x))


def roadmap_norm(design: Design, channels: int) -> nn.Module:
    return LayerNorm2d(channels) if design.layer_norm else nn.BatchNorm2d(channels)
# --8<-- [end:core-roadmap-block]

# %% [markdown]
# The network around the blocks: stem, four stages whose narrow width doubles, and the head.

# %%
# --8<-- [start:core-roadmap-net]
def build_roadmap_model(design: Design, num_classes: int = 1000) -> nn.Sequential:
    """The whole network of one roadmap step."""
    if num_classes < 1:
        raise ValueError(f"num_classes must be >= 1, got {num_classes!r}")
    w = design.width
    if design.patchify_stem:
        layers = [nn.Conv2d(3, w, 4, stride=4, bias=design.layer_norm), roadmap_norm(design, w)]  # (B, w, H/4, W/4)
    else:
        layers = [nn.Conv2d(3, w, 7, 2, padding=3, bias=False), roadmap_norm(design, w), nn.ReLU(), nn.MaxPool2d(3, 2, padding=1)]
    c_in = w
    for stage, depth in enumerate(design.depths):
        narrow = w * 2**stage
        if stage > 0 and design.separate_downsampling:  # (B, c, h, w) -> (B, 2c, h/2, w/2)
            layers += [LayerNorm2d(c_in), nn.Conv2d(c_in, narrow, 2, stride=2)]
            c_in = narrow
        for index in range(depth):
            stride = 2 if stage > 0 and index == 0 and not design.separate_downsampling else 1
            layers.append(RoadmapBlock(design, c_in, narrow, stride))
            c_in = 4 * narrow if design.block == "bottleneck" else narrow
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten()]
    if design.separate_downsampling:
        layers.append(nn.LayerNorm(c_in, eps=1e-6))
    return nn.Sequential(*layers, nn.Linear(c_in, num_classes))  # (B, num_classes)


def roadmap() -> dict[str, Design]:
    """Fig. 2, step by step: each design changes the previous one in one respect (two for the last)."""
    steps = {"ResNet-50": Design()}
    changes = [
        ("stage ratio", dict(depths=(3, 3, 9, 3))),
        ("patchify stem", dict(patchify_stem=True)),
        ("depthwise conv", dict(depthwise=True)),
        ("width 64 → 96", dict(width=96)),
        ("inverted bottleneck", dict(block="inverted")),
        ("depthwise conv first", dict(block="dw_first")),
        ("kernel 3 → 7", dict(kernel=7)),
        ("ReLU → GELU", dict(gelu=True)),
        ("fewer activations", dict(fewer_activations=True)),
        ("fewer norms", dict(fewer_norms=True)),
        ("BN → LN", dict(layer_norm=True)),
        ("separate downsampling", dict(separate_downsampling=True, layer_scale=True)),
    ]
    design = steps["ResNet-50"]
    for name, change in changes:
        design = steps[name] = replace(design, **change)
    return steps
# --8<-- [end:core-roadmap-net]

# %% [markdown]
# **Both ends of the roadmap are real models.** The first step must be timm's `resnet50`, the
# last must be ConvNeXt-T: equal parameter totals, the same tensor shapes in the same order,
# and the same multiply-adds.

# %%
steps = roadmap()
with torch.device("meta"):
    first, last = build_roadmap_model(steps["ResNet-50"]), build_roadmap_model(steps["separate downsampling"])
    resnet = timm.create_model("resnet50", pretrained=False)
    assert count_params(first) == count_params(resnet) and multiply_adds(first.eval()) == timm_macs["resnet50"]
    assert sorted(t.numel() for t in last.parameters()) == sorted(t.numel() for t in build_convnext().parameters())
    assert count_params(last) == ours_params and multiply_adds(last.eval()) == convnext_macs
print(f"step 0 = timm resnet50 ({count_params(first):,} parameters); last step = ConvNeXt-T ({count_params(last):,})")

# %% [markdown]
# ## Claims
#
# ConvNeXt-T's size and cost first, then the cost of every roadmap step against the GFLOPs of
# Fig. 2 (read from the figure as given in our reference notes: the figure prints one decimal).
# We call a step *exact* when ours rounds to the printed value. The accuracies beside them are
# the paper's, quoted.

# %%
ledger = ClaimLedger("convnext")
params_gap = ours_params / 28e6 - 1
ledger.record(
    "C1", "ConvNeXt-T has 28M parameters", "Table 1 (as in the official README)", "28M", f"{ours_params:,}",
    Verdict.EXACT if round(ours_params / 1e6) == 28 else (Verdict.WITHIN_TOLERANCE if abs(params_gap) < 0.05 else Verdict.NOT_REPRODUCED),
    f"counted on our build, equal to timm's convnext_tiny; {params_gap:+.1%} from the printed 28M, which truncates "
    "rather than rounds (tolerance 5%)",
)
ledger.record(
    "C2", "ConvNeXt-T costs 4.5G FLOPs at 224×224", "Table 1, Fig. 2", "4.5G", f"{convnext_macs / 1e9:.3f}G multiply-adds",
    Verdict.EXACT if round(convnext_macs / 1e9, 1) == 4.5 else Verdict.NOT_REPRODUCED,
    "conv and linear multiply-adds (the paper's fvcore FLOPs); timm's convnext_tiny counts the same",
)

# %%
PAPER_STEPS = {  # step -> (ImageNet-1K top-1 %, GFLOPs) from Fig. 2
    "ResNet-50": (78.8, 4.1), "stage ratio": (79.4, 4.5), "patchify stem": (79.5, 4.4), "depthwise conv": (78.3, 2.4),
    "width 64 → 96": (80.5, 5.3), "inverted bottleneck": (80.6, 4.6), "depthwise conv first": (79.9, 4.1),
    "kernel 3 → 7": (80.6, 4.2), "ReLU → GELU": (80.6, 4.2), "fewer activations": (81.3, 4.2),
    "fewer norms": (81.4, 4.2), "BN → LN": (81.5, 4.2), "separate downsampling": (82.0, 4.5),
}
step_params, step_macs = {}, {}
print(f"{'step':24} {'params':>8} {'GMACs':>6} {'paper GFLOPs':>12} {'paper top-1':>11}")
for name, design in steps.items():
    with torch.device("meta"):
        model = build_roadmap_model(design).eval()
        step_params[name], step_macs[name] = count_params(model), multiply_adds(model)
    top1, gflops = PAPER_STEPS[name]
    print(f"{name:24} {step_params[name] / 1e6:>7.2f}M {step_macs[name] / 1e9:>6.2f} {gflops:>12} {top1:>10}%")

# %%
exact = [n for n in steps if round(step_macs[n] / 1e9, 1) == PAPER_STEPS[n][1]]
off = {n: step_macs[n] / 1e9 / PAPER_STEPS[n][1] - 1 for n in steps if n not in exact}
worst = max((abs(gap) for gap in off.values()), default=0.0)
ledger.record(
    "C3", "The roadmap's GFLOPs: 4.1, 4.5, 4.4, 2.4, 5.3, 4.6, 4.1, 4.2, 4.2, 4.2, 4.2, 4.2, 4.5", "Fig. 2",
    ", ".join(f"{v[1]}" for v in PAPER_STEPS.values()), ", ".join(f"{v / 1e9:.2f}" for v in step_macs.values()),
    Verdict.EXACT if not off else (Verdict.WITHIN_TOLERANCE if worst < 0.05 else Verdict.NOT_REPRODUCED),
    f"our reconstruction of each step; {len(exact)}/{len(steps)} round to the printed value; "
    + "; ".join(f"{n}: {step_macs[n] / 1e9:.2f} vs {PAPER_STEPS[n][1]} ({gap:+.1%})" for n, gap in off.items())
    + f"; worst gap {worst:.1%} (tolerance 5%)",
)
ledger.record(
    "C4", "Each step's ImageNet-1K top-1, from 78.8% (ResNet-50, modern recipe) to 82.0% (ConvNeXt-T)", "Fig. 2",
    "78.8% → 82.0%", "costs only (C3)", Verdict.NOT_CHECKABLE, "13 ImageNet trainings of 300 epochs each",
)
ledger.record(
    "C5", "ConvNeXt-T beats Swin-T at similar cost (82.1% vs 81.3% top-1)", "Table 1", "82.1% vs 81.3%",
    "not measured", Verdict.NOT_CHECKABLE, "needs ImageNet training",
)

# %% [markdown]
# ## Small experiment
#
# Two of the roadmap's explanations are about cost, so a CPU can test them exactly, without
# training. We do not train: a CPU-sized data set and schedule could not resolve differences
# of 0.1–1 point that Fig. 2 measures on ImageNet with a 300-epoch recipe.
#
# **Why the inverted bottleneck is cheaper.** The paper: the inverted bottleneck "reduces the
# whole network FLOPs to 4.6G, due to the significant FLOPs reduction in the downsampling
# residual blocks' shortcut 1×1 conv layer". We split each model's multiply-adds into the
# shortcut projections and everything else.

# %%
def conv_macs_by_part(model: nn.Module, resolution: int = 224) -> dict[str, int]:
    """Multiply-adds of the 1x1 shortcut projections and of all other layers."""
    shortcut_convs = {id(m) for name, m in model.named_modules() if ".shortcut." in f".{name}." and isinstance(m, nn.Conv2d)}
    parts = {"shortcut": 0}

    def hook(module, inputs, output):
        if id(module) in shortcut_convs:
            parts["shortcut"] += output.numel() * module.in_channels // module.groups * module.kernel_size[0] * module.kernel_size[1]

    handles = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, nn.Conv2d)]
    try:
        total = multiply_adds(model, resolution)
    finally:
        for handle in handles:
            handle.remove()
    return {"shortcut": parts["shortcut"], "other": total - parts["shortcut"]}


with torch.device("meta"):
    before, after = (conv_macs_by_part(build_roadmap_model(steps[n]).eval()) for n in ("width 64 → 96", "inverted bottleneck"))
for part in ("shortcut", "other"):
    print(f"{part:8}: {before[part] / 1e9:.2f} → {after[part] / 1e9:.2f} GMACs ({(after[part] - before[part]) / 1e9:+.2f})")

# %%
saved = {part: before[part] - after[part] for part in before}
ledger.record(
    "C6", "The inverted bottleneck cuts FLOPs (5.3G → 4.6G) through the downsampling blocks' shortcut 1×1 convs",
    "Section 2.4", "5.3G → 4.6G, from the shortcuts",
    f"{sum(before.values()) / 1e9:.2f} → {sum(after.values()) / 1e9:.2f}G: shortcuts {-saved['shortcut'] / 1e9:+.2f}G, "
    f"everything else {-saved['other'] / 1e9:+.2f}G",
    Verdict.EXACT if saved["shortcut"] > sum(saved.values()) > 0 else Verdict.NOT_REPRODUCED,
    "counted on our reconstructions of the two steps: the shortcuts' saving exceeds the whole net saving",
)

# %% [markdown]
# **Large kernels are cheap once the depthwise conv sits on the narrow channels.** The paper
# tried kernels of 3, 5, 7, 9 and 11 after moving the depthwise conv up, found that accuracy
# saturates at 7, and that the network's FLOPs stay "roughly the same". We count the cost of
# each kernel size.

# %%
kernel_macs = {}
for kernel in (3, 5, 7, 9, 11):
    with torch.device("meta"):
        kernel_macs[kernel] = multiply_adds(build_roadmap_model(replace(steps["depthwise conv first"], kernel=kernel)).eval())
    print(f"kernel {kernel:2}: {kernel_macs[kernel] / 1e9:.3f} GMACs ({kernel_macs[kernel] / kernel_macs[3] - 1:+.1%} over 3×3)")

# %%
growth = kernel_macs[7] / kernel_macs[3] - 1
ledger.record(
    "C7", "Going from 3×3 to 7×7 depthwise kernels keeps FLOPs roughly the same (4.1G → 4.2G)", "Section 2.5, Fig. 2",
    "4.1G → 4.2G", f"{kernel_macs[3] / 1e9:.2f}G → {kernel_macs[7] / 1e9:.2f}G ({growth:+.1%}); 11×11: {kernel_macs[11] / kernel_macs[3] - 1:+.1%}",
    Verdict.WITHIN_TOLERANCE if 0 <= growth < 0.05 else Verdict.NOT_REPRODUCED,
    "counted on our reconstruction; growth under 5% counts as 'roughly the same' (the printed 4.1 → 4.2 allows 0–5%)",
)
ledger.show()

# %% [markdown]
# ## What this does not show
#
# - **ImageNet accuracy.** Every accuracy of the paper (Fig. 2, Tables 1–3) needs ImageNet
#   training with a 300-epoch recipe and is recorded as not checkable on CPU.
# - **That our intermediate models are the paper's.** The roadmap's models were not released;
#   ours follow the text, and choices it leaves open (norms in the patchify stem, where a
#   strided block downsamples, layer scale) are ours. Their costs land near Fig. 2 (C3), which
#   is evidence, not proof, that they match.
# - **Robustness, detection and segmentation** (Tables 4–6) and the isotropic ConvNeXts.
# - **Speed.** The paper's throughput numbers are for A100 GPUs; the benchmark script times our
#   block against timm's on this machine instead.
