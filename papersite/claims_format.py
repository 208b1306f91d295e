"""The claims format, read by both sides: the ledger writes it, the site renders it.

A companion's ``ledger.show()`` stores its claims as one output of MIME type ``CLAIMS_MIME``:
``{"paper": slug, "claims": [claim, ...]}``. Each claim is a dict with ``id``, ``claim``,
``where``, ``paper``, ``ours`` (display strings), ``test`` (``kind``, ``rule`` and the test's
parameters), ``verdict``, ``detail``, ``note``, ``anchor``, ``cell`` (the digest of the source of
the notebook cell that checked it, see ``cell_digest``) and, for numeric tests, ``comparisons`` (per value: paper, ours,
difference, allowed, outcome) or, for effects, ``seeds`` (per seed: value, holds).

This module imports nothing beyond the standard library, so the site builds without torch.
"""

import hashlib
import html
from enum import Enum

CLAIMS_MIME = "application/vnd.papernotes.claims+json"
MIN_SEEDS = 3


class Verdict(str, Enum):
    EXACT = "exact"
    BEATS_PAPER = "beats the paper"
    WITHIN_TOLERANCE = "within tolerance"
    REPRODUCED_SMALL = "reproduced at small scale"
    NOT_REPRODUCED = "not reproduced"
    NOT_CHECKABLE = "not checkable on CPU"


# What each verdict promises a reader; the home page shows it beside the counts.
VERDICT_MEANINGS = {
    Verdict.EXACT: "our value equals the paper's at the precision the paper printed",
    Verdict.BEATS_PAPER: "our value is better than the paper's, in the claim's own direction",
    Verdict.WITHIN_TOLERANCE: "within a tolerance declared in advance, with its cause",
    Verdict.REPRODUCED_SMALL: "the effect holds on every seed of a small experiment declared in advance",
    Verdict.NOT_REPRODUCED: "measured, and the declared test failed: the numbers are shown",
    Verdict.NOT_CHECKABLE: "needs resources a CPU does not have, with the reason",
}

# Test kind (as stored) -> the ledger's class that declares it.
TEST_KINDS = {
    "printed precision": "PrintedPrecision",
    "tolerance": "Tolerance",
    "effect": "Effect",
    "not checkable on CPU": "NotCheckable",
}


def cell_digest(source: str) -> str:
    """A short digest of a cell's source: how a claim names the cell that checked it."""
    return hashlib.sha256(source.strip().encode("utf-8")).hexdigest()[:16]


def explanation(claim: dict) -> str:
    """The numbers behind a stored claim's verdict, and the companion's note on them."""
    return "; ".join(part for part in (claim["detail"], claim.get("note", "")) if part)


def verdict_text(claim: dict) -> str:
    """The verdict with the numbers behind it, as one phrase for a reader."""
    return f"{claim['verdict']} ({explanation(claim)})" if explanation(claim) else claim["verdict"]


def _cell(text: str) -> str:
    return html.escape(str(text)).replace("|", "\\|").replace("\n", " ")


def claims_markdown(claims: list[dict], link=None) -> str:
    """Render stored claims as a Markdown table.

    ``link`` optionally maps a claim dict to a URL for its ID cell.
    """
    rows = ["| ID | Claim | Where | Paper | Ours | Test | Verdict |", "|---|---|---|---|---|---|---|"]
    for claim in claims:
        ident = f"[{claim['id']}]({link(claim)})" if link else claim["id"]
        why = explanation(claim)
        verdict = f"**{claim['verdict']}**" + (f": {_cell(why)}" if why else "")
        cells = [ident] + [_cell(claim[k]) for k in ("claim", "where", "paper", "ours")] + [_cell(claim["test"]["rule"]), verdict]
        rows.append("| " + " | ".join(cells) + " |")
    return "\n".join(rows)


def stored_claim_problems(claim: dict) -> list[str]:
    """What is wrong with one stored claim: no test, a tolerance without a cause, too few seeds."""
    test = claim.get("test")
    name = f"claim {claim.get('id', '?')}"
    if not isinstance(test, dict) or test.get("kind") not in TEST_KINDS:
        return [f"{name} has no test; declare it with test= one of {', '.join(TEST_KINDS.values())}"]
    if test["kind"] == "tolerance" and not str(test.get("cause", "")).strip():
        return [f"{name}: its tolerance names no cause; give Tolerance(cause=...)"]
    if test["kind"] == "effect" and len(test.get("seeds") or ()) < MIN_SEEDS:
        return [f"{name}: its effect has {len(test.get('seeds') or ())} seeds; give Effect(seeds=...) at least {MIN_SEEDS}"]
    if claim.get("verdict") not in {v.value for v in Verdict}:
        return [f"{name}: verdict {claim.get('verdict')!r} is not one the ledger computes"]
    return []
