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
from papernotes import ClaimLedger, NotCheckable, PrintedPrecision, configure
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
# The paper's "FLOPs" are multiply-adds: its ResNet-50 costs 4.09 GFLOPs (arXiv v2, Table 10),
# which is ResNet-50's multiply-add count. It does not say which counter it used or what that
# counter includes besides convolutions and linear layers. PyTorch's `FlopCounterMode` counts 2
# per multiply-add of convolutions and matrix products, and nothing else (norms, GELU, pooling),
# so we halve it. Counting on the `meta` device costs no arithmetic.

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
# The register declares every claim with the number the paper prints, from arXiv v2 (2 March
# 2022): Table 1 for ConvNeXt-T, the text of Section 2, and Table 10 (Appendix C), which prints the
# roadmap's GFLOPs to two decimals (Fig. 2 shows the same steps as bars). Every numeric claim
# takes the default test: ours must round to the printed value. The costs are counted on our
# reconstructions of the roadmap's models, which the paper did not release; the accuracies need
# ImageNet and are declared not checkable.

# %%
ledger = ClaimLedger("convnext")
PAPER_GFLOPS = {  # arXiv v2, Table 10: our step name -> GFLOPs as printed
    "ResNet-50": "4.09", "stage ratio": "4.53", "patchify stem": "4.42", "depthwise conv": "2.35",
    "width 64 → 96": "5.27", "inverted bottleneck": "4.64", "depthwise conv first": "4.07",
    "kernel 3 → 7": "4.15", "ReLU → GELU": "4.15", "fewer activations": "4.15", "fewer norms": "4.15",
    "BN → LN": "4.46", "separate downsampling": "4.49",
}
ledger.declare(
    "C1", "ConvNeXt-T has 29M parameters (28.6M in the architecture table)",
    where="arXiv v2, Table 1 (29M) and Table 9 (28.6 × 10⁶)", paper={"Table 1": "29", "Table 9": "28.6"}, unit="M",
    test=PrintedPrecision(), fmt="{:.3f}",
)
ledger.declare(
    "C2", "ConvNeXt-T costs 4.5G FLOPs at 224×224", where="arXiv v2, Table 1", paper="4.5", unit="G",
    test=PrintedPrecision(), fmt="{:.3f}",
)
ledger.declare(
    "C3", "The roadmap's thirteen models cost 4.09, 4.53, 4.42, 2.35, 5.27, 4.64, 4.07, 4.15, 4.15, 4.15, 4.15, 4.46 and 4.49 GFLOPs",
    where="arXiv v2, Appendix C, Table 10 (the ResNet-50 regime)", paper=PAPER_GFLOPS, unit="G", test=PrintedPrecision(),
)
ledger.declare(
    "C4", "Each roadmap step's ImageNet-1K top-1, from 78.8% (ResNet-50, modern recipe) to 82.0% (ConvNeXt-T)",
    where="arXiv v2, Fig. 2 and Appendix C, Table 10",
    paper="78.82 ± 0.07% → 81.97 ± 0.06% top-1 (mean ± std of three seeds)",
    test=NotCheckable("thirteen ImageNet-1K trainings of 300 epochs, three seeds each"),
)
ledger.declare(
    "C5", "ConvNeXt-T beats Swin-T at the same cost (82.1% vs 81.3% top-1, both 4.5G FLOPs)", where="arXiv v2, Table 1",
    paper="82.1% vs 81.3% top-1", test=NotCheckable("needs ImageNet-1K training of both models, 300 epochs each"),
)
ledger.declare(
    "C6", "The inverted bottleneck lowers the whole network's FLOPs from 5.3G to 4.6G",
    where="arXiv v2, Sections 2.3 and 2.4 (text)", paper={"before (width 96)": "5.3", "after (inverted)": "4.6"}, unit="G",
    test=PrintedPrecision(), fmt="{:.3f}",
)
ledger.declare(
    "C7", "With the depthwise conv moved up, kernels of 3, 5, 7, 9 and 11 keep the FLOPs roughly the same: 4.07 … 4.29G",
    where="arXiv v2, Section 2.5 (text) and Appendix C, Table 10",
    paper={"3×3": "4.07", "5×5": "4.10", "7×7": "4.15", "9×9": "4.21", "11×11": "4.29"}, unit="G", test=PrintedPrecision(),
)

