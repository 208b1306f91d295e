"""AdderNet: adder_conv2d forward + backward on a ResNet-20-sized layer (64 -> 64 channels, 3x3, 32x32).

Peers: the reference code's approach (unfold, then the whole (C_out, J, N*L) difference tensor
at once; rewritten here from its description) and F.conv2d of the same shape, the floor: the
same number of multiply-adds in a tuned kernel. The unfold approach needs about 5 GB per
forward pass at batch 32 and two to three times that in backward, more than a shared 2-core
machine can spare, so it is measured at batches 4 and 8; ours and F.conv2d also at 32.
"""

import statistics

import torch
import torch.nn.functional as F

from papernotes import load_core
from papernotes.timing import median_seconds, peak_memory_bytes

core = load_core("companions/addernet.py")
CHANNELS, SIDE, KERNEL, PADDING = 64, 32, 3, 1


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


METHODS = {
    "adder_conv2d (ours)": lambda x, w: core.adder_conv2d(x, w, 1, PADDING),
    "unfold (reference)": UnfoldAdder.apply,
    "F.conv2d (floor)": lambda x, w: F.conv2d(x, w, padding=PADDING),
}


def forward_backward(method, batch):
    """Inputs are made outside the returned call, so they count as baseline memory."""
    x = torch.randn(batch, CHANNELS, SIDE, SIDE, requires_grad=True)
    w = torch.randn(CHANNELS, CHANNELS, KERNEL, KERNEL, requires_grad=True)
    grad_y = torch.randn(batch, CHANNELS, SIDE, SIDE)

    def call():
        x.grad = w.grad = None
        METHODS[method](x, w).backward(grad_y)

    return call


def check_peer_agrees():
    x = torch.randn(2, CHANNELS, 8, 8, dtype=torch.float64, requires_grad=True)
    w = torch.randn(CHANNELS, CHANNELS, KERNEL, KERNEL, dtype=torch.float64, requires_grad=True)
    ours, peer = core.adder_conv2d(x, w, 1, PADDING), UnfoldAdder.apply(x, w)
    torch.testing.assert_close(ours, peer)
    for a, b in zip(torch.autograd.grad(ours.sum(), (x, w)), torch.autograd.grad(peer.sum(), (x, w))):
        torch.testing.assert_close(a, b)


def interleaved_times(methods, batch, rounds=5):
    """Median seconds per method, one sample of each in turn, so background load hits all alike."""
    calls = {method: forward_backward(method, batch) for method in methods}
    for call in calls.values():
        call()  # warm-up
    samples = {method: [] for method in methods}
    for _ in range(rounds):
        for method, call in calls.items():
            samples[method].append(median_seconds(call, repeat=1, warmup=0))
    return {method: statistics.median(values) for method, values in samples.items()}


if __name__ == "__main__":
    torch.set_num_threads(2)
    torch.manual_seed(0)
    check_peer_agrees()
    plan = {4: list(METHODS), 8: list(METHODS), 32: ["adder_conv2d (ours)", "F.conv2d (floor)"]}
    print(f"forward + backward, {CHANNELS}->{CHANNELS} channels, {KERNEL}x{KERNEL}, {SIDE}x{SIDE}, 2 threads")
    print(f"{'batch':>5} {'method':22} {'time ms':>9} {'peak MiB':>9}")
    results = {}
    for batch, methods in plan.items():
        times = interleaved_times(methods, batch)
        for method in methods:
            peak = peak_memory_bytes(lambda: forward_backward(method, batch))
            results[batch, method] = times[method], peak
            print(f"{batch:>5} {method:22} {times[method] * 1e3:>9.1f} {peak / 2**20:>9.1f}", flush=True)
    print("\nratios (F.conv2d's peak is within allocator noise, so memory is compared with unfold only)")
    for batch, methods in plan.items():
        ours_s, ours_m = results[batch, "adder_conv2d (ours)"]
        for peer in methods[1:]:
            peer_s, peer_m = results[batch, peer]
            memory = f"   ours/unfold memory {ours_m / peer_m:.3f}x" if peer.startswith("unfold") else ""
            print(f"batch {batch:>2}: ours/{peer.split()[0]:9} time {ours_s / peer_s:6.2f}x{memory}")
