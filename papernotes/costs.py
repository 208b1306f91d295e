"""What a model costs: parameters and multiply-adds, counted without running arithmetic."""

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode


def count_params(model: nn.Module) -> int:
    """Trainable and frozen parameters; BatchNorm running statistics are buffers, not counted."""
    return sum(p.numel() for p in model.parameters())


def multiply_adds(model: nn.Module, resolution: int = 224, channels: int = 3) -> int:
    """Multiply-adds of convolutions and matrix products for one image, as papers count "FLOPs".

    PyTorch's FlopCounterMode counts 2 per multiply-add and nothing else (norms, activations,
    pooling, element-wise products), so the count is halved. Build ``model`` under
    ``torch.device("meta")``: the input is a meta tensor and no arithmetic runs.
    """
    if resolution < 1 or channels < 1:
        raise ValueError(f"resolution and channels must be >= 1, got {resolution=}, {channels=}")
    with torch.device("meta"):
        x = torch.empty(1, channels, resolution, resolution)
    with FlopCounterMode(display=False) as counter:
        model(x)
    return counter.get_total_flops() // 2
