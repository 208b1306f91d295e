"""The measurement core against the cheapest thing that touches the same weights: a tensor copy.

Run with `make bench NAME=understanding-neural-networks`.
"""

import sys

import torch

from papernotes import configure, load_core
from papernotes.benchreport import BenchReport
from papernotes.timing import median_seconds

configure(seed=0, threads=2)
core = load_core("companions/understanding-neural-networks.py")


def main(smoke: bool = False):
    """Time and print; ``smoke`` times each step once, to show the script still works."""
    torch.set_num_threads(2)
    repeat, min_time, warmup = (1, 0.0, 0) if smoke else (7, 0.05, 1)
    model, other = core.make_mlp(64, 128, 2, 10), core.make_mlp(64, 128, 2, 10)  # the companion's width-128 MLP
    params = list(model.parameters())
    timings = {
        "floor: copy every weight": median_seconds(lambda: [p.detach().clone() for p in params], repeat=repeat, min_time=min_time),
        "weight_bytes (float32, LZMA)": median_seconds(lambda: core.weight_bytes(model), repeat=repeat, warmup=warmup),
        "weight_bytes (4-bit codes, LZMA)": median_seconds(lambda: core.weight_bytes(model, bits=4), repeat=repeat, warmup=warmup),
        "prune_and_quantize (10%, 4 bits)": median_seconds(lambda: core.prune_and_quantize(model, 0.1, 4), repeat=repeat, min_time=min_time),
        "align_hidden_units": median_seconds(lambda: core.align_hidden_units(model, other), repeat=repeat, min_time=min_time),
    }
    floor = timings["floor: copy every weight"]
    print(f"MLP 64-128-128-10: {sum(p.numel() for p in params):,} parameters")
    print(f"{'what':34} {'seconds':>10} {'/ floor':>10}")
    report = BenchReport("understanding-neural-networks", "measurements of a 64-128-128-10 MLP's weights")
    for name, seconds in timings.items():
        print(f"{name:34} {seconds:>10.6f} {seconds / floor:>10.0f}")
        if not name.startswith("floor"):
            report.add(name, "a copy of every weight", "floor", seconds / floor)
    return report


if __name__ == "__main__":
    main(smoke="--smoke" in sys.argv[1:])
