"""An executed twin as the site and the checks see it: read once, asked many things.

A twin (``companions/<slug>.ipynb``) holds the companion's cells, their stored outputs, the
claims ledger (one output of the claims MIME type) and the execution record
(``metadata.papernotes``). ``read_twin`` parses the file once into an ``ExecutedTwin``.
"""

import json
from dataclasses import dataclass
from pathlib import Path

from papersite.claims_format import CLAIMS_MIME, cell_digest


@dataclass(frozen=True)
class ExecutedTwin:
    path: Path
    notebook: dict  # the .ipynb as JSON

    @property
    def cells(self) -> list[dict]:
        return self.notebook.get("cells", [])

    @property
    def ledger(self) -> dict | None:
        """The stored claims ledger, or None when no cell showed one."""
        for cell in self.cells:
            for output in cell.get("outputs", []):
                payload = output.get("data", {}).get(CLAIMS_MIME)
                if payload is not None:
                    return payload
        return None

    @property
    def claims(self) -> list[dict]:
        return (self.ledger or {"claims": []})["claims"]

    @property
    def record(self) -> dict | None:
        """The execution record (when, how long, where, which versions), or None."""
        return self.notebook.get("metadata", {}).get("papernotes")

    def fragments(self) -> dict[str, str]:
        """Where on the companion page each claim is checked, as a URL fragment (without '#').

        A claim's own ``anchor`` wins; otherwise the code cell that measured it (or, for a
        claim not checkable on CPU, declared it), known from the digest of the cell that was
        running when the ledger recorded it, so a claim measured in a loop still finds its own
        cell; otherwise the Claims heading. nbconvert gives each cell the id 'cell-id=<cell id>'.
        """
        by_digest = {
            cell_digest("".join(c["source"])): c["id"] for c in self.cells if c.get("cell_type") == "code" and c.get("id")
        }
        return {
            c["id"]: c.get("anchor") or (f"cell-id={by_digest[c['cell']]}" if c.get("cell") in by_digest else "claims")
            for c in self.claims
        }


def read_twin(path: str | Path) -> ExecutedTwin:
    path = Path(path)
    return ExecutedTwin(path, json.loads(path.read_text(encoding="utf-8")))
