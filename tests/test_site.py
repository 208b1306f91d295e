"""The site builds with --strict, and its generated parts hold what the sources say."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


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
        html = (site / "companions" / py.stem / "index.html").read_text(encoding="utf-8")
        assert "jp-OutputArea" in html, f"{py.stem}: the page has no stored outputs"


def test_notes_embed_their_claims_table(site):
    from papernotes.claims import read_claims
    from papernotes.notes import load_notes

    for note in load_notes(ROOT):
        if note.companion is None:
            continue
        html = (site / note.path.relative_to("docs").with_suffix("") / "index.html").read_text(encoding="utf-8")
        assert "<!-- claims-table -->" not in html
        for claim in read_claims(ROOT / note.companion_twin)["claims"]:
            assert f">{claim['id']}<" in html, f"{note.path}: claim {claim['id']} missing from the rendered table"


def test_math_and_assets_are_served_locally(site):
    assert (site / "assets/mathjax/tex-mml-chtml.js").exists()
    assert (site / "assets/mathjax/output/chtml/fonts/woff-v2").is_dir()
    loads = re.compile(r"<(?:script|link|img)\b[^>]*\b(?:src|href)=\"(https?:)?//", re.IGNORECASE)
    for page in site.rglob("*.html"):
        html = page.read_text(encoding="utf-8")
        assert not loads.search(html), f"{page.relative_to(site)} loads a resource from another host"
        assert 'src=""' not in html and "MathJax.Hub" not in html, f"{page.relative_to(site)} keeps nbconvert's MathJax 2 block"
