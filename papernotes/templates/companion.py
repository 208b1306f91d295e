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
# Companion to the note [${heading}](../../notes/${topic}/${slug}/). It implements the paper's
# core, checks it against references, and records a verdict for each of the paper's claims.

# %% [markdown]
# ## Setup
#
# One thread and fixed seeds, so that every printed number is the same on every run.

# %%
from papernotes import ClaimLedger, Verdict, configure

configure(seed=0, threads=1)

# %% [markdown]
# ## Method (the core)
#
# The paper's core in readable PyTorch. The note embeds the code between the markers, and
# tests load it with `papernotes.load_core`.

# %%
# --8<-- [start:core]
def method(x):
    """The paper's core: replace this placeholder."""
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
# Each claim of the paper, the number it reports, ours, and a verdict.

# %%
ledger = ClaimLedger("${slug}")
ledger.record(
    "C1", "placeholder: the paper's first claim", "Section 1", "the paper's number", "not measured yet",
    Verdict.NOT_CHECKABLE, "placeholder: replace with the paper's claims and check them",
)
ledger.show()

# %% [markdown]
# ## Small experiment
#
# The paper's effect at a scale a laptop CPU runs in about a minute.

# %% [markdown]
# ## What this does not show
#
# - What the small scale cannot say about the paper's full-scale results.
