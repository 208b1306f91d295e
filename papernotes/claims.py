"""The claims ledger: the paper's claims, each with a test declared before anything is
measured, and the verdicts the ledger computes from what the companion measured.

A companion's Claims section opens with one cell that declares every claim (``declare``):
its wording, where it stands in the paper, the paper's value and its test. Later cells hand
the ledger a measurement (``measure``), and the ledger, never the companion, decides the
verdict. The section ends with ``ledger.show()``, whose output carries a machine-readable
copy (MIME type ``CLAIMS_MIME``) from which the site builds every claims table.

The four tests:

- ``PrintedPrecision()``: ours equals the paper's value at the precision the paper printed
  (0.39 is met by anything that rounds to 0.39). The default for printed numbers.
- ``Tolerance(rel=..., cause=...)`` or ``Tolerance(abs=..., cause=...)``: ours may differ by
  the stated amount, for the stated reason (a counting convention, a stated deviation).
- ``Effect(statistic=..., at_least=... | at_most=..., seeds=..., setup=...)``: a statistic
  computed once per seed must clear the line on every seed.
- ``NotCheckable(reason)``: it needs what a CPU does not have.

Numeric tests may name the claim's direction (``better="higher"`` or ``"lower"``): a value
beyond the paper's in that direction then beats the paper instead of missing it.
"""

import math
import re
from dataclasses import asdict, dataclass
from decimal import Decimal, InvalidOperation

from papersite.claims_format import CLAIMS_MIME, MIN_SEEDS, Verdict, cell_digest, claims_markdown

_CLAIM_ID = re.compile(r"^C[1-9]\d*$")
_DIRECTIONS = ("higher", "lower")


class ClaimError(ValueError):
    """A claim declared or measured wrongly: the message names the claim and the argument."""


# ---------------------------------------------------------------------------------------
# The tests a claim can declare
# ---------------------------------------------------------------------------------------

def _check_direction(better):
    if better is not None and better not in _DIRECTIONS:
        raise ClaimError(f"better must be one of {_DIRECTIONS} or None; got {better!r}")


@dataclass(frozen=True)
class PrintedPrecision:
    """Ours, rounded to the digits the paper printed, equals the paper's value."""

    better: str | None = None
    kind = "printed precision"

    def __post_init__(self):
        _check_direction(self.better)

    def rule(self) -> str:
        return "printed precision: ours within half a unit of the paper's last printed digit" + _direction_rule(self.better)

    def allowed(self, printed: Decimal) -> float:
        return _half_unit(printed)


@dataclass(frozen=True)
class Tolerance:
    """Ours may differ from the paper's value by ``rel`` (relative) or ``abs``, for ``cause``."""

    rel: float | None = None
    abs: float | None = None
    cause: str = ""
    better: str | None = None
    kind = "tolerance"

    def __post_init__(self):
        _check_direction(self.better)
        if (self.rel is None) == (self.abs is None):
            raise ClaimError(f"Tolerance needs exactly one of rel= or abs=; got rel={self.rel!r}, abs={self.abs!r}")
        size = self.rel if self.rel is not None else self.abs
        if isinstance(size, bool) or not isinstance(size, (int, float)) or not size > 0:
            raise ClaimError(f"Tolerance rel= or abs= must be a number > 0; got {size!r}")
        if not str(self.cause).strip():
            raise ClaimError("Tolerance needs cause=: why our value may differ (a counting convention, a stated deviation)")

    def rule(self) -> str:
        size = f"±{self.rel:.3g} relative" if self.rel is not None else f"±{self.abs:g}"
        return f"within {size}, because {self.cause}" + _direction_rule(self.better)

    def allowed(self, printed: Decimal) -> float:
        return max(self.rel * abs(float(printed)) if self.rel is not None else self.abs, _half_unit(printed))


@dataclass(frozen=True)
class Effect:
    """A statistic computed on each seed must be >= ``at_least`` and/or <= ``at_most`` on all."""

    statistic: str
    seeds: tuple = ()
    setup: str = ""
    at_least: float | None = None
    at_most: float | None = None
    kind = "effect"

    def __post_init__(self):
        if not str(self.statistic).strip():
            raise ClaimError("Effect needs statistic=: what is computed on each seed, e.g. 'top-1 of A minus top-1 of B (points)'")
        if not str(self.setup).strip():
            raise ClaimError("Effect needs setup=: the data, model and budget of the small experiment")
        if self.at_least is None and self.at_most is None:
            raise ClaimError("Effect needs at_least= and/or at_most=: the line the statistic must clear on every seed")
        seeds = tuple(self.seeds)
        if len(seeds) < MIN_SEEDS or len(set(seeds)) != len(seeds) or not all(isinstance(s, int) for s in seeds):
            raise ClaimError(f"Effect needs seeds=: at least {MIN_SEEDS} distinct integer seeds; got {self.seeds!r}")
        object.__setattr__(self, "seeds", seeds)

    def rule(self) -> str:
        bounds = [f"≥ {self.at_least:g}" if self.at_least is not None else "", f"≤ {self.at_most:g}" if self.at_most is not None else ""]
        seeds = ", ".join(str(s) for s in self.seeds)
        return f"{self.statistic} {' and '.join(b for b in bounds if b)} on every seed ({seeds}); setup: {self.setup}"

    def holds(self, value: float) -> bool:
        return (self.at_least is None or value >= self.at_least) and (self.at_most is None or value <= self.at_most)


