"""The ConvNeXt block, forward, against timm's ConvNeXtBlock and two floors.

Same weights, same input. The block's depthwise 7x7 conv is its memory-bound part and its
two 1x1 layers (linear, C -> 4C -> C) its compute-bound part; the floors are that depthwise
conv alone and a plain copy of the input, both on the same (B, C, H, W) tensor. Shapes: the
first and third stages of ConvNeXt-T at 224 px, batch 8.
"""

import sys

import torch
from timm.models.convnext import ConvNeXtBlock as TimmConvNeXtBlock

from papernotes import load_core
from papernotes.benchreport import BenchReport
from papernotes.timing import interleaved_medians

core = load_core("companions/convnext.py")
SHAPES = [(8, 96, 56, 56), (8, 384, 14, 14)]  # (B, C, H, W)
SMOKE_SHAPES = [(1, 96, 8, 8)]


def main(smoke: bool = False):
    """Time and print; ``smoke`` runs tiny shapes once, to show the script still works."""
    torch.set_num_threads(2)
    shapes, repeat, warmup = (SMOKE_SHAPES, 1, 0) if smoke else (SHAPES, 9, 2)
    report = BenchReport("convnext", "ConvNeXt block forward, float32")
    print("ConvNeXt block forward, float32, 2 threads (shared machine: read the ratios, not the times)")
    print(f"{'shape':20} {'ours ms':>8} {'timm ms':>8} {'dwconv ms':>9} {'copy ms':>8} {'ours/timm':>9} {'ours/dwconv':>11} {'ours/copy':>9}")
    for shape in shapes:
        dim = shape[1]
        reference = TimmConvNeXtBlock(dim).eval()
        ours = core.ConvNeXtBlock(dim).eval()
        ours.load_state_dict(dict(zip(ours.state_dict().keys(), reference.state_dict().values())))
        x = torch.randn(shape)
        with torch.inference_mode():
            torch.testing.assert_close(ours(x), reference(x))
            t = interleaved_medians(
                {"ours": lambda: ours(x), "timm": lambda: reference(x), "dwconv": lambda: ours.dwconv(x), "copy": lambda: x.clone()},
                repeat=repeat, warmup=warmup,
            )
        print(
            f"{str(shape):20} {t['ours'] * 1e3:>8.2f} {t['timm'] * 1e3:>8.2f} {t['dwconv'] * 1e3:>9.2f} {t['copy'] * 1e3:>8.2f} "
            f"{t['ours'] / t['timm']:>9.2f} {t['ours'] / t['dwconv']:>11.2f} {t['ours'] / t['copy']:>9.2f}"
        )
        case = "x".join(map(str, shape))
        report.add(case, "timm ConvNeXtBlock", "peer", t["ours"] / t["timm"])
        report.add(case, "its depthwise 7x7 conv alone", "floor", t["ours"] / t["dwconv"])
        report.add(case, "a copy of the input", "floor", t["ours"] / t["copy"])
    return report

if __name__ == "__main__":
    main(smoke="--smoke" in sys.argv[1:])
