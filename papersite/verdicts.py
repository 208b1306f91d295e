"""How verdicts look: a colour per verdict, a badge, and a stacked bar of a paper's claims.

The bar is inline SVG drawn at build time: no JavaScript library, nothing from another host.
The colours reach WCAG AA in both palettes: white badge text on each is at least 4.5:1, and
each bar segment stands at least 3:1 against the light and the dark (slate) background.
Every segment carries a <title>, and a text legend follows the bar.
"""

import html
from collections import Counter

from papersite.claims_format import Verdict

COLOURS = {
    Verdict.EXACT: "#2e7d32",
    Verdict.BEATS_PAPER: "#00838f",
    Verdict.WITHIN_TOLERANCE: "#1976d2",
    Verdict.REPRODUCED_SMALL: "#7e57c2",
    Verdict.NOT_REPRODUCED: "#d32f2f",
    Verdict.NOT_CHECKABLE: "#757575",
}


def verdict_key(verdict: str) -> str:
    """A verdict as a CSS-friendly token: 'not reproduced' -> 'not-reproduced'."""
    return verdict.replace(" ", "-").lower()


def badge(verdict: str) -> str:
    return f'<span class="verdict-badge verdict-{verdict_key(verdict)}">{html.escape(verdict)}</span>'


def counts_of(claims) -> Counter:
    return Counter(claim["verdict"] for claim in claims)


def legend(counts: Counter) -> str:
    return ", ".join(f"{counts[v.value]} {v.value}" for v in Verdict if counts[v.value])


def verdict_bar(claims, width: int = 240, height: int = 14) -> str:
    """The claims of one paper as a stacked bar, one segment per verdict, in the Verdict order.

    The SVG scales with its container; ``data-*`` attributes carry the counts for tests.
    """
    counts = counts_of(claims)
    total = sum(counts.values())
    if total == 0:
        return '<span class="verdict-bar verdict-bar-empty">no claims</span>'
    segments, x = [], 0.0
    for verdict in Verdict:
        count = counts[verdict.value]
        if not count:
            continue
        share = width * count / total
        label = f"{count} of {total} claims: {verdict.value}"
        segments.append(
            f'<rect x="{x:.2f}" y="0" width="{share:.2f}" height="{height}" fill="{COLOURS[verdict]}" '
            f'data-verdict="{verdict.value}" data-count="{count}"><title>{html.escape(label)}</title></rect>'
        )
        x += share
    summary = legend(counts)
    svg = (
        f'<svg class="verdict-bar-svg" viewBox="0 0 {width} {height}" preserveAspectRatio="none" role="img" '
        f'aria-label="{html.escape(f"{total} claims: {summary}")}">{"".join(segments)}</svg>'
    )
    return f'<span class="verdict-bar" data-total="{total}">{svg}<span class="verdict-bar-legend">{html.escape(summary)}</span></span>'
