"""Integrity checks across notes and companions, each problem an actionable message.

``all_problems`` reads every note, companion source and twin once into a ``Repository`` and
hands it to each check.
"""

import posixpath
import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import jupytext

from papersite.claims_format import stored_claim_problems
from papersite.cores import core_source
from papersite.layout import Layout
from papersite.notes import CLAIMS_PLACEHOLDER, SCAFFOLD_MARKER, front_matter_problems, read_notes
from papersite.pages import GENERATED_PAGES
from papersite.provenance import budget_s
from papersite.twins import ExecutedTwin, read_twin

_MD_LINK = re.compile(r"\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
_SECTIONS = ("Setup", "Method", "Checks against references", "Baseline", "Claims", "Small experiment", "What this does not show")
_TYPED_VERDICT = re.compile(r"\bVerdict\.")
_DECLARE = re.compile(r"\.declare\(")


@dataclass
class Repository:
    """Notes, companion sources and twins, each read once for all the checks."""

    layout: Layout
    _sources: dict = field(default_factory=dict)
    _twins: dict = field(default_factory=dict)

    @cached_property
    def _read_notes(self):
        return read_notes(self.layout)

    @property
    def notes(self):
        return self._read_notes[0]

    @property
    def note_problems(self) -> list[str]:
        return self._read_notes[1]

    def source(self, py: Path):
        """The companion's cells as jupytext reads them."""
        if py not in self._sources:
            self._sources[py] = jupytext.read(self.layout.root / py)
        return self._sources[py]

    def twin(self, path: Path) -> ExecutedTwin:
        if path not in self._twins:
            self._twins[path] = read_twin(self.layout.root / path)
        return self._twins[path]

    def companion_notes(self):
        """Notes that declare a companion, with the path of its twin."""
        return [(note, self.layout.twin(note.slug)) for note in self.notes if note.meta.get("companion") not in (None, "none")]


def front_matter(repo: Repository) -> list[str]:
    problems = list(repo.note_problems)
    for note in repo.notes:
        problems += front_matter_problems(note.meta, str(note.path), note.slug)
    return problems


def pairing(repo: Repository) -> list[str]:
    """Every note has a companion (or says why not) and every companion a note."""
    layout, problems = repo.layout, []
    slugs = {note.slug for note in repo.notes}
    for note in repo.notes:
        py = layout.companion_py(note.slug)
        if note.meta.get("companion") == "none":
            if (layout.root / py).exists():
                problems.append(f"{note.path}: says 'companion: none' but {py} exists")
        elif not (layout.root / py).exists():
            problems.append(f"{note.path}: has no companion; create {py} or set 'companion: none' with 'no_companion_reason'")
    for py in layout.companion_sources():
        if py.stem not in slugs:
            problems.append(f"{py}: has no note; create {layout.notes}/<topic>/{py.stem}.md")
    return problems


def _cell_signature(cells) -> list[tuple]:
    return [(c["cell_type"], "".join(c["source"]).strip(), tuple(c.get("metadata", {}).get("tags", ()))) for c in cells]


def twins(repo: Repository) -> list[str]:
    """Each twin holds its .py, executed top to bottom in one run, without stored errors."""
    layout, problems = repo.layout, []
    for py in layout.companion_sources():
        path, fix = layout.twin(py.stem), f"run `make execute NAME={py.stem}`"
        if not (layout.root / path).exists():
            problems.append(f"{py}: no executed twin {path}; {fix}")
            continue
        source, stored = _cell_signature(repo.source(py).cells), _cell_signature(repo.twin(path).cells)
        if source != stored:
            index = next((i for i, (a, b) in enumerate(zip(source, stored)) if a != b), None)
            problems.append(
                f"{path}: cell {index + 1} differs from {py} (out of sync); {fix}" if index is not None
                else f"{path}: has {len(stored)} cells but {py} has {len(source)}; {fix}"
            )
            continue
        code = [c for c in repo.twin(path).cells if c["cell_type"] == "code"]
        counts = [c.get("execution_count") for c in code]
        if counts != list(range(1, len(code) + 1)):
            problems.append(f"{path}: not executed top to bottom in one run (execution counts {counts}); {fix}")
            continue
        for index, cell in enumerate(code):
            errors = any(o.get("output_type") == "error" for o in cell.get("outputs", []))
            if errors and "raises-exception" not in cell.get("metadata", {}).get("tags", []):
                problems.append(f"{path}: code cell {index + 1} stored an error; fix it and re-execute")
                break
    return problems


def structure(repo: Repository) -> list[str]:
    """Each companion has the fixed sections, in order, and a core between markers."""
    problems = []
    for py in repo.layout.companion_sources():
        headings = [
            line[3:].strip()
            for cell in repo.source(py).cells if cell.cell_type == "markdown"
            for line in cell.source.splitlines() if line.startswith("## ")
        ]
        found = [next((h for h in headings if h.startswith(s)), None) for s in _SECTIONS]
        missing = [s for s, h in zip(_SECTIONS, found) if h is None]
        if missing:
            problems.append(f"{py}: missing '## ' section(s) {missing}; the order is {list(_SECTIONS)}")
        elif [headings.index(h) for h in found] != sorted(headings.index(h) for h in found):
            problems.append(f"{py}: sections out of order; the order is {list(_SECTIONS)}")
        try:
            core_source(repo.layout.root / py)
        except ValueError as error:
            problems.append(f"{py}: {error}".replace(str(repo.layout.root / py), str(py)))
    return problems


def claims(repo: Repository) -> list[str]:
    """Each executed companion holds a ledger whose every claim has a complete test."""
    problems = []
    for note, path in repo.companion_notes():
        if not (repo.layout.root / path).exists():
            continue  # reported by twins()
        ledger = repo.twin(path).ledger
        if ledger is None:
            problems.append(f"{path}: records no claims; end its Claims section with ledger.show()")
            continue
        for claim in ledger["claims"]:
            problems += [f"{path}: {problem}" for problem in stored_claim_problems(claim)]
        if CLAIMS_PLACEHOLDER not in note.body:
            problems.append(f"{note.path}: has a companion but no '{CLAIMS_PLACEHOLDER}' line where its claims table goes")
    return problems


def declared_tests(repo: Repository) -> list[str]:
    """Verdicts are computed, never typed, and every claim is declared in the register cell.

    The register is the first code cell of the Claims section; no claim is declared anywhere
    else, so no test can be chosen after a measurement was seen.
    """
    problems = []
    for py in repo.layout.companion_sources():
        for number, line in enumerate((repo.layout.root / py).read_text(encoding="utf-8").splitlines(), start=1):
            if _TYPED_VERDICT.search(line):
                problems.append(f"{py}:{number}: types a verdict ({line.strip()[:60]}); declare the claim's test and let ledger.measure compute it")
        cells = repo.source(py).cells
        claims_at = next((i for i, c in enumerate(cells) if c.cell_type == "markdown" and c.source.lstrip().startswith("## Claims")), None)
        if claims_at is None:
            continue  # reported by structure()
        register = next((c for c in cells[claims_at:] if c.cell_type == "code"), None)
        elsewhere = [c for c in cells if c.cell_type == "code" and c is not register and _DECLARE.search(c.source)]
        if register is None or "ClaimLedger(" not in register.source or not _DECLARE.search(register.source):
            problems.append(f"{py}: the Claims section must open with the register: one code cell creating the ClaimLedger and declaring every claim")
        elif elsewhere:
            problems.append(
                f"{py}: claims are declared outside the register cell (in a cell starting {elsewhere[0].source.strip()[:50]!r}); "
                "move every declare() into the first code cell of the Claims section"
            )
    return problems


def scaffold_leftovers(repo: Repository) -> list[str]:
    """Nothing the scaffold left for an author to fill in is still there."""
    problems = []
    for path in repo.layout.companion_sources() + repo.layout.note_paths():
        for number, line in enumerate((repo.layout.root / path).read_text(encoding="utf-8").splitlines(), start=1):
            if SCAFFOLD_MARKER in line:
                problems.append(f"{path}:{number}: still has the scaffold's placeholder ({line.strip()[:60]}); replace it with the paper's content")
    return problems


def related(repo: Repository) -> list[str]:
    """Every slug a note lists under 'related' names a note."""
    slugs = {note.slug for note in repo.notes}
    problems = []
    for note in repo.notes:
        related_slugs = note.meta.get("related")
        if not isinstance(related_slugs, list):
            continue  # absent, or reported by front_matter()
        problems += [f"{note.path}: related paper {slug!r} has no note; choose from {sorted(slugs)}" for slug in related_slugs if slug not in slugs]
    return problems


def budgets(repo: Repository) -> list[str]:
    """Each twin's last execution (its provenance record) fits the note's time budget."""
    problems = []
    for note, path in repo.companion_notes():
        if not (repo.layout.root / path).exists():
            continue
        try:
            budget = budget_s(note.meta)
        except (TypeError, ValueError):
            continue  # reported by front_matter()
        record = repo.twin(path).record
        if record is None:
            problems.append(f"{path}: has no execution record (metadata.papernotes); run `make execute NAME={note.slug}`")
        elif record["runtime_s"] > budget:
            problems.append(
                f"{path}: took {record['runtime_s']:.1f} s when last executed, over its {budget:.0f} s budget; "
                f"make it faster or raise 'budget_s' in {note.path} (on a busy machine, re-execute when it is idle)"
            )
    return problems


def _page_exists(layout: Layout, url: str) -> bool:
    """Does a site-relative directory URL (e.g. 'notes/vision/efficientnet/') name a page?"""
    docs = layout.root / layout.docs_dir
    url = url.split("#")[0].strip("/")
    if url in ("", "."):
        return (docs / "index.md").exists()
    if url.startswith(f"{layout.companions_dir}/"):
        return (layout.root / layout.twin(url.split("/")[1].removesuffix(".ipynb"))).exists()
    candidates = [docs / f"{url}.md", docs / url / "index.md", docs / url]
    generated = {page.removesuffix(".md") for page in GENERATED_PAGES} | set(GENERATED_PAGES)
    return any(c.is_file() for c in candidates) or url in generated


def notebook_links(repo: Repository) -> list[str]:
    """Links inside twins are neither checked nor rewritten by mkdocs: check them here.

    A companion page is served at companions/<slug>/, so a link to a note is written
    '../../notes/<topic>/<slug>/'.
    """
    problems = []
    for path in repo.layout.twins():
        page = f"{repo.layout.companions_dir}/{path.stem}/"
        for cell in repo.twin(path).cells:
            if cell["cell_type"] != "markdown":
                continue
            for target in _MD_LINK.findall("".join(cell["source"])):
                if re.match(r"^[a-z]+:", target) or target.startswith("#"):
                    continue
                resolved = posixpath.normpath(posixpath.join(page, target.split("#")[0]))
                if resolved.startswith("..") or not _page_exists(repo.layout, resolved):
                    problems.append(f"{path}: link '{target}' leads nowhere on the site (resolves to '{resolved}')")
    return problems


def _output_text(output) -> str:
    return "".join(output.get("text", "")) + "".join(
        v if isinstance(v, str) else "".join(v) for k, v in output.get("data", {}).items() if k.startswith("text/")
    )


def portable_outputs(repo: Repository) -> list[str]:
    """Stored outputs nbval can reproduce anywhere: no stderr noise, no machine-specific paths.

    A warning on stderr or a path of this checkout in an output passes here and fails on a
    clone in another folder, so both are rejected where they are stored.
    """
    problems = []
    checkout = str(repo.layout.root.resolve())
    for path in repo.layout.twins():
        code_cells = [c for c in repo.twin(path).cells if c["cell_type"] == "code"]
        for number, cell in enumerate(code_cells, start=1):
            for output in cell.get("outputs", []):
                where = f"{path}: code cell {number}"
                if output.get("name") == "stderr":
                    problems.append(f"{where} writes to stderr ({_output_text(output)[:80]!r}); silence or fix the warning")
                elif checkout in _output_text(output):
                    problems.append(f"{where} prints a path of this checkout; print paths relative to the repository")
    return problems


CHECKS = {
    "front matter": front_matter,
    "notes and companions": pairing,
    "companion structure": structure,
    "executed twins": twins,
    "claims": claims,
    "declared tests": declared_tests,
    "scaffold leftovers": scaffold_leftovers,
    "related papers": related,
    "time budgets": budgets,
    "links in notebooks": notebook_links,
    "portable outputs": portable_outputs,
}


def all_problems(root: Path = Path("."), layout: Layout | None = None) -> dict[str, list[str]]:
    repo = Repository(layout or Layout(root=Path(root)))
    return {name: check(repo) for name, check in CHECKS.items()}
