"""NT-Xent forward + backward: ours against lightly, pytorch-metric-learning and a matmul floor.

The floor is the one product the loss cannot avoid: the (2N x d) . (d x 2N) similarity matrix.
Run with `make bench NAME=simclr`.
"""

import torch
from lightly.loss import NTXentLoss as LightlyNTXent
from pytorch_metric_learning.losses import NTXentLoss as PMLNTXent
from pytorch_metric_learning.losses import SelfSupervisedLoss

from papernotes import load_core
from papernotes.timing import median_seconds, peak_memory_bytes

core = load_core("companions/simclr.py")
torch.set_num_threads(2)
DIM, TEMPERATURE = 128, 0.5
PML_MEMORY_LIMIT = 4 * 2**30  # its pair mask holds 2N x 2N(2N - 2) floats: skip beyond this


def forward_backward(loss_fn, views: int):
    """A callable that runs loss + backward on fixed random projections of ``views`` rows."""
    generator = torch.Generator().manual_seed(views)
    z1 = torch.randn(views // 2, DIM, generator=generator).requires_grad_()
    z2 = torch.randn(views // 2, DIM, generator=generator).requires_grad_()

    def run():
        z1.grad = z2.grad = None
        loss_fn(z1, z2).backward()

    return run


def matmul_floor(views: int):
    generator = torch.Generator().manual_seed(views)
    left, right = torch.randn(views, DIM, generator=generator), torch.randn(DIM, views, generator=generator)
    return lambda: left @ right


def pml_mask_bytes(views: int) -> int:
    return views * views * (views - 2) * 4


LOSSES = {
    "ours": lambda a, b: core.nt_xent(a, b, TEMPERATURE),
    "lightly": LightlyNTXent(temperature=TEMPERATURE),
    "pytorch-metric-learning": SelfSupervisedLoss(PMLNTXent(temperature=TEMPERATURE)),
}

SIZES = (512, 2048)


def runnable(name: str, views: int) -> bool:
    return name != "pytorch-metric-learning" or pml_mask_bytes(views) <= PML_MEMORY_LIMIT


memory = {
    (views, name): peak_memory_bytes(lambda fn=loss_fn, v=views: forward_backward(fn, v))
    for views in SIZES for name, loss_fn in LOSSES.items() if runnable(name, views)
}

print(f"NT-Xent forward + backward, d = {DIM}, {torch.get_num_threads()} threads; floor = one (2N x {DIM}) @ ({DIM} x 2N) matmul")
print(f"{'2N':>5} {'method':24} {'median ms':>10} {'ours/this':>9} {'this/floor':>10} {'peak MiB':>9}")
for views in SIZES:
    floor = median_seconds(matmul_floor(views), repeat=15, min_time=0.05)
    seconds = {}
    for name, loss_fn in LOSSES.items():
        if not runnable(name, views):
            print(f"{views:>5} {name:24} skipped: its positive-by-negative-pair mask needs {pml_mask_bytes(views) / 2**30:.0f} GiB")
            continue
        slow = name == "pytorch-metric-learning"  # cubic in the batch: a few samples suffice
        seconds[name] = median_seconds(forward_backward(loss_fn, views), repeat=3 if slow else 9, warmup=1, min_time=0 if slow else 0.1)
    for name, value in seconds.items():
        print(f"{views:>5} {name:24} {value * 1e3:>10.2f} {seconds['ours'] / value:>9.2f} {value / floor:>10.2f} {memory[views, name] / 2**20:>9.1f}")
    print(f"{views:>5} {'matmul floor':24} {floor * 1e3:>10.2f} {seconds['ours'] / floor:>9.2f} {1.0:>10.2f}")
    fastest_peer = min(v for k, v in seconds.items() if k != "ours")
    print(f"{views:>5} ours / fastest peer = {seconds['ours'] / fastest_peer:.2f}; ours / floor = {seconds['ours'] / floor:.2f}")
