"""The mkdocs plugin that joins notes, companions and generated pages into one site.

List it before mkdocs-jupyter in mkdocs.yml: it adds the executed companion twins (which
live outside docs/) to the site's files, and mkdocs-jupyter then renders them. It also
generates the papers, claims and execution-statistics pages, claims.json, the home page's
verdict totals, and each note's claims table, provenance, related papers and BibTeX;
companion pages get, after their title, their provenance, a download link, "Open in Colab"
(with a GitHub ``repo_url``) and the commands that re-run them.

Settings (all optional), under ``plugins: - papernotes:`` in mkdocs.yml:

- ``notes_dir``: the notes folder inside docs_dir (default ``notes``);
- ``companions_dir``: the companions folder in the repository (default ``companions``);
- ``branch``: the branch that links to source files point at (default ``main``).

Like mkdocs-material's plugins, it imports mkdocs and its own package, nothing else: the site
builds without torch. A broken note or twin stops the build with one line naming the file
(and the line, where known) and the fix.
"""

import json
import os
import posixpath
import shutil
import sys
from pathlib import Path

from mkdocs.config import config_options
from mkdocs.config.base import Config
from mkdocs.exceptions import PluginError
from mkdocs.plugins import BasePlugin
from mkdocs.structure.files import File
from mkdocs.utils import get_relative_url

from papersite import navigation, pages, performance
from papersite.bibtex import cite_markdown
from papersite.corrections import corrections, corrections_markdown
from papersite.claims_format import claims_markdown, stored_claim_problems, verdict_text
from papersite.layout import Layout
from papersite.notes import CLAIM_FIELD, CLAIMS_PLACEHOLDER, FrontMatterError, load_note
from papersite.provenance import budget_s, colab_url, stamp_html, stamp_markdown
from papersite.twins import read_twin

MATHJAX_URL = "assets/mathjax/"
_NB_MATHJAX_START, _NB_MATHJAX_END = "<!-- Load mathjax -->", "<!-- End of mathjax configuration -->"


def _mathjax_source() -> Path:
    import mathjax  # the django-static-mathjax package: MathJax 3 as plain files

    return Path(mathjax.__file__).parent / "static" / "mathjax" / "es5"


class PaperNotesConfig(Config):
    notes_dir = config_options.Type(str, default="notes")
    companions_dir = config_options.Type(str, default="companions")
    branch = config_options.Type(str, default="main")
    benchmark_results = config_options.Type(str, default="benchmarks/results.json")


