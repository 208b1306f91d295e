"""`python -m papernotes check` on broken trees: each breakage is reported, naming the file.

Every test starts from a temporary copy of the reference paper (EfficientNet), which passes
all checks, and breaks one thing.
"""

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from papersite.integrity import all_problems

ROOT = Path(__file__).resolve().parents[1]
NOTE = Path("docs/notes/vision/efficientnet.md")
PY, TWIN = Path("companions/efficientnet.py"), Path("companions/efficientnet.ipynb")


@pytest.fixture
def tree(tmp_path) -> Path:
    for path in (NOTE, PY, TWIN):
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / path, tmp_path / path)
    # The copied note alone: its related papers are not in the tree.
    note = tmp_path / NOTE
    note.write_text("".join(l for l in note.read_text(encoding="utf-8").splitlines(True) if not l.startswith("related:")), encoding="utf-8")
    # The recorded runtime depends on the machine's load when it ran; fix it well within budget.
    _edit_twin_metadata(tmp_path, lambda metadata: metadata["papernotes"].update(runtime_s=10.0))
    return tmp_path


def _problems(root: Path) -> list[str]:
    return [p for problems in all_problems(root).values() for p in problems]


def _edit_front_matter(root: Path, old: str, new: str):
    text = (root / NOTE).read_text(encoding="utf-8")
    assert old in text
    (root / NOTE).write_text(text.replace(old, new, 1), encoding="utf-8")


def _edit_twin_metadata(root: Path, change):
    notebook = json.loads((root / TWIN).read_text(encoding="utf-8"))
    change(notebook["metadata"])
    (root / TWIN).write_text(json.dumps(notebook), encoding="utf-8")


def test_the_untouched_copy_passes(tree):
    assert _problems(tree) == []


def test_missing_companion(tree):
    (tree / PY).unlink()
    assert f"{NOTE}: has no companion; create companions/efficientnet.py or set 'companion: none' with 'no_companion_reason'" in _problems(tree)


def test_malformed_front_matter(tree):
    _edit_front_matter(tree, "tags: [architecture, scaling, efficiency]", "tags: [architecture, scaling")
    assert any(re.match(rf"{NOTE}:\d+: front matter is not valid YAML \(", p) for p in _problems(tree)), _problems(tree)


def test_claim_ids_in_front_matter_are_refused(tree):
    _edit_front_matter(tree, "companion: efficientnet", "claims: [C1, C2]\ncompanion: efficientnet")
    assert any(p.startswith(f"{NOTE}: front matter field 'claims' repeats the companion's ledger") for p in _problems(tree))


def _edit_companion(root: Path, old: str, new: str):
    text = (root / PY).read_text(encoding="utf-8")
    assert old in text
    (root / PY).write_text(text.replace(old, new, 1), encoding="utf-8")


def test_a_typed_verdict_is_refused_with_its_line(tree):
    _edit_companion(tree, "ledger.show()", "verdict = Verdict.EXACT\nledger.show()")
    line = next(n for n, text in enumerate((tree / PY).read_text(encoding="utf-8").splitlines(), 1) if "Verdict.EXACT" in text)
    assert any(p.startswith(f"{PY}:{line}: types a verdict") for p in _problems(tree))


def test_a_claim_declared_after_the_register_is_refused(tree):
    _edit_companion(tree, "ledger.show()", 'ledger.declare("C9", "late", where="w", paper="1", test=PrintedPrecision())\nledger.show()')
    assert any(p.startswith(f"{PY}: claims are declared outside the register cell") for p in _problems(tree))


def test_a_stored_claim_without_its_test_is_refused(tree):
    def drop_test(notebook):
        for cell in notebook["cells"]:
            for output in cell.get("outputs", []):
                payload = output.get("data", {}).get("application/vnd.papernotes.claims+json")
                if payload:
                    payload["claims"][0].pop("test")

    notebook = json.loads((tree / TWIN).read_text(encoding="utf-8"))
    drop_test(notebook)
    (tree / TWIN).write_text(json.dumps(notebook), encoding="utf-8")
    assert f"{TWIN}: claim C1 has no test; declare it with test= one of PrintedPrecision, Tolerance, Effect, NotCheckable" in _problems(tree)


def test_twin_out_of_sync(tree):
    with (tree / PY).open("a", encoding="utf-8") as source:
        source.write("\n# %%\nprint('a cell the twin never ran')\n")
    problems = _problems(tree)
    assert any(p.startswith(f"{TWIN}: has ") and "run `make execute NAME=efficientnet`" in p for p in problems), problems


def test_companion_over_its_time_budget(tree):
    _edit_front_matter(tree, "companion: efficientnet", "budget_s: 1\ncompanion: efficientnet")
    problems = _problems(tree)
    assert f"{TWIN}: took 10.0 s when last executed, over its 1 s budget; make it faster or raise 'budget_s' in {NOTE} (on a busy machine, re-execute when it is idle)" in problems


def test_twin_without_execution_record(tree):
    _edit_twin_metadata(tree, lambda metadata: metadata.pop("papernotes"))
    assert f"{TWIN}: has no execution record (metadata.papernotes); run `make execute NAME=efficientnet`" in _problems(tree)


def test_related_paper_without_a_note(tree):
    _edit_front_matter(tree, "companion: efficientnet", "related: [no-such-paper]\ncompanion: efficientnet")
    assert f"{NOTE}: related paper 'no-such-paper' has no note; choose from ['efficientnet']" in _problems(tree)


@pytest.mark.parametrize("field, value", [("budget_s", "fast"), ("budget_s", -5), ("related", "resnet"), ("bibtex", "no entry")])
def test_unusable_optional_fields(tree, field, value):
    _edit_front_matter(tree, "companion: efficientnet", f"{field}: {json.dumps(value)}\ncompanion: efficientnet")
    assert any(p.startswith(f"{NOTE}: front matter field '{field}'") for p in _problems(tree))


def test_the_command_fails_and_names_the_problem(tree):
    (tree / PY).unlink()
    result = subprocess.run(
        [sys.executable, "-m", "papernotes", "check"], cwd=tree, capture_output=True, text=True,
        env=dict(os.environ, PYTHONPATH=str(ROOT)),
    )
    assert result.returncode == 1
    assert "FAIL notes and companions" in result.stdout and f"{NOTE}: has no companion" in result.stdout


def test_stderr_and_checkout_paths_in_outputs(tree):
    def add_outputs(notebook):
        cell = next(c for c in notebook["cells"] if c["cell_type"] == "code")
        cell["outputs"] += [
            {"output_type": "stream", "name": "stderr", "text": "UserWarning: something\n"},
            {"output_type": "stream", "name": "stdout", "text": f"saved to {tree.resolve()}/out.csv\n"},
        ]

    notebook = json.loads((tree / TWIN).read_text(encoding="utf-8"))
    add_outputs(notebook)
    (tree / TWIN).write_text(json.dumps(notebook), encoding="utf-8")
    problems = _problems(tree)
    assert any("writes to stderr" in p for p in problems), problems
    assert any("prints a path of this checkout" in p for p in problems), problems
