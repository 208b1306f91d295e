"""AdderNet: adder convolution forward + backward on a ResNet-20-sized layer (64 -> 64 channels, 3x3, 32x32).

"Ours" is the fast path, `adder_conv2d_fast`; the readable core, `adder_conv2d`, is an extra
row so that the fast path's gain shows. The peer is the reference code's approach (unfold, then
the whole (C_out, J, N*L) difference tensor at once; rewritten here from its description). The
floors are F.conv2d of the same shape, the same number of multiply-adds in a tuned kernel, and
for memory the bytes a convolution keeps: its input and its output. The unfold approach needs
about 5 GB per forward pass at batch 32 and two to three times that in backward, more than a
shared 2-core machine can spare, so it runs at batches 4 and 8 only, in short runs of its own
beside ours (its gigabyte allocations would slow whatever ran next to it). One more floor is
the fast path's own: its four large passes alone (see ``block_passes``), which says how much of
its time the approach itself needs and how much goes to everything around those passes. Run
with `make bench NAME=addernet`.
"""

import sys
from pathlib import Path

import torch
import torch.nn.functional as F

from papernotes import load_core
from papernotes.benchreport import BenchReport
from papernotes.timing import PEAK_MEMORY_FLAG, interleaved_medians, peak_memory_bytes, peak_memory_in_new_process

ROOT = Path(__file__).resolve().parents[1]
core = load_core(ROOT / "companions/addernet.py")
CHANNELS, SIDE, KERNEL, PADDING = 64, 32, 3, 1
BATCHES, UNFOLD_BATCHES = (4, 8, 32), (4, 8)
SMOKE_CHANNELS, SMOKE_SIDE, SMOKE_BATCHES = 8, 8, (1,)
CONV_TARGET, MEMORY_TARGET, TARGET_BATCHES = 10.0, 2.0, (8, 32)  # issue 14: at most, at batches 8 and 32
CONV = "F.conv2d of the same shape"
MEMORY = "a convolution's input + output bytes"
BLOCK_PASSES = "the fast path's four block passes alone"


class UnfoldAdder(torch.autograd.Function):
    """The reference code's layer: every (filter, patch element, position) difference at once."""

    @staticmethod
    def forward(ctx, x, weight):
        n, _, h, w = x.shape
        x_col = F.unfold(x, KERNEL, padding=PADDING).transpose(0, 1).reshape(weight[0].numel(), -1)  # (J, N*L)
        w_col = weight.reshape(len(weight), -1)  # (O, J)
        out = -(w_col[:, :, None] - x_col[None]).abs().sum(dim=1)  # (O, J, N*L) -> (O, N*L)
        ctx.save_for_backward(x_col, w_col)
        ctx.shape = x.shape
        return out.reshape(len(weight), n, h, w).transpose(0, 1)  # (N, O, H, W), stride 1, same padding

    @staticmethod
    def backward(ctx, grad_y):
        x_col, w_col = ctx.saved_tensors
        n, c, h, w = ctx.shape
        g = grad_y.transpose(0, 1).reshape(len(w_col), 1, -1)  # (O, 1, N*L)
        diff = x_col[None] - w_col[:, :, None]  # (O, J, N*L)
        grad_w = (diff * g).sum(dim=2)
        grad_cols = (-diff.clamp(-1, 1) * g).sum(dim=0)  # (J, N*L): HT(F - X) summed over filters
        grad_cols = grad_cols.reshape(-1, n, h * w).transpose(0, 1)  # (N, J, L)
        return F.fold(grad_cols, (h, w), KERNEL, padding=PADDING), grad_w.reshape(len(w_col), c, KERNEL, KERNEL)