class PaperNotesPlugin(BasePlugin[PaperNotesConfig]):
    serving = False

    def on_startup(self, *, command, dirty):
        self.serving = command == "serve"

    def _fail(self, src_uri: str, message: str):
        """Stop the build; under `mkdocs serve`, show the fault on the page instead and go on.

        The author then sees it in the browser, and the server stays up until the file is fixed.
        """
        if not self.serving:
            raise PluginError(message)
        print(f"ERROR    -  {message}", file=sys.stderr)  # not through mkdocs' logger: strict mode would stop the server
        self.page_errors.setdefault(src_uri, []).append(message)

    def on_config(self, config):
        root = Path(config["config_file_path"]).parent
        docs_dir = Path(os.path.relpath(config["docs_dir"], root)).as_posix()
        self.layout = Layout(root, docs_dir, self.config.notes_dir, self.config.companions_dir, self.config.branch)
        for name, folder in (("notes_dir", root / self.layout.notes), ("companions_dir", root / self.layout.companions)):
            if not folder.is_dir():
                raise PluginError(f"mkdocs.yml: plugin 'papernotes' setting {name}={getattr(self.config, name)!r}: no folder {folder}; set it to an existing folder")
        if not self.config.branch or any(c.isspace() for c in self.config.branch):
            raise PluginError(f"mkdocs.yml: plugin 'papernotes' setting branch={self.config.branch!r} is not a branch name; e.g. main")
        return config

    def _read(self):
        """Every note, and each note's twin, read once per build."""
        notes, papers = [], []
        for path in self.layout.note_paths():
            try:
                notes.append(load_note(self.layout.root, path))
            except FrontMatterError as error:
                self._fail(self.layout.note_uri(path), str(error))
        for note in notes:
            if note.companion is None:
                continue
            uri, twin_path = self.layout.note_uri(note.path), self.layout.twin(note.slug)
            fix = f"run `make execute NAME={note.slug}`"
            if not (self.layout.root / twin_path).exists():
                self._fail(uri, f"{note.path}: its companion has no executed twin {twin_path}; {fix}")
                continue
            twin = read_twin(self.layout.root / twin_path)
            problems = [f"{twin_path}: {p}, then {fix}" for claim in twin.claims for p in stored_claim_problems(claim)]
            if twin.ledger is None:
                problems.append(f"{twin_path}: no claims ledger output; end its Claims section with ledger.show() and {fix}")
            for problem in problems[:1]:
                self._fail(uri, problem)
            if not problems:
                papers.append(pages.Paper.of(note, twin))
        return notes, papers

    def on_files(self, files, config):
        self.page_errors = {}
        self.notes, self.papers = self._read()
        twins = [self.layout.twin(p.note.slug).as_posix() for p in self.papers]
        self.corrections, self.history_problem = corrections(self.layout.root, twins)
        self.notes_by_uri = {self.layout.note_uri(n.path): n for n in self.notes}
        self.paper_of = {p.note.slug: p for p in self.papers}
        for twin in self.layout.twins():
            # A real File rooted at the repository (not File.generated): mkdocs-jupyter's wrapper
            # recomputes abs_src_path from src_dir, which a generated file lacks.
            files.append(File(self.layout.twin_uri(twin.stem), str(self.layout.root), config["site_dir"], config["use_directory_urls"]))
        files.append(File.generated(config, pages.PAPERS_PAGE, content=pages.papers_index(self.notes, self.papers, self.layout)))
        files.append(File.generated(config, performance.PERFORMANCE_PAGE, content=self._performance_page()))
        for name in (pages.CLAIMS_PAGE, pages.EXECUTION_PAGE, pages.CLAIMS_JSON):
            files.append(File.generated(config, name, content=""))  # filled in on_nav, once URLs are final
        return files

    def _performance_page(self) -> str:
        path = self.layout.root / self.config.benchmark_results
        try:
            self.results = performance.read_results(path)
        except ValueError as error:
            raise PluginError(str(error)) from None
        notes = {note.slug: note for note in self.notes}
        return performance.performance_page(
            self.results, lambda slug: (notes[slug].meta["title"], self.layout.note_uri(notes[slug].path)) if slug in notes else None
        )

    def on_nav(self, nav, config, files):
        # mkdocs-jupyter's on_files (after ours) gives twins their page URLs: link to those.
        self.files = files
        claims_file = files.get_file_from_path(pages.CLAIMS_PAGE)
        claims_file.content_string = pages.claims_page(self.papers, *self._urls_from(claims_file.url))
        files.get_file_from_path(pages.EXECUTION_PAGE).content_string = pages.execution_page(
            self.papers, self._twin_link_from(pages.EXECUTION_PAGE)
        )
        nav = navigation.by_paper(nav, files, self.notes, self.layout, [
            (pages.PAPERS_PAGE, "Papers"), (pages.CLAIMS_PAGE, "Claims"), (performance.PERFORMANCE_PAGE, "Performance"),
            (pages.EXECUTION_PAGE, "Execution"), ("tags.md", "Tags"),
        ])
        claims_data = pages.claims_json(self.papers, *self._urls_from(""))
        files.get_file_from_path(pages.CLAIMS_JSON).content_string = json.dumps(claims_data, indent=1, ensure_ascii=False)
        return nav

    def _twin_link_from(self, page_src_uri: str):
        """A Markdown link from a page's source to a twin, which mkdocs validates and rewrites."""
        return lambda note: posixpath.relpath(self.layout.twin_uri(note.slug), posixpath.dirname(page_src_uri) or ".")

    def _urls_from(self, page_url: str):
        """(note URL, companion URL) functions giving URLs relative to ``page_url``."""
        def note_url(note):
            return get_relative_url(self.files.get_file_from_path(self.layout.note_uri(note.path)).url, page_url)

        def companion_url(note):
            return get_relative_url(self.files.get_file_from_path(self.layout.twin_uri(note.slug)).url, page_url)

        return note_url, companion_url

    def on_page_markdown(self, markdown, page, config, files):
        uri = page.file.src_uri
        if uri.endswith(".ipynb"):
            return markdown
        if pages.TOTALS_PLACEHOLDER in markdown:
            claims_link = posixpath.relpath(pages.CLAIMS_PAGE, posixpath.dirname(uri) or ".")
            note_link = lambda note: posixpath.relpath(self.layout.note_uri(note.path), posixpath.dirname(uri) or ".")  # noqa: E731
            markdown = markdown.replace(pages.TOTALS_PLACEHOLDER, pages.verdict_totals(self.papers, claims_link, note_link))
        note = self.notes_by_uri.get(uri)
        if note is not None and uri not in self.page_errors:
            try:
                markdown = self._note_markdown(markdown, note, page.url)
            except PluginError as error:
                self._fail(uri, str(error))
        elif note is None and CLAIMS_PLACEHOLDER in markdown:
            self._fail(uri, f"{self.layout.docs_dir}/{uri}: {CLAIMS_PLACEHOLDER} belongs in a note with a companion; remove it")
        if uri in self.page_errors:
            shown = "\n".join(f"    {error}" for error in self.page_errors[uri])
            return f'!!! failure "This page has an error: fix it and the page rebuilds"\n\n{shown}\n\n' + markdown
        return markdown

    def _paper(self, note, placeholder: str) -> pages.Paper:
        if note.slug not in self.paper_of:
            raise PluginError(f"{note.path}: {placeholder} needs a note with a companion (this note says 'companion: none'); remove it")
        return self.paper_of[note.slug]

    def _note_markdown(self, markdown, note, page_url: str) -> str:
        claims_link = get_relative_url(self.files.get_file_from_path(pages.CLAIMS_PAGE).url, page_url) + f"?paper={note.slug}"
        speed_link = None
        if self.results and any(core["slug"] == note.slug for core in self.results["cores"]):
            speed_link = get_relative_url(self.files.get_file_from_path(performance.PERFORMANCE_PAGE).url, page_url) + f"#{performance.anchor(note.slug)}"
        bottom = pages.bottom_line(note, self.paper_of.get(note.slug), claims_link, speed_link)
        head, heading, rest = markdown.partition("\n## ")  # the bottom line goes after the byline, before the first section
        markdown = f"{head.rstrip()}\n\n{bottom}\n{heading}{rest}"
        if CLAIM_FIELD.search(markdown):
            markdown = self._quote_claims(markdown, self._paper(note, "[[ours:...]]"))
        if CLAIMS_PLACEHOLDER in markdown:
            paper = self._paper(note, CLAIMS_PLACEHOLDER)
            stamp = stamp_markdown(paper.record, budget_s(note.meta))
            changes = self.corrections.get(self.layout.twin(note.slug).as_posix(), [])
            listed = corrections_markdown(changes, self.history_problem)
            markdown = markdown.replace(CLAIMS_PLACEHOLDER, "\n\n".join([claims_markdown(paper.claims), stamp, listed]))
        # A related slug without a note yet (its author may still be writing it) is left out
        # here and reported by `papernotes check`, so the build keeps working meanwhile.
        related = pages.related_markdown(note, self.notes, lambda other: pages.relative_md_link(other, note))
        return "\n\n".join(part for part in (markdown.rstrip(), related, cite_markdown(note.meta)) if part)

    def _quote_claims(self, markdown, paper: pages.Paper) -> str:
        """Replace [[ours:C3]] / [[verdict:C3]] with that claim's measured value / verdict.

        Prose in a note can then cite the companion's numbers without typing them.
        """
        note = paper.note
        claims = {claim["id"]: claim for claim in paper.claims}
        lines = markdown.splitlines()

        def quote(match):
            field, claim_id = match.groups()
            if claim_id not in claims:
                line = next((n for n, text in enumerate(lines, 1) if match.group(0) in text), None)
                where = f"{note.path} (body line {line})" if line else str(note.path)
                raise PluginError(f"{where}: {match.group(0)} names no claim of {self.layout.twin(note.slug)}; it has {sorted(claims, key=lambda c: int(c[1:]))}")
            return claims[claim_id]["ours"] if field == "ours" else verdict_text(claims[claim_id])

        return CLAIM_FIELD.sub(quote, markdown)

    def on_page_context(self, context, page, config, nav):
        paper = self.paper_of.get(Path(page.file.src_uri).stem) if self.layout.is_twin_uri(page.file.src_uri) else None
        if paper is not None:  # the navigation calls it "Companion notebook"; the browser tab names the paper
            page.meta["title"] = f"{paper.note.meta['title']}: companion notebook"
        return context

    def on_page_content(self, html, page, config, files):
        """A companion page opens with its title; provenance and how to run it follow."""
        src_uri = page.file.src_uri
        if not self.layout.is_twin_uri(src_uri):
            return html
        slug = Path(src_uri).stem
        paper = self.paper_of.get(slug)
        record = paper.record if paper else read_twin(self.layout.root / src_uri).record
        header = stamp_html(record, budget_s(paper.note.meta if paper else {})) + pages.run_yourself_html(
            slug, self.layout, colab_url(config.get("repo_url"), self.layout.twin(slug).as_posix(), self.layout.branch)
        )
        end = html.find("</h1>")
        return html[:end + 5] + header + html[end + 5:] if end != -1 else header + html

    def on_post_page(self, output, page, config):
        # nbconvert's template loads MathJax 2 from custom_mathjax_url ("" here) and then calls
        # MathJax.Hub, which MathJax 3 lacks: drop the block, the site's MathJax 3 typesets notebooks.
        start, end = output.find(_NB_MATHJAX_START), output.find(_NB_MATHJAX_END)
        if start != -1 and end > start:
            output = output[:start] + output[end + len(_NB_MATHJAX_END):]
        return output

    def on_post_build(self, config):
        source = _mathjax_source()
        shutil.copytree(source, Path(config["site_dir"]) / MATHJAX_URL, dirs_exist_ok=True, ignore=shutil.ignore_patterns("sre", "node-main.js", "*.map"))

    def on_serve(self, server, config, builder):
        server.watch(str(self.layout.root / self.layout.companions))
        return server
