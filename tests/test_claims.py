"""The claims ledger: each test's verdict changes when the measurement crosses its line, and
declarations that would let a verdict be chosen after the fact are refused."""

import pytest

from papernotes import ClaimLedger, Effect, NotCheckable, PrintedPrecision, Tolerance
from papernotes.claims import TESTS, ClaimError
from papersite.claims_format import CLAIMS_MIME, TEST_KINDS, claims_markdown, stored_claim_problems, verdict_text


def _verdict(test, paper, measured, **declare):
    ledger = ClaimLedger("demo")
    ledger.declare("C1", "a claim", where="arXiv v1, Table 1", paper=paper, test=test, **declare)
    ledger.measure("C1", measured)
    return ledger.to_json()["claims"][0]


@pytest.mark.parametrize("measured, verdict", [
    (0.386, "exact"), (0.395, "exact"), (0.3949, "exact"),  # rounds to the printed 0.39
    (0.3951, "not reproduced"), (0.384, "not reproduced"),
])
def test_printed_precision_is_half_a_unit_of_the_last_printed_digit(measured, verdict):
    assert _verdict(PrintedPrecision(), "0.39", measured)["verdict"] == verdict


def test_printed_precision_reads_the_precision_from_the_string():
    assert _verdict(PrintedPrecision(), "66", 66.35)["verdict"] == "exact"
    assert _verdict(PrintedPrecision(), "66.0", 66.35)["verdict"] == "not reproduced"


@pytest.mark.parametrize("measured, verdict", [
    (100.0, "exact"), (103.9, "within tolerance"), (96.1, "within tolerance"),
    (104.1, "not reproduced"), (95.9, "not reproduced"),
])
def test_tolerance_verdict_flips_at_the_declared_line(measured, verdict):
    claim = _verdict(Tolerance(rel=0.04, cause="a stated deviation"), "100", measured)
    assert claim["verdict"] == verdict
    assert claim["comparisons"][0]["allowed"] == pytest.approx(4.0)
    assert "because a stated deviation" in claim["test"]["rule"]


@pytest.mark.parametrize("measured, verdict", [(99.7, "beats the paper"), (99.4, "exact"), (99.1, "within tolerance"), (98.0, "not reproduced")])
def test_a_declared_direction_turns_a_better_value_into_beats_the_paper(measured, verdict):
    assert _verdict(Tolerance(abs=0.5, cause="sampling error", better="higher"), "99.4", measured)["verdict"] == verdict


def test_beating_the_paper_without_a_declared_direction_is_a_miss():
    assert _verdict(PrintedPrecision(), "99.4", 99.7)["verdict"] == "not reproduced"


def test_several_values_take_the_worst_verdict_and_name_the_misses():
    claim = _verdict(PrintedPrecision(), {"B0": "5.3", "B2": "9.2"}, {"B0": 5.29, "B2": 9.11}, unit="M")
    assert claim["verdict"] == "not reproduced"
    assert "1 of 2 equal at printed precision" in claim["detail"] and "B2 9.11M vs 9.2M" in claim["detail"]
    assert claim["ours"] == "B0 5.29M, B2 9.11M"


@pytest.mark.parametrize("values, verdict", [([0.6, 2.0, 0.5], "reproduced at small scale"), ([0.6, 2.0, 0.49], "not reproduced")])
def test_an_effect_must_hold_on_every_seed(values, verdict):
    effect = Effect(statistic="A minus B (points)", at_least=0.5, seeds=(0, 1, 2), setup="digits, 3 epochs")
    claim = _verdict(effect, "A beats B by half a point", values)
    assert claim["verdict"] == verdict
    assert [row["value"] for row in claim["seeds"]] == values


def test_an_upper_bound_effect():
    effect = Effect(statistic="accuracy lost (points)", at_most=1.0, seeds=(0, 1, 2), setup="s")
    assert _verdict(effect, "<1 point lost", {0: 0.2, 1: 0.9, 2: 1.0})["verdict"] == "reproduced at small scale"
    assert _verdict(effect, "<1 point lost", {0: 0.2, 1: 1.1, 2: 1.0})["verdict"] == "not reproduced"


def test_not_checkable_takes_no_measurement():
    ledger = ClaimLedger("demo")
    ledger.declare("C1", "B7 reaches 84.3%", where="arXiv v5, Table 2", paper="84.3%", test=NotCheckable("ImageNet training"))
    with pytest.raises(ClaimError, match="takes no measurement"):
        ledger.measure("C1", 84.3)
    claim = ledger.to_json()["claims"][0]
    assert claim["verdict"] == "not checkable on CPU" and claim["ours"] == "not measured"


