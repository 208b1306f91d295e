"""The SE block, forward, against timm's SEModule, torchvision's SqueezeExcitation and a copy.

Same weights, same input. SE reads its input twice (the squeeze, then the scale) and writes
it once; its two FC layers act on a (B, C) vector and cost next to nothing. So its floor is
memory traffic: a plain copy of the same (B, C, H, W) tensor reads once and writes once.
Shapes: the first and last stages of SE-ResNet-50 at 224 px, batch 16.
"""

import sys

import torch
from timm.layers import SEModule
from torchvision.ops import SqueezeExcitation as TorchvisionSE

from papernotes import load_core
from papernotes.benchreport import BenchReport
from papernotes.timing import interleaved_medians
from papernotes.weights import copy_weights_in_order

core = load_core("companions/squeeze-and-excitation.py")
SHAPES = [(16, 256, 56, 56), (16, 2048, 7, 7)]  # (B, C, H, W)
SMOKE_SHAPES = [(1, 256, 4, 4)]  # C/16 a multiple of 8, as timm rounds it


def main(smoke: bool = False):
    """Time and print; ``smoke`` runs a tiny shape once, to show the script still works."""
    torch.set_num_threads(2)
    shapes, repeat, warmup = (SMOKE_SHAPES, 1, 0) if smoke else (SHAPES, 9, 2)
    report = BenchReport("squeeze-and-excitation", "SE block forward (r = 16), float32")
    print("SE block forward (r = 16), float32, 2 threads (shared machine: read the ratios, not the times)")
    print(f"{'shape':20} {'ours ms':>8} {'timm ms':>8} {'tv ms':>7} {'copy ms':>8} {'ours/timm':>9} {'ours/tv':>8} {'ours/copy':>9}")
    for shape in shapes:
        channels = shape[1]
        timm_se = SEModule(channels, rd_ratio=1 / 16).eval()
        tv_se = TorchvisionSE(channels, channels // 16).eval()
        ours = core.SqueezeExcitation(channels, 16).eval()
        copy_weights_in_order(ours, timm_se)
        tv_se.load_state_dict(timm_se.state_dict())
        x = torch.randn(shape)
        with torch.inference_mode():
            torch.testing.assert_close(ours(x), timm_se(x))
            t = interleaved_medians(
                {"ours": lambda: ours(x), "timm": lambda: timm_se(x), "tv": lambda: tv_se(x), "copy": lambda: x.clone()},
                repeat=repeat, warmup=warmup,
            )
        print(
            f"{str(shape):20} {t['ours'] * 1e3:>8.2f} {t['timm'] * 1e3:>8.2f} {t['tv'] * 1e3:>7.2f} {t['copy'] * 1e3:>8.2f} "
            f"{t['ours'] / t['timm']:>9.2f} {t['ours'] / t['tv']:>8.2f} {t['ours'] / t['copy']:>9.2f}"
        )
        case = "x".join(map(str, shape))
        report.add(case, "timm SEModule", "peer", t["ours"] / t["timm"])
        report.add(case, "torchvision SqueezeExcitation", "peer", t["ours"] / t["tv"])
        report.add(case, "a copy of the input", "floor", t["ours"] / t["copy"])
    return report


if __name__ == "__main__":
    main(smoke="--smoke" in sys.argv[1:])
