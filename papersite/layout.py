"""Where things live in a Paper Notes repository: every path is derived here, once.

The defaults are this repository's layout; the mkdocs plugin reads its own settings
(``notes_dir``, ``companions_dir``, ``branch``) from ``mkdocs.yml`` and builds a ``Layout``
from them, so a site laid out differently needs no code change.
"""

from dataclasses import dataclass
from pathlib import Path, PurePosixPath


@dataclass(frozen=True)
class Layout:
    root: Path = Path(".")  # the repository
    docs_dir: str = "docs"  # mkdocs' docs_dir, relative to root
    notes_dir: str = "notes"  # relative to docs_dir: docs/notes/<topic>/<slug>.md
    companions_dir: str = "companions"  # relative to root: companions/<slug>.py and .ipynb
    branch: str = "main"  # the repository branch that links to source files point at

    @property
    def notes(self) -> Path:
        """The notes folder, relative to the repository root."""
        return Path(self.docs_dir) / self.notes_dir

    @property
    def companions(self) -> Path:
        return Path(self.companions_dir)

    def note_paths(self) -> list[Path]:
        """Every note, relative to the root, in a stable order."""
        return sorted(p.relative_to(self.root) for p in (self.root / self.notes).rglob("*.md"))

    def companion_sources(self) -> list[Path]:
        return sorted(p.relative_to(self.root) for p in (self.root / self.companions).glob("*.py"))

    def twins(self) -> list[Path]:
        return sorted(p.relative_to(self.root) for p in (self.root / self.companions).glob("*.ipynb"))

    def companion_py(self, slug: str) -> Path:
        return self.companions / f"{slug}.py"

    def twin(self, slug: str) -> Path:
        return self.companions / f"{slug}.ipynb"

    def new_note(self, topic: str, slug: str) -> Path:
        return self.notes / topic / f"{slug}.md"

    def twin_uri(self, slug: str) -> str:
        """The twin's source URI on the site: the plugin adds it under this name."""
        return PurePosixPath(self.companions_dir, f"{slug}.ipynb").as_posix()

    def note_uri(self, note_path: Path) -> str:
        """A note's source URI on the site (relative to docs_dir)."""
        return Path(note_path).relative_to(self.docs_dir).as_posix()

    def is_twin_uri(self, src_uri: str) -> bool:
        return src_uri.startswith(f"{PurePosixPath(self.companions_dir).as_posix()}/") and src_uri.endswith(".ipynb")
