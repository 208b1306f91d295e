"""Corrections, dated and never silent: what each committed version of a twin changed in its
claims, read from git at build time.

For every commit that touched a twin, the claims ledger it held is compared with the one the
commit before held: a verdict, a measured value or a paper value that changed, a claim added
or dropped. Uncommitted changes are not history and are not listed. Without a usable history
(no git, not a repository, a shallow clone) the list is empty and says why, rather than wrong.
"""

import html
import json
import subprocess
from dataclasses import dataclass
from pathlib import Path

from papersite.claims_format import CLAIMS_MIME

FIELDS = (("verdict", "verdict"), ("ours", "our value"), ("paper", "the paper's value"), ("claim", "wording"))


@dataclass(frozen=True)
class Correction:
    date: str  # YYYY-MM-DD, the commit's date
    commit: str  # abbreviated hash
    claim: str  # claim id
    what: str  # 'verdict', 'our value', ..., 'added' or 'dropped'
    before: str
    after: str


def _git(root: Path, *args: str, stdin: bytes | None = None) -> bytes | None:
    try:
        result = subprocess.run(["git", "-C", str(root), *args], input=stdin, capture_output=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return result.stdout if result.returncode == 0 else None


def history_problem(root: Path) -> str | None:
    """Why the git history cannot be read here, or None when it can."""
    shallow = _git(root, "rev-parse", "--is-shallow-repository")
    if shallow is None:
        return "no git history is available here (not a git checkout, or git is missing)"
    if shallow.strip() == b"true":
        return "this is a shallow clone, so earlier versions are missing; clone with full history to see them"
    return None


def _ledger(blob: bytes) -> dict[str, dict] | None:
    try:
        notebook = json.loads(blob)
    except ValueError:
        return None
    for cell in notebook.get("cells", []):
        for output in cell.get("outputs", []):
            payload = output.get("data", {}).get(CLAIMS_MIME)
            if payload is not None:
                return {claim["id"]: claim for claim in payload.get("claims", [])}
    return None


def _versions(root: Path, paths: list[str]) -> dict[str, list[tuple[str, str, dict]]]:
    """Each path's committed versions, oldest first: (date, short hash, claims by id)."""
    commits = {}
    for path in paths:
        log = _git(root, "log", "--format=%H %h %cs", "--", path)
        commits[path] = [line.split() for line in (log or b"").decode().splitlines()][::-1]
    requests = [f"{full}:./{path}" for path, entries in commits.items() for full, _, _ in entries]  # ./ : relative to root
    if not requests:
        return {path: [] for path in paths}
    output = _git(root, "cat-file", "--batch", stdin="\n".join(requests).encode() + b"\n") or b""
    blobs, position = [], 0
    for _ in requests:  # each answer: '<sha> blob <size>\n<content>\n', or '<request> missing\n'
        end = output.index(b"\n", position)
        header = output[position:end].split()
        if len(header) == 3:
            size = int(header[2])
            blobs.append(output[end + 1:end + 1 + size])
            position = end + 1 + size + 1
        else:
            blobs.append(b"")
            position = end + 1
    versions, index = {}, 0
    for path, entries in commits.items():
        versions[path] = []
        for _, short, date in entries:
            ledger = _ledger(blobs[index])
            index += 1
            if ledger is not None:
                versions[path].append((date, short, ledger))
    return versions


def _changes(date: str, commit: str, before: dict, after: dict) -> list[Correction]:
    changes = []
    for claim_id in sorted(set(before) | set(after), key=lambda c: int(c[1:])):
        old, new = before.get(claim_id), after.get(claim_id)
        if old is None:
            changes.append(Correction(date, commit, claim_id, "added", "", f"{new['claim']}: {new['verdict']}"))
        elif new is None:
            changes.append(Correction(date, commit, claim_id, "dropped", f"{old['claim']}: {old['verdict']}", ""))
        else:
            changes += [
                Correction(date, commit, claim_id, label, str(old.get(field, "")), str(new.get(field, "")))
                for field, label in FIELDS if old.get(field) != new.get(field)
            ]
    return changes


def corrections(root: Path, twin_paths: list[str]) -> tuple[dict[str, list[Correction]], str | None]:
    """Per twin path, its corrections, newest first; and why there are none, if history is missing."""
    problem = history_problem(root)
    if problem is not None:
        return {path: [] for path in twin_paths}, problem
    found = {}
    for path, versions in _versions(root, twin_paths).items():
        per_commit = [_changes(date, commit, before, after) for (_, _, before), (date, commit, after) in zip(versions, versions[1:])]
        found[path] = [change for changes in reversed(per_commit) for change in changes]  # newest commit first
    return found, None


def corrections_markdown(changes: list[Correction], problem: str | None) -> str:
    """A collapsed admonition listing the changes, or saying why none can be listed."""
    if problem is not None:
        return f'??? note "Corrections"\n\n    None listed: {problem}.\n'
    if not changes:
        return '??? note "Corrections"\n\n    None: no committed version of the companion has changed a claim since it was first published.\n'

    def quoted(text: str) -> str:
        return f"“{html.escape(text)}”" if text else "nothing"

    items = [
        f"    - **{c.date}** ({c.commit}), {c.claim}: "
        + (f"added: {quoted(c.after)}" if c.what == "added" else f"dropped (was {quoted(c.before)})" if c.what == "dropped"
           else f"{c.what} {quoted(c.before)} → {quoted(c.after)}")
        for c in changes
    ]
    return (
        f'??? note "Corrections: {len(changes)} change{"s" if len(changes) != 1 else ""} to the claims since first published"\n\n'
        "    Generated from the git history of the executed companion, newest first: what each commit "
        "changed in a claim's verdict, our value, the paper's value or its wording.\n\n" + "\n".join(items) + "\n"
    )
