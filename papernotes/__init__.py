"""Shared plumbing for Paper Notes companions: one concept per module.

- environment: seeds, thread count, deterministic kernels
- data: bundled and generated data sets
- training: a tiny training loop and accuracy
- claims: the claims ledger (declared tests, computed verdicts) every companion ends with
- timing: wall-clock and peak-memory measurement for benchmarks
- costs: parameters and multiply-adds of a model
- weights: copy a reference model's weights into ours by position
- cores: load a companion's method core without running the notebook

The site side: notes (front matter), notebooks (twins, execution), integrity (checks),
site/pages/provenance/bibtex (the mkdocs plugin) and scaffold (`python -m papernotes new`).
"""

from papernotes.claims import ClaimLedger, Effect, NotCheckable, PrintedPrecision, Tolerance
from papernotes.cores import load_core
from papernotes.environment import configure

__all__ = ["ClaimLedger", "Effect", "NotCheckable", "PrintedPrecision", "Tolerance", "configure", "load_core"]
