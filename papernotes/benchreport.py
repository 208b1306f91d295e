"""What a benchmark found, as ratios: the format `make bench` commits and the site renders.

Each benchmark's ``main(smoke)`` returns a ``BenchReport``: for its companion's core, one row
per (case, what it is compared with) giving our time divided by theirs. Against a peer a ratio
below 1 means ours is faster; against a floor (the least any implementation must do, such as
one matmul or one copy) a ratio says how far from it we are. Ratios from one run on one
machine, not absolute times, are what a shared machine can report honestly.
"""

import math
from dataclasses import asdict, dataclass, field

KINDS = ("peer", "floor")


@dataclass
class BenchReport:
    slug: str  # the companion whose core is timed
    core: str  # what is timed, e.g. "NT-Xent forward + backward, d = 128"
    rows: list[dict] = field(default_factory=list)

    def add(self, case: str, against: str, kind: str, ratio: float, target: float | None = None) -> None:
        """Record ours / theirs for ``case`` (e.g. "2N = 512") against ``against``.

        ``kind`` is "peer" or "floor"; ``target`` is the ratio we aim to stay at or under,
        when one was set (the site shows whether it was met).
        """
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
        if not (isinstance(ratio, (int, float)) and math.isfinite(ratio) and ratio > 0):
            raise ValueError(f"ratio must be a positive finite number, got {ratio!r}")
        if target is not None and not target > 0:
            raise ValueError(f"target must be a positive number or None, got {target!r}")
        row = {"case": case, "against": against, "kind": kind, "ratio": round(float(ratio), 3)}
        if target is not None:
            row["target"] = target
        self.rows.append(row)

    def to_json(self) -> dict:
        return asdict(self)


RESULTS_FILE = "benchmarks/results.json"


def write_results(reports: list[BenchReport], path: str = RESULTS_FILE) -> None:
    """Merge ``reports`` into the committed results file, with where and when they were measured.

    A run of some benchmarks replaces only their cores; each core keeps its own provenance.
    """
    import json
    import os
    from pathlib import Path

    from papernotes.notebooks import provenance

    target = Path(path)
    results = json.loads(target.read_text(encoding="utf-8")) if target.exists() else {"cores": []}
    record = provenance(0.0)
    record.pop("runtime_s")
    record["threads"] = 2  # every benchmark pins two threads, the 2-core machine's count
    record["cpus"] = os.cpu_count()
    replaced = {(r.slug, r.core) for r in reports}
    kept = [c for c in results["cores"] if (c["slug"], c["core"]) not in replaced]
    results["cores"] = sorted(kept + [dict(r.to_json(), measured=record) for r in reports], key=lambda c: (c["slug"], c["core"]))
    target.write_text(json.dumps(results, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
