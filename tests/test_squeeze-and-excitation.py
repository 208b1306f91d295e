"""The SE block and SE-ResNet-50 against timm, torchvision and the paper's parameter formula."""

import pytest
import timm
import torch
from timm.layers import SEModule, make_divisible
from torchvision.ops import SqueezeExcitation as TorchvisionSE

from papernotes import load_core

core = load_core("companions/squeeze-and-excitation.py")


def count(model):
    return sum(p.numel() for p in model.parameters())


def copy_conv_weights(block, peer):
    """timm and torchvision store the FCs as 1x1 convs; ours are linear layers."""
    pairs = zip(block.state_dict().items(), peer.state_dict().values())
    block.load_state_dict({name: other.reshape(mine.shape) for (name, mine), other in pairs})


@pytest.mark.parametrize("channels, divisor", [(64, 1), (64, 8), (96, 8), (512, 1)])
def test_block_equals_timm_se_module(channels, divisor):
    peer = SEModule(channels, rd_ratio=1 / 16, rd_divisor=divisor).double()
    block = core.SqueezeExcitation(channels, 16, divisor).double()
    copy_conv_weights(block, peer)
    u = torch.randn(3, channels, 5, 4, dtype=torch.float64)
    torch.testing.assert_close(block(u), peer(u), rtol=1e-12, atol=1e-12)


def test_block_equals_torchvision_and_a_by_hand_computation():
    block = core.SqueezeExcitation(32, reduction=4).double()
    peer = TorchvisionSE(32, 8).double()
    copy_conv_weights(block, peer)
    u = torch.randn(2, 32, 6, 6, dtype=torch.float64)
    torch.testing.assert_close(block(u), peer(u), rtol=1e-12, atol=1e-12)
    z = u.sum(dim=(2, 3)) / 36  # squeeze written out
    hidden = (z @ block.fc1.weight.T + block.fc1.bias).clamp(min=0)
    gate = 1 / (1 + torch.exp(-(hidden @ block.fc2.weight.T + block.fc2.bias)))
    torch.testing.assert_close(block(u), u * gate[:, :, None, None], rtol=1e-12, atol=1e-12)


def test_gates_lie_in_zero_one_and_identity_path_is_not_gated():
    block = core.SEBottleneck(64, 16, se_reduction=4).eval()
    with torch.no_grad():
        for p in block.se.parameters():
            p.fill_(-50.0)  # gate ~ sigmoid(-large) = 0: the block reduces to relu(x)
        x = torch.randn(2, 64, 8, 8)
        torch.testing.assert_close(block(x), torch.relu(x), rtol=0, atol=1e-6)


def test_reduced_width_matches_timm_make_divisible():
    for channels in range(1, 600):
        for reduction in (2, 4, 8, 16, 32):
            for divisor in (1, 4, 8):
                assert core.reduced_width(channels, reduction, divisor) == make_divisible(channels / reduction, divisor, round_limit=0.0)


@pytest.mark.parametrize(
    "name, kwargs",
    [("resnet50", dict(se_reduction=None)), ("seresnet50", dict(divisor=8)), ("legacy_seresnet50", dict(stride_in_1x1=True))],
)
def test_parameter_counts_equal_timm(name, kwargs):
    with torch.device("meta"):
        assert count(core.build_se_resnet(**kwargs)) == count(timm.create_model(name, pretrained=False))


def test_overhead_is_the_papers_formula_plus_biases():
    with torch.device("meta"):
        plain = count(core.build_se_resnet(se_reduction=None))
        for r in (2, 4, 8, 16, 32):
            weights = sum(2 * n * (256 * 2**s) ** 2 // r for s, n in enumerate(core.RESNET50_DEPTHS))
            biases = sum(n * (256 * 2**s + 256 * 2**s // r) for s, n in enumerate(core.RESNET50_DEPTHS))
            assert count(core.build_se_resnet(se_reduction=r)) - plain == weights + biases


def test_block_without_biases_equals_timm_and_the_papers_formula():
    peer = SEModule(256, rd_ratio=1 / 16, rd_divisor=1, bias=False).double()
    block = core.SqueezeExcitation(256, 16, bias=False).double()
    assert block.fc1.bias is None and block.fc2.bias is None
    copy_conv_weights(block, peer)
    u = torch.randn(2, 256, 5, 4, dtype=torch.float64)
    torch.testing.assert_close(block(u), peer(u), rtol=1e-12, atol=1e-12)
    with torch.device("meta"):
        plain = count(core.build_se_resnet(se_reduction=None))
        for r in (2, 16):
            weights = sum(2 * n * (256 * 2**s) ** 2 // r for s, n in enumerate(core.RESNET50_DEPTHS))
            assert count(core.build_se_resnet(se_reduction=r, se_bias=False)) - plain == weights


def test_forward_shape_and_bad_input():
    model = core.build_se_resnet(depths=(1, 1, 1, 1), num_classes=5).eval()
    with torch.no_grad():
        assert model(torch.randn(2, 3, 64, 64)).shape == (2, 5)
    with pytest.raises(ValueError, match="reduction"):
        core.reduced_width(64, 0)
    with pytest.raises(ValueError, match="divisor"):
        core.SqueezeExcitation(64, 16, divisor=0)
    with pytest.raises(ValueError, match="u must have shape"):
        core.SqueezeExcitation(64)(torch.randn(2, 32, 4, 4))
    with pytest.raises(ValueError, match="bias must be True or False"):
        core.SqueezeExcitation(64, bias="no")
    with pytest.raises(ValueError, match="depths"):
        core.build_se_resnet(depths=(3, 4, 6))
    with pytest.raises(ValueError, match="num_classes"):
        core.build_se_resnet(num_classes=0)
