"""`python -m papernotes new`: a new paper that passes every check once executed and shows up
in the site's navigation; bad input is refused with the argument named, nothing overwritten.

Runs in a temporary copy of the site without any paper, never in the repository.
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from papernotes.__main__ import main

ROOT = Path(__file__).resolve().parents[1]
SITE_SOURCES = ("mkdocs.yml", "docs/index.md", "docs/tags.md", "docs/javascripts", "docs/stylesheets")
VIT = ["vit", "--title", "An Image is Worth 16x16 Words: Transformers for Image Recognition at Scale",
       "--arxiv", "2010.11929", "--authors", "Alexey Dosovitskiy, Lucas Beyer", "--topic", "vision"]


def _copy_site(target: Path):
    for name in SITE_SOURCES:
        source, destination = ROOT / name, target / name
        if not source.exists():
            continue  # e.g. a page added after this test was written and not needed here
        destination.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, destination)
        else:
            shutil.copy(source, destination)


@pytest.fixture(scope="module")
def new_paper_site(tmp_path_factory) -> Path:
    """A copy of the site whose only paper is 'vit', added by `new` and executed; and the built site."""
    from papernotes.notebooks import execute

    root = tmp_path_factory.mktemp("repo")
    _copy_site(root)
    result = subprocess.run([sys.executable, "-m", "papernotes", "new", *VIT], cwd=root, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    execute(root / "companions/vit.py")
    built = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(root / "site")],
        cwd=root, env=dict(os.environ, NO_MKDOCS_2_WARNING="1"), capture_output=True, text=True,
    )
    assert built.returncode == 0, built.stderr[-3000:]
    return root


def test_new_paper_fails_only_on_what_its_author_must_fill_in(new_paper_site):
    from papersite.integrity import all_problems

    assert (new_paper_site / "docs/notes/vision/vit.md").exists()
    problems = all_problems(new_paper_site)
    assert {name: found for name, found in problems.items() if found and name != "scaffold leftovers"} == {}
    leftovers = problems["scaffold leftovers"]
    assert any(p.startswith("companions/vit.py:") for p in leftovers) and any(p.startswith("docs/notes/vision/vit.md:") for p in leftovers)
    assert all("still has the scaffold's placeholder" in p for p in leftovers)


def test_new_paper_is_in_the_navigation_and_on_the_claims_page(new_paper_site):
    site = new_paper_site / "site"
    home = (site / "index.html").read_text(encoding="utf-8")
    assert 'href="notes/vision/vit/"' in home and 'href="companions/vit/"' in home
    assert 'href="../companions/vit/#cell-id=' in (site / "claims/index.html").read_text(encoding="utf-8")


@pytest.mark.parametrize("argv, message", [
    (["Bad_Slug", "--title", "T", "--arxiv", "2010.11929"], "argument slug: 'Bad_Slug' is not a slug"),
    (["vit", "--title", "T", "--arxiv", "2010.119"], "argument --arxiv: '2010.119' is not an arXiv id"),
    (["vit", "--title", "T", "--arxiv", "2010.11929", "--year", "20"], "argument --year: '20' is not a year"),
    (["vit", "--title", "T", "--arxiv", "2010.11929", "--topic", "Computer Vision"], "argument --topic: 'Computer Vision' is not a slug"),
    (["vit", "--title", "T"], "one of the arguments --arxiv --url is required"),
    (["vit", "--title", "T", "--url", "example.org/paper"], "argument --url: 'example.org/paper' is not a web address"),
])
def test_bad_arguments_are_refused_by_name(tmp_path, monkeypatch, capsys, argv, message):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exit_info:
        main(["new", *argv])
    assert exit_info.value.code == 2 and message in capsys.readouterr().err
    assert not any(tmp_path.iterdir()), "a refused command wrote files"


def test_url_without_year_is_refused(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit, match="--year is required with --url"):
        main(["new", "paper", "--title", "T", "--url", "https://example.org/paper.pdf"])


def test_existing_files_are_never_overwritten(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    existing = tmp_path / "docs/notes/nlp/vit.md"
    existing.parent.mkdir(parents=True)
    existing.write_text("my note", encoding="utf-8")
    with pytest.raises(SystemExit, match=r"slug 'vit' is taken: docs/notes/nlp/vit.md already exist"):
        main(["new", *VIT])
    assert existing.read_text(encoding="utf-8") == "my note"
    assert not (tmp_path / "companions").exists()
