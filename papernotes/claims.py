"""The claim ledger: every paper claim, where it stands in the paper, our number, a verdict.

A companion records each claim once, in its Claims section, and ends that section with
``ledger.show()``. The output carries a machine-readable copy (MIME type ``CLAIMS_MIME``)
from which the site builds the note's claims table and the site-wide claims page, so no
number on the site is typed by hand.
"""

import html
import json
import re
from dataclasses import asdict, dataclass
from enum import Enum
from pathlib import Path

CLAIMS_MIME = "application/vnd.papernotes.claims+json"
_CLAIM_ID = re.compile(r"^C[1-9]\d*$")


class Verdict(str, Enum):
    EXACT = "exact"
    WITHIN_TOLERANCE = "within tolerance"
    REPRODUCED_SMALL = "reproduced at small scale"
    NOT_REPRODUCED = "not reproduced"
    NOT_CHECKABLE = "not checkable on CPU"


# What each verdict promises a reader; the home page shows it beside the counts.
VERDICT_MEANINGS = {
    Verdict.EXACT: "our value equals the paper's (to its printed precision)",
    Verdict.WITHIN_TOLERANCE: "close, with the tolerance stated",
    Verdict.REPRODUCED_SMALL: "the effect shows on small data, with the setup stated",
    Verdict.NOT_REPRODUCED: "measured and not found, with the numbers",
    Verdict.NOT_CHECKABLE: "needs resources a CPU does not have, with the reason",
}

# Verdicts that mean nothing without a sentence: which tolerance, what scale, why not.
_NEEDS_DETAIL = {
    Verdict.WITHIN_TOLERANCE: "the tolerance used",
    Verdict.REPRODUCED_SMALL: "the scale and setup",
    Verdict.NOT_REPRODUCED: "what was measured instead",
    Verdict.NOT_CHECKABLE: "why it cannot be checked on CPU",
}


@dataclass(frozen=True)
class Claim:
    id: str
    claim: str
    where: str
    paper: str
    ours: str
    verdict: Verdict
    detail: str = ""
    anchor: str = ""  # heading id of the companion cell that checks it, without '#'

    def __post_init__(self):
        if not _CLAIM_ID.match(self.id):
            raise ValueError(f"claim id must look like C1, C2, ...; got {self.id!r}")
        if not isinstance(self.verdict, Verdict):
            allowed = ", ".join(repr(v.value) for v in Verdict)
            raise ValueError(f"verdict must be a Verdict ({allowed}); got {self.verdict!r}")
        for field in ("claim", "where", "paper", "ours"):
            if not str(getattr(self, field)).strip():
                raise ValueError(f"claim {self.id}: {field} must not be empty")
        if self.verdict in _NEEDS_DETAIL and not self.detail.strip():
            raise ValueError(
                f"claim {self.id}: verdict {self.verdict.value!r} needs detail: {_NEEDS_DETAIL[self.verdict]}"
            )


class ClaimLedger:
    """Collects a companion's claims in order and renders them as one table."""

    def __init__(self, paper: str):
        self.paper = paper
        self.claims: list[Claim] = []

    def record(self, id, claim, where, paper, ours, verdict, detail="", anchor="") -> None:
        """Validate and add a claim. Returns None, so a notebook cell ending in it prints nothing."""
        if any(existing.id == id for existing in self.claims):
            raise ValueError(f"claim {id} is recorded twice")
        self.claims.append(Claim(id, claim, where, paper, str(ours), verdict, detail, anchor))

    def to_json(self) -> dict:
        return {"paper": self.paper, "claims": [dict(asdict(c), verdict=c.verdict.value) for c in self.claims]}

    def to_markdown(self) -> str:
        return claims_markdown(self.to_json()["claims"])

    def show(self):
        """Display the table, with the machine-readable copy alongside it."""
        from IPython.display import display

        display({"text/markdown": self.to_markdown(), CLAIMS_MIME: self.to_json()}, raw=True)


def _cell(text: str) -> str:
    return html.escape(str(text)).replace("|", "\\|").replace("\n", " ")


def claims_markdown(claims: list[dict], link=None) -> str:
    """Render claims (dicts as in ``ClaimLedger.to_json``) as a Markdown table.

    ``link`` optionally maps a claim dict to a URL for its ID cell.
    """
    rows = ["| ID | Claim | Where | Paper | Ours | Verdict |", "|---|---|---|---|---|---|"]
    for claim in claims:
        ident = f"[{claim['id']}]({link(claim)})" if link else claim["id"]
        verdict = f"**{claim['verdict']}**" + (f": {_cell(claim['detail'])}" if claim["detail"] else "")
        cells = [ident, _cell(claim["claim"]), _cell(claim["where"]), _cell(claim["paper"]), _cell(claim["ours"]), verdict]
        rows.append("| " + " | ".join(cells) + " |")
    return "\n".join(rows)


def read_claims(notebook: str | Path) -> dict | None:
    """Return the ledger stored in an executed twin, or None if it has none."""
    data = json.loads(Path(notebook).read_text(encoding="utf-8"))
    for cell in data.get("cells", []):
        for output in cell.get("outputs", []):
            payload = output.get("data", {}).get(CLAIMS_MIME)
            if payload is not None:
                return payload
    return None


def _recorded_ids(source: str) -> list[str]:
    return re.findall(r"\.record\(\s*[\"'](C[1-9]\d*)[\"']", source)


def claim_fragments(notebook: str | Path) -> dict[str, str]:
    """Where on the companion page each claim is checked, as a URL fragment (without '#').

    A claim's own ``anchor`` wins; otherwise the code cell that records it (nbconvert gives
    each cell the id 'cell-id=<cell id>'); otherwise the Claims heading.
    """
    data = json.loads(Path(notebook).read_text(encoding="utf-8"))
    fragments = {}
    for cell in data.get("cells", []):
        if cell.get("cell_type") == "code" and cell.get("id"):
            for claim_id in _recorded_ids("".join(cell.get("source", ""))):
                fragments.setdefault(claim_id, f"cell-id={cell['id']}")
    ledger = read_claims(notebook) or {"claims": []}
    return {c["id"]: c.get("anchor") or fragments.get(c["id"], "claims") for c in ledger["claims"]}
