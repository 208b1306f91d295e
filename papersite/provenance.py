"""Where a companion's numbers came from: the execution record stored in its twin.

``make execute`` writes ``metadata.papernotes`` into every twin it runs: when, how long, on
what machine, with which package versions (``ExecutedTwin.record`` reads it back). Here that
record is phrased for the site, next to the time budget from the note's front matter.
"""

import html
import re

DEFAULT_BUDGET_S = 90
# Versions worth a reader's attention; the stats page and the twin itself have the rest.
STAMP_PACKAGES = ("python", "torch", "timm")
_GITHUB_REPO = re.compile(r"^https?://github\.com/([^/\s]+)/([^/\s]+?)(?:\.git)?/?$")


def budget_s(meta: dict) -> float:
    return float(meta.get("budget_s", DEFAULT_BUDGET_S))


def versions_text(record: dict, packages=STAMP_PACKAGES) -> str:
    versions = record.get("versions", {})
    return ", ".join(f"{name} {versions[name]}" for name in packages if name in versions)


def stamp_text(record: dict | None, budget: float) -> str:
    """One sentence saying when and how the companion's stored outputs were produced."""
    if record is None:
        return "No execution record in this notebook: run `make execute` to add one."
    executed = record["executed_at"].replace("T", " ").removesuffix("Z") + " UTC"
    return (
        f"Executed {executed} in {record['runtime_s']:.1f} s (budget {budget:.0f} s) "
        f"on {record['machine']} with {versions_text(record)}."
    )


def stamp_markdown(record: dict | None, budget: float) -> str:
    """The stamp as an admonition for a note page."""
    return f'!!! info "Provenance of these numbers"\n\n    {stamp_text(record, budget)}\n'


def stamp_html(record: dict | None, budget: float) -> str:
    """The stamp as Material admonition markup for a notebook page (rendered by the template)."""
    text = html.escape(stamp_text(record, budget)).replace("`make execute`", "<code>make execute</code>")
    return (
        '<div class="admonition info papernotes-provenance">'
        '<p class="admonition-title">Provenance of these outputs</p>'
        f"<p>{text}</p></div>"
    )


def colab_url(repo_url: str | None, twin_path: str, branch: str) -> str | None:
    """Colab's address for a twin in a GitHub repository; None when there is no such repository."""
    match = _GITHUB_REPO.match(repo_url or "")
    if match is None:
        return None
    owner, repo = match.groups()
    return f"https://colab.research.google.com/github/{owner}/{repo}/blob/{branch}/{twin_path}"
