"""GeM pooling, forward + backward, against timm's average and max pooling and two floors.

GeM reads the feature map, raises it to p, averages, and writes a gradient the size of the
map: at least one pass over the input each way. The floors are a plain copy of the map and a
mean over H x W with its backward (a broadcast), which move the same bytes with no powers.
Shape: a batch of ResNet-101 final maps at the paper's training size (362 px -> 12 x 12).
"""

import torch
from timm.layers import SelectAdaptivePool2d

from papernotes import load_core
from papernotes.timing import median_seconds

torch.set_num_threads(2)
core = load_core("companions/gem-retrieval.py")
SHAPE = (16, 2048, 12, 12)  # (B, C, H, W)


def forward_backward(pool):
    x = torch.rand(SHAPE, requires_grad=True)

    def run():
        x.grad = None
        pool(x).sum().backward()

    return run


def copy_floor():
    x = torch.rand(SHAPE)
    return lambda: x.clone()


gem_module = core.GeM(p=3.0)
cases = {
    "GeM (ours, learnable p)": forward_backward(gem_module),
    "GeM via lp_pool2d (fixed p)": forward_backward(lambda x: torch.nn.functional.lp_pool2d(x, 3.0, SHAPE[2:]).flatten(1)),
    "timm avg": forward_backward(SelectAdaptivePool2d(pool_type="avg", flatten=True)),
    "timm max": forward_backward(SelectAdaptivePool2d(pool_type="max", flatten=True)),
    "floor: mean fwd+bwd": forward_backward(lambda x: x.mean(dim=(2, 3))),
    "floor: copy": copy_floor(),
}
seconds = {name: median_seconds(fn, repeat=7, warmup=2, min_time=0.2) for name, fn in cases.items()}
ours = seconds["GeM (ours, learnable p)"]
megabytes = torch.Size(SHAPE).numel() * 4 / 2**20
print(f"input {SHAPE}, float32, {megabytes:.0f} MiB, 2 threads (shared machine: ratios, not absolute times)")
print(f"{'case':30} {'ms':>8} {'ours/case':>10}")
for name, value in seconds.items():
    print(f"{name:30} {value * 1e3:>8.2f} {ours / value:>10.2f}")
