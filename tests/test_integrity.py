"""Integrity of the site's sources: each check fails with the file and what to do."""

from pathlib import Path

import pytest

from papersite.integrity import CHECKS, Repository
from papersite.layout import Layout

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def repository() -> Repository:
    return Repository(Layout(ROOT))


@pytest.mark.parametrize("check", sorted(CHECKS))
def test_integrity(repository, check):
    problems = CHECKS[check](repository)
    assert not problems, "\n".join(problems)
