"""Copy a reference model's weights into ours, so that outputs can be compared exactly."""

from torch import nn


def copy_weights_in_order(target: nn.Module, source: nn.Module) -> int:
    """Load ``source``'s tensors into ``target`` by position in their state dicts; returns the count.

    Two implementations of one architecture rarely share tensor names, but they register
    tensors in the same order. A tensor may change shape, not size (a 1x1 conv's weight
    (C_out, C_in, 1, 1) loads into a linear layer's (C_out, C_in)).
    """
    mine, theirs = target.state_dict(), list(source.state_dict().values())
    if len(mine) != len(theirs):
        raise ValueError(f"target has {len(mine)} tensors but source has {len(theirs)}")
    for (name, tensor), other in zip(mine.items(), theirs):
        if tensor.numel() != other.numel():
            raise ValueError(f"target tensor {name!r} has {tensor.numel()} elements, source's has {other.numel()}")
    target.load_state_dict({name: other.reshape(tensor.shape) for (name, tensor), other in zip(mine.items(), theirs)})
    return len(mine)
