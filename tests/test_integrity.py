"""Integrity of the site's sources: each check fails with the file and what to do."""

from pathlib import Path

import pytest

from papernotes.integrity import CHECKS

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("check", sorted(CHECKS))
def test_integrity(check):
    problems = CHECKS[check](ROOT)
    assert not problems, "\n".join(problems)
