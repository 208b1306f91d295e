"""EfficientNet-B0 built by our compound-scaling core against timm's, and against the floor.

The core only decides the architecture, so a forward pass should cost what timm's does.
The floor is one square matmul doing as many multiply-adds as the whole network.
"""

import sys

import timm
import torch
from torch.utils.flop_counter import FlopCounterMode

from papernotes import load_core
from papernotes.benchreport import BenchReport
from papernotes.timing import interleaved_medians

core = load_core("companions/efficientnet.py")


def main(smoke: bool = False):
    """Time and print; ``smoke`` runs a tiny input once, to show the script still works."""
    torch.set_num_threads(2)
    (batch, resolution), repeat = ((1, 32), 1) if smoke else ((8, 224), 5)

    ours = core.build_efficientnet(1.0, 1.0).eval()
    reference = timm.create_model("efficientnet_b0", pretrained=False).eval()
    x = torch.randn(batch, 3, resolution, resolution)
    with FlopCounterMode(display=False) as counter, torch.inference_mode():
        ours(x)
    macs = counter.get_total_flops() // 2
    side = round(macs ** (1 / 3))
    a, b = torch.randn(side, side), torch.randn(side, side)

    with torch.inference_mode():
        times = interleaved_medians({"ours": lambda: ours(x), "timm": lambda: reference(x), "floor": lambda: a @ b}, repeat=repeat)

    print(f"EfficientNet-B0 forward, batch {batch} at {resolution}px, 2 threads; {macs / 1e9:.2f} G multiply-adds")
    print(f"{'ours':32} {times['ours'] * 1e3:8.1f} ms")
    print(f"{'timm efficientnet_b0':32} {times['timm'] * 1e3:8.1f} ms")
    print(f"{f'matmul floor ({side}x{side}x{side})':32} {times['floor'] * 1e3:8.1f} ms")
    print(f"ratio ours/timm  = {times['ours'] / times['timm']:.2f}")
    print(f"ratio ours/floor = {times['ours'] / times['floor']:.2f}")
    report = BenchReport("efficientnet", "EfficientNet-B0 forward, float32")
    case = f"batch {batch} at {resolution} px"
    report.add(case, "timm efficientnet_b0", "peer", times["ours"] / times["timm"])
    report.add(case, "one matmul of as many multiply-adds", "floor", times["ours"] / times["floor"])
    return report

if __name__ == "__main__":
    main(smoke="--smoke" in sys.argv[1:])
