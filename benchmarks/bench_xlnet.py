"""XLNet's two-stream masks + attention against transformers' relative attention, plain causal
attention of the same shape, and a matmul floor.

Ours: build the content and query masks from a fresh order per sequence, then attend with both
streams (projections, masked softmax, output projection, residual and LayerNorm).
Peers: transformers' XLNetRelativeAttention on the same two streams (it adds relative-position
terms and is given ready masks), and PyTorch's causal scaled_dot_product_attention run once per
stream with the same projections. Floor: only the matmuls of the two streams.
"""

import sys

import torch
import torch.nn.functional as F
from transformers import XLNetConfig, XLNetModel

from papernotes import load_core
from papernotes.benchreport import BenchReport
from papernotes.timing import median_seconds

core = load_core("companions/xlnet.py")


def main(smoke: bool = False):
    """Time and print; ``smoke`` runs tiny shapes once, to show the script still works."""
    torch.set_num_threads(2)
    torch.manual_seed(0)
    batch, seq_len, d_model, n_head = (1, 24, 32, 2) if smoke else (8, 256, 256, 4)
    repeat, warmup = (1, 0) if smoke else (7, 2)
    d_head, num_predict = d_model // n_head, seq_len // 6  # the paper's K = 6

    layer = core.TwoStreamLayer(d_model, n_head, 4 * d_model).eval()
    h, g = torch.randn(batch, seq_len, d_model), torch.randn(batch, seq_len, d_model)
    orders = torch.stack([torch.randperm(seq_len) for _ in range(batch)])

    def ours():
        content, query, _ = core.permutation_masks(orders, num_predict)
        return layer.attend(h, h, content), layer.attend(g, h, query)

    def causal_attention(x):
        def split(t):
            return t.view(batch, seq_len, n_head, d_head).transpose(1, 2)

        mixed = F.scaled_dot_product_attention(split(layer.query(x)), split(layer.key(x)), split(layer.value(x)), is_causal=True)
        return layer.attn_norm(x + layer.out(mixed.transpose(1, 2).reshape(batch, seq_len, d_model)))

    def plain_causal():
        return causal_attention(h), causal_attention(g)

    model = XLNetModel(XLNetConfig(vocab_size=32, d_model=d_model, n_layer=1, n_head=n_head, d_inner=4 * d_model, dropout=0.0)).eval()
    peer_attention = model.layer[0].rel_attn
    content, query, _ = core.permutation_masks(orders, num_predict)
    mask_h = (~content).permute(1, 2, 0)[..., None].float()  # (L, L, B, 1): 1 = blocked, time-major
    mask_g = (~query).permute(1, 2, 0)[..., None].float()
    h_t, g_t = h.transpose(0, 1).contiguous(), g.transpose(0, 1).contiguous()  # (L, B, d)
    pos_emb = model.relative_positional_encoding(seq_len, seq_len, bsz=batch)  # (2L, B, d)

    def transformers_attention():
        return peer_attention(h_t, g_t, mask_h, mask_g, pos_emb, seg_mat=None)

    weights = torch.randn(d_model, d_model)
    heads_q, heads_k = torch.randn(batch, n_head, seq_len, d_head), torch.randn(batch, n_head, seq_len, d_head)
    scores = torch.randn(batch, n_head, seq_len, seq_len)

    def matmul_floor():
        for x in (h, g):  # per stream: q, k, v, out projections, scores and weighted values
            for _ in range(4):
                x @ weights
            heads_q @ heads_k.transpose(-2, -1)
            scores @ heads_k

    with torch.inference_mode():
        times = {name: median_seconds(fn, repeat=repeat, warmup=warmup) for name, fn in
                 {"ours": ours, "transformers": transformers_attention, "causal": plain_causal, "floor": matmul_floor}.items()}

    print(f"two-stream attention, batch {batch}, L={seq_len}, d={d_model}, {n_head} heads, {num_predict} targets, 2 threads")
    print(f"{'ours (masks + both streams)':40} {times['ours'] * 1e3:8.1f} ms")
    print(f"{'transformers XLNetRelativeAttention':40} {times['transformers'] * 1e3:8.1f} ms")
    print(f"{'causal SDPA, both streams':40} {times['causal'] * 1e3:8.1f} ms")
    print(f"{'matmul floor':40} {times['floor'] * 1e3:8.1f} ms")
    print(f"ratio ours/transformers = {times['ours'] / times['transformers']:.2f}")
    print(f"ratio ours/causal       = {times['ours'] / times['causal']:.2f}")
    print(f"ratio ours/floor        = {times['ours'] / times['floor']:.2f}")
    report = BenchReport("xlnet", "two-stream masks and attention, both streams")
    case = f"batch {batch}, L = {seq_len}, d = {d_model}"
    report.add(case, "transformers XLNetRelativeAttention", "peer", times["ours"] / times["transformers"])
    report.add(case, "causal attention of the same shape", "peer", times["ours"] / times["causal"])
    report.add(case, "the matmuls alone", "floor", times["ours"] / times["floor"])
    return report


if __name__ == "__main__":
    main(smoke="--smoke" in sys.argv[1:])
