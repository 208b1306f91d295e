"""``python -m papernotes new``: a note and a companion for a new paper, from templates.

The files land in docs/notes/<topic>/ and companions/, where the site's navigation and the
integrity checks find them; once the companion is executed they pass every check. Existing
files are never overwritten.
"""

import argparse
import json
import posixpath
import re
from importlib import resources
from pathlib import Path
from string import Template

from papersite.layout import Layout
from papersite.notes import ARXIV_ID, SLUG


def slug_argument(value: str) -> str:
    if not SLUG.match(value):
        raise argparse.ArgumentTypeError(f"{value!r} is not a slug; use lowercase words and digits joined by '-', e.g. vision-transformer")
    return value


def arxiv_argument(value: str) -> str:
    if not ARXIV_ID.match(value):
        raise argparse.ArgumentTypeError(f"{value!r} is not an arXiv id; expected YYMM.NNNNN without version, e.g. 1905.11946")
    return value


def year_argument(value: str) -> int:
    if not value.isdigit() or not 1900 <= int(value) <= 2100:
        raise argparse.ArgumentTypeError(f"{value!r} is not a year; expected e.g. 2019")
    return int(value)


def url_argument(value: str) -> str:
    if not re.match(r"^https?://\S+$", value):
        raise argparse.ArgumentTypeError(f"{value!r} is not a web address; expected https://...")
    return value


def add_arguments(parser: argparse.ArgumentParser):
    parser.add_argument("slug", type=slug_argument, help="the paper's short name, also the file names, e.g. resnet")
    parser.add_argument("--title", required=True, help="the paper's title")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--arxiv", type=arxiv_argument, help="the arXiv id, e.g. 1905.11946")
    source.add_argument("--url", type=url_argument, help="the paper's address, for a paper without an arXiv id")
    parser.add_argument("--topic", type=slug_argument, default="misc", help="the notes folder, e.g. vision (default: misc)")
    parser.add_argument("--authors", default="", help="comma-separated, e.g. 'Mingxing Tan, Quoc V. Le'")
    parser.add_argument("--year", type=year_argument, help="publication year (default: from the arXiv id)")
    parser.add_argument("--venue", help="where it appeared, e.g. 'ICML 2019' (default: 'arXiv <year>')")


def _yaml(value) -> str:
    """JSON is YAML: quoting through it keeps titles with ':' or quotes intact."""
    return json.dumps(value, ensure_ascii=False)


def _fields(args, layout: Layout) -> dict:
    title = " ".join(args.title.split())
    if not title:
        raise SystemExit("--title must not be empty")
    year = args.year or (2000 + int(args.arxiv[:2]) if args.arxiv else None)  # arXiv ids start YYMM
    if year is None:
        raise SystemExit("--year is required with --url (it is read from the id only with --arxiv)")
    venue = args.venue or (f"arXiv {year}" if args.arxiv else None)
    if venue is None:
        raise SystemExit("--venue is required with --url, e.g. --venue 'ICML 2019'")
    authors = [a.strip() for a in args.authors.split(",") if a.strip()]
    source_url = f"https://arxiv.org/abs/{args.arxiv}" if args.arxiv else args.url
    return {
        "slug": args.slug,
        "topic": args.topic,
        "title": _yaml(title),
        "heading": title,
        "authors": _yaml(authors),
        "byline": ", ".join(authors) or "Authors",
        "year": year,
        "venue": _yaml(venue),
        "venue_text": venue,
        "source_field": f"arxiv: {_yaml(args.arxiv)}" if args.arxiv else f"url: {_yaml(args.url)}",
        "source_label": f"arXiv:{args.arxiv}" if args.arxiv else "paper",
        "source_url": source_url,
        "tags": _yaml([args.topic]),
        "companion_py": layout.companion_py(args.slug).as_posix(),
        # Relative links, as mkdocs resolves them: note file -> twin, companion page -> note page.
        "twin_from_note": posixpath.relpath(layout.twin_uri(args.slug), posixpath.dirname(layout.note_uri(layout.new_note(args.topic, args.slug)))),
        "note_from_companion": posixpath.relpath(
            layout.note_uri(layout.new_note(args.topic, args.slug)).removesuffix(".md") + "/", f"{layout.companions_dir}/{args.slug}"
        ) + "/",
    }


def _template(name: str) -> Template:
    return Template(resources.files("papersite").joinpath("templates", name).read_text(encoding="utf-8"))


def new_paper(args, layout: Layout = Layout()) -> list[Path]:
    """Write the note and the companion for ``args``; returns their paths."""
    fields, root = _fields(args, layout), layout.root
    existing_notes = sorted((root / layout.notes).rglob(f"{args.slug}.md"))
    note = root / layout.new_note(args.topic, args.slug)
    companion = root / layout.companion_py(args.slug)
    taken = [p for p in (*existing_notes, companion, companion.with_suffix(".ipynb")) if p.exists()]
    if taken:
        names = ", ".join(str(p.relative_to(root)) for p in taken)
        raise SystemExit(f"slug {args.slug!r} is taken: {names} already exist(s); choose another slug or edit those files")
    note.parent.mkdir(parents=True, exist_ok=True)
    companion.parent.mkdir(parents=True, exist_ok=True)
    note.write_text(_template("note.md").substitute(fields), encoding="utf-8")
    companion.write_text(_template("companion.py").substitute(fields), encoding="utf-8")
    return [note, companion]
