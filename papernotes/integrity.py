"""Integrity checks across notes and companions, each problem an actionable message."""

import posixpath
import re
from pathlib import Path

import nbformat

from papernotes.claims import read_claims
from papernotes.notebooks import pair_problems
from papernotes.notes import (
    CLAIMS_PLACEHOLDER,
    COMPANIONS_DIR,
    NOTES_DIR,
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
    """The claim IDs a note lists are exactly those its executed companion records."""
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
        ours = [c["id"] for c in ledger["claims"]]
        listed = [str(c) for c in note.meta.get("claims") or []]
        if sorted(ours) != sorted(listed):
            only_note = sorted(set(listed) - set(ours))
            only_companion = sorted(set(ours) - set(listed))
            problems.append(
                f"{path}: claim IDs differ from {COMPANIONS_DIR / twin.name}: only in the note {only_note}, only in the companion {only_companion}"
            )
        if CLAIMS_PLACEHOLDER not in note.body:
            problems.append(f"{path}: has a companion but no '{CLAIMS_PLACEHOLDER}' line where its claims table goes")
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
    "claim IDs": claims,
    "related papers": related,
    "time budgets": budgets,
    "links in notebooks": notebook_links,
    "portable outputs": portable_outputs,
}


def all_problems(root: Path = Path(".")) -> dict[str, list[str]]:
    return {name: check(root) for name, check in CHECKS.items()}
