"""Repository-wide pytest hooks: each companion must re-execute within its time budget.

nbval runs every cell of a twin as a test item. We add up the durations of a twin's
items (kernel start included) and fail the session, naming the companion and the measured
time, when it exceeds the budget in its note's front matter ('budget_s', default 90 s).
"""

from collections import defaultdict
from pathlib import Path

import pytest

from papersite.layout import Layout
from papersite.notes import read_notes
from papersite.provenance import DEFAULT_BUDGET_S, budget_s

_seconds = defaultdict(float)


def pytest_runtest_logreport(report):
    path = report.nodeid.split("::")[0]
    if path.endswith(".ipynb"):
        _seconds[path] += report.duration


def _budgets(root: Path) -> dict[str, float]:
    layout = Layout(root)
    return {layout.twin(n.slug).as_posix(): budget_s(n.meta) for n in read_notes(layout)[0]}


def _over_budget(root: Path) -> list[str]:
    budgets = _budgets(root)
    return [
        f"{path} took {seconds:.1f} s, over its {budgets.get(path, DEFAULT_BUDGET_S):.0f} s budget"
        for path, seconds in sorted(_seconds.items())
        if seconds > budgets.get(path, DEFAULT_BUDGET_S)
    ]


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session, exitstatus):
    if _seconds and _over_budget(Path(session.config.rootpath)):
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if not _seconds:
        return
    budgets = _budgets(Path(config.rootpath))
    terminalreporter.section("companion runtimes")
    for path, seconds in sorted(_seconds.items()):
        terminalreporter.write_line(f"{path}: {seconds:.1f} s (budget {budgets.get(path, DEFAULT_BUDGET_S):.0f} s)")
    for line in _over_budget(Path(config.rootpath)):
        terminalreporter.write_line(f"FAILED (time budget): {line}", red=True)
