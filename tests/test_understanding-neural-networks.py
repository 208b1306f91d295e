"""Lillicrap & Kording's measurements: description length, compression, weight alignment."""

import copy
import inspect
import lzma

import numpy as np
import pytest
import torch
from torch import nn

from papernotes import load_core

core = load_core("companions/understanding-neural-networks.py")


def random_mlp(seed, width=24, depth=2):
    torch.manual_seed(seed)
    return core.make_mlp(10, width, depth, 4)


def permuted(model, seed):
    """The same network with its hidden units shuffled by hand."""
    other = copy.deepcopy(model)
    generator = torch.Generator().manual_seed(seed)
    linears = [m for m in other if isinstance(m, nn.Linear)]
    with torch.no_grad():
        for layer, next_layer in zip(linears[:-1], linears[1:]):
            order = torch.randperm(layer.out_features, generator=generator)
            layer.weight.copy_(layer.weight[order])
            layer.bias.copy_(layer.bias[order])
            next_layer.weight.copy_(next_layer.weight[:, order])
    return other


@pytest.mark.parametrize("kind", ["repetitive", "random", "weights", "over 1 MiB"])
def test_compressed_bytes_equals_preset_9(kind):
    """The input-sized dictionary writes exactly as many bytes as preset 9's 64 MiB one."""
    rng = np.random.default_rng(0)
    data = {
        "repetitive": b"weights " * 1000,
        "random": rng.integers(0, 256, 50_000, dtype=np.uint8).tobytes(),
        "weights": b"".join(p.detach().numpy().tobytes() for p in random_mlp(7, width=64).parameters()),
        "over 1 MiB": rng.integers(0, 16, 1_200_000, dtype=np.uint8).tobytes(),  # 4 bits of entropy a byte
    }[kind]
    assert core.compressed_bytes(data) == len(lzma.compress(data, preset=9 | lzma.PRESET_EXTREME))


def test_compressed_bytes_rejects_text():
    with pytest.raises(ValueError, match="data must be bytes"):
        core.compressed_bytes("text")


def test_code_bytes_measures_the_source():
    source = inspect.getsource(core.make_mlp) + "\n" + inspect.getsource(core.train_mlp)
    assert core.code_bytes(core.make_mlp, core.train_mlp) == core.compressed_bytes(source.encode())


@pytest.mark.parametrize("bits", [2, 3, 5, 8])
def test_quantization_picks_the_nearest_level(bits):
    w = torch.randn(500, dtype=torch.float64)
    codes, scale = core.quantize_tensor(w, bits)
    levels = torch.arange(-(2 ** (bits - 1) - 1), 2 ** (bits - 1), dtype=torch.float64) * scale
    nearest = levels[(w[:, None] - levels[None, :]).abs().argmin(dim=1)]
    torch.testing.assert_close(codes.double() * scale, nearest, rtol=0, atol=1e-12)
    assert codes.abs().max() == 2 ** (bits - 1) - 1


@pytest.mark.parametrize("bits", [1, 9, 4.0])
def test_quantization_rejects_bad_bits(bits):
    with pytest.raises(ValueError, match="bits must be"):
        core.quantize_tensor(torch.randn(4), bits)


def test_pruning_keeps_the_largest_weights_and_leaves_the_original():
    model = random_mlp(0)
    before = [p.clone() for p in model.parameters()]
    pruned = core.prune_and_quantize(model, keep_fraction=0.25)
    matrices = [(p, q) for p, q in zip(model.parameters(), pruned.parameters()) if p.ndim == 2]
    magnitudes = torch.cat([p.detach().abs().flatten() for p, _ in matrices])
    kept = torch.cat([q.detach().flatten() != 0 for _, q in matrices])
    assert int(kept.sum()) == round(0.25 * magnitudes.numel())
    assert magnitudes[kept].min() >= magnitudes[~kept].max()
    for p, b in zip(model.parameters(), before):
        torch.testing.assert_close(p, b, rtol=0, atol=0)
    with pytest.raises(ValueError, match="keep_fraction"):
        core.prune_and_quantize(model, keep_fraction=0.0)


def test_weight_bytes_sees_redundancy():
    model = random_mlp(1)
    zeros = copy.deepcopy(model)
    with torch.no_grad():
        for p in zeros.parameters():
            p.zero_()
    params = sum(p.numel() for p in model.parameters())
    assert core.weight_bytes(model) > 0.8 * 4 * params  # random float32 barely compresses
    assert core.weight_bytes(zeros) < 0.05 * 4 * params
    assert core.weight_bytes(model, bits=4) < core.weight_bytes(model, bits=8) < core.weight_bytes(model)


@pytest.mark.parametrize("depth", [1, 2, 3])
def test_alignment_undoes_a_permutation(depth):
    model = random_mlp(2, depth=depth)
    recovered = core.align_hidden_units(model, permuted(model, seed=depth))
    for p, q in zip(recovered.parameters(), model.parameters()):
        torch.testing.assert_close(p, q, rtol=0, atol=0)


def test_alignment_keeps_the_function():
    reference, other = random_mlp(3), random_mlp(4)
    x = torch.randn(64, 10)
    with torch.no_grad():
        torch.testing.assert_close(core.align_hidden_units(reference, other)(x), other(x), rtol=1e-5, atol=1e-6)
    assert core.hidden_weight_correlation(reference, core.align_hidden_units(reference, other)) > core.hidden_weight_correlation(reference, other)
    with pytest.raises(ValueError, match="same layer shapes"):
        core.align_hidden_units(reference, random_mlp(5, width=12))


def test_similarity_and_agreement_of_a_network_with_itself():
    model = random_mlp(6)
    assert core.hidden_weight_correlation(model, model) == pytest.approx(1.0)
    assert core.prediction_agreement(model, permuted(model, seed=0), torch.randn(50, 10)) == 1.0


def test_train_mlp_learns_a_separable_task():
    torch.manual_seed(0)
    x = torch.randn(256, 10)
    y = (x[:, 0] > 0).long()
    model = core.train_mlp(core.make_mlp(10, 16, 1, 2), x, y, epochs=100, seed=0)
    with torch.no_grad():
        assert (model(x).argmax(dim=1) == y).double().mean() > 0.95
