# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # ${heading}: checked
#
# Companion to the note [${heading}](${note_from_companion}). It implements the paper's
# core, checks it against references, and records a verdict for each of the paper's claims.

# %% [markdown]
# ## Setup
#
# One thread and fixed seeds, so that every printed number is the same on every run.

# %%
from papernotes import ClaimLedger, NotCheckable, configure

configure(seed=0, threads=1)

# %% [markdown]
# ## Method (the core)
#
# The paper's core in readable PyTorch. The note embeds the code between the markers, and
# tests load it with `papernotes.load_core`.

# %%
# --8<-- [start:core]
def method(x):
    """FILL IN: the paper's core, citing its equation; this identity is a placeholder."""
    return x
# --8<-- [end:core]

# %% [markdown]
# ## Checks against references
#
# The core against an independent reference (timm, a float64 brute force, a peer library).

# %% [markdown]
# ## Baseline (timm)
#
# The closest existing implementation, for comparison.

# %% [markdown]
# ## Claims
#
# The register: every claim of the paper with its test, declared before anything is measured
# (PrintedPrecision, Tolerance with its cause, Effect over seeds, or NotCheckable with the
# reason). Later cells measure; the ledger computes each verdict.

# %%
ledger = ClaimLedger("${slug}")
ledger.declare(
    "C1", "FILL IN: the paper's first claim", where="FILL IN: arXiv version and table, figure or section",
    paper="FILL IN: what the paper reports", test=NotCheckable("FILL IN: declare the claim's real test"),
)

# %%
ledger.show()

# %% [markdown]
# ## Small experiment
#
# The paper's effect at a scale a laptop CPU runs in about a minute.

# %% [markdown]
# ## What this does not show
#
# - FILL IN: what the small scale cannot say about the paper's full-scale results.
