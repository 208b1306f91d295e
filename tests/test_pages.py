"""Generated page parts, from made-up notes and records: BibTeX, provenance, Colab, tables."""

from pathlib import Path

import pytest

from papersite.bibtex import bibtex_entry, citation_key
from papersite.notes import Note
from papersite.pages import Paper, execution_page, related_markdown, verdict_totals
from papersite.verdicts import badge, verdict_bar
from papersite.provenance import colab_url, stamp_text

META = {"title": "Attention Is All You Need", "authors": ["Ashish Vaswani", "Łukasz Kaiser"], "year": 2017,
        "venue": "NeurIPS 2017", "arxiv": "1706.03762", "tags": ["nlp"], "companion": "none"}
RECORD = {"executed_at": "2026-01-02T03:04:05Z", "runtime_s": 12.3, "machine": "Linux x86_64",
          "versions": {"python": "3.11.7", "torch": "2.14.1", "timm": "1.0.31", "numpy": "2.4.6"}}


def _note(slug: str, **meta) -> Note:
    return Note(Path(f"docs/notes/nlp/{slug}.md"), dict(META, **meta), "")


def test_bibtex_from_front_matter():
    assert bibtex_entry(META) == (
        "@misc{vaswani2017attention,\n"
        "  title = {{Attention Is All You Need}},\n"
        "  author = {Ashish Vaswani and Łukasz Kaiser},\n"
        "  year = {2017},\n"
        "  howpublished = {NeurIPS 2017},\n"
        "  eprint = {1706.03762},\n"
        "  archiveprefix = {arXiv},\n"
        "  url = {https://arxiv.org/abs/1706.03762}\n"
        "}"
    )


def test_bibtex_key_is_ascii_and_special_characters_are_escaped():
    meta = dict(META, title="R&D for 100% of #models", authors=["Łukasz Kaiser"], arxiv=None, url="https://example.org/p")
    entry = bibtex_entry(meta)
    assert citation_key(meta) == "kaiser2017models"
    assert citation_key(dict(META, title="Squeeze-and-Excitation Networks", authors=["Jie Hu"])) == "hu2017squeeze"
    assert r"title = {{R\&D for 100\% of \#models}}" in entry and "url = {https://example.org/p}" in entry
    assert "eprint" not in entry


def test_bibtex_override_wins():
    assert bibtex_entry(dict(META, bibtex="@article{mine,\n  title={X}\n}\n")) == "@article{mine,\n  title={X}\n}"


@pytest.mark.parametrize("repo_url, expected", [
    ("https://github.com/owner/repo", "https://colab.research.google.com/github/owner/repo/blob/main/companions/vit.ipynb"),
    ("https://github.com/owner/repo.git/", "https://colab.research.google.com/github/owner/repo/blob/main/companions/vit.ipynb"),
    ("https://gitlab.com/owner/repo", None),
    (None, None),
])
def test_colab_url_only_for_github_repositories(repo_url, expected):
    assert colab_url(repo_url, "companions/vit.ipynb", "main") == expected


def test_colab_url_follows_the_configured_branch():
    assert colab_url("https://github.com/o/r", "nb/vit.ipynb", "gh-pages").endswith("/o/r/blob/gh-pages/nb/vit.ipynb")


def test_provenance_stamp():
    assert stamp_text(RECORD, 90) == (
        "Executed 2026-01-02 03:04:05 UTC in 12.3 s (budget 90 s) on Linux x86_64 with python 3.11.7, torch 2.14.1, timm 1.0.31."
    )
    assert "make execute" in stamp_text(None, 90)


def test_execution_page_flags_a_companion_over_budget():
    fast = Paper(_note("fast"), [], {}, RECORD)
    slow = Paper(_note("slow", budget_s=10), [], {}, RECORD)
    unrecorded = Paper(_note("unrecorded"), [], {}, None)
    lines = execution_page([slow, fast, unrecorded], lambda note: f"{note.slug}.ipynb").splitlines()
    assert "| [fast](fast.ipynb) | 2026-01-02 03:04:05 | 12.3 s | 90 s | 14% |" in "\n".join(lines)
    assert "| 12.3 s | 10 s | 123% **over** |" in "\n".join(lines)
    assert "| [unrecorded](unrecorded.ipynb) | no execution record |" in "\n".join(lines)
    assert lines[-1] == "All companions together: 24.6 s."


def test_verdict_totals_count_every_verdict_even_absent_ones():
    claims = [{"verdict": "exact"}, {"verdict": "exact"}, {"verdict": "not reproduced"}]
    totals = verdict_totals([Paper(_note("a"), claims, {}, RECORD)], "claims.md", lambda note: f"{note.slug}.md")
    assert "**3 claims** from 1 paper ([all claims](claims.md))" in totals
    assert f"| {badge('exact')} | our value equals the paper's at the precision the paper printed | 2 |" in totals
    assert f"| {badge('not reproduced')} | measured, and the declared test failed: the numbers are shown | 1 |" in totals
    assert f"| {badge('within tolerance')} | within a tolerance declared in advance, with its cause | 0 |" in totals
    assert "| [Attention Is All You Need](a.md) | <span class=\"verdict-bar\" data-total=\"3\">" in totals


def test_a_verdict_bar_has_one_titled_segment_per_verdict_in_proportion():
    import re

    bar = verdict_bar([{"verdict": "exact"}] * 3 + [{"verdict": "not reproduced"}])
    segments = re.findall(r'width="([\d.]+)"[^>]*data-verdict="([^"]+)" data-count="(\d+)"><title>([^<]+)</title>', bar)
    assert [(verdict, int(count)) for _, verdict, count, _ in segments] == [("exact", 3), ("not reproduced", 1)]
    assert float(segments[0][0]) == 3 * float(segments[1][0])
    assert segments[1][3] == "1 of 4 claims: not reproduced" and "3 exact, 1 not reproduced" in bar


def test_related_papers_link_both_ways():
    bert, gpt, t5 = _note("bert", related=["gpt"]), _note("gpt"), _note("t5", related=["gpt", "bert"])
    notes = [bert, gpt, t5]
    assert related_markdown(gpt, notes, lambda n: n.slug).splitlines()[2:] == [
        "- [Attention Is All You Need](bert) (2017)", "- [Attention Is All You Need](t5) (2017)"
    ]
    assert related_markdown(bert, notes, lambda n: n.slug).count("- [") == 2
    assert related_markdown(_note("alone"), notes, lambda n: n.slug) == ""
