"""The site builds with --strict, and its generated parts hold what the sources say."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _layout():
    from papersite.layout import Layout

    return Layout(ROOT)


@pytest.fixture(scope="session")
def site(tmp_path_factory) -> Path:
    site_dir = tmp_path_factory.mktemp("site")
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1")
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--clean", "--site-dir", str(site_dir)],
        cwd=ROOT, env=env, capture_output=True, text=True,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return site_dir


def test_every_companion_is_a_page_with_a_download(site):
    for twin in sorted((ROOT / "companions").glob("*.ipynb")):
        page = site / "companions" / twin.stem / "index.html"
        assert page.exists(), f"no page for {twin.name}"
        assert f'href="{twin.name}"' in page.read_text(encoding="utf-8"), f"{twin.name}: no download button"
        assert (page.parent / twin.name).exists(), f"{twin.name}: the downloadable notebook is missing"


def test_only_the_twin_becomes_a_page(site):
    # The .py source must not be rendered (it would silently overwrite the executed twin's page).
    for py in sorted((ROOT / "companions").glob("*.py")):
        page = site / "companions" / py.stem / "index.html"
        if not py.with_suffix(".ipynb").exists():
            assert not page.exists(), f"{py.name} has no twin yet but became a page"
            continue
        assert "jp-OutputArea" in page.read_text(encoding="utf-8"), f"{py.stem}: the page has no stored outputs"


def test_notes_embed_their_claims_table(site):
    for note, twin in _companions():
        html = _page(site, _layout().note_uri(note.path))
        assert "<!-- claims-table -->" not in html
        for claim in twin.claims:
            assert f">{claim['id']}<" in html, f"{note.path}: claim {claim['id']} missing from the rendered table"


def test_math_and_assets_are_served_locally(site):
    assert (site / "assets/mathjax/tex-mml-chtml.js").exists()
    assert (site / "assets/mathjax/output/chtml/fonts/woff-v2").is_dir()
    loads = re.compile(r"<(?:script|link|img)\b[^>]*\b(?:src|href)=\"(https?:)?//", re.IGNORECASE)
    for page in site.rglob("*.html"):
        html = page.read_text(encoding="utf-8")
        assert not loads.search(html), f"{page.relative_to(site)} loads a resource from another host"
        assert 'src=""' not in html and "MathJax.Hub" not in html, f"{page.relative_to(site)} keeps nbconvert's MathJax 2 block"


def _companions():
    """(note, ExecutedTwin) of every note whose twin holds a ledger."""
    from papersite.notes import read_notes
    from papersite.twins import read_twin

    layout = _layout()
    for note in read_notes(layout)[0]:
        path = ROOT / layout.twin(note.slug)
        if note.companion and path.exists() and read_twin(path).ledger:
            yield note, read_twin(path)


def _page(site, src_uri: str) -> str:
    return (site / Path(src_uri).with_suffix("") / "index.html").read_text(encoding="utf-8")


def _text(html: str) -> str:
    """What a reader sees of ``html``: highlighting splits code into spans."""
    import html as html_module

    return html_module.unescape(re.sub(r"<[^>]+>", "", html))


def test_claims_page_lists_every_claim_linked_to_the_cell_that_checks_it(site):
    html = _page(site, "claims.md")
    rows = re.findall(
        r'<tr id="claim-[^"]+" data-verdict="([^"]+)" data-paper="[^"]+" data-test="[^"]+"><td><a href="\.\./([^"]+)/">[^<]*</a></td>'
        r'<td><a href="\.\./([^"#]+)#([^"]+)" title="[^"]*">(C\d+)</a>', html)
    expected = {(note.slug, c["id"], c["verdict"]) for note, twin in _companions() for c in twin.claims}
    assert {(link.rstrip("/").split("/")[-1], ident, verdict) for verdict, _, link, _, ident in rows} == expected
    for verdict, note_url, companion_url, fragment, ident in rows:
        assert (site / note_url / "index.html").exists(), f"{ident}: note link {note_url} is broken"
        target = (site / companion_url / "index.html").read_text(encoding="utf-8")
        assert f'id="{fragment}"' in target, f"{companion_url} {ident}: no element with id {fragment!r}"


def test_claims_json_and_home_totals_count_every_verdict(site):
    import json
    from collections import Counter

    from papersite.claims_format import TEST_KINDS, VERDICT_MEANINGS, Verdict
    from papersite.verdicts import badge

    data = json.loads((site / "claims.json").read_text(encoding="utf-8"))
    counts = Counter(c["verdict"] for _, twin in _companions() for c in twin.claims)
    assert data["totals"] == {v.value: counts[v.value] for v in Verdict}
    assert len(data["claims"]) == sum(counts.values())
    for claim in data["claims"]:
        assert claim["test"]["kind"] in TEST_KINDS and claim["test"]["rule"], f"{claim['slug']} {claim['id']}: no test"
    home = (site / "index.html").read_text(encoding="utf-8")
    assert "claim-totals" not in home
    for verdict in Verdict:
        row = f"<td>{badge(verdict.value)}</td>\n<td>{VERDICT_MEANINGS[verdict]}</td>\n<td style=\"text-align: right;\">{counts[verdict.value]}</td>"
        assert row in home, verdict


def test_execution_page_shows_each_companion_runtime_and_budget(site):
    from papersite.provenance import budget_s

    html = _page(site, "execution.md")
    for note, twin in _companions():
        record = twin.record
        runtime = f"{record['runtime_s']:.1f} s" if record else "no execution record"
        assert f">{note.slug}</a>" in html
        assert runtime in html and f"{budget_s(note.meta):.0f} s" in html, note.slug


def test_notes_and_companion_pages_carry_provenance_and_notes_a_bibtex_entry(site):
    from papersite.bibtex import bibtex_entry

    for note, twin in _companions():
        record = twin.record
        stamp = f"Executed {record['executed_at'].replace('T', ' ').removesuffix('Z')} UTC" if record else "No execution record"
        note_html = _page(site, _layout().note_uri(note.path))
        companion_html = _page(site, f"companions/{note.slug}.ipynb")
        assert stamp in note_html and stamp in companion_html, note.slug
        assert bibtex_entry(note.meta) in _text(note_html), f"{note.slug}: no BibTeX entry"


def test_open_in_colab_appears_only_with_a_github_repo_url(site, tmp_path, monkeypatch):
    from mkdocs.commands.build import build
    from mkdocs.config import load_config

    for twin in sorted((ROOT / "companions").glob("*.ipynb")):
        assert "colab.research.google.com" not in _page(site, f"companions/{twin.name}"), twin.name
    monkeypatch.setenv("NO_MKDOCS_2_WARNING", "1")
    config = load_config(str(ROOT / "mkdocs.yml"), repo_url="https://github.com/someone/paper-notes", site_dir=str(tmp_path))
    build(config)
    for note, _ in _companions():
        expected = f"https://colab.research.google.com/github/someone/paper-notes/blob/main/companions/{note.slug}.ipynb"
        assert f'href="{expected}"' in (tmp_path / "companions" / note.slug / "index.html").read_text(encoding="utf-8")


def test_claim_quotes_in_notes_are_filled_in(site):
    for page in site.rglob("*.html"):
        html = page.read_text(encoding="utf-8")
        assert "[[ours:" not in html and "[[verdict:" not in html, f"{page.relative_to(site)}: an unfilled claim quote"
    efficientnet = (site / "notes/vision/efficientnet/index.html").read_text(encoding="utf-8")
    assert "Parameters: not reproduced (7 of 8 equal at printed precision" in _text(efficientnet)


def test_each_claim_links_to_the_cell_that_checked_it(site):
    """The cell a claim links to is the one whose execution measured (or declared) it."""
    import json

    from papersite.claims_format import cell_digest

    data = json.loads((site / "claims.json").read_text(encoding="utf-8"))
    twins = {note.slug: twin for note, twin in _companions()}
    for claim in data["claims"]:
        fragment = claim["check"].split("#", 1)[1]
        if claim.get("anchor"):
            continue
        assert fragment.startswith("cell-id="), f"{claim['slug']} {claim['id']}: links to {fragment!r}, not to a cell"
        cell = next(c for c in twins[claim["slug"]].cells if c.get("id") == fragment.removeprefix("cell-id="))
        assert cell_digest("".join(cell["source"])) == claim["cell"], f"{claim['slug']} {claim['id']}"
        call = ".declare(" if claim["verdict"] == "not checkable on CPU" else ".measure("
        assert call in "".join(cell["source"]), f"{claim['slug']} {claim['id']}: its cell does not call {call}"


_BLOCK_RUNTIME = """
import sys
class Block:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("torch", "numpy", "papernotes"):
            raise ImportError(f"{name} is blocked: the site must build without the companion runtime")
