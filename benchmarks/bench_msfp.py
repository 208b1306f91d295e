"""msfp_quantize on a 4096 x 4096 float32 tensor against a copy (the floor) and qtorch's block_quantize.

The quantizer reads the tensor and writes a tensor of the same size, so a copy of it is the
least any implementation can do. qtorch (the peer) is timed where its C++ extension builds,
on the same boxes of 16 (a (n_boxes, 16) view with dim=0) with nearest rounding.
"""

import sys

import torch

from papernotes import load_core
from papernotes.benchreport import BenchReport
from papernotes.timing import interleaved_medians

core = load_core("companions/msfp.py")


def main(smoke: bool = False):
    """Time and print; ``smoke`` quantizes a 64 x 64 tensor once, to show the script still works."""
    torch.set_num_threads(2)
    side, repeat, warmup = (64, 1, 0) if smoke else (4096, 9, 2)
    x = torch.randn(side, side, generator=torch.Generator().manual_seed(0))

    candidates = {
        "copy": lambda: x.clone(),
        "MSFP16 nearest": lambda: core.msfp_quantize(x, 7),
        "MSFP12 nearest": lambda: core.msfp_quantize(x, 3),
        "MSFP12 truncate": lambda: core.msfp_quantize(x, 3, rounding="truncate"),
    }
    try:
        from qtorch.quant import block_quantize

        boxes = x.view(-1, 16)
        candidates["qtorch MSFP16"] = lambda: block_quantize(boxes, 8, dim=0, rounding="nearest")
        candidates["qtorch MSFP12"] = lambda: block_quantize(boxes, 4, dim=0, rounding="nearest")
    except Exception as error:  # the extension needs g++ and ninja
        print(f"qtorch unavailable, peer not timed: {type(error).__name__}: {error}")

    t = interleaved_medians(candidates, repeat=repeat, warmup=warmup)
    print(f"msfp_quantize, {side} x {side} float32, boxes of 16, 2 threads (shared machine: read the ratios, not the times)")
    print(f"{'':18} {'ms':>8} {'/copy':>7} {'/qtorch':>8}")
    for name, seconds in t.items():
        peer = t.get(f"qtorch {name.split()[0]}")
        vs_peer = f"{seconds / peer:>8.2f}" if peer and not name.startswith("qtorch") else f"{'':>8}"
        print(f"{name:18} {seconds * 1e3:>8.1f} {seconds / t['copy']:>7.2f} {vs_peer}")
    report = BenchReport("msfp", f"msfp_quantize, {side} x {side} float32, boxes of 16")
    for name, seconds in t.items():
        if name == "copy" or name.startswith("qtorch"):
            continue
        if (peer := t.get(f"qtorch {name.split()[0]}")) and "nearest" in name:
            report.add(name, f"qtorch block_quantize ({name.split()[0]})", "peer", seconds / peer)
        report.add(name, "a copy of the tensor", "floor", seconds / t["copy"])
    return report


if __name__ == "__main__":
    main(smoke="--smoke" in sys.argv[1:])