def block_passes(batch: int, channels: int, side: int):
    """A callable running only the fast path's large passes, on this layer's numbers of blocks:
    per block of patch rows, the forward's minimum and its sum and the backward's clamp and
    batched product, on random rows and views made in advance. No unfolding, folding or
    bookkeeping: eager PyTorch runs these four passes in no fewer calls, so their time is the
    least the fast path's approach can take."""
    generator = torch.Generator().manual_seed(batch)
    filters = torch.randn(1, channels, channels * KERNEL * KERNEL, generator=generator)  # (1, O, J)
    per_block, bands = core._plan(batch, side, side, filters)
    most = max(map(core._positions, bands))
    rows = torch.randn(most, 1, filters.shape[2], generator=generator)  # (B, 1, J)
    lower, upper, upstream = rows - 1, rows + 1, torch.randn(most, 1, channels, generator=generator)
    sums, row_grads = torch.empty(most, channels), torch.empty(most, 1, filters.shape[2])
    block = torch.empty(per_block, *filters.shape[1:])  # (c, O, J)
    views = {length: list(zip(*(t[:length].split(per_block) for t in (rows, lower, upper, upstream, sums, row_grads))))
             for length in set(map(core._positions, bands))}
    pieces = [views[core._positions(band)] for band in bands]

    def call():
        for band in pieces:
            for r, low, high, g, out_sums, out_grads in band:
                torch.sum(torch.minimum(r, filters, out=block[:len(r)]), dim=2, out=out_sums)
                torch.bmm(g, torch.clamp(filters, low, high, out=block[:len(r)]), out=out_grads)

    return call


METHODS = {
    "ours": lambda x, w: core.adder_conv2d_fast(x, w, 1, PADDING),
    "readable core": lambda x, w: core.adder_conv2d(x, w, 1, PADDING),
    "unfold": UnfoldAdder.apply,
    "F.conv2d": lambda x, w: F.conv2d(x, w, padding=PADDING),
}


def forward_backward(method: str, batch: int, channels: int, side: int):
    """A callable running forward + backward; its inputs are made here, so they count as baseline memory."""
    generator = torch.Generator().manual_seed(batch)
    x = torch.randn(batch, channels, side, side, generator=generator).requires_grad_()
    w = torch.randn(channels, channels, KERNEL, KERNEL, generator=generator).requires_grad_()
    grad_y = torch.randn(batch, channels, side, side, generator=generator)

    def call():  # gradients returned, not accumulated: nothing from an earlier call is freed during this one
        torch.autograd.grad(METHODS[method](x, w), (x, w), grad_y)

    return call


def check_methods_agree(channels: int):
    """The three adder implementations give the same values and gradients (float64)."""
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(2, channels, 8, 8, dtype=torch.float64, generator=generator).requires_grad_()
    w = torch.randn(channels, channels, KERNEL, KERNEL, dtype=torch.float64, generator=generator).requires_grad_()
    outputs = {name: METHODS[name](x, w) for name in ("ours", "readable core", "unfold")}
    grad_y = torch.randn(outputs["ours"].shape, dtype=torch.float64, generator=generator)
    reference = (outputs["ours"], *torch.autograd.grad(outputs["ours"], (x, w), grad_y))
    for name in ("readable core", "unfold"):
        for got, want in zip((outputs[name], *torch.autograd.grad(outputs[name], (x, w), grad_y)), reference):
            torch.testing.assert_close(got, want)