# %% [markdown]
# **ConvNeXt-T**, as built and checked above.

# %%
ledger.measure("C1", {"Table 1": ours_params / 1e6, "Table 9": ours_params / 1e6},
               note=f"{ours_params:,} trainable parameters, equal to timm's convnext_tiny")
ledger.measure("C2", convnext_macs / 1e9, note="convolution and linear multiply-adds; timm's convnext_tiny counts the same")

# %% [markdown]
# **The roadmap's costs.** Each of our thirteen models, with the paper's GFLOPs and the mean
# top-1 of its three ImageNet trainings (Table 10) beside ours.

# %%
PAPER_TOP1 = {  # arXiv v2, Table 10: mean top-1 (%) of three seeds, as printed
    "ResNet-50": "78.82", "stage ratio": "79.36", "patchify stem": "79.51", "depthwise conv": "78.28",
    "width 64 → 96": "80.50", "inverted bottleneck": "80.64", "depthwise conv first": "79.92", "kernel 3 → 7": "80.57",
    "ReLU → GELU": "80.62", "fewer activations": "81.27", "fewer norms": "81.41", "BN → LN": "81.47",
    "separate downsampling": "81.97",
}
step_params, step_macs = {}, {}
print(f"{'step':24} {'params':>8} {'GMACs':>6} {'paper GFLOPs':>12} {'paper top-1':>11}")
for name, design in steps.items():
    with torch.device("meta"):
        model = build_roadmap_model(design).eval()
        step_params[name], step_macs[name] = count_params(model), multiply_adds(model)
    print(f"{name:24} {step_params[name] / 1e6:>7.2f}M {step_macs[name] / 1e9:>6.3f} {PAPER_GFLOPS[name]:>12} {PAPER_TOP1[name]:>10}%")

# %%
ledger.measure("C3", {name: macs / 1e9 for name, macs in step_macs.items()},
               note="convolution and linear multiply-adds of our reconstruction of each step")

# %% [markdown]
# **Why the inverted bottleneck is cheaper.** The paper: "Despite the increased FLOPs for the
# depthwise convolution layer, this change reduces the whole network FLOPs to 4.6G, due to the
# significant FLOPs reduction in the downsampling residual blocks' shortcut 1×1 conv layer". We
# split each model's multiply-adds into the shortcut projections, the k×k (depthwise) convs and
# everything else. The paper prints no number for the split, so it carries no verdict; the
# register's C6 tests the whole-network numbers it does print.

# %%
def conv_macs_by_part(model: nn.Module, resolution: int = 224) -> dict[str, int]:
    """Multiply-adds of the 1x1 shortcut projections, of the k x k convs (k > 1) inside blocks, and of the rest."""
    shortcut = {id(m) for name, m in model.named_modules() if ".shortcut." in f".{name}." and isinstance(m, nn.Conv2d)}
    spatial = {id(m) for block in model.modules() if isinstance(block, RoadmapBlock)
               for m in block.branch.modules() if isinstance(m, nn.Conv2d) and m.kernel_size[0] > 1}
    parts = {"shortcut": 0, "k×k conv": 0}

    def hook(module, inputs, output):
        macs = output.numel() * module.in_channels // module.groups * module.kernel_size[0] * module.kernel_size[1]
        if id(module) in shortcut:
            parts["shortcut"] += macs
        elif id(module) in spatial:
            parts["k×k conv"] += macs

    handles = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, nn.Conv2d)]
    try:
        total = multiply_adds(model, resolution)
    finally:
        for handle in handles:
            handle.remove()
    return parts | {"other": total - parts["shortcut"] - parts["k×k conv"]}


with torch.device("meta"):
    before, after = (conv_macs_by_part(build_roadmap_model(steps[n]).eval()) for n in ("width 64 → 96", "inverted bottleneck"))
