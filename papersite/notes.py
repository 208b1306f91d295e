"""Notes and their front matter: where they live, what fields they must have."""

import re
from dataclasses import dataclass
from pathlib import Path

import yaml

CLAIMS_PLACEHOLDER = "<!-- claims-table -->"
# Every spot the scaffold's templates leave for an author to fill in carries this marker.
SCAFFOLD_MARKER = "FILL IN"
# In a note's prose, [[ours:C3]] / [[verdict:C3]] become claim C3's measured value / verdict.
CLAIM_FIELD = re.compile(r"\[\[(ours|verdict):(C[1-9]\d*)\]\]")

_FRONT_MATTER = re.compile(r"\A---\s*\n(.*?\n)---\s*\n", re.DOTALL)
ARXIV_ID = re.compile(r"^\d{4}\.\d{4,5}$")
SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")

# field -> (type, what is expected, in words a newcomer can act on)
REQUIRED_FIELDS = {
    "title": (str, "the paper's title"),
    "authors": (list, "a list of author names, e.g. [Mingxing Tan, Quoc V. Le]"),
    "year": (int, "the publication year as a number, e.g. 2019"),
    "venue": (str, "where it appeared, e.g. ICML 2019"),
    "tags": (list, "a list of topic tags, e.g. [scaling, architecture]"),
    "summary": (str, "one paragraph written by hand: what the paper says and what we found (shown at the top of the note)"),
    "companion": (str, "the companion's slug (the note's own file name), or 'none'"),
}


# Topic folder -> title, where capitalising the folder name is not enough.
TOPIC_TITLES = {"nlp": "NLP"}


def topic_title(topic: str) -> str:
    return TOPIC_TITLES.get(topic, topic.replace("-", " ").capitalize())


class FrontMatterError(ValueError):
    """A note's front matter is missing, malformed or incomplete."""


@dataclass(frozen=True)
class Note:
    path: Path  # relative to the repository root
    meta: dict
    body: str

    @property
    def slug(self) -> str:
        return self.path.stem

    @property
    def topic(self) -> str:
        return self.path.parent.name

    @property
    def companion(self) -> str | None:
        return None if self.meta["companion"] == "none" else self.meta["companion"]


def split_front_matter(text: str, path: str = "<note>") -> tuple[dict, str]:
    match = _FRONT_MATTER.match(text)
    if not match:
        raise FrontMatterError(f"{path}: no front matter; the file must start with a '---' YAML block")
    try:
        meta = yaml.safe_load(match.group(1)) or {}
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"{path}:{mark.line + 2}" if mark is not None else path  # +1 for 1-based, +1 for the opening '---'
        problem = getattr(error, "problem", None) or str(error).splitlines()[0]
        raise FrontMatterError(f"{where}: front matter is not valid YAML ({problem}); fix that line (quote values holding ':' or '#')") from None
    if not isinstance(meta, dict):
        raise FrontMatterError(f"{path}: front matter must be a mapping of field: value")
    return meta, text[match.end():]


def front_matter_problems(meta: dict, path: str, slug: str) -> list[str]:
    """Every way ``meta`` breaks the schema, one actionable message each."""
    problems = []
    for field, (kind, expected) in REQUIRED_FIELDS.items():
        if field not in meta:
            problems.append(f"{path}: front matter field '{field}' is missing; expected {expected}")
        elif not isinstance(meta[field], kind) or isinstance(meta[field], bool) or meta[field] in ("", []):
            problems.append(f"{path}: front matter field '{field}' is {meta[field]!r}; expected {expected}")
    arxiv = meta.get("arxiv")
    if arxiv is None:
        if not meta.get("url"):
            problems.append(f"{path}: front matter needs 'arxiv' (e.g. '1905.11946', quoted) or, for a paper without one, 'url'")
    elif not isinstance(arxiv, str) or not ARXIV_ID.match(arxiv):
        problems.append(f"{path}: front matter field 'arxiv' is {arxiv!r}; expected an arXiv id as a quoted string, e.g. '1905.11946'")
    if not SLUG.match(slug):
        problems.append(f"{path}: file name {slug!r} is not a slug; use lowercase words joined by '-'")
    companion = meta.get("companion")
    if companion == "none":
        if not str(meta.get("no_companion_reason", "")).strip():
            problems.append(f"{path}: 'companion: none' needs 'no_companion_reason' saying why")
    elif isinstance(companion, str) and companion != slug:
        problems.append(f"{path}: 'companion' is {companion!r} but must equal the note's slug {slug!r}")
    problems += _optional_field_problems(meta, path)
    if "claims" in meta:
        problems.append(f"{path}: front matter field 'claims' repeats the companion's ledger; delete it (the IDs come from the executed companion)")
    return problems


def _optional_field_problems(meta: dict, path: str) -> list[str]:
    """Fields a note may leave out; when present they must be usable."""
    problems = []
    budget = meta.get("budget_s")
    if budget is not None and (isinstance(budget, bool) or not isinstance(budget, (int, float)) or budget <= 0):
        problems.append(f"{path}: front matter field 'budget_s' is {budget!r}; expected the companion's time budget in seconds, e.g. 120")
    related = meta.get("related")
    if related is not None and (not isinstance(related, list) or not all(isinstance(s, str) and SLUG.match(s) for s in related)):
        problems.append(f"{path}: front matter field 'related' is {related!r}; expected a list of note slugs, e.g. [resnet, senet]")
    bibtex = meta.get("bibtex")
    if bibtex is not None and not (isinstance(bibtex, str) and bibtex.lstrip().startswith("@")):
        problems.append(f"{path}: front matter field 'bibtex' must be a complete BibTeX entry starting with '@' (use a '|' block)")
    return problems


def load_note(root: Path, path: Path) -> Note:
    """The note at ``path`` (relative to ``root``); FrontMatterError names the file and the fault."""
    meta, body = split_front_matter((root / path).read_text(encoding="utf-8"), str(path))
    return Note(path, meta, body)


def read_notes(layout) -> tuple[list[Note], list[str]]:
    """Every note whose front matter parses, and one problem for each that does not."""
    notes, problems = [], []
    for path in layout.note_paths():
        try:
            notes.append(load_note(layout.root, path))
        except FrontMatterError as error:
            problems.append(str(error))
    return notes, problems