def test_declarations_close_at_the_first_measurement():
    ledger = ClaimLedger("demo")
    ledger.declare("C1", "c", where="w", paper="1.0", test=PrintedPrecision())
    ledger.measure("C1", 1.0)
    with pytest.raises(ClaimError, match="declared after the first measurement"):
        ledger.declare("C2", "c", where="w", paper="1.0", test=PrintedPrecision())


@pytest.mark.parametrize("make, message", [
    (lambda: Tolerance(rel=0.05), "needs cause="),
    (lambda: Tolerance(rel=0.05, abs=1.0, cause="c"), "exactly one of rel= or abs="),
    (lambda: Tolerance(rel=-1, cause="c"), "must be a number > 0"),
    (lambda: Effect(statistic="s", at_least=0, seeds=(0, 1), setup="s"), "at least 3 distinct integer seeds"),
    (lambda: Effect(statistic="s", seeds=(0, 1, 2), setup="s"), "at_least= and/or at_most="),
    (lambda: Effect(statistic="s", at_least=0, seeds=(0, 1, 2)), "needs setup="),
    (lambda: NotCheckable(""), "needs a reason"),
    (lambda: PrintedPrecision(better="up"), "better must be one of"),
])
def test_incomplete_tests_are_refused(make, message):
    with pytest.raises(ClaimError, match=message):
        make()


@pytest.mark.parametrize("declare, message", [
    (dict(id="1"), "claim id must look like C1"),
    (dict(paper=0.39), "the number as printed, as a string"),
    (dict(paper="about 0.4"), "is not a number as printed"),
    (dict(test="exact"), "test= must be one of"),
    (dict(where=""), "where= must be a non-empty sentence"),
    (dict(fmt="{:.2q}"), "cannot format a number"),
])
def test_bad_declarations_name_the_argument(declare, message):
    args = dict(id="C1", claim="c", where="w", paper="0.39", test=PrintedPrecision()) | declare
    with pytest.raises(ClaimError, match=message):
        ClaimLedger("demo").declare(args.pop("id"), args.pop("claim"), **args)


@pytest.mark.parametrize("measured, message", [
    ({"B0": 5.3}, "measure a dict with the paper's labels"),
    (float("nan"), "finite number"),
    ("5.3", "finite number"),
])
def test_bad_measurements_name_the_claim(measured, message):
    ledger = ClaimLedger("demo")
    paper = {"B0": "5.3", "B1": "7.8"} if isinstance(measured, dict) else "5.3"
    ledger.declare("C1", "c", where="w", paper=paper, test=PrintedPrecision())
    with pytest.raises(ClaimError, match=message):
        ledger.measure("C1", measured)


def test_unmeasured_and_doubly_measured_claims_are_refused():
    ledger = ClaimLedger("demo")
    ledger.declare("C1", "c", where="w", paper="1", test=PrintedPrecision())
    with pytest.raises(ClaimError, match="never measured"):
        ledger.show()
    ledger.measure("C1", 1.0)
    with pytest.raises(ClaimError, match="measured twice"):
        ledger.measure("C1", 1.0)
    with pytest.raises(ClaimError, match="never declared"):
        ledger.measure("C2", 1.0)


def test_the_stored_ledger_names_each_test_and_renders_it():
    ledger = ClaimLedger("demo")
    ledger.declare("C1", "a | b", where="Table 1", paper="1.0", test=PrintedPrecision())
    ledger.declare("C2", "needs GPUs", where="Table 2", paper="80%", test=NotCheckable("ImageNet"))
    ledger.measure("C1", 1.02, note="context")
    data = ledger.to_json()
    assert [c["test"]["kind"] for c in data["claims"]] == ["printed precision", "not checkable on CPU"]
    assert all(stored_claim_problems(c) == [] for c in data["claims"])
    assert verdict_text(data["claims"][0]) == "exact (1.02 vs 1.0 (difference +0.02, allowed ±0.05); context)"
    table = claims_markdown(data["claims"])
    assert "a \\| b" in table  # a pipe in a claim must not split the row
    assert table.count("\n") == 3 and "| Test |" in table
    assert CLAIMS_MIME.startswith("application/")


@pytest.mark.parametrize("change, message", [
    (lambda c: c.pop("test"), "has no test"),
    (lambda c: c["test"].update(kind="tolerance", cause=""), "names no cause"),
    (lambda c: c["test"].update(kind="effect", seeds=[0, 1]), "has 2 seeds"),
    (lambda c: c.update(verdict="plausible"), "not one the ledger computes"),
])
def test_stored_claims_are_checked(change, message):
    claim = _verdict(PrintedPrecision(), "1.0", 1.0)
    change(claim)
    assert message in stored_claim_problems(claim)[0]


def test_the_stored_format_names_the_ledgers_test_classes():
    assert {test.kind: test.__name__ for test in TESTS} == TEST_KINDS
