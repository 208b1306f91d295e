"""The Performance page: each core's speed against its peers and floors, from committed results.

`make bench` writes the ratios it measured, with their provenance, to a JSON file the
repository commits (``benchmarks/results.json``); this page renders that file and never runs a
benchmark. A ratio is our time over theirs: below 1 against a peer means ours is faster; against
a floor (the least any implementation must do) it says how far from that least we are. Each
core's ratios are drawn as bars on a log scale, at build time, as inline SVG.
"""

import html
import json
import math
from pathlib import Path

PERFORMANCE_PAGE = "performance.md"
_LOW, _HIGH = 0.01, 1000.0  # the chart's log-scale range; ratios outside it are drawn at the edge


def read_results(path: Path) -> dict | None:
    """The committed results, or None when `make bench` has not written any yet."""
    if not path.exists():
        return None
    data = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict) or not isinstance(data.get("cores"), list):
        raise ValueError(f"{path}: expected {{'cores': [...]}} as `make bench` writes it; re-run `make bench`")
    return data


def anchor(slug: str) -> str:
    return f"perf-{slug}"


def _x(ratio: float, width: float) -> float:
    clipped = min(max(ratio, _LOW), _HIGH)
    return width * (math.log10(clipped) - math.log10(_LOW)) / (math.log10(_HIGH) - math.log10(_LOW))


def ratio_chart(rows: list[dict], width: int = 480, bar: int = 14) -> str:
    """Horizontal bars on a log scale from 0.01x to 1000x, one per row, with 1x marked."""
    gap, label_width = 4, 0
    height = len(rows) * (bar + gap) + 16
    parts = []
    for index, row in enumerate(rows):
        y = index * (bar + gap)
        colour = "#1976d2" if row["kind"] == "peer" else "#757575"
        title = f"{row['case']}: {row['ratio']:g}x {row['against']} ({row['kind']})"
        parts.append(
            f'<rect x="{label_width}" y="{y}" width="{_x(row["ratio"], width):.1f}" height="{bar}" fill="{colour}">'
            f"<title>{html.escape(title)}</title></rect>"
        )
        if "target" in row:
            tx = _x(row["target"], width)
            parts.append(f'<line x1="{tx:.1f}" x2="{tx:.1f}" y1="{y - 1}" y2="{y + bar + 1}" stroke="currentColor" stroke-width="2"'
                         f' stroke-dasharray="3 2"><title>target {row["target"]:g}x</title></line>')
    one = _x(1.0, width)
    axis_y = len(rows) * (bar + gap) + 12
    parts.append(f'<line x1="{one:.1f}" x2="{one:.1f}" y1="0" y2="{axis_y - 10}" stroke="currentColor" stroke-width="1"/>')
    for tick in (0.01, 0.1, 1, 10, 100, 1000):
        parts.append(f'<text x="{_x(tick, width):.1f}" y="{axis_y}" font-size="10" text-anchor="middle" fill="currentColor">{tick:g}x</text>')
    return (
        f'<svg class="ratio-chart" viewBox="-14 0 {width + 40} {height}" role="img" '
        f'aria-label="ratios on a log scale; the line marks 1x, dashes mark targets">{"".join(parts)}</svg>'
    )


def _measured(core: dict) -> str:
    m = core.get("measured", {})
    versions = ", ".join(f"{k} {v}" for k, v in m.get("versions", {}).items() if k in ("python", "torch", "timm"))
    when = m.get("executed_at", "?").replace("T", " ").removesuffix("Z")
    return f"Measured {when} UTC on {m.get('machine', '?')} ({m.get('cpus', '?')} CPUs, {m.get('threads', '?')} threads) with {versions}."


def performance_page(results: dict | None, paper) -> str:
    """The page's Markdown; ``paper(slug)`` gives (title, link target of its note), or None."""
    lines = [
        "# Performance",
        "",
        "How fast each companion's core runs, as ratios measured by `make bench` in one run on the 2-core machine "
        "(absolute times on a shared machine are noise; ratios from one run are not). A ratio is our time divided by "
        "theirs: against a **peer** (the library a user would pick) below 1 means ours is faster; against a **floor** "
        "(the least any implementation must do, such as one matmul or one copy) it says how far from that least we "
        "are. Dashed marks are targets we set ourselves. The site renders the committed results and never runs a benchmark.",
        "",
    ]
    if not results or not results["cores"]:
        return "\n".join(lines + ["No results yet: run `make bench` and commit `benchmarks/results.json`.", ""])
    for slug in sorted({c["slug"] for c in results["cores"]}):
        title, link = paper(slug) or (slug, None)
        lines += [f"## {html.escape(title)} {{#{anchor(slug)}}}", "", f"The paper: [its note]({link})." if link else "", ""]
        for core in (c for c in results["cores"] if c["slug"] == slug):
            lines += [f"**{html.escape(core['core'])}.** {_measured(core)}", "", ratio_chart(core["rows"]), "",
                      "| Case | Compared with | Kind | Ours / theirs | Target |", "|---|---|---|---:|---|"]
            for row in core["rows"]:
                target = ""
                if "target" in row:
                    target = f"≤ {row['target']:g}: " + ("met" if row["ratio"] <= row["target"] else "**missed**")
                lines.append(f"| {html.escape(row['case'])} | {html.escape(row['against'])} | {row['kind']} | {row['ratio']:g} | {target} |")
            lines.append("")
    return "\n".join(lines)
