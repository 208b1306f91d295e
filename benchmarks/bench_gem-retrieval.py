"""GeM pooling, forward + backward with a learnable p, against PyTorch, timm and two floors.

GeM reads the feature map, raises it to p, averages, and writes a gradient the size of the
map: at least one pass over the input each way. The peers: `F.lp_pool2d` with a fixed p (the
same power mean up to a constant factor, with no gradient for p and no clamp) and timm's
average and max pooling. The floors are a mean over H x W with its backward (a broadcast)
and a plain copy of the map, which move the same bytes with no powers. Our readable core,
differentiated by autograd, is a row too, to show what the fast path gains.
Shape: a batch of ResNet-101 final maps at the paper's training size (362 px -> 12 x 12).
Run with `make bench NAME=gem-retrieval`.
"""

import sys

import torch
import torch.nn.functional as F
from timm.layers import SelectAdaptivePool2d

from papernotes import load_core
from papernotes.benchreport import BenchReport
from papernotes.timing import interleaved_medians

core = load_core("companions/gem-retrieval.py")
SHAPE = (16, 2048, 12, 12)  # (B, C, H, W)
SMOKE_SHAPE = (2, 8, 4, 4)
FIXED_P = 3.0  # the learnable p starts here too


def forward_backward(pool, shape):
    """A callable that pools a fixed random map and back-propagates the sum of the result."""
    x = torch.rand(shape, generator=torch.Generator().manual_seed(0)).requires_grad_()
    parameters = list(pool.parameters()) if isinstance(pool, torch.nn.Module) else []  # GeM's p

    def run():
        for tensor in (x, *parameters):
            tensor.grad = None
        pool(x).sum().backward()

    return run


def copy_floor(shape):
    x = torch.rand(shape, generator=torch.Generator().manual_seed(0))
    return lambda: x.clone()


def poolings(shape):
    """What is timed: name -> the pooling, (B, C, H, W) -> (B, C)."""
    return {
        "GeM fast path (ours)": core.GeMFast(p=FIXED_P),
        "GeM readable core (autograd)": core.GeM(p=FIXED_P),
        "lp_pool2d, fixed p": lambda x: F.lp_pool2d(x, FIXED_P, kernel_size=shape[2:]).flatten(1),
        "timm avg": SelectAdaptivePool2d(pool_type="avg", flatten=True),
        "timm max": SelectAdaptivePool2d(pool_type="max", flatten=True),
        "floor: mean fwd+bwd": lambda x: x.mean(dim=(2, 3)),
    }


# (row name, kind, target ratio set by the issue or None)
AGAINST = {
    "GeM readable core (autograd)": ("peer", None),
    "lp_pool2d, fixed p": ("peer", 1.0),
    "timm avg": ("peer", None),
    "timm max": ("peer", None),
    "floor: mean fwd+bwd": ("floor", 4.0),
    "floor: copy": ("floor", None),
}


def main(smoke: bool = False) -> BenchReport:
    """Time and print; ``smoke`` runs a tiny shape once, to show the script still works."""
    torch.set_num_threads(2)
    shape, repeat, warmup = (SMOKE_SHAPE, 1, 0) if smoke else (SHAPE, 21, 2)
    pools = poolings(shape)
    cases = {name: forward_backward(pool, shape) for name, pool in pools.items()}
    cases["floor: copy"] = copy_floor(shape)
    seconds = interleaved_medians(cases, repeat=repeat, warmup=warmup, min_time=0.0 if smoke else 0.05)

    ours = seconds["GeM fast path (ours)"]
    case = f"{shape}, forward + backward"
    report = BenchReport("gem-retrieval", f"GeM pooling forward + backward with a learnable p, float32, {torch.get_num_threads()} threads")
    for against, (kind, target) in AGAINST.items():
        report.add(case, against, kind, ours / seconds[against], target=target)

    megabytes = torch.Size(shape).numel() * 4 / 2**20
    print(f"input {shape}, float32, {megabytes:.0f} MiB, {torch.get_num_threads()} threads (shared machine: read the ratios, not the times)")
    print(f"{'case':30} {'median ms':>10} {'ours/case':>10} {'target':>7}")
    for name, value in seconds.items():
        target = AGAINST.get(name, (None, None))[1]
        print(f"{name:30} {value * 1e3:>10.2f} {ours / value:>10.2f} {target or '':>7}")
    return report


if __name__ == "__main__":
    main(smoke="--smoke" in sys.argv[1:])