sys.meta_path.insert(0, Block())
import papersite.plugin
from mkdocs.__main__ import cli
sys.exit(cli())
"""


def test_the_site_builds_without_torch_or_numpy(tmp_path):
    result = subprocess.run(
        [sys.executable, "-c", _BLOCK_RUNTIME, "build", "--strict", "--site-dir", str(tmp_path / "site")],
        cwd=ROOT, env=dict(os.environ, NO_MKDOCS_2_WARNING="1"), capture_output=True, text=True,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert (tmp_path / "site/claims/index.html").exists()


def _tree_with_one_note(tmp_path: Path, note: str) -> Path:
    """A copy of the site's frame whose only note is ``note`` (under docs/notes/vision/broken.md)."""
    import shutil

    for name in ("mkdocs.yml", "docs/index.md", "docs/tags.md", "docs/javascripts", "docs/stylesheets"):
        source, target = ROOT / name, tmp_path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        (shutil.copytree if source.is_dir() else shutil.copy)(source, target)
    (tmp_path / "companions").mkdir()
    (tmp_path / "docs/notes/vision").mkdir(parents=True)
    (tmp_path / "docs/notes/vision/broken.md").write_text(note, encoding="utf-8")
    return tmp_path


@pytest.mark.parametrize("note, message", [
    ("---\ntitle: A: B\ncompanion: none\n---\n# x\n", "docs/notes/vision/broken.md:2: front matter is not valid YAML"),
    ("---\ntitle: T\ncompanion: broken\n---\n# x\n", "docs/notes/vision/broken.md: its companion has no executed twin companions/broken.ipynb"),
    ("# no front matter\n", "docs/notes/vision/broken.md: no front matter"),
])
def test_a_broken_note_stops_the_build_with_one_line_and_no_traceback(tmp_path, note, message):
    root = _tree_with_one_note(tmp_path, note)
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--site-dir", str(root / "site")],
        cwd=root, env=dict(os.environ, NO_MKDOCS_2_WARNING="1"), capture_output=True, text=True,
    )
    assert result.returncode == 1 and message in result.stderr, result.stderr[-2000:]
    assert "Traceback" not in result.stderr


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _get(url: str) -> str | None:
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.read().decode("utf-8")
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return None


