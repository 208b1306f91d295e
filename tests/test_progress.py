"""Training progress: printed when a person runs a companion in a terminal and asks for it,
never into a notebook's outputs."""

import io

import pytest
import torch
from torch import nn

from papernotes import training


class _Terminal(io.StringIO):
    def isatty(self):
        return True


def _train(**kwargs):
    x, y = torch.randn(8, 2, generator=torch.Generator().manual_seed(0)), torch.tensor([0, 1] * 4)
    training.train_classifier(nn.Linear(2, 2), x, y, epochs=2, lr=0.1, **kwargs)


@pytest.mark.parametrize("env, stream, shown", [
    ("1", _Terminal(), True),
    (None, _Terminal(), False),
    ("0", _Terminal(), False),
    ("1", io.StringIO(), False),  # a kernel's stderr is no terminal: notebooks stay clean
])
def test_progress_follows_the_environment_and_the_terminal(monkeypatch, env, stream, shown):
    if env is None:
        monkeypatch.delenv(training.PROGRESS_ENV, raising=False)
    else:
        monkeypatch.setenv(training.PROGRESS_ENV, env)
    monkeypatch.setattr("sys.stderr", stream)
    _train()
    assert ("epoch 2/2 loss" in stream.getvalue()) == shown


def test_explicit_progress_overrides_the_default(monkeypatch):
    stream = io.StringIO()
    monkeypatch.delenv(training.PROGRESS_ENV, raising=False)
    monkeypatch.setattr("sys.stderr", stream)
    _train(progress=True)
    assert stream.getvalue().count("epoch ") == 2
