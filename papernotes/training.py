"""A tiny, deterministic training loop for small classifiers on in-memory tensors."""

import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

_OPTIMIZERS = {"adam": torch.optim.Adam, "adamw": torch.optim.AdamW, "sgd": torch.optim.SGD}
PROGRESS_ENV = "PAPERNOTES_PROGRESS"


def progress_requested() -> bool:
    """Per-epoch progress when a person asked for it (PAPERNOTES_PROGRESS=1) and watches a terminal.

    A kernel's stderr is never a terminal, so executed twins and nbval's comparisons
    stay free of progress lines even when the variable is set.
    """
    return os.environ.get(PROGRESS_ENV) == "1" and sys.stderr.isatty()


@dataclass
class History:
    loss: list[float] = field(default_factory=list)  # mean training loss per epoch


def train_classifier(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    *,
    epochs: int,
    lr: float,
    batch_size: int = 64,
    optimizer: str = "adam",
    weight_decay: float = 0.0,
    seed: int = 0,
    augment: Callable[[torch.Tensor, torch.Generator], torch.Tensor] | None = None,
    make_optimizer: Callable[[list], torch.optim.Optimizer] | None = None,
    progress: bool | None = None,
) -> History:
    """Train ``model`` with cross-entropy; shuffling comes from its own seeded generator.

    ``make_optimizer`` overrides ``optimizer``/``lr``/``weight_decay`` for methods that need
    their own update rule. ``progress`` prints one line per epoch to stderr; by default it
    follows ``progress_requested()``, so companions need not pass it.
    """
    if epochs < 1:
        raise ValueError(f"epochs must be >= 1, got {epochs!r}")
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size!r}")
    if make_optimizer is not None:
        opt = make_optimizer(list(model.parameters()))
    elif optimizer in _OPTIMIZERS:
        extra = {"momentum": 0.9} if optimizer == "sgd" else {}
        opt = _OPTIMIZERS[optimizer](model.parameters(), lr=lr, weight_decay=weight_decay, **extra)
    else:
        raise ValueError(f"optimizer must be one of {sorted(_OPTIMIZERS)}, got {optimizer!r}")
    if progress is None:
        progress = progress_requested()
    generator = torch.Generator().manual_seed(seed)
    history = History()
    model.train()
    for epoch in range(epochs):
        order = torch.randperm(len(x), generator=generator)
        total, count = 0.0, 0
        for start in range(0, len(x), batch_size):
            batch = order[start:start + batch_size]
            xb, yb = x[batch], y[batch]
            if augment is not None:
                xb = augment(xb, generator)
            loss = F.cross_entropy(model(xb), yb)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            total, count = total + loss.item() * len(batch), count + len(batch)
        history.loss.append(total / count)
        if progress:
            print(f"epoch {epoch + 1}/{epochs} loss {history.loss[-1]:.4f}", file=sys.stderr)
    return history


@torch.no_grad()
def accuracy(model: nn.Module, x: torch.Tensor, y: torch.Tensor, batch_size: int = 512) -> float:
    """Fraction of ``x`` classified as ``y``, in eval mode."""
    model.eval()
    correct = 0
    for start in range(0, len(x), batch_size):
        correct += (model(x[start:start + batch_size]).argmax(dim=1) == y[start:start + batch_size]).sum().item()
    return correct / len(x)
