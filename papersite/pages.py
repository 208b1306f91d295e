"""The site's generated pages and page parts, as Markdown, from notes and executed twins.

Nothing here knows how many papers there are: every table is built from the notes'
front matter, the claim ledgers and the execution records of whatever twins exist.
URLs come in through ``url`` callables so that mkdocs, which owns the URL scheme, decides.
"""

import html
import posixpath
from collections import Counter
from dataclasses import dataclass

from papersite.claims_format import VERDICT_MEANINGS, Verdict, explanation
from papersite.notes import Note, topic_title
from papersite.provenance import budget_s, versions_text

CLAIMS_PAGE, EXECUTION_PAGE, PAPERS_PAGE, CLAIMS_JSON = "claims.md", "execution.md", "papers.md", "claims.json"
GENERATED_PAGES = (CLAIMS_PAGE, EXECUTION_PAGE, PAPERS_PAGE)
TOTALS_PLACEHOLDER = "<!-- claim-totals -->"
FILTER_ID, PAPER_FILTER_ID = "claims-verdict-filter", "claims-paper-filter"
TABLE_ID, SHOWN_ID = "claims-table", "claims-shown"


@dataclass(frozen=True)
class Paper:
    """A note and what its executed twin says, as the generated pages see them."""

    note: Note
    claims: list[dict]
    fragments: dict[str, str]  # claim id -> URL fragment on the companion page
    record: dict | None  # metadata.papernotes of the twin

    @classmethod
    def of(cls, note: Note, twin) -> "Paper":
        """From a note and its ``ExecutedTwin`` (read once by the caller)."""
        return cls(note, twin.claims, twin.fragments(), twin.record)


def papers_index(notes, layout) -> str:
    """Every paper with a note, by topic; links are relative to the docs root, where this page is."""
    lines = ["# Papers", "", "Every paper with a note, by topic. Generated from the notes' front matter.", ""]
    for topic in sorted({n.topic for n in notes}):
        lines += [f"## {topic_title(topic)}", "", "| Paper | Authors | Year | Venue | Companion |", "|---|---|---|---|---|"]
        for note in sorted((n for n in notes if n.topic == topic), key=lambda n: (n.meta["year"], n.meta["title"])):
            m = note.meta
            authors = ", ".join(m["authors"][:3]) + (" et al." if len(m["authors"]) > 3 else "")
            companion = f"[notebook]({layout.twin_uri(note.slug)})" if note.companion else "none"
            lines.append(f"| [{m['title']}]({layout.note_uri(note.path)}) | {authors} | {m['year']} | {m['venue']} | {companion} |")
        lines.append("")
    return "\n".join(lines)


def _papers(count: int) -> str:
    return f"{count} paper" + ("" if count == 1 else "s")


def _verdict_counts(papers) -> Counter:
    return Counter(c["verdict"] for paper in papers for c in paper.claims)


def claims_page(papers, note_url, companion_url) -> str:
    """Every claim of every paper in one filterable table (raw HTML: rows carry their verdict).

    ``note_url(note)`` and ``companion_url(note)`` give URLs relative to this page.
    """
    counts = _verdict_counts(papers)
    total = sum(counts.values())
    options = [f'<option value="">all verdicts ({total})</option>'] + [
        f'<option value="{html.escape(v.value)}">{html.escape(v.value)} ({counts[v.value]})</option>' for v in Verdict
    ]
    ordered = sorted(papers, key=lambda c: c.note.meta["title"].lower())
    paper_options = ['<option value="">all papers</option>'] + [
        f'<option value="{c.note.slug}">{html.escape(c.note.meta["title"])} ({len(c.claims)})</option>' for c in ordered
    ]
    rows = []
    for entry in ordered:
        note = entry.note
        paper = f'<a href="{note_url(note)}">{html.escape(note.meta["title"])}</a>'
        for claim in entry.claims:
            cell_link = html.escape(f'{companion_url(note)}#{entry.fragments[claim["id"]]}')
            why = explanation(claim)
            verdict = f"<strong>{html.escape(claim['verdict'])}</strong>" + (f": {html.escape(why)}" if why else "")
            cells = [paper, f'<a href="{cell_link}">{claim["id"]}</a>'] + [html.escape(claim[k]) for k in ("claim", "where", "paper", "ours")]
            cells += [html.escape(claim["test"]["rule"]), verdict]
            rows.append(
                f'<tr data-verdict="{html.escape(claim["verdict"])}" data-paper="{note.slug}" data-test="{html.escape(claim["test"]["kind"])}">'
                + "".join(f"<td>{c}</td>" for c in cells) + "</tr>"
            )
    header = "".join(f"<th>{h}</th>" for h in ("Paper", "ID", "Claim", "Where", "Paper says", "Ours", "Test", "Verdict"))
    return "\n".join([
        "---",
        "hide: [toc]",  # the table needs the width
        "---",
        "# Claims",
        "",
        f"Every claim checked by a companion: {total} claims from {_papers(len(papers))}, generated from the executed "
        "notebooks when the site is built (also as [claims.json](claims.json)). Each claim's test was declared in its "
        "companion before anything was measured, and the verdict is computed from it. Each ID links to the cell that measures it.",
        "",
        f'<p><label for="{FILTER_ID}">Show</label> <select id="{FILTER_ID}">{"".join(options)}</select> '
        f'<label for="{PAPER_FILTER_ID}">from</label> <select id="{PAPER_FILTER_ID}">{"".join(paper_options)}</select> '
        f'<span id="{SHOWN_ID}">{total} of {total} claims shown</span></p>',
        "",
        f'<table id="{TABLE_ID}"><thead><tr>{header}</tr></thead><tbody>',
        *rows,
        "</tbody></table>",
        "",
    ])