@dataclass(frozen=True)
class NotCheckable:
    """The claim needs what a CPU does not have; ``reason`` says what."""

    reason: str
    kind = "not checkable on CPU"

    def __post_init__(self):
        if not str(self.reason).strip():
            raise ClaimError("NotCheckable needs a reason: what the check would need (data, compute, hardware)")

    def rule(self) -> str:
        return "none on CPU (the reason is given with the verdict)"


TESTS = (PrintedPrecision, Tolerance, Effect, NotCheckable)


def _direction_rule(better) -> str:
    return f"; {better} is better, so a value beyond the paper's that way beats it" if better else ""


def _half_unit(printed: Decimal) -> float:
    return 0.5 * 10.0 ** printed.as_tuple().exponent


def _parse_printed(value, where: str) -> Decimal:
    """The paper's value as printed, e.g. '0.39': a string, so that its precision is known."""
    if not isinstance(value, str):
        raise ClaimError(f"{where}: the paper's value must be the number as printed, as a string (e.g. '0.39'); got {value!r}")
    try:
        printed = Decimal(value.strip())
    except InvalidOperation:
        raise ClaimError(f"{where}: the paper's value {value!r} is not a number as printed (e.g. '0.39', '66', '84.3')") from None
    if not printed.is_finite():
        raise ClaimError(f"{where}: the paper's value {value!r} must be finite")
    return printed


