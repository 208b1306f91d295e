"""Corrections from git history: each committed change of a claim is listed, dated, with its
commit; uncommitted changes are not history; without history the list says why it is empty."""

import json
import subprocess
from pathlib import Path

import pytest

from papersite.claims_format import CLAIMS_MIME
from papersite.corrections import corrections, corrections_markdown

TWIN = "companions/demo.ipynb"


def _twin(claims: list[dict]) -> str:
    output = {"output_type": "display_data", "metadata": {}, "data": {CLAIMS_MIME: {"paper": "demo", "claims": claims}}}
    return json.dumps({"cells": [{"cell_type": "code", "source": "ledger.show()", "outputs": [output]}], "metadata": {}})


def _claim(claim_id, verdict, ours="1.0"):
    return {"id": claim_id, "claim": f"claim {claim_id}", "paper": "1.0", "ours": ours, "verdict": verdict}


def _git(root: Path, *args):
    subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True)


def _commit(root: Path, claims, message: str):
    (root / TWIN).write_text(_twin(claims), encoding="utf-8")
    _git(root, "add", TWIN)
    _git(root, "-c", "user.name=t", "-c", "user.email=t@example.org", "commit", "-m", message)


@pytest.fixture
def repo(tmp_path) -> Path:
    (tmp_path / "companions").mkdir()
    _git(tmp_path, "init", "-q")
    _commit(tmp_path, [_claim("C1", "within tolerance"), _claim("C2", "exact")], "first")
    _commit(tmp_path, [_claim("C1", "not reproduced", ours="0.9"), _claim("C3", "exact")], "second")
    return tmp_path


def test_each_committed_change_is_listed_newest_first(repo):
    found, problem = corrections(repo, [TWIN])
    assert problem is None
    changes = [(c.claim, c.what, c.before, c.after) for c in found[TWIN]]
    assert changes == [
        ("C1", "verdict", "within tolerance", "not reproduced"),
        ("C1", "our value", "1.0", "0.9"),
        ("C2", "dropped", "claim C2: exact", ""),
        ("C3", "added", "", "claim C3: exact"),
    ]
    assert all(len(c.commit) >= 7 and len(c.date) == 10 for c in found[TWIN])
    listed = corrections_markdown(found[TWIN], problem)
    assert "4 changes" in listed and "verdict “within tolerance” → “not reproduced”" in listed


def test_uncommitted_changes_are_not_history(repo):
    (repo / TWIN).write_text(_twin([_claim("C1", "exact")]), encoding="utf-8")
    found, _ = corrections(repo, [TWIN])
    assert all(c.after != "exact" or c.claim != "C1" for c in found[TWIN])


def test_without_history_the_list_is_empty_and_says_why(tmp_path):
    found, problem = corrections(tmp_path, [TWIN])
    assert found == {TWIN: []} and "no git history" in problem
    assert "None listed: no git history" in corrections_markdown([], problem)


def test_a_shallow_clone_says_so(repo, tmp_path_factory):
    clone = tmp_path_factory.mktemp("clone") / "shallow"
    subprocess.run(["git", "clone", "-q", "--depth", "1", f"file://{repo}", str(clone)], check=True, capture_output=True)
    found, problem = corrections(clone, [TWIN])
    assert found == {TWIN: []} and "shallow clone" in problem
