"""Make a companion's numbers reproducible: seeds, one thread, deterministic kernels."""

import os
import random
import warnings

import numpy as np
import torch
from threadpoolctl import threadpool_limits


def configure(seed: int = 0, threads: int = 1) -> torch.Generator:
    """Seed every generator, fix the thread counts and ask for deterministic kernels.

    Float32 reductions depend on how many threads split them, so a notebook executed with
    two threads can print different digits than one executed with one. Pinning the count
    (default 1) makes what nbval compares independent of OMP_NUM_THREADS.
    Returns a torch.Generator seeded with ``seed`` for code that wants its own stream.
    """
    if not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")
    if not isinstance(threads, int) or threads < 1:
        raise ValueError(f"threads must be a positive int, got {threads!r}")
    os.environ["PYTHONHASHSEED"] = str(seed)
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.set_num_threads(threads)
    # numpy's BLAS (scikit-learn, scipy) splits work by thread count too; pin it for good.
    threadpool_limits(threads)
    torch.use_deterministic_algorithms(True)
    # tqdm.auto warns once per kernel when ipywidgets is absent; it is noise in compared stderr.
    warnings.filterwarnings("ignore", message="IProgress not found")
    return torch.Generator().manual_seed(seed)