def _number(value, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(float(value)):
        raise ClaimError(f"{where}: a measured value must be a finite number; got {value!r}")
    return float(value)


# ---------------------------------------------------------------------------------------
# The ledger
# ---------------------------------------------------------------------------------------

@dataclass
class _Declared:
    id: str
    claim: str
    where: str
    paper: str | dict  # printed number(s) for numeric tests, a sentence otherwise
    test: object
    unit: str
    fmt: str
    anchor: str
    declared_in: str | None  # digest of the notebook cell that declared it
    result: dict | None = None


class ClaimLedger:
    """A companion's claims: declared first, then measured; the verdicts are computed here."""

    def __init__(self, paper: str):
        self.paper = paper
        self._claims: dict[str, _Declared] = {}
        self._measuring = False

    def declare(self, id, claim, *, where, paper, test, unit="", fmt=None, anchor="") -> None:
        """Register a claim and its test. Every claim is declared before the first measurement.

        ``paper`` is the paper's value: for PrintedPrecision and Tolerance the number as printed
        (a string such as '0.39'), or a dict of label -> printed number for a claim with several
        values; otherwise a sentence saying what the paper reports. ``unit`` is appended to
        displayed numbers; ``fmt`` formats measured values (default: one digit beyond the
        paper's precision, or 4 significant figures). ``anchor`` optionally names the heading
        id of the companion cell that checks the claim.
        """
        if self._measuring:
            raise ClaimError(f"claim {id}: declared after the first measurement; declare every claim in the register cell that opens the Claims section")
        if not isinstance(id, str) or not _CLAIM_ID.match(id):
            raise ClaimError(f"claim id must look like C1, C2, ...; got {id!r}")
        if id in self._claims:
            raise ClaimError(f"claim {id} is declared twice")
        for name, text in (("claim", claim), ("where", where)):
            if not isinstance(text, str) or not text.strip():
                raise ClaimError(f"claim {id}: {name}= must be a non-empty sentence; got {text!r}")
        if not isinstance(test, TESTS):
            allowed = ", ".join(t.__name__ for t in TESTS)
            raise ClaimError(f"claim {id}: test= must be one of {allowed}; got {test!r}")
        if isinstance(test, (PrintedPrecision, Tolerance)):
            values = paper if isinstance(paper, dict) else {"": paper}
            if not values:
                raise ClaimError(f"claim {id}: paper= is an empty dict; give label -> printed value")
            for label, printed in values.items():
                _parse_printed(printed, f"claim {id}, paper= {label}".rstrip())
        elif not isinstance(paper, str) or not paper.strip():
            raise ClaimError(f"claim {id}: paper= must say what the paper reports, as a sentence; got {paper!r}")
        if fmt is not None:
            try:
                fmt.format(1.0)
            except (ValueError, IndexError, KeyError, AttributeError) as error:
                raise ClaimError(f"claim {id}: fmt= {fmt!r} cannot format a number ({error}); e.g. '{{:.3f}}' or '{{:.1%}}'") from None
        self._claims[id] = _Declared(id, claim, where, paper, test, unit, fmt, anchor, _current_cell())

    def measure(self, id, value, *, note="") -> None:
        """Hand the ledger our measurement of claim ``id``; it computes the verdict.

        PrintedPrecision / Tolerance: a number, or a dict with the same labels as the paper's
        values. Effect: one number per declared seed, in seed order (or a dict seed -> number).
        ``note`` adds context shown with the verdict (the two sides of a comparison, say).
        Returns None, so a notebook cell ending in it prints nothing.
        """
        self._measuring = True
        if id not in self._claims:
            raise ClaimError(f"claim {id!r} was never declared; declared: {sorted(self._claims)}")
        declared = self._claims[id]
        if declared.result is not None:
            raise ClaimError(f"claim {id} is measured twice")
        if isinstance(declared.test, NotCheckable):
            raise ClaimError(f"claim {id} is declared NotCheckable; it takes no measurement")
        if isinstance(declared.test, Effect):
            declared.result = _judge_effect(declared, value)
        else:
            declared.result = _judge_numbers(declared, value)
        declared.result["note"] = str(note)
        declared.result["cell"] = _current_cell()

    def to_json(self) -> dict:
        return {"paper": self.paper, "claims": [_claim_json(c) for c in self._claims.values()]}

    def to_markdown(self) -> str:
        return claims_markdown(self.to_json()["claims"])

    def show(self):
        """Display the table, with the machine-readable copy alongside it."""
        from IPython.display import display

        unmeasured = [c.id for c in self._claims.values() if c.result is None and not isinstance(c.test, NotCheckable)]
        if unmeasured:
            raise ClaimError(f"claims {unmeasured} were declared but never measured; measure them (or declare them NotCheckable with a reason)")
        if not self._claims:
            raise ClaimError("the ledger has no claims; declare them in the cell that opens the Claims section")
        display({"text/markdown": self.to_markdown(), CLAIMS_MIME: self.to_json()}, raw=True)


class _CellWatcher:
    """Remembers which notebook cell is running, as a digest of its source.

    IPython announces every cell before it runs (the ``pre_run_cell`` event), under
    ``make execute`` and under nbval alike; execution counts would not do, since nbval runs
    cells without counting them. The site finds the cell again by the same digest.
    """

    digest: str | None = None
    watching: bool = False

    @classmethod
    def watch(cls) -> None:
        try:
            from IPython import get_ipython
        except ImportError:
            return
        shell = get_ipython()
        if shell is not None and not cls.watching:
            shell.events.register("pre_run_cell", lambda info: setattr(cls, "digest", cell_digest(info.raw_cell)))
            cls.watching = True


def _current_cell() -> str | None:
    return _CellWatcher.digest


_CellWatcher.watch()  # at import, in a companion's Setup: every later cell is known by its digest


def _display(declared: _Declared, value: float, printed: Decimal | None) -> str:
    if declared.fmt:
        text = declared.fmt.format(value)
    elif printed is not None:
        text = f"{value:.{max(0, -printed.as_tuple().exponent) + 1}f}"
    else:
        text = f"{value:.4g}"
    return text + declared.unit


def _judge_numbers(declared: _Declared, value) -> dict:
    test, where = declared.test, f"claim {declared.id}"
    papers = declared.paper if isinstance(declared.paper, dict) else {"": declared.paper}
    if isinstance(declared.paper, dict):
        if not isinstance(value, dict) or set(value) != set(papers):
            raise ClaimError(f"{where}: measure a dict with the paper's labels {list(papers)}; got {value!r}")
        ours = value
    else:
        if isinstance(value, dict):
            raise ClaimError(f"{where}: the paper's value is one number, so measure one number; got a dict")
        ours = {"": value}
    rows = []
    for label, printed_text in papers.items():
        printed = _parse_printed(printed_text, where)
        measured = _number(ours[label], f"{where} {label}".rstrip())
        paper_value = float(printed)
        difference = measured - paper_value
        half, allowed = _half_unit(printed), test.allowed(printed)
        tiny = 1e-9 * max(1.0, abs(paper_value))  # float noise must not decide a tie
        toward_better = (difference > 0) if test.better == "higher" else (difference < 0) if test.better == "lower" else False
        if abs(difference) <= half + tiny:
            outcome = "exact"
        elif toward_better:
            outcome = "better"
        elif abs(difference) <= allowed + tiny:
            outcome = "within"
        else:
            outcome = "off"
        rows.append({
            "label": label, "paper": printed_text + declared.unit, "ours": _display(declared, measured, printed),
            "paper_value": paper_value, "ours_value": measured,
            "difference": round(difference, 12), "allowed": round(allowed, 12), "outcome": outcome,
        })
    outcomes = {row["outcome"] for row in rows}
    verdict = (
        Verdict.NOT_REPRODUCED if "off" in outcomes
        else Verdict.WITHIN_TOLERANCE if "within" in outcomes
        else Verdict.BEATS_PAPER if "better" in outcomes
        else Verdict.EXACT
    )
    return {"verdict": verdict, "comparisons": rows, "detail": _numbers_detail(rows)}


def _signed(value: float) -> str:
    return f"{value:+.3g}".replace("-", "−")


def _numbers_detail(rows) -> str:
    words = {"exact": "equal at printed precision", "better": "better than the paper", "within": "within tolerance", "off": "outside the allowed difference"}

    def compared(row):
        label = f"{row['label']} " if row["label"] else ""
        return f"{label}{row['ours']} vs {row['paper']} (difference {_signed(row['difference'])}, allowed ±{row['allowed']:.3g})"

    if len(rows) == 1:
        return compared(rows[0])
    counts = {o: sum(r["outcome"] == o for r in rows) for o in words}
    summary = ", ".join(f"{n} of {len(rows)} {words[o]}" for o, n in counts.items() if n)
    misses = [compared(r) for r in rows if r["outcome"] != "exact"]
    return summary + (": " + "; ".join(misses) if misses else "")


def _judge_effect(declared: _Declared, value) -> dict:
    test, where = declared.test, f"claim {declared.id}"
    if isinstance(value, dict):
        if set(value) != set(test.seeds):
            raise ClaimError(f"{where}: measure one value per declared seed {list(test.seeds)}; got seeds {sorted(value)}")
        values = [value[s] for s in test.seeds]
    else:
        values = list(value) if isinstance(value, (list, tuple)) else None
        if values is None or len(values) != len(test.seeds):
            raise ClaimError(f"{where}: measure a list of {len(test.seeds)} values, one per seed {list(test.seeds)}; got {value!r}")
    rows = []
    for seed, raw in zip(test.seeds, values):
        number = _number(raw, f"{where} seed {seed}")
        rows.append({"seed": seed, "value": number, "shown": _display(declared, number, None), "holds": test.holds(number)})
    held = sum(r["holds"] for r in rows)
    verdict = Verdict.REPRODUCED_SMALL if held == len(rows) else Verdict.NOT_REPRODUCED
    detail = f"holds on {held} of {len(rows)} seeds" + ("" if held == len(rows) else f" (the test needs all {len(rows)})")
    return {"verdict": verdict, "seeds": rows, "detail": detail}


def _test_json(test) -> dict:
    return {"kind": test.kind, "rule": test.rule(), **asdict(test)}


def _paper_text(declared: _Declared) -> str:
    if isinstance(declared.paper, dict):
        return ", ".join(f"{label} {printed}{declared.unit}" for label, printed in declared.paper.items())
    if isinstance(declared.test, (PrintedPrecision, Tolerance)):
        return declared.paper + declared.unit
    return declared.paper


def _claim_json(declared: _Declared) -> dict:
    result = declared.result
    data = {
        "id": declared.id, "claim": declared.claim, "where": declared.where, "paper": _paper_text(declared),
        "test": _test_json(declared.test), "anchor": declared.anchor,
    }
    if isinstance(declared.test, NotCheckable):
        return data | {"ours": "not measured", "verdict": Verdict.NOT_CHECKABLE.value, "detail": declared.test.reason, "note": "",
                       "cell": declared.declared_in}
    if "seeds" in result:
        ours = ", ".join(f"seed {r['seed']}: {r['shown']}" for r in result["seeds"])
    else:
        ours = ", ".join(f"{(r['label'] + ' ') if r['label'] else ''}{r['ours']}" for r in result["comparisons"])
    extra = {k: result[k] for k in ("comparisons", "seeds") if k in result}
    return data | {"ours": ours, "verdict": result["verdict"].value, "detail": result["detail"], "note": result["note"],
                   "cell": result["cell"]} | extra
