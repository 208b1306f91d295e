"""The ConvNeXt block, ConvNeXt-T and the roadmap's end points against timm and by-hand math."""

import dataclasses

import pytest
import timm
import torch
import torch.nn.functional as F
from timm.models.convnext import ConvNeXtBlock as TimmConvNeXtBlock

from papernotes import load_core

core = load_core("companions/convnext.py")


def count(model):
    return sum(p.numel() for p in model.parameters())


def copy_into(ours, theirs):
    mine, other = ours.state_dict(), theirs.state_dict()
    assert [t.shape for t in mine.values()] == [t.shape for t in other.values()]
    ours.load_state_dict(dict(zip(mine.keys(), other.values())))


@pytest.mark.parametrize("dim, kernel", [(16, 7), (24, 3), (40, 5)])
def test_block_equals_timm(dim, kernel):
    reference = TimmConvNeXtBlock(dim, kernel_size=kernel).double().eval()
    torch.nn.init.normal_(reference.gamma)
    block = core.ConvNeXtBlock(dim, kernel).double().eval()
    copy_into(block, reference)
    x = torch.randn(2, dim, 10, 9, dtype=torch.float64)
    torch.testing.assert_close(block(x), reference(x), rtol=1e-12, atol=1e-12)


def test_block_equals_the_equation_written_out():
    block = core.ConvNeXtBlock(8).double()
    torch.nn.init.normal_(block.gamma)
    x = torch.randn(1, 8, 7, 7, dtype=torch.float64)
    y = F.conv2d(x, block.dwconv.weight, block.dwconv.bias, padding=3, groups=8)  # (1, 8, 7, 7)
    mean, var = y.mean(dim=1, keepdim=True), y.var(dim=1, unbiased=False, keepdim=True)
    y = (y - mean) / torch.sqrt(var + 1e-6) * block.norm.weight[:, None, None] + block.norm.bias[:, None, None]
    hidden = torch.einsum("oc,bchw->bohw", block.pwconv1.weight, y) + block.pwconv1.bias[:, None, None]
    hidden = 0.5 * hidden * (1 + torch.erf(hidden / 2**0.5))  # exact GELU
    out = torch.einsum("oc,bchw->bohw", block.pwconv2.weight, hidden) + block.pwconv2.bias[:, None, None]
    torch.testing.assert_close(block(x), x + block.gamma[:, None, None] * out, rtol=1e-12, atol=1e-12)


def test_block_parameters_are_8c2_plus_58c():
    for dim in (1, 7, 96, 768):
        assert count(core.ConvNeXtBlock(dim)) == 8 * dim**2 + 58 * dim


def test_convnext_tiny_parameter_count_equals_timm():
    with torch.device("meta"):
        assert count(core.build_convnext()) == count(timm.create_model("convnext_tiny", pretrained=False)) == 28_589_128


def test_small_convnext_equals_timm():
    config = dict(depths=(1, 2, 1, 1), dims=(8, 16, 24, 32))
    reference = timm.models.convnext.ConvNeXt(num_classes=10, **config).double().eval()
    for module in reference.modules():
        if isinstance(module, TimmConvNeXtBlock):
            torch.nn.init.uniform_(module.gamma, 0.5, 1.5)
    model = core.build_convnext(num_classes=10, **config).double().eval()
    copy_into(model, reference)
    x = torch.randn(2, 3, 64, 64, dtype=torch.float64)
    with torch.no_grad():
        torch.testing.assert_close(model(x), reference(x), rtol=1e-10, atol=1e-10)


def test_roadmap_ends_are_resnet50_and_convnext_tiny():
    steps = core.roadmap()
    assert len(steps) == 13
    names = list(steps)
    for previous, current in zip(names, names[1:-1]):  # every step but the last changes one field
        a, b = dataclasses.asdict(steps[previous]), dataclasses.asdict(steps[current])
        assert sum(a[k] != b[k] for k in a) == 1, current
    with torch.device("meta"):
        assert count(core.build_roadmap_model(steps["ResNet-50"])) == count(timm.create_model("resnet50", pretrained=False))
        last = core.build_roadmap_model(steps["separate downsampling"])
        assert sorted(p.numel() for p in last.parameters()) == sorted(p.numel() for p in core.build_convnext().parameters())


def test_every_roadmap_model_runs():
    for design in core.roadmap().values():
        model = core.build_roadmap_model(dataclasses.replace(design, width=8), num_classes=3).eval()
        with torch.no_grad():
            assert model(torch.randn(1, 3, 32, 32)).shape == (1, 3)


def test_bad_input():
    with pytest.raises(ValueError, match="kernel_size"):
        core.ConvNeXtBlock(8, kernel_size=4)
    with pytest.raises(ValueError, match="dim"):
        core.ConvNeXtBlock(0)
    with pytest.raises(ValueError, match="depths and dims"):
        core.build_convnext(depths=(3, 3), dims=(96,))
    with pytest.raises(ValueError, match="num_classes"):
        core.build_convnext(num_classes=0)
    with pytest.raises(ValueError, match="design.block"):
        core.build_roadmap_model(core.Design(block="transformer"))
    with pytest.raises(ValueError, match="num_classes"):
        core.build_roadmap_model(core.Design(), num_classes=0)
