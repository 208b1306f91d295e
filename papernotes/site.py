"""The mkdocs plugin that joins notes, companions and generated pages into one site.

List it before mkdocs-jupyter in mkdocs.yml: it adds the executed companion twins
(which live outside docs/) to the site's files, and mkdocs-jupyter then renders them.
It also generates the papers, claims and execution-statistics pages, claims.json, the
home page's verdict totals, and each note's claims table, provenance, related papers and
BibTeX; companion pages get their provenance and "Open in Colab" through page meta
(rendered by overrides/main.html).
"""

import json
import posixpath
import shutil
from pathlib import Path

from mkdocs.plugins import BasePlugin
from mkdocs.structure.files import File
from mkdocs.utils import get_relative_url

from papernotes import pages
from papernotes.bibtex import cite_markdown
from papernotes.claims import claim_fragments, claims_markdown, read_claims, verdict_text
from papernotes.notes import CLAIM_FIELD, CLAIMS_PLACEHOLDER, COMPANIONS_DIR, TOPIC_TITLES, load_notes
from papernotes.provenance import budget_s, colab_url, read_provenance, stamp_html, stamp_markdown

MATHJAX_URL = "assets/mathjax/"
_NB_MATHJAX_START, _NB_MATHJAX_END = "<!-- Load mathjax -->", "<!-- End of mathjax configuration -->"


def _mathjax_source() -> Path:
    import mathjax  # the django-static-mathjax package: MathJax 3 as plain files

    return Path(mathjax.__file__).parent / "static" / "mathjax" / "es5"


def _twin_uri(slug: str) -> str:
    return f"{COMPANIONS_DIR.as_posix()}/{slug}.ipynb"


def _note_uri(note) -> str:
    return note.path.relative_to("docs").as_posix()


def _retitle_topics(items):
    """Navigation sections named after topic folders get the topic's title ('Nlp' -> 'NLP')."""
    for item in items:
        if item.is_section:
            item.title = TOPIC_TITLES.get(item.title.lower(), item.title)
            _retitle_topics(item.children)