for part in before:
    print(f"{part:9}: {before[part] / 1e9:.3f} → {after[part] / 1e9:.3f} GMACs ({(after[part] - before[part]) / 1e9:+.3f})")

# %%
ledger.measure("C6", {"before (width 96)": sum(before.values()) / 1e9, "after (inverted)": sum(after.values()) / 1e9},
               note="our split of the change: " + ", ".join(f"{part} {(after[part] - before[part]) / 1e9:+.2f}G" for part in before))

# %% [markdown]
# **Large kernels are cheap once the depthwise conv sits on the narrow channels.** The paper
# tried kernels of 3, 5, 7, 9 and 11 after moving the depthwise conv up; accuracy saturates at 7
# while "the network's FLOPs stay roughly the same". We count each kernel size.

# %%
kernel_macs = {}
for kernel in (3, 5, 7, 9, 11):
    with torch.device("meta"):
        kernel_macs[kernel] = multiply_adds(build_roadmap_model(replace(steps["depthwise conv first"], kernel=kernel)).eval())
    print(f"kernel {kernel:2}: {kernel_macs[kernel] / 1e9:.3f} GMACs ({kernel_macs[kernel] / kernel_macs[3] - 1:+.1%} over 3×3)")

# %%
ledger.measure("C7", {f"{k}×{k}": macs / 1e9 for k, macs in kernel_macs.items()},
               note="our reconstruction of the step 'depthwise conv first', with each kernel size")
ledger.show()

# %% [markdown]
# ## Small experiment
#
# **Where each step spends its multiply-adds.** No model is trained: a CPU-sized data set and
# schedule could not resolve the 0.05 to 0.7 point differences that Table 10 measures on
# ImageNet with a 300-epoch recipe. What a CPU can do exactly is count, so we split the cost of
# every roadmap step into the same three parts as above. Two things stand out: the k×k convs
# become a small share once they are depthwise, and the micro steps (GELU, fewer activations,
# fewer norms, BN → LN) change no convolution at all, so on our count they cost the same, where
# Table 10 prints 4.46G for BN → LN (its ResNet-200 regime, Table 11, keeps 14.81G through the
# same step).

# %%
print(f"{'step':24} {'shortcut':>9} {'k×k conv':>9} {'other':>8} {'total':>7}  (GMACs)")
for name, design in steps.items():
    with torch.device("meta"):
        parts = conv_macs_by_part(build_roadmap_model(design).eval())
    print(f"{name:24} {parts['shortcut'] / 1e9:>9.3f} {parts['k×k conv'] / 1e9:>9.3f} {parts['other'] / 1e9:>8.3f} {sum(parts.values()) / 1e9:>7.3f}")

# %% [markdown]
# ## What this does not show
#
# - **ImageNet accuracy.** Every accuracy of the paper (Fig. 2, Tables 1–3 and 10) needs ImageNet
#   training with a 300-epoch recipe and is recorded as not checkable on CPU.
# - **That our intermediate models are the paper's.** The roadmap's models were not released;
#   ours follow the text, and choices it leaves open (norms in the patchify stem, where a
#   strided block downsamples, layer scale) are ours. Eleven of their thirteen costs equal
#   Table 10 at its two decimals (C3), which is evidence, not proof, that they match.
# - **What the paper's FLOP counter counts.** Ours counts convolutions and linear layers only.
#   Where Table 10 prints more (BN → LN, and ConvNeXt-T's 4.49G against our 4.46G), we cannot
#   tell whether the paper's counter also counted norms or pooling, or whether the BN → LN row
#   is a misprint; C3 therefore stays not reproduced.
# - **The split of C6.** The paper attributes the inverted bottleneck's saving to the shortcuts
#   without a number; our split agrees with it, but no test the ledger offers can take a claim
#   without a printed number on a deterministic count, so the split is shown, not judged.
# - **Robustness, detection and segmentation** (Tables 3–8) and the isotropic ConvNeXts.
# - **Speed.** The paper's throughput numbers are for V100 and A100 GPUs; the benchmark script
#   times our block against timm's on this machine instead.
