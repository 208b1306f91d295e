"""The site's generated pages and page parts, as Markdown, from notes and executed twins.

Nothing here knows how many papers there are: every table is built from the notes'
front matter, the claim ledgers and the execution records of whatever twins exist.
URLs come in through ``url`` callables so that mkdocs, which owns the URL scheme, decides.
"""

import html
import posixpath
from collections import Counter
from dataclasses import dataclass

from papersite import verdicts
from papersite.claims_format import VERDICT_MEANINGS, Verdict, explanation
from papersite.performance import PERFORMANCE_PAGE
from papersite.notes import Note, topic_title
from papersite.provenance import budget_s, versions_text

CLAIMS_PAGE, EXECUTION_PAGE, PAPERS_PAGE, CLAIMS_JSON = "claims.md", "execution.md", "papers.md", "claims.json"
GENERATED_PAGES = (CLAIMS_PAGE, EXECUTION_PAGE, PAPERS_PAGE, PERFORMANCE_PAGE)
TOTALS_PLACEHOLDER = "<!-- claim-totals -->"
FILTER_ID, PAPER_FILTER_ID, TEST_FILTER_ID = "claims-verdict-filter", "claims-paper-filter", "claims-test-filter"
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


def papers_index(notes, papers, layout) -> str:
    """Every paper with a note, by topic, with its verdict bar; links are relative to the docs root."""
    claims_of = {p.note.slug: p.claims for p in papers}
    lines = ["# Papers", "", "Every paper with a note, by topic, and what became of its claims. Generated from the notes' "
             "front matter and the executed companions.", ""]
    for topic in sorted({n.topic for n in notes}):
        lines += [f"## {topic_title(topic)}", "", "| Paper | Year | Venue | Claims | Companion |", "|---|---|---|---|---|"]
        for note in sorted((n for n in notes if n.topic == topic), key=lambda n: (n.meta["year"], n.meta["title"])):
            m = note.meta
            authors = ", ".join(m["authors"][:3]) + (" et al." if len(m["authors"]) > 3 else "")
            companion = f"[notebook]({layout.twin_uri(note.slug)})" if note.companion else "none"
            bar = verdicts.verdict_bar(claims_of[note.slug]) if note.slug in claims_of else "no companion"
            lines.append(f"| [{m['title']}]({layout.note_uri(note.path)})<br>{authors} | {m['year']} | {m['venue']} | {bar} | {companion} |")
        lines.append("")
    return "\n".join(lines)


def bottom_line(note, paper, claims_link: str, speed_link: str | None = None) -> str:
    """What a reader sees first on a note: the hand-written summary, then the verdict bar.

    ``speed_link``, when given, points at the core's row on the Performance page.
    """
    parts = [f'<div class="paper-summary" markdown>\n{note.meta["summary"].strip()}\n</div>'] if note.meta.get("summary") else []
    if paper is not None:
        speed = f' · <a href="{speed_link}">speed of its core</a>' if speed_link else ""
        parts.append(f'<p class="paper-verdicts"><strong>Our verdicts:</strong> {verdicts.verdict_bar(paper.claims)} '
                     f'<a href="{claims_link}">each claim</a>{speed}</p>')
    return "\n\n".join(parts)


def _papers(count: int) -> str:
    return f"{count} paper" + ("" if count == 1 else "s")


def _verdict_counts(papers) -> Counter:
    return Counter(c["verdict"] for paper in papers for c in paper.claims)


def claim_anchor(slug: str, claim_id: str) -> str:
    """The id of a claim's row on the claims page: its permalink."""
    return f"claim-{slug}-{claim_id}"


def _options(select_id: str, label: str, everything: str, choices) -> str:
    """A labelled <select>: ``choices`` are (value, text) pairs; the first option shows all."""
    options = [f'<option value="">{html.escape(everything)}</option>'] + [
        f'<option value="{html.escape(value)}">{html.escape(text)}</option>' for value, text in choices
    ]
    return (f'<span class="claims-filter"><label for="{select_id}">{label}</label> '
            f'<select id="{select_id}" name="{select_id.split("-")[1]}">{"".join(options)}</select></span>')


def _details(claim: dict, cell_link: str) -> str:
    """What stands behind a verdict: where, both values, the declared test and the numbers."""
    rows = [("Where", claim["where"]), ("Paper", claim["paper"]), ("Ours", claim["ours"]), ("Test", claim["test"]["rule"])]
    why = explanation(claim)
    if why:
        rows.append(("Why", why))
    items = "".join(f"<dt>{name}</dt><dd>{html.escape(str(text))}</dd>" for name, text in rows)
    return (
        f'<details class="claim-details"><summary>Test and numbers</summary><dl>{items}</dl>'
        f'<p><a href="{cell_link}">The cell that checks it</a></p></details>'
    )