class PaperNotesPlugin(BasePlugin):
    def on_config(self, config):
        self.root = Path(config["config_file_path"]).parent
        return config

    def _companions(self) -> list[pages.Companion]:
        """Every note whose twin holds a claim ledger; integrity checks report the others."""
        companions = []
        for note in self.notes:
            twin = self.root / note.companion_twin
            if note.companion is None or not twin.exists() or (ledger := read_claims(twin)) is None:
                continue
            companions.append(pages.Companion(note, ledger["claims"], claim_fragments(twin), read_provenance(twin)))
        return companions

    def on_files(self, files, config):
        self.notes = load_notes(self.root)
        self.notes_by_uri = {_note_uri(n): n for n in self.notes}
        for twin in sorted((self.root / COMPANIONS_DIR).glob("*.ipynb")):
            # A real File rooted at the repository (not File.generated): mkdocs-jupyter's wrapper
            # recomputes abs_src_path from src_dir, which a generated file lacks.
            files.append(File(_twin_uri(twin.stem), str(self.root), config["site_dir"], config["use_directory_urls"]))
        self.companions = self._companions()
        self.companion_of = {c.note.slug: c for c in self.companions}  # twins are read once, here
        files.append(File.generated(config, pages.PAPERS_PAGE, content=pages.papers_index(self.notes)))
        for name in (pages.CLAIMS_PAGE, pages.EXECUTION_PAGE, pages.CLAIMS_JSON):
            files.append(File.generated(config, name, content=""))  # filled in on_nav, once URLs are final
        return files

    def on_nav(self, nav, config, files):
        # mkdocs-jupyter's on_files (after ours) gives twins their page URLs: link to those.
        self.files = files
        claims_file = files.get_file_from_path(pages.CLAIMS_PAGE)
        claims_file.content_string = pages.claims_page(self.companions, *self._urls_from(claims_file.url))
        files.get_file_from_path(pages.EXECUTION_PAGE).content_string = pages.execution_page(
            self.companions, self._twin_link_from(pages.EXECUTION_PAGE)
        )
        _retitle_topics(nav.items)
        claims_data = pages.claims_json(self.companions, *self._urls_from(""))
        files.get_file_from_path(pages.CLAIMS_JSON).content_string = json.dumps(claims_data, indent=1, ensure_ascii=False)
        return nav

    @staticmethod
    def _twin_link_from(page_src_uri: str):
        """A Markdown link from a page's source to a twin, which mkdocs validates and rewrites."""
        return lambda note: posixpath.relpath(_twin_uri(note.slug), posixpath.dirname(page_src_uri) or ".")

    def _urls_from(self, page_url: str):
        """(note URL, companion URL) functions giving URLs relative to ``page_url``."""
        def note_url(note):
            return get_relative_url(self.files.get_file_from_path(_note_uri(note)).url, page_url)

        def companion_url(note):
            return get_relative_url(self.files.get_file_from_path(_twin_uri(note.slug)).url, page_url)

        return note_url, companion_url

    def on_page_markdown(self, markdown, page, config, files):
        if page.file.src_uri.endswith(".ipynb"):
            return markdown
        if pages.TOTALS_PLACEHOLDER in markdown:
            claims_link = posixpath.relpath(pages.CLAIMS_PAGE, posixpath.dirname(page.file.src_uri) or ".")
            markdown = markdown.replace(pages.TOTALS_PLACEHOLDER, pages.verdict_totals(self.companions, claims_link))
        note = self.notes_by_uri.get(page.file.src_uri)
        if note is not None:
            markdown = self._note_markdown(markdown, note)
        elif CLAIMS_PLACEHOLDER in markdown:
            raise ValueError(f"{page.file.src_uri}: {CLAIMS_PLACEHOLDER} belongs in a note with a companion")
        return markdown

    def _executed_companion(self, note, placeholder: str) -> pages.Companion:
        if note.companion is None:
            raise ValueError(f"{note.path}: {placeholder} needs a note with a companion")
        if note.slug not in self.companion_of:
            raise ValueError(f"{note.companion_twin}: no claims ledger output; run `make execute NAME={note.slug}`")
        return self.companion_of[note.slug]

    def _note_markdown(self, markdown, note) -> str:
        if CLAIM_FIELD.search(markdown):
            markdown = self._quote_claims(markdown, self._executed_companion(note, "[[ours:...]]"))
        if CLAIMS_PLACEHOLDER in markdown:
            companion = self._executed_companion(note, CLAIMS_PLACEHOLDER)
            stamp = stamp_markdown(companion.record, budget_s(note.meta))
            markdown = markdown.replace(CLAIMS_PLACEHOLDER, claims_markdown(companion.claims) + "\n\n" + stamp)
        # A related slug without a note yet (its author may still be writing it) is left out
        # here and reported by `papernotes check`, so the build keeps working meanwhile.
        related = pages.related_markdown(note, self.notes, lambda other: pages.relative_md_link(other, note))
        return "\n\n".join(part for part in (markdown.rstrip(), related, cite_markdown(note.meta)) if part)

    @staticmethod
    def _quote_claims(markdown, companion: pages.Companion) -> str:
        """Replace [[ours:C3]] / [[verdict:C3]] with that claim's measured value / verdict.

        Prose in a note can then cite the companion's numbers without typing them.
        """
        note = companion.note
        claims = {claim["id"]: claim for claim in companion.claims}

        def quote(match):
            field, claim_id = match.groups()
            if claim_id not in claims:
                raise ValueError(f"{note.path}: {match.group(0)} names no claim of {note.companion_twin}; it has {sorted(claims)}")
            claim = claims[claim_id]
            if field == "ours":
                return claim["ours"]
            return verdict_text(claim)

        return CLAIM_FIELD.sub(quote, markdown)

    def on_page_context(self, context, page, config, nav):
        src_uri = page.file.src_uri
        if src_uri.startswith(f"{COMPANIONS_DIR.as_posix()}/") and src_uri.endswith(".ipynb"):
            slug = Path(src_uri).stem
            companion = self.companion_of.get(slug)
            budget = budget_s(companion.note.meta if companion else {})
            record = companion.record if companion else read_provenance(self.root / src_uri)
            page.meta["provenance_html"] = stamp_html(record, budget)
            page.meta["colab_url"] = colab_url(config.get("repo_url"), slug)
        return context

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
        server.watch(str(self.root / COMPANIONS_DIR))
        return server