def _wait_for(predicate, seconds: float):
    import time

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if (value := predicate()) is not None:
            return value
        time.sleep(0.5)
    return None


def test_serve_shows_a_broken_note_on_its_page_and_recovers_when_it_is_fixed(tmp_path):
    root = _tree_with_one_note(tmp_path, "---\ntitle: A: B\ncompanion: none\n---\n# Broken\n")
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "mkdocs", "serve", "--dev-addr", f"127.0.0.1:{port}", "--livereload"],
        cwd=root, env=dict(os.environ, NO_MKDOCS_2_WARNING="1"), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )
    url = f"http://127.0.0.1:{port}/notes/vision/broken/"
    try:
        page = _wait_for(lambda: _get(url), 60)
        assert page is not None, "the server did not answer"
        assert "docs/notes/vision/broken.md:2: front matter is not valid YAML" in _text(page)
        fixed = ("---\ntitle: Fixed\nauthors: [A]\nyear: 2020\nvenue: V\narxiv: '2001.00001'\ntags: [t]\n"
                 "companion: none\nno_companion_reason: r\n---\n# Fixed\n")
        (root / "docs/notes/vision/broken.md").write_text(fixed, encoding="utf-8")
        assert _wait_for(lambda: True if "not valid YAML" not in (_get(url) or "not valid YAML") else None, 60), "no rebuild"
    finally:
        server.terminate()
        _, stderr = server.communicate(timeout=30)
    assert "Traceback" not in stderr, stderr[-2000:]


def test_performance_page_renders_the_committed_results(site):
    """Every core and every ratio in benchmarks/results.json is on the page; notes link to their core."""
    from papersite.performance import anchor, read_results

    results = read_results(ROOT / "benchmarks/results.json")
    html = _page(site, "performance.md")
    text = _text(html)
    assert results and results["cores"], "no committed benchmark results: run `make bench` and commit benchmarks/results.json"
    for core in results["cores"]:
        assert f'id="{anchor(core["slug"])}"' in html, core["slug"]
        assert core["core"] in text
        for row in core["rows"]:
            assert f"{row['ratio']:g}" in text and row["against"] in text, (core["slug"], row)
    for note, _ in _companions():
        if any(core["slug"] == note.slug for core in results["cores"]):
            assert f'performance/#{anchor(note.slug)}"' in _page(site, _layout().note_uri(note.path)), note.slug


def test_a_note_lists_the_verdict_changes_of_its_history(site):
    """EfficientNet's C1 and C2 were 'within tolerance' before their tests were declared."""
    text = _text(_page(site, "notes/vision/efficientnet.md"))
    assert "Corrections:" in text
    assert "C1: verdict “within tolerance” → “not reproduced”" in text
    assert "C2: verdict “within tolerance” → “not reproduced”" in text