def main(smoke: bool = False) -> BenchReport:
    """Time and print; ``smoke`` runs one tiny layer once, to show the script still works."""
    torch.set_num_threads(2)
    channels, side, batches = (SMOKE_CHANNELS, SMOKE_SIDE, SMOKE_BATCHES) if smoke else (CHANNELS, SIDE, BATCHES)
    unfold_batches = batches if smoke else UNFOLD_BATCHES
    repeat, unfold_repeat, warmup = (1, 1, 0) if smoke else (15, 3, 2)
    check_methods_agree(channels)
    seconds = {}
    for batch in batches:
        calls = {name: forward_backward(name, batch, channels, side) for name in ("ours", "readable core", "F.conv2d")}
        calls[BLOCK_PASSES] = block_passes(batch, channels, side)
        seconds[batch] = interleaved_medians(calls, repeat=repeat, warmup=warmup)
        if batch in unfold_batches:
            pair = {name: forward_backward(name, batch, channels, side) for name in ("ours", "unfold")}
            beside = interleaved_medians(pair, repeat=unfold_repeat, warmup=1 if warmup else 0)
            seconds[batch] |= {"unfold": beside["unfold"], "ours, beside unfold": beside["ours"]}
    measured = ("ours",) if smoke else ("ours", "readable core", "F.conv2d", "unfold")  # each a new interpreter, seconds
    memory = {(batch, name): peak_memory_in_new_process(__file__, name, batch, channels, side)
              for batch in batches for name in measured if name != "unfold" or batch in unfold_batches}
    activation_bytes = {batch: 2 * batch * channels * side * side * 4 for batch in batches}  # float32 input + output

    report = BenchReport("addernet", f"adder convolution forward + backward, {channels}->{channels} channels, "
                                     f"{KERNEL}x{KERNEL}, {side}x{side}, stride 1, padding {PADDING}, float32")
    print(f"adder convolution forward + backward, {channels}->{channels} channels, {KERNEL}x{KERNEL}, {side}x{side}, "
          f"{torch.get_num_threads()} threads (shared machine: read the ratios, not the times)")
    print(f"{'batch':>5} {'method':14} {'median ms':>10} {'ours/this':>10} {'peak MiB':>9}")
    for batch in batches:
        t = seconds[batch]
        for name in ("ours", "readable core", "unfold", "F.conv2d", BLOCK_PASSES):
            if name not in t:
                continue
            ours = t["ours, beside unfold"] if name == "unfold" else t["ours"]
            peak = f"{memory[batch, name] / 2**20:>9.1f}" if (batch, name) in memory else f"{'':>9}"
            label = "block passes" if name == BLOCK_PASSES else name
            print(f"{batch:>5} {label:14} {t[name] * 1e3:>10.1f} {ours / t[name]:>10.3f} {peak}")
        memory_ratio = memory[batch, "ours"] / activation_bytes[batch]
        target = batch in TARGET_BATCHES and not smoke
        case = f"batch {batch}"
        report.add(case, CONV, "floor", t["ours"] / t["F.conv2d"], target=CONV_TARGET if target else None)
        if memory_ratio > 0:  # a tiny smoke-run layer can stay within pages the process already holds
            report.add(case, f"peak memory against {MEMORY}", "floor", memory_ratio, target=MEMORY_TARGET if target else None)
        report.add(case, BLOCK_PASSES, "floor", t["ours"] / t[BLOCK_PASSES])
        report.add(case, "the readable core adder_conv2d", "peer", t["ours"] / t["readable core"])
        if "unfold" in t:
            report.add(case, "the reference code's unfold approach", "peer", t["ours, beside unfold"] / t["unfold"])
        print(f"{batch:>5} ours / F.conv2d = {t['ours'] / t['F.conv2d']:.2f} (target {CONV_TARGET} at batches {TARGET_BATCHES}), "
              f"of which the block passes alone take {t[BLOCK_PASSES] / t['F.conv2d']:.2f}; "
              f"peak memory / {MEMORY} = {memory_ratio:.2f} ({memory[batch, 'ours'] / 2**20:.1f} MiB against "
              f"{activation_bytes[batch] / 2**20:.1f} MiB; target {MEMORY_TARGET})")
    return report


if __name__ == "__main__":
    if sys.argv[1:2] == [PEAK_MEMORY_FLAG]:
        method, batch, channels, side = sys.argv[2], *map(int, sys.argv[3:6])
        torch.set_num_threads(2)
        print(peak_memory_bytes(lambda: forward_backward(method, batch, channels, side)))
    else:
        main(smoke="--smoke" in sys.argv[1:])
