"""The mkdocs plugin that joins notes, companions and generated pages into one site.

List it before mkdocs-jupyter in mkdocs.yml: it adds the executed companion twins
(which live outside docs/) to the site's files, and mkdocs-jupyter then renders them.
"""

import json
import shutil
from pathlib import Path

from mkdocs.config import config_options
from mkdocs.plugins import BasePlugin
from mkdocs.structure.files import File

from papernotes.claims import claims_markdown, read_claims
from papernotes.notes import CLAIMS_PLACEHOLDER, COMPANIONS_DIR, load_notes

MATHJAX_URL = "assets/mathjax/"
_NB_MATHJAX_START, _NB_MATHJAX_END = "<!-- Load mathjax -->", "<!-- End of mathjax configuration -->"


def _mathjax_source() -> Path:
    import mathjax  # the django-static-mathjax package: MathJax 3 as plain files

    return Path(mathjax.__file__).parent / "static" / "mathjax" / "es5"


def papers_index(notes) -> str:
    lines = ["# Papers", "", "Every paper with a note, by topic. Generated from the notes' front matter.", ""]
    for topic in sorted({n.topic for n in notes}):
        lines += [f"## {topic.replace('-', ' ').capitalize()}", "", "| Paper | Authors | Year | Venue | Companion |", "|---|---|---|---|---|"]
        for note in sorted((n for n in notes if n.topic == topic), key=lambda n: (n.meta["year"], n.meta["title"])):
            m = note.meta
            authors = ", ".join(m["authors"][:3]) + (" et al." if len(m["authors"]) > 3 else "")
            companion = f"[notebook](companions/{note.slug}.ipynb)" if note.companion else "none"
            lines.append(f"| [{m['title']}]({note.path.relative_to('docs').as_posix()}) | {authors} | {m['year']} | {m['venue']} | {companion} |")
        lines.append("")
    return "\n".join(lines)


class PaperNotesPlugin(BasePlugin):
    config_scheme = (("root", config_options.Type(str, default=".")),)

    def on_config(self, config):
        self.root = Path(config["config_file_path"]).parent
        return config

    def on_files(self, files, config):
        self.notes = load_notes(self.root)
        for twin in sorted((self.root / COMPANIONS_DIR).glob("*.ipynb")):
            # A real File rooted at the repository (not File.generated): mkdocs-jupyter's wrapper
            # recomputes abs_src_path from src_dir, which a generated file lacks.
            uri = f"{COMPANIONS_DIR.as_posix()}/{twin.name}"
            files.append(File(uri, str(self.root), config["site_dir"], config["use_directory_urls"]))
        files.append(File.generated(config, "papers.md", content=papers_index(self.notes)))
        return files

    def on_page_markdown(self, markdown, page, config, files):
        if CLAIMS_PLACEHOLDER not in markdown:
            return markdown
        note = next((n for n in self.notes if n.path.as_posix() == f"docs/{page.file.src_uri}"), None)
        if note is None or note.companion is None:
            raise ValueError(f"{page.file.src_uri}: {CLAIMS_PLACEHOLDER} needs a note with a companion")
        ledger = read_claims(self.root / note.companion_twin)
        if ledger is None:
            raise ValueError(f"{note.companion_twin}: no claims ledger output; run `make execute NAME={note.slug}`")
        table = claims_markdown(ledger["claims"])
        return markdown.replace(CLAIMS_PLACEHOLDER, table)

    def on_post_page(self, output, page, config):
        # nbconvert's template loads MathJax 2 from custom_mathjax_url ("" here) and then calls
        # MathJax.Hub, which MathJax 3 lacks: drop the block, the site's MathJax 3 typesets notebooks.
        start, end = output.find(_NB_MATHJAX_START), output.find(_NB_MATHJAX_END)
        if start != -1 and end > start:
            output = output[:start] + output[end + len(_NB_MATHJAX_END):]
        return output

    def on_post_build(self, config):
        target = Path(config["site_dir"]) / MATHJAX_URL
        source = _mathjax_source()
        shutil.copytree(source, target, dirs_exist_ok=True, ignore=shutil.ignore_patterns("sre", "node-main.js", "*.map"))

    def on_serve(self, server, config, builder):
        server.watch(str(self.root / COMPANIONS_DIR))
        return server
