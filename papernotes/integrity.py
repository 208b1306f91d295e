"""Integrity checks across notes and companions, each problem an actionable message."""

import posixpath
import re
from pathlib import Path

import nbformat

from papernotes.claims import read_claims, stored_claim_problems
from papernotes.notebooks import pair_problems
from papernotes.notes import (
    CLAIMS_PLACEHOLDER,
    COMPANIONS_DIR,
    NOTES_DIR,
    SCAFFOLD_MARKER,
    FrontMatterError,
    front_matter_problems,
    load_note,
    note_paths,
)
from papernotes.pages import GENERATED_PAGES
from papernotes.provenance import DEFAULT_BUDGET_S, budget_s, read_provenance  # conftest.py reads DEFAULT_BUDGET_S here

_MD_LINK = re.compile(r"\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
_SECTIONS = ("Setup", "Method", "Checks against references", "Baseline", "Claims", "Small experiment", "What this does not show")


def _notes(root: Path):
    notes, problems = [], []
    for path in note_paths(root):
        try:
            note = load_note(root / path)
        except FrontMatterError as error:
            problems.append(str(error).replace(str(root / path), str(path)))
            continue
        notes.append((path, note))
    return notes, problems


def front_matter(root: Path = Path(".")) -> list[str]:
    notes, problems = _notes(root)
    for path, note in notes:
        problems += front_matter_problems(note.meta, str(path), path.stem)
    return problems


def pairing(root: Path = Path(".")) -> list[str]:
    """Every note has a companion (or says why not) and every companion a note."""
    notes, problems = _notes(root)
    slugs = {path.stem for path, _ in notes}
    for path, note in notes:
        py = root / COMPANIONS_DIR / f"{path.stem}.py"
        if note.meta.get("companion") == "none":
            if py.exists():
                problems.append(f"{path}: says 'companion: none' but {COMPANIONS_DIR / py.name} exists")
        elif not py.exists():
            problems.append(f"{path}: has no companion; create {COMPANIONS_DIR}/{path.stem}.py or set 'companion: none' with 'no_companion_reason'")
    for py in sorted((root / COMPANIONS_DIR).glob("*.py")):
        if py.stem not in slugs:
            problems.append(f"{COMPANIONS_DIR / py.name}: has no note; create {NOTES_DIR}/<topic>/{py.stem}.md")
    return problems


def twins(root: Path = Path(".")) -> list[str]:
    problems = []
    for py in sorted((root / COMPANIONS_DIR).glob("*.py")):
        problems += [p.replace(str(root) + "/", "") for p in pair_problems(py)]
    return problems


def structure(root: Path = Path(".")) -> list[str]:
    """Each companion has the fixed sections, in order, and a core between markers."""
    import jupytext

    from papernotes.cores import core_source

    problems = []
    for py in sorted((root / COMPANIONS_DIR).glob("*.py")):
        name = COMPANIONS_DIR / py.name
        headings = [
            line[3:].strip()
            for cell in jupytext.read(py).cells if cell.cell_type == "markdown"
            for line in cell.source.splitlines() if line.startswith("## ")
        ]
        found = [next((h for h in headings if h.startswith(s)), None) for s in _SECTIONS]
        missing = [s for s, h in zip(_SECTIONS, found) if h is None]
        if missing:
            problems.append(f"{name}: missing '## ' section(s) {missing}; the order is {list(_SECTIONS)}")
        elif [headings.index(h) for h in found] != sorted(headings.index(h) for h in found):
            problems.append(f"{name}: sections out of order; the order is {list(_SECTIONS)}")
        try:
            core_source(py)
        except ValueError as error:
            problems.append(f"{name}: {error}".replace(str(py), str(name)))
    return problems


def claims(root: Path = Path(".")) -> list[str]:
    """Each executed companion holds a ledger whose every claim has a complete test."""
    notes, problems = _notes(root)
    for path, note in notes:
        if note.meta.get("companion") in (None, "none"):
            continue
        twin = root / COMPANIONS_DIR / f"{path.stem}.ipynb"
        if not twin.exists():
            continue  # reported by twins()
        ledger = read_claims(twin)
        if ledger is None:
            problems.append(f"{COMPANIONS_DIR / twin.name}: records no claims; end its Claims section with ledger.show()")
            continue
        for claim in ledger["claims"]:
            problems += [f"{COMPANIONS_DIR / twin.name}: {problem}" for problem in stored_claim_problems(claim)]
        if CLAIMS_PLACEHOLDER not in note.body:
            problems.append(f"{path}: has a companion but no '{CLAIMS_PLACEHOLDER}' line where its claims table goes")
    return problems


_TYPED_VERDICT = re.compile(r"\bVerdict\.")
_DECLARE = re.compile(r"\.declare\(")


def declared_tests(root: Path = Path(".")) -> list[str]:
    """Verdicts are computed, never typed, and every claim is declared in the register cell.

    The register is the first code cell of the Claims section; no claim is declared anywhere
    else, so no test can be chosen after a measurement was seen.
    """
    import jupytext

    problems = []
    for py in sorted((root / COMPANIONS_DIR).glob("*.py")):
        name = COMPANIONS_DIR / py.name
        for number, line in enumerate(py.read_text(encoding="utf-8").splitlines(), start=1):
            if _TYPED_VERDICT.search(line):
                problems.append(f"{name}:{number}: types a verdict ({line.strip()[:60]}); declare the claim's test and let ledger.measure compute it")
        cells = jupytext.read(py).cells
        claims_at = next((i for i, c in enumerate(cells) if c.cell_type == "markdown" and c.source.lstrip().startswith("## Claims")), None)
        if claims_at is None:
            continue  # reported by structure()
        register = next((c for c in cells[claims_at:] if c.cell_type == "code"), None)
        elsewhere = [c for c in cells if c.cell_type == "code" and c is not register and _DECLARE.search(c.source)]
        if register is None or "ClaimLedger(" not in register.source or not _DECLARE.search(register.source):
            problems.append(f"{name}: the Claims section must open with the register: one code cell creating the ClaimLedger and declaring every claim")
        elif elsewhere:
            problems.append(f"{name}: claims are declared outside the register cell (in a cell starting {elsewhere[0].source.strip()[:50]!r}); move every declare() into the first code cell of the Claims section")
    return problems


def scaffold_leftovers(root: Path = Path(".")) -> list[str]:
    """Nothing the scaffold left for an author to fill in is still there."""
    problems = []
    files = sorted((root / COMPANIONS_DIR).glob("*.py")) + [root / p for p in note_paths(root)]
    for path in files:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if SCAFFOLD_MARKER in line:
                problems.append(f"{path.relative_to(root)}:{number}: still has the scaffold's placeholder ({line.strip()[:60]}); replace it with the paper's content")
    return problems


def related(root: Path = Path(".")) -> list[str]:
    """Every slug a note lists under 'related' names a note."""
    notes, problems = _notes(root)
    slugs = {path.stem for path, _ in notes}
    for path, note in notes:
        related_slugs = note.meta.get("related")
        if not isinstance(related_slugs, list):
            continue  # absent, or reported by front_matter()
        for slug in related_slugs:
            if slug not in slugs:
                problems.append(f"{path}: related paper {slug!r} has no note; choose from {sorted(slugs)}")
    return problems


def budgets(root: Path = Path(".")) -> list[str]:
    """Each twin's last execution (its provenance record) fits the note's time budget."""
    notes, problems = _notes(root)
    for path, note in notes:
        twin = root / COMPANIONS_DIR / f"{path.stem}.ipynb"
        if note.meta.get("companion") in (None, "none") or not twin.exists():
            continue
        record = read_provenance(twin)
        name = COMPANIONS_DIR / twin.name
        try:
            budget = budget_s(note.meta)
        except (TypeError, ValueError):
            continue  # reported by front_matter()
        if record is None:
            problems.append(f"{name}: has no execution record (metadata.papernotes); run `make execute NAME={path.stem}`")
        elif record["runtime_s"] > budget:
            problems.append(
                f"{name}: took {record['runtime_s']:.1f} s when last executed, over its {budget:.0f} s budget; "
                f"make it faster or raise 'budget_s' in {path} (on a busy machine, re-execute when it is idle)"
            )
    return problems


def _page_exists(root: Path, url: str) -> bool:
    """Does a site-relative directory URL (e.g. 'notes/vision/efficientnet/') name a page?"""
    url = url.split("#")[0].strip("/")
    if url in ("", "."):
        return (root / "docs/index.md").exists()
    if url.startswith("companions/"):
        return (root / COMPANIONS_DIR / (url.split("/")[1].removesuffix(".ipynb") + ".ipynb")).exists()
    candidates = [root / "docs" / f"{url}.md", root / "docs" / url / "index.md", root / "docs" / url]
    generated = {page.removesuffix(".md") for page in GENERATED_PAGES} | set(GENERATED_PAGES)
    return any(c.is_file() for c in candidates) or url in generated


def notebook_links(root: Path = Path(".")) -> list[str]:
    """Links inside twins are neither checked nor rewritten by mkdocs: check them here.

    A companion page is served at companions/<slug>/, so a link to a note is written
    '../../notes/<topic>/<slug>/'.
    """
    problems = []
    for twin in sorted((root / COMPANIONS_DIR).glob("*.ipynb")):
        page = f"companions/{twin.stem}/"
        for cell in nbformat.read(twin, as_version=4).cells:
            if cell.cell_type != "markdown":
                continue
            for target in _MD_LINK.findall(cell.source):
                if re.match(r"^[a-z]+:", target) or target.startswith("#"):
                    continue
                resolved = posixpath.normpath(posixpath.join(page, target.split("#")[0]))
                if resolved.startswith("..") or not _page_exists(root, resolved):
                    problems.append(f"{COMPANIONS_DIR / twin.name}: link '{target}' leads nowhere on the site (resolves to '{resolved}')")
    return problems


def _output_text(output) -> str:
    return "".join(output.get("text", "")) + "".join(
        v if isinstance(v, str) else "".join(v) for k, v in output.get("data", {}).items() if k.startswith("text/")
    )


def portable_outputs(root: Path = Path(".")) -> list[str]:
    """Stored outputs nbval can reproduce anywhere: no stderr noise, no machine-specific paths.

    A warning on stderr or a path of this checkout in an output passes here and fails on a
    clone in another folder, so both are rejected where they are stored.
    """
    problems = []
    checkout = str(root.resolve())
    for twin in sorted((root / COMPANIONS_DIR).glob("*.ipynb")):
        code_cells = [c for c in nbformat.read(twin, as_version=4).cells if c.cell_type == "code"]
        for number, cell in enumerate(code_cells, start=1):
            for output in cell.get("outputs", []):
                where = f"{COMPANIONS_DIR / twin.name}: code cell {number}"
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


def all_problems(root: Path = Path(".")) -> dict[str, list[str]]:
    return {name: check(root) for name, check in CHECKS.items()}
