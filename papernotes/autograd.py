"""Whether a custom backward may write over what its forward saved.

A hand-written backward that ends in a full-size map (GeM's input gradient, NT-Xent's
coefficient matrix) can reuse a saved tensor of that size instead of allocating a new one: on
a two-core machine a fresh 19 MB map costs about as much as a pass over it, in page faults.
That is safe only when autograd frees the graph after this backward pass, which is the
default; with ``retain_graph=True`` a second backward would read the overwritten tensor. A
``saved_tensors_hooks`` pack hook that keeps the tensor itself (rather than a copy) sees it
overwritten too.
"""

import torch


def saved_tensors_used_once() -> bool:
    """True inside a backward pass that frees the graph after it (no ``retain_graph=True``).

    PyTorch answers this question for its own compiled backward passes ("donated buffers" in
    torch/_functorch/_aot_autograd/runtime_wrappers.py) with a private call; if a later release
    drops that call, the answer is False, so callers allocate as before and stay correct.
    Outside a backward pass the answer is False too.
    """
    keep_graph = getattr(torch._C._autograd, "_get_current_graph_task_keep_graph", None)
    return keep_graph is not None and not keep_graph()