def claims_page(papers, note_url, companion_url) -> str:
    """Every claim of every paper in one filterable table (raw HTML: rows carry their verdict).

    ``note_url(note)`` and ``companion_url(note)`` give URLs relative to this page. The filters
    live in the address (``?verdict=...&paper=...&test=...``), so a view can be linked, and
    each row's id is its permalink.
    """
    counts = _verdict_counts(papers)
    total = sum(counts.values())
    ordered = sorted(papers, key=lambda c: c.note.meta["title"].lower())
    kinds = Counter(claim["test"]["kind"] for paper in papers for claim in paper.claims)
    filters = [
        _options(FILTER_ID, "Verdict", f"all verdicts ({total})", [(v.value, f"{v.value} ({counts[v.value]})") for v in Verdict]),
        _options(PAPER_FILTER_ID, "Paper", "all papers", [(c.note.slug, f"{c.note.meta['title']} ({len(c.claims)})") for c in ordered]),
        _options(TEST_FILTER_ID, "Test", "all tests", [(kind, f"{kind} ({count})") for kind, count in sorted(kinds.items())]),
    ]
    rows = []
    for entry in ordered:
        note = entry.note
        paper = f'<a href="{note_url(note)}">{html.escape(note.meta["title"])}</a>'
        for claim in entry.claims:
            cell_link = html.escape(f'{companion_url(note)}#{entry.fragments[claim["id"]]}')
            anchor = claim_anchor(note.slug, claim["id"])
            ident = (f'<a href="{cell_link}" title="The cell that checks {claim["id"]}">{claim["id"]}</a> '
                     f'<a class="claim-permalink" href="#{anchor}" title="Permalink to this claim" aria-label="Permalink to {note.slug} {claim["id"]}">¶</a>')
            cells = [paper, ident, html.escape(claim["claim"]), verdicts.badge(claim["verdict"]) + _details(claim, cell_link)]
            rows.append(
                f'<tr id="{anchor}" data-verdict="{html.escape(claim["verdict"])}" data-paper="{note.slug}" '
                f'data-test="{html.escape(claim["test"]["kind"])}">' + "".join(f"<td>{c}</td>" for c in cells) + "</tr>"
            )
    header = "".join(f'<th scope="col">{h}</th>' for h in ("Paper", "ID", "Claim", "Verdict"))
    return "\n".join([
        "---",
        "hide: [toc]",  # the table needs the width
        "---",
        "# Claims",
        "",
        f"Every claim checked by a companion: {total} claims from {_papers(len(papers))}, generated from the executed "
        "notebooks when the site is built (also as [claims.json](claims.json)). Each claim's test was declared in its "
        "companion before anything was measured, and the verdict is computed from it. Each ID links to the cell that "
        "checks it; ¶ is the claim's permalink, and the filters are kept in the address, so a view can be shared.",
        "",
        f'<form class="claims-filters" role="search" aria-label="Filter the claims">{" ".join(filters)} '
        f'<output id="{SHOWN_ID}" role="status">{total} of {total} claims shown</output></form>',
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
                 check=f"{companion_url(c.note)}#{c.fragments[claim['id']]}",
                 permalink=f"{CLAIMS_PAGE.removesuffix('.md')}/#{claim_anchor(c.note.slug, claim['id'])}")
            for c in sorted(papers, key=lambda c: c.note.slug)
            for claim in c.claims
        ],
    }


def verdict_totals(papers, claims_url: str, note_link) -> str:
    """The home page's table of verdicts (what each means, how many claims got it) and each paper's bar."""
    counts = _verdict_counts(papers)
    lines = ["| Verdict | Meaning | Claims |", "|---|---|---:|"]
    lines += [f"| {verdicts.badge(v.value)} | {VERDICT_MEANINGS[v]} | {counts[v.value]} |" for v in Verdict]
    lines += ["", f"So far: **{sum(counts.values())} claims** from {_papers(len(papers))} ([all claims]({claims_url})).", ""]
    lines += ["| Paper | Verdicts |", "|---|---|"]
    for paper in sorted(papers, key=lambda p: p.note.meta["title"].lower()):
        lines.append(f"| [{paper.note.meta['title']}]({note_link(paper.note)}) | {verdicts.verdict_bar(paper.claims)} |")
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


def run_yourself_html(slug: str, layout, colab: str | None) -> str:
    """A companion page's download link and the commands that re-run it, after its title."""
    twin, source = layout.twin(slug).as_posix(), layout.companion_py(slug).as_posix()
    links = [f'<a href="{html.escape(layout.twin(slug).name)}" download>Download the notebook</a> (<code>{twin}</code>)']
    if colab:
        links.append(f'<a href="{html.escape(colab)}" class="papernotes-colab">Open in Colab</a>')
    return (
        '<div class="admonition tip papernotes-run"><p class="admonition-title">Run it yourself</p>'
        f'<p>{" · ".join(links)}</p>'
        f"<p>In a clone of the repository, <code>make execute NAME={slug}</code> re-executes it from its source "
        f"<code>{source}</code> and rewrites the notebook; <code>make test</code> then checks that every stored output "
        "reproduces. To tinker in Jupyter: <code>.venv/bin/python -m pip install jupyterlab</code>, then "
        f"<code>.venv/bin/jupyter lab {twin}</code>.</p></div>"
    )
