"""Shared plumbing for Paper Notes companions: one concept per module.

- environment: seeds, thread count, deterministic kernels
- data: bundled and generated data sets
- training: a tiny training loop and accuracy
- claims: the claims ledger (declared tests, computed verdicts) every companion ends with
- timing: wall-clock and peak-memory measurement for benchmarks
- costs: parameters and multiply-adds of a model
- weights: copy a reference model's weights into ours by position
- cores: load a companion's method core without running the notebook
- autograd: whether a hand-written backward may write over what its forward saved

- notebooks: clean re-execution of a companion into its twin (`make execute`)

The site builder is the separate package ``papersite``; it never imports this one. The
claims format both sides read lives there (``papersite.claims_format``).
"""

# What companions import from the package, and the module that defines each. They load on
# first use, so `python -m papernotes check` and `new` run without torch.
_EXPORTS = {
    "ClaimLedger": "papernotes.claims",
    "Effect": "papernotes.claims",
    "NotCheckable": "papernotes.claims",
    "PrintedPrecision": "papernotes.claims",
    "Tolerance": "papernotes.claims",
    "configure": "papernotes.environment",
    "load_core": "papernotes.cores",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name not in _EXPORTS:
        raise AttributeError(f"module 'papernotes' has no attribute {name!r}; it exports {__all__}")
    import importlib

    return getattr(importlib.import_module(_EXPORTS[name]), name)
