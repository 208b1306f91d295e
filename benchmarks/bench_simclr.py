"""NT-Xent forward + backward: the fast path against lightly, pytorch-metric-learning and a matmul floor.

The floor is the one product the loss cannot avoid: the (2N x d) . (d x 2N) similarity matrix.
A second floor is the fast path's own: its five matrix products alone (``products_alone``),
which says how much of its time the products need and how much goes to everything else.
The readable core (`nt_xent`, plain autograd) is an extra row, so the fast path's speed-up shows.
Run with `make bench NAME=simclr`.
"""

import sys

import torch
from lightly.loss import NTXentLoss as LightlyNTXent
from pytorch_metric_learning.losses import NTXentLoss as PMLNTXent
from pytorch_metric_learning.losses import SelfSupervisedLoss

from papernotes import load_core
from papernotes.benchreport import BenchReport
from papernotes.timing import PEAK_MEMORY_FLAG, interleaved_medians, peak_memory_bytes, peak_memory_in_new_process

core = load_core("companions/simclr.py")
DIM, TEMPERATURE = 128, 0.5
SIZES, SMOKE_SIZES = (512, 2048), (16,)  # 2N, the number of views
FLOOR_TARGET, LIGHTLY_TARGET = 3.0, 0.5  # issue 14: ours / floor and ours / lightly, at most
PML_MEMORY_LIMIT = 4 * 2**30  # its pair mask holds 2N x 2N(2N - 2) floats: skip beyond this
FLOOR = "one (2N x d) @ (d x 2N) matmul"
PRODUCTS = "the fast path's five matrix products alone"


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


def products_alone(views: int):
    """A callable running only the fast path's matrix products: the same five calls on the same
    shapes, allocating their results as it does. Forward [S11, S12] and S22; backward
    M_top U, M22 U2 and M12^T U1: 1.75 floors of arithmetic in all."""
    generator = torch.Generator().manual_seed(views)
    n = views // 2
    unit = torch.randn(views, DIM, generator=generator)
    top_coefficients, bottom_coefficients = torch.randn(n, views, generator=generator), torch.randn(n, n, generator=generator)
    product_only = unit.new_zeros(())

    def run():
        torch.addmm(product_only, unit[:n], unit.T, beta=0, alpha=1 / TEMPERATURE)
        torch.addmm(product_only, unit[n:], unit[n:].T, beta=0, alpha=1 / TEMPERATURE)
        grad_unit = torch.empty_like(unit)
        torch.mm(top_coefficients, unit, out=grad_unit[:n])
        torch.mm(bottom_coefficients, unit[n:], out=grad_unit[n:])
        grad_unit[n:].addmm_(top_coefficients[:, n:].T, unit[:n])

    return run


def pml_mask_bytes(views: int) -> int:
    return views * views * (views - 2) * 4


LOSSES = {
    "ours": lambda a, b: core.nt_xent_fast(a, b, TEMPERATURE),
    "readable core": lambda a, b: core.nt_xent(a, b, TEMPERATURE),
    "lightly": LightlyNTXent(temperature=TEMPERATURE),
    "pytorch-metric-learning": SelfSupervisedLoss(PMLNTXent(temperature=TEMPERATURE)),
}
AGAINST = {
    "readable core": ("the readable core nt_xent (plain autograd)", None),
    "lightly": ("lightly NTXentLoss", LIGHTLY_TARGET),
    "pytorch-metric-learning": ("pytorch-metric-learning NTXentLoss", None),
}


