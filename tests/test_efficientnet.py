"""EfficientNet's compound-scaling core against timm and the official rounding rules."""

import pytest
import timm
import torch

from papernotes import load_core

core = load_core("companions/efficientnet.py")


def count(model):
    return sum(p.numel() for p in model.parameters())


@pytest.mark.parametrize("name", sorted(core.EFFICIENTNET_COEFFS))
def test_parameter_count_equals_timm(name):
    width, depth, _ = core.EFFICIENTNET_COEFFS[name]
    with torch.device("meta"):
        assert count(core.build_efficientnet(width, depth)) == count(timm.create_model(name, pretrained=False))


@pytest.mark.parametrize(
    "channels, width, expected",
    [(1280, 2.0, 2560), (32, 1.1, 32), (16, 1.4, 24), (40, 1.1, 48), (80, 1.1, 88), (112, 1.2, 136), (8, 0.1, 8)],
)
def test_round_channels_known_values(channels, width, expected):
    assert core.round_channels(channels, width) == expected


def test_round_channels_never_loses_more_than_ten_percent():
    for channels in range(1, 400):
        for width in (0.35, 0.5, 0.75, 1.1, 1.3, 1.7, 2.3):
            rounded = core.round_channels(channels, width)
            assert rounded % 8 == 0 and rounded >= 0.9 * channels * width


def test_repeats_round_up():
    assert [s.repeats for s in core.scale_stages(2.0, 3.1)] == [4, 7, 7, 10, 10, 13, 4]  # B7
    assert core.round_repeats(1, 1.1) == 2


def test_b1_differs_from_b0_only_in_depth():
    # round() instead of ceil() would make B1 identical to B0 (5,288,548 parameters).
    with torch.device("meta"):
        assert count(core.build_efficientnet(1.0, 1.1)) != count(core.build_efficientnet(1.0, 1.0))


def test_forward_shape_and_bad_input():
    model = core.build_efficientnet(1.0, 1.0, num_classes=7).eval()
    with torch.no_grad():
        assert model(torch.randn(2, 3, 64, 64)).shape == (2, 7)
    with pytest.raises(ValueError, match="num_classes"):
        core.build_efficientnet(1.0, 1.0, num_classes=0)
    with pytest.raises(ValueError, match="width"):
        core.round_channels(32, 0.0)
    with pytest.raises(ValueError, match="depth"):
        core.round_repeats(2, -1.0)
