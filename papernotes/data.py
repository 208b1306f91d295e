"""Data that ships with a package or is generated: nothing is downloaded."""

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F


@dataclass(frozen=True)
class Split:
    """Train and test tensors of an image classification set."""

    x_train: torch.Tensor  # (N, C, H, W) float32
    y_train: torch.Tensor  # (N,) int64
    x_test: torch.Tensor
    y_test: torch.Tensor
    num_classes: int


def digits(size: int = 32, test_fraction: float = 0.25, seed: int = 0, channels: int = 1) -> Split:
    """scikit-learn's bundled 8x8 digits (1,797 images, 10 classes), upsampled to ``size``.

    Pixels are scaled to [0, 1] and standardised with the training split's mean and std.
    The split is stratified and fixed by ``seed``. ``channels=3`` repeats the grey channel for
    models that expect RGB input.
    """
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    if not isinstance(size, int) or size < 8:
        raise ValueError(f"size must be an int >= 8 (the images are 8x8), got {size!r}")
    if not 0 < test_fraction < 1:
        raise ValueError(f"test_fraction must be in (0, 1), got {test_fraction!r}")
    if channels not in (1, 3):
        raise ValueError(f"channels must be 1 or 3, got {channels!r}")
    bunch = load_digits()
    images = bunch.images.astype(np.float32) / 16.0  # (N, 8, 8), values 0..16
    idx_train, idx_test = train_test_split(
        np.arange(len(images)), test_size=test_fraction, random_state=seed, stratify=bunch.target
    )
    x = torch.from_numpy(images).unsqueeze(1)  # (N, 1, 8, 8)
    if size != 8:
        x = F.interpolate(x, size=(size, size), mode="bilinear", align_corners=False)  # (N, 1, size, size)
    y = torch.from_numpy(bunch.target).long()
    x_train, x_test = x[idx_train], x[idx_test]
    mean, std = x_train.mean(), x_train.std()
    x_train, x_test = (x_train - mean) / std, (x_test - mean) / std
    if channels == 3:
        x_train, x_test = x_train.expand(-1, 3, -1, -1).contiguous(), x_test.expand(-1, 3, -1, -1).contiguous()
    return Split(x_train, y[idx_train], x_test, y[idx_test], num_classes=10)