def main(smoke: bool = False) -> BenchReport:
    """Time and print; ``smoke`` runs a tiny batch once, to show the script still works."""
    torch.set_num_threads(2)
    sizes, repeat, warmup = (SMOKE_SIZES, 1, 0) if smoke else (SIZES, 31, 3)
    min_time = 0.0 if smoke else 0.02  # a sample loops for 20 ms: at 2N = 512 one call is well under a millisecond
    runnable = {views: [name for name in LOSSES if name != "pytorch-metric-learning" or pml_mask_bytes(views) <= PML_MEMORY_LIMIT]
                for views in sizes}
    # Each in a new interpreter, a few seconds each: the smoke run measures ours only.
    memory = {(views, name): peak_memory_in_new_process(__file__, name, views)
              for views in sizes for name in runnable[views] if name == "ours" or not smoke}
    seconds = {}
    for views in sizes:
        runs = {name: forward_backward(LOSSES[name], views) for name in runnable[views]}
        fast = {name: run for name, run in runs.items() if name != "pytorch-metric-learning"}
        floors = {"floor": matmul_floor(views), PRODUCTS: products_alone(views)}
        seconds[views] = interleaved_medians(floors | fast, repeat=repeat, warmup=warmup, min_time=min_time)
        if "pytorch-metric-learning" in runs:  # cubic in the batch, seconds a call: a short run of its own against ours
            pair = interleaved_medians({name: runs[name] for name in ("ours", "pytorch-metric-learning")}, repeat=min(repeat, 3), warmup=0)
            seconds[views]["pytorch-metric-learning"] = pair["pytorch-metric-learning"]
            seconds[views]["ours, beside it"] = pair["ours"]

    report = BenchReport("simclr", f"NT-Xent forward + backward, d = {DIM}, float32, tau = {TEMPERATURE}")
    print(f"NT-Xent forward + backward, d = {DIM}, {torch.get_num_threads()} threads (shared machine: read the ratios, "
          f"not the times); floor = {FLOOR}")
    print(f"{'2N':>5} {'method':24} {'median ms':>10} {'ours/this':>9} {'this/floor':>10} {'peak MiB':>9}")
    for views in sizes:
        t, case = seconds[views], f"2N = {views}"
        ratios = {name: t["ours"] / t[name] for name in runnable[views]}
        if "pytorch-metric-learning" in t:
            ratios["pytorch-metric-learning"] = t["ours, beside it"] / t["pytorch-metric-learning"]
        for name in runnable[views]:
            peak = f"{memory[views, name] / 2**20:>9.1f}" if (views, name) in memory else ""
            print(f"{views:>5} {name:24} {t[name] * 1e3:>10.2f} {ratios[name]:>9.2f} {t[name] / t['floor']:>10.2f} {peak}")
        print(f"{views:>5} {'matmul floor':24} {t['floor'] * 1e3:>10.2f} {t['ours'] / t['floor']:>9.2f} {1.0:>10.2f}")
        print(f"{views:>5} {'products alone':24} {t[PRODUCTS] * 1e3:>10.2f} {t['ours'] / t[PRODUCTS]:>9.2f} {t[PRODUCTS] / t['floor']:>10.2f}")
        if "pytorch-metric-learning" in runnable[views]:
            print(f"{views:>5} (pytorch-metric-learning's ratio is from its own run beside ours; ours took "
                  f"{t['ours, beside it'] * 1e3:.2f} ms there)")
        else:
            print(f"{views:>5} {'pytorch-metric-learning':24} skipped: its positive-by-negative-pair mask needs "
                  f"{pml_mask_bytes(views) / 2**30:.0f} GiB")
        report.add(case, FLOOR, "floor", t["ours"] / t["floor"], target=FLOOR_TARGET)
        report.add(case, PRODUCTS, "floor", t["ours"] / t[PRODUCTS])
        for name, (against, target) in AGAINST.items():
            if name in ratios:
                report.add(case, against, "peer", ratios[name], target=target)
        print(f"{views:>5} ours / floor = {t['ours'] / t['floor']:.2f} (target {FLOOR_TARGET}); "
              f"ours / lightly = {ratios['lightly']:.2f} (target {LIGHTLY_TARGET})")
    return report


if __name__ == "__main__":
    if sys.argv[1:2] == [PEAK_MEMORY_FLAG]:
        name, views = sys.argv[2], int(sys.argv[3])
        torch.set_num_threads(2)
        print(peak_memory_bytes(lambda: forward_backward(LOSSES[name], views)))
    else:
        main(smoke="--smoke" in sys.argv[1:])