def claims_json(papers, note_url, companion_url) -> dict:
    """The claims page's data for machines; URLs are relative to the site root."""
    return {
        "totals": {v.value: _verdict_counts(papers)[v.value] for v in Verdict},
        "claims": [
            dict(claim, slug=c.note.slug, title=c.note.meta["title"], note=note_url(c.note),
                 check=f"{companion_url(c.note)}#{c.fragments[claim['id']]}")
            for c in sorted(papers, key=lambda c: c.note.slug)
            for claim in c.claims
        ],
    }


def verdict_totals(papers, claims_url: str) -> str:
    """The home page's table of verdicts: what each means, and how many claims got it."""
    counts = _verdict_counts(papers)
    lines = ["| Verdict | Meaning | Claims |", "|---|---|---:|"]
    lines += [f"| {v.value} | {VERDICT_MEANINGS[v]} | {counts[v.value]} |" for v in Verdict]
    lines += ["", f"So far: **{sum(counts.values())} claims** from {_papers(len(papers))} ([all claims]({claims_url}))."]
    return "\n".join(lines)


def execution_page(papers, companion_link) -> str:
    """Runtime of each companion's last execution against its budget, with its environment.

    ``companion_link(note)`` gives a Markdown link target to the companion's twin.
    """
    lines = [
        "# Execution statistics",
        "",
        "How long each companion took when its stored outputs were produced (`make execute`), against the time "
        "budget in its note (`budget_s`, default 90 s). CI re-executes every companion and fails one over budget.",
        "",
        "| Companion | Executed (UTC) | Runtime | Budget | Share of budget | Machine | Versions |",
        "|---|---|---:|---:|---:|---|---|",
    ]
    total = 0.0
    for paper in sorted(papers, key=lambda c: c.note.slug):
        link = f"[{paper.note.slug}]({companion_link(paper.note)})"
        budget, record = budget_s(paper.note.meta), paper.record
        if record is None:
            lines.append(f"| {link} | no execution record | | {budget:.0f} s | | | |")
            continue
        total += record["runtime_s"]
        share = record["runtime_s"] / budget
        flag = " **over**" if share > 1 else ""
        when = record["executed_at"].replace("T", " ").removesuffix("Z")
        lines.append(
            f"| {link} | {when} | {record['runtime_s']:.1f} s | {budget:.0f} s | {share:.0%}{flag} | {record['machine']} | {versions_text(record)} |"
        )
    lines += ["", f"All companions together: {total:.1f} s."]
    return "\n".join(lines)


def related_markdown(note, notes, url) -> str:
    """Links to the papers this note lists under ``related``, and those that list it."""
    by_slug = {n.slug: n for n in notes}
    listed = [s for s in note.meta.get("related") or [] if s in by_slug]
    listing = [n.slug for n in notes if note.slug in (n.meta.get("related") or [])]
    slugs = list(dict.fromkeys(listed + listing))
    if not slugs:
        return ""
    items = [f"- [{by_slug[s].meta['title']}]({url(by_slug[s])}) ({by_slug[s].meta['year']})" for s in slugs]
    return "\n".join(["## Related papers", "", *items, ""])


def relative_md_link(target_note, from_note) -> str:
    """A Markdown link target from one note's file to another's, for mkdocs to validate."""
    return posixpath.relpath(target_note.path.as_posix(), from_note.path.parent.as_posix())
