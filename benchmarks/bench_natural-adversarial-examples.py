"""Adversarial filtration of an ImageNet-sized pool against a tensor-copy floor.

The core reads the filter model's logits once (slice to the 200 ImageNet-A columns, argmax,
compare with the labels, collect indices). The floor the issue names is one copy of the
logits tensor; a copy also writes 200 MB, so we add a read-only floor (one reduction over the
logits), which no filtration can beat.
"""

import sys
from importlib import resources

import torch

from papernotes import load_core
from papernotes.benchreport import BenchReport
from papernotes.timing import median_seconds

core = load_core("companions/natural-adversarial-examples.py")
num_classes = 1000


def main(smoke: bool = False):
    """Time and print; ``smoke`` filters a pool of 500 once, to show the script still works."""
    torch.set_num_threads(2)
    pool, repeat, warmup = (500, 1, 0) if smoke else (50_000, 7, 2)  # 50,000: the size of ImageNet's validation set
    generator = torch.Generator().manual_seed(0)
    a_indices = torch.tensor([int(v) for v in resources.files("timm.data._info").joinpath("imagenet_a_indices.txt").read_text().split()])
    logits = torch.randn(pool, num_classes, generator=generator)
    labels = torch.randint(len(a_indices), (pool,), generator=generator)
    labels_all = torch.randint(num_classes, (pool,), generator=generator)

    times = {
        "ours (200-class)": median_seconds(lambda: core.adversarial_filtration(logits, labels, a_indices), repeat=repeat, warmup=warmup),
        "ours (all classes)": median_seconds(lambda: core.adversarial_filtration(logits, labels_all), repeat=repeat, warmup=warmup),
        "floor (logits.clone())": median_seconds(logits.clone, repeat=repeat, warmup=warmup),
        "read floor (logits.sum())": median_seconds(logits.sum, repeat=repeat, warmup=warmup),
    }

    print(f"filtration of {pool:,} x {num_classes} float32 logits ({logits.numel() * 4 / 1e6:.0f} MB), 2 threads")
    for name, seconds in times.items():
        print(f"{name:26} {seconds * 1e3:8.2f} ms")
    print(f"ratio ours(200)/floor = {times['ours (200-class)'] / times['floor (logits.clone())']:.2f}")
    print(f"ratio ours(all)/floor = {times['ours (all classes)'] / times['floor (logits.clone())']:.2f}")
    print(f"ratio ours(200)/read floor = {times['ours (200-class)'] / times['read floor (logits.sum())']:.2f}")
    print(f"ratio ours(all)/read floor = {times['ours (all classes)'] / times['read floor (logits.sum())']:.2f}")
    report = BenchReport("natural-adversarial-examples", f"adversarial filtration of {pool:,} x {num_classes} logits")
    for case in ("ours (200-class)", "ours (all classes)"):
        label = case.removeprefix("ours (").removesuffix(")")
        report.add(label, "a copy of the logits", "floor", times[case] / times["floor (logits.clone())"])
        report.add(label, "one read of the logits (a sum)", "floor", times[case] / times["read floor (logits.sum())"])
    return report

if __name__ == "__main__":
    main(smoke="--smoke" in sys.argv[1:])
