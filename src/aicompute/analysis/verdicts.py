"""The claims ledger: one rule per claim, declared as data — the records it reads and the thresholds of its ladder.

A rule is a declaration (:class:`Rule`), not a function: its test (a :class:`Ladder`, :class:`Steps` or :class:`Fixed`)
names the records it reads and the thresholds that decide the verdict, and the rule's text is generated from those
same thresholds, so no threshold is written twice. The same declaration is evaluated

- once, on the build's records, for the ledger (:func:`ledger`), and
- vectorised over many specifications at once (:meth:`Rule.evaluate` on :class:`Columns`), for the robustness grid
  (:mod:`aicompute.analysis.robustness`).

Two kinds of missing evidence are told apart:

- a record the rule reads that the build did not produce at all is a bug: :class:`MissingRecordError` fails the build,
  naming the claim and the key;
- a record that is present with no value (``value=None``; its ``note`` says why: not disclosed, or left out by the
  parameters) is *not available*: the verdict is "cannot tell" and the ledger gives the note as the reason.

To change a rule, edit its declaration in :data:`RULES` (a threshold, a record key): the text follows.
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from aicompute.analysis.records import Record, RecordBook

SUPPORTED = "supported"
PARTLY = "partly supported"
NOT_SUPPORTED = "not supported"
CANNOT_TELL = "cannot tell with public data"
VERDICTS = (SUPPORTED, PARTLY, NOT_SUPPORTED, CANNOT_TELL)
# In the vectorised evaluation a verdict is its index in VERDICTS.
CODE = {verdict: code for code, verdict in enumerate(VERDICTS)}


class MissingRecordError(KeyError):
    """A rule reads a record the build did not produce: a bug in a chapter or in the rule, never 'cannot tell'."""

    def __str__(self) -> str:  # KeyError would print the message quoted
        return str(self.args[0]) if self.args else ""


@dataclass(frozen=True)
class Verdict:
    claim_id: str
    verdict: str
    rule: str
    evidence: list[str] = field(default_factory=list)
    counter: list[str] = field(default_factory=list)
    watch: str = ""
    chapter: str = ""
    # Why the verdict is "cannot tell" (the notes of the records that are not available); empty otherwise.
    reason: str = ""


# ---------------------------------------------------------------------------------------------------------------
# Records across specifications


@dataclass
class Columns:
    """Each record's value, low and high across ``n`` specifications, as numpy arrays.

    NaN means *not available* (the record is there with no value). A text value (e.g. a payback year 'not by 2035')
    is NaN with ``text`` set, so a rule may read it as a number of its choosing (:attr:`Value.text_as`). ``produced``
    says in which specifications the record exists at all; reading one that is not produced raises.
    """

    n: int
    value: dict[str, np.ndarray]
    low: dict[str, np.ndarray]
    high: dict[str, np.ndarray]
    text: dict[str, np.ndarray]
    produced: dict[str, np.ndarray]
    notes: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_records(cls, specs: Sequence[Mapping[str, Record]]) -> Columns:
        """Columns from a list of record dicts, one per specification (the ledger passes a list of one)."""
        n = len(specs)
        keys = sorted({key for records in specs for key in records})
        value, low, high, text, produced, notes = {}, {}, {}, {}, {}, {}
        for key in keys:
            rows = [records.get(key) for records in specs]
            value[key] = np.array([_number(r.value) if r else math.nan for r in rows], dtype=float)
            low[key] = np.array([_number(r.low) if r else math.nan for r in rows], dtype=float)
            high[key] = np.array([_number(r.high) if r else math.nan for r in rows], dtype=float)
            text[key] = np.array([bool(r) and isinstance(r.value, str) for r in rows], dtype=bool)
            produced[key] = np.array([r is not None for r in rows], dtype=bool)
            notes[key] = next((r.note for r in rows if r is not None and r.value is None and r.note), "")
        return cls(n, value, low, high, text, produced, notes)

    @classmethod
    def combine(cls, parts: Sequence[Columns]) -> Columns:
        """Side-by-side columns of several chapters with the same number of specifications."""
        sizes = {part.n for part in parts}
        if len(sizes) > 1:
            raise ValueError(f"columns to combine must have the same length, got {sorted(sizes)}")
        out = cls(sizes.pop() if sizes else 1, {}, {}, {}, {}, {}, {})
        for part in parts:
            for name in ("value", "low", "high", "text", "produced", "notes"):
                getattr(out, name).update(getattr(part, name))
        return out

    def take(self, index: np.ndarray) -> Columns:
        """The specifications at ``index`` (rows may repeat: that is how chapters' grids are crossed)."""
        index = np.asarray(index)

        def pick(columns: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
            return {key: column[index] for key, column in columns.items()}

        return Columns(
            len(index),
            pick(self.value),
            pick(self.low),
            pick(self.high),
            pick(self.text),
            pick(self.produced),
            dict(self.notes),
        )

    def require(self, key: str, claim_id: str) -> None:
        produced = self.produced.get(key, np.zeros(self.n, dtype=bool))
        if not produced.all():
            where = "" if self.n == 1 else f" in {int((~produced).sum())} of {self.n} specifications"
            raise MissingRecordError(
                f"claim {claim_id}: its rule reads the record {key!r}, which the build did not produce{where} "
                "(a chapter that leaves a number out must still record it, with value None and a note saying why)"
            )

    def column(self, key: str, statistic: str) -> tuple[np.ndarray, np.ndarray]:
        """The numbers of one record across specifications (``low``/``high`` fall back to the value) and its text
        mask."""
        if statistic == "value":
            numbers = self.value[key]
        elif statistic in ("low", "high"):
            end = getattr(self, statistic)[key]
            numbers = np.where(np.isnan(end), self.value[key], end)
        else:
            raise ValueError(f"statistic must be value, low or high, got {statistic!r}")
        return numbers, self.text[key]


def _number(value: object) -> float:
    if value is None or isinstance(value, str):
        return math.nan
    return float(value)


# ---------------------------------------------------------------------------------------------------------------
# Quantities: what a rule compares with its thresholds. Each evaluates to a float array (NaN = not available).


@dataclass(frozen=True)
class Value:
    """One record's value (or the low or high end of its range).

    ``says`` is how the rule's text names it; ``text_as`` is the number a text value stands for (e.g. a payback
    year 'not by 2035' is infinitely late), else a text value is not available.
    """

    key: str
    says: str
    statistic: str = "value"
    unit: str = "pct"
    text_as: float | None = None

    def keys(self) -> tuple[str, ...]:
        return (self.key,)

    def evaluate(self, columns: Columns) -> np.ndarray:
        numbers, text = columns.column(self.key, self.statistic)
        if self.text_as is not None:
            numbers = np.where(text, self.text_as, numbers)
        return numbers

    def describe(self) -> str:
        return {"low": "the low end of ", "high": "the high end of "}.get(self.statistic, "") + self.says


@dataclass(frozen=True)
class Mean:
    """The average of several records, over those that are available (not available if fewer than ``at_least``)."""

    keys_: tuple[str, ...]
    says: str
    unit: str = "pct"
    at_least: int = 1  # fewer available records than this: not available

    def keys(self) -> tuple[str, ...]:
        return self.keys_

    def evaluate(self, columns: Columns) -> np.ndarray:
        stacked = np.vstack([columns.column(key, "value")[0] for key in self.keys_])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns are meant to give NaN
            mean = np.nanmean(stacked, axis=0)
        return np.where((~np.isnan(stacked)).sum(axis=0) >= self.at_least, mean, math.nan)

    def describe(self) -> str:
        return self.says


@dataclass(frozen=True)
class Minus:
    """One quantity less another (e.g. the years from the start year to the payback year)."""

    left: Value
    right: Value
    says: str
    unit: str = "years"

    def keys(self) -> tuple[str, ...]:
        return self.left.keys() + self.right.keys()

    def evaluate(self, columns: Columns) -> np.ndarray:
        return self.left.evaluate(columns) - self.right.evaluate(columns)

    def describe(self) -> str:
        return self.says


_OPS = {
    ">=": (np.greater_equal, "at least"),
    ">": (np.greater, "above"),
    "<": (np.less, "below"),
    "<=": (np.less_equal, "at most"),
}


@dataclass(frozen=True)
class Condition:
    """A quantity compared with a threshold: evaluates to 1.0 (holds), 0.0 (fails) or NaN (not available)."""

    quantity: Value | Mean | Minus | Count
    op: str
    threshold: float

    def __post_init__(self) -> None:
        if self.op not in _OPS:
            raise ValueError(f"condition operator must be one of {sorted(_OPS)}, got {self.op!r}")

    def keys(self) -> tuple[str, ...]:
        return self.quantity.keys()

    def evaluate(self, columns: Columns) -> np.ndarray:
        numbers = self.quantity.evaluate(columns)
        with np.errstate(invalid="ignore"):
            holds = _OPS[self.op][0](numbers, self.threshold).astype(float)
        return np.where(np.isnan(numbers), math.nan, holds)

    def describe(self) -> str:
        return f"{self.quantity.describe()} is {_OPS[self.op][1]} {threshold_text(self.threshold, self.quantity.unit)}"


@dataclass(frozen=True)
class AllOf:
    conditions: tuple[Condition, ...]

    def keys(self) -> tuple[str, ...]:
        return tuple(key for c in self.conditions for key in c.keys())

    def evaluate(self, columns: Columns) -> np.ndarray:
        return np.min(np.vstack([c.evaluate(columns) for c in self.conditions]), axis=0)  # NaN propagates

    def describe(self) -> str:
        return " and ".join(c.describe() for c in self.conditions)


@dataclass(frozen=True)
class AnyOf:
    conditions: tuple[Condition, ...]

    def keys(self) -> tuple[str, ...]:
        return tuple(key for c in self.conditions for key in c.keys())

    def evaluate(self, columns: Columns) -> np.ndarray:
        return np.max(np.vstack([c.evaluate(columns) for c in self.conditions]), axis=0)  # NaN propagates

    def describe(self) -> str:
        return " or ".join(c.describe() for c in self.conditions)


@dataclass(frozen=True)
class Count:
    """How many of the conditions hold (a quantity, so a :class:`Ladder` can grade it: all → supported, one →
    partly)."""

    conditions: tuple[Condition, ...]
    unit: str = "count"

    def keys(self) -> tuple[str, ...]:
        return tuple(key for c in self.conditions for key in c.keys())

    def evaluate(self, columns: Columns) -> np.ndarray:
        return np.sum(np.vstack([c.evaluate(columns) for c in self.conditions]), axis=0)  # NaN propagates

    def describe(self) -> str:
        parts = "; ".join(f"({i}) {c.describe()}" for i, c in enumerate(self.conditions, start=1))
        return f"the number of these that hold: {parts}"


def threshold_text(threshold: float, unit: str) -> str:
    """A threshold as the rule's text writes it: 40 pct -> '40%', 3 years -> '3 years', 1 ratio -> '1'."""
    number = f"{threshold:g}"
    years = "1 year" if threshold == 1 else f"{number} years"
    return {"pct": f"{number}%", "years": years, "usd_bn": f"${number}bn", "gw": f"{number} GW"}.get(unit, number)


# ---------------------------------------------------------------------------------------------------------------
# Tests: how a rule turns its quantities into a verdict.


@dataclass(frozen=True)
class Steps:
    """The first step whose condition holds gives the verdict; ``otherwise`` if none holds."""

    steps: tuple[tuple[Condition | AllOf | AnyOf, str], ...]
    otherwise: str = NOT_SUPPORTED

    def keys(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(key for condition, _ in self.steps for key in condition.keys()))

    def evaluate(self, columns: Columns) -> np.ndarray:
        holds = [condition.evaluate(columns) for condition, _ in self.steps]
        codes = np.select([h == 1.0 for h in holds], [CODE[v] for _, v in self.steps], default=CODE[self.otherwise])
        unknown = np.any(np.isnan(np.vstack(holds)), axis=0) if holds else np.zeros(columns.n, dtype=bool)
        return np.where(unknown, CODE[CANNOT_TELL], codes).astype(np.int8)

    def text(self) -> str:
        parts, previous = [], None
        for condition, verdict in self.steps:
            again = isinstance(condition, Condition) and isinstance(previous, Condition)
            if again and condition.quantity == previous.quantity:  # "...; not supported if it is at least 100%"
                parts.append(
                    f"{verdict} if it is {_OPS[condition.op][1]} "
                    f"{threshold_text(condition.threshold, condition.quantity.unit)}"
                )
            else:
                parts.append(f"{verdict} if {condition.describe()}")
            previous = condition
        return _sentence("; ".join(parts) + f"; {self.otherwise} otherwise")


@dataclass(frozen=True)
class Ladder:
    """Supported from ``supported_at``, partly supported from ``partly_at``, else ``otherwise``.

    With ``higher_supports=False`` the ladder runs downwards: supported *below* ``supported_at``. Either rung may be
    left out (None).
    """

    quantity: Value | Mean | Minus | Count
    supported_at: float | None = None
    partly_at: float | None = None
    higher_supports: bool = True
    otherwise: str = NOT_SUPPORTED

    def as_steps(self) -> Steps:
        op = ">=" if self.higher_supports else "<"
        rungs = ((self.supported_at, SUPPORTED), (self.partly_at, PARTLY))
        steps = tuple((Condition(self.quantity, op, at), verdict) for at, verdict in rungs if at is not None)
        return Steps(steps, self.otherwise)

    def keys(self) -> tuple[str, ...]:
        return self.quantity.keys()

    def evaluate(self, columns: Columns) -> np.ndarray:
        return self.as_steps().evaluate(columns)

    def text(self) -> str:
        if isinstance(self.quantity, Count):
            return self._count_text()
        unit = self.quantity.unit
        word = "at least" if self.higher_supports else "below"
        rungs = [(at, v) for at, v in ((self.supported_at, SUPPORTED), (self.partly_at, PARTLY)) if at is not None]
        first_at, first_verdict = rungs[0]
        parts = [f"{first_verdict} if {self.quantity.describe()} is {word} {threshold_text(first_at, unit)}"]
        parts += [
            f"{verdict} {'from' if self.higher_supports else 'below'} {threshold_text(at, unit)}"
            for at, verdict in rungs[1:]
        ]
        parts.append(f"{self.otherwise} {'below' if self.higher_supports else 'otherwise'}")
        return _sentence("; ".join(parts))

    def _count_text(self) -> str:
        conditions = self.quantity.conditions
        listed = "; ".join(f"({i}) {c.describe()}" for i, c in enumerate(conditions, start=1))
        parts = [
            f"{verdict} if {_how_many(int(at), len(conditions))}"
            for at, verdict in ((self.supported_at, SUPPORTED), (self.partly_at, PARTLY))
            if at is not None
        ]
        return f"Conditions: {listed}. " + _sentence("; ".join(parts) + f"; {self.otherwise} otherwise")


def _how_many(at: int, of: int) -> str:
    if at >= of:
        return "both hold" if of == 2 else f"all {of} hold"
    return "one holds" if at == 1 else f"at least {at} hold"


@dataclass(frozen=True)
class Fixed:
    """A verdict no record can change (e.g. 'cannot tell' until a company discloses a split); ``why`` is its text."""

    verdict: str
    why: str

    def keys(self) -> tuple[str, ...]:
        return ()

    def evaluate(self, columns: Columns) -> np.ndarray:
        return np.full(columns.n, CODE[self.verdict], dtype=np.int8)

    def text(self) -> str:
        return self.why


def _sentence(text: str) -> str:
    return text[0].upper() + text[1:] + ("" if text.endswith(".") else ".")


# ---------------------------------------------------------------------------------------------------------------
# Rules


@dataclass(frozen=True)
class Rule:
    """One claim's rule: the test that decides it, what else must be available, and what the ledger shows.

    ``needs`` are records that must be available for any verdict but are not compared with a threshold (e.g. the
    confirmed transfer in C6). ``evidence`` adds records to show beyond those the test reads; ``counter`` holds
    records that argue against the claim (empty when we have none: the ledger then says "none found").
    """

    claim_id: str
    chapter: str
    test: Ladder | Steps | Fixed
    context: str = ""
    needs: tuple[str, ...] = ()
    evidence: tuple[str, ...] = ()
    counter: tuple[str, ...] = ()
    watch: str = ""

    @property
    def text(self) -> str:
        return f"{self.context} {self.test.text()}".strip()

    def inputs(self) -> tuple[str, ...]:
        """Every record the verdict depends on."""
        return tuple(dict.fromkeys(self.test.keys() + self.needs))

    def shown(self) -> list[str]:
        """The evidence the ledger shows: the records the rule reads, then the extra evidence."""
        return list(dict.fromkeys(self.inputs() + self.evidence))

    def chapters(self) -> tuple[str, ...]:
        """The chapters whose records decide this rule (a key's first part names its chapter)."""
        return tuple(sorted({key.split(".", 1)[0] for key in self.inputs()}))

    def evaluate(self, columns: Columns) -> np.ndarray:
        """Verdict codes (indices into :data:`VERDICTS`) for every specification in ``columns``."""
        for key in self.inputs():
            columns.require(key, self.claim_id)
        codes = self.test.evaluate(columns)
        for key in self.needs:
            codes = np.where(np.isnan(columns.column(key, "value")[0]), CODE[CANNOT_TELL], codes)
        return codes.astype(np.int8)

    def verdict(self, records: Mapping[str, Record], columns: Columns | None = None) -> Verdict:
        """The verdict on one set of records, with the reason when it is 'cannot tell'."""
        for key in self.shown() + list(self.counter):
            if key not in records:
                raise MissingRecordError(
                    f"claim {self.claim_id}: the ledger shows the record {key!r}, which the build did not produce"
                )
        columns = columns or Columns.from_records([records])
        verdict = VERDICTS[int(self.evaluate(columns)[0])]
        reason = self._reason(records) if verdict == CANNOT_TELL else ""
        return Verdict(
            self.claim_id,
            verdict,
            self.text,
            self.shown(),
            list(self.counter),
            self.watch,
            self.chapter,
            reason,
        )

    __call__ = verdict

    def _reason(self, records: Mapping[str, Record]) -> str:
        if isinstance(self.test, Fixed):
            return self.test.why
        absent = [records[key] for key in self.inputs() if records[key].value is None]
        if not absent:
            return "the rule gives no verdict for these values"
        return "; ".join(f"{r.label or r.key}: not available ({r.note or 'no value recorded'})" for r in absent)


# The records each rule reads. One line per threshold or key: change it there and the rule's text follows.
# The value, not the low end: the chapter's range is now the grid's spread, which the robustness column reports.
BACKLOG_SHARE = Value("backlog.combined_share", "the two labs' share of the four clouds' combined backlog")
EX_LAB_GROWTH = Value("backlog.ex_lab_growth", "the yearly growth of the clouds' backlog outside the two labs")
LABS_COVER = Value(
    "absorption.labs_cover", "the share of what the capacity must earn a year that the labs' revenue covers"
)
LABS_COVER_HIGH = dataclasses.replace(LABS_COVER, statistic="high")
DEPRECIATION_SHARE = Value(
    "absorption.depreciation_share", "depreciation's share of the annual revenue the capacity must earn"
)
YEARS_TO_COVER = Minus(
    Value("absorption.payback_year", "the payback year", unit="year", text_as=math.inf),
    Value("absorption.start_year", "the start year", unit="year"),
    "the years until the labs' revenue, at the assumed growth, covers the capacity's annual cost",
)
BIG_THREE = ("microsoft", "amazon", "alphabet")
OWED_TO_INVESTORS = Value(
    "circular.spend_to_own_investors", "the share of the labs' valued commitments owed to their own investors"
)
EQUITY_COVERS = Value(
    "circular.equity_covers_investor_payments",
    "the investors' own equity as a share of what the labs owe those same investors (both totals over the contracts)",
)
ANTHROPIC_PAYMENTS = Value(
    "circular.payments_to_revenue.anthropic",
    "Anthropic's compute payments per year as a share of its annual revenue (one revenue basis)",
)
PASSED_UP = Value(
    "passthrough.passed_up",
    "the share of an application dollar reaching model providers, clouds and chip makers (sourced margins; the "
    "shares of cost paid on are ASSUMPTIONS, ranged)",
)
UNDISCLOSED_BACKLOG = Value(
    "quality.backlog_share.not_disclosed",
    "the share of the four clouds' backlog owed by customers no company names",
)
COMMITMENTS_COVERED = Value(
    "quality.commitments_share.paid_from_revenue",
    "the share of the labs' valued compute commitments that is binding and covered by their revenue",
)

RULES: dict[str, Rule] = {
    rule.claim_id: rule
    for rule in (
        Rule(
            "C1",
            "backlog",
            Ladder(
                Mean(
                    tuple(f"backlog.labs_share.{p}" for p in BIG_THREE),
                    "the labs' average share of the backlog at Microsoft, Amazon and Alphabet (two of three at least)",
                    at_least=2,  # proposal of the backlog chapter (research/rules/backlog.md)
                ),
                partly_at=33,
                otherwise=CANNOT_TELL,
            ),
            context="Capacity use is not disclosed; backlog is future capacity sold, so it stands in (never fully).",
            counter=("backlog.ex_lab_growth",),
            watch="Any disclosure of capacity or revenue by customer in the clouds' filings.",
        ),
        Rule(
            "C2",
            "passthrough",
            Fixed(
                CANNOT_TELL,
                "Needs a company-reported split of the clouds' AI revenue by customer; the only figures are a "
                "critic's estimates, so the verdict is 'cannot tell' until a company discloses one.",
            ),
            evidence=("passthrough.labs_share_of_ai_startup_revenue",),
            watch="Microsoft's, Amazon's or Google's AI revenue by customer, if ever disclosed.",
        ),
        Rule(
            "C3",
            "backlog",
            Ladder(BACKLOG_SHARE, supported_at=40, partly_at=25),
            evidence=("backlog.labs_amount",),
            counter=("backlog.ex_lab_growth", "backlog.microsoft_ex_openai_growth_2025q4"),
            watch="Next quarter's backlog, and any disclosure of the labs' share (Microsoft stopped repeating it).",
        ),
        Rule(
            "C4",
            "circular",
            # Circularity is the same dollars going round: the investors' own equity paying back to them. A long
            # contract alone (commitments larger than equity) does not test that, so it is context, not a rung.
            Ladder(
                Count((Condition(OWED_TO_INVESTORS, ">=", 50), Condition(EQUITY_COVERS, ">=", 50))),
                supported_at=2,
                partly_at=1,
            ),
            context="Both sides are totals over the contracts; the chip leg counts only where a purchase is valued.",
            evidence=(
                "circular.investor_money_in",
                "circular.investor_money_out",
                "circular.equity_into_labs",
                "circular.lab_compute_commitments",
            ),
            counter=("circular.equity_covers_investor_payments",),
            watch="Whether conditional equity tranches are paid, and whether the labs' bills are paid from revenue.",
        ),
        Rule(
            "C5",
            "circular",
            # Annual payments against annual revenue (like with like). 'Supported' needs every defensible choice to
            # leave the bills above revenue; the central case alone gives at most 'partly'.
            Steps(
                (
                    (Condition(dataclasses.replace(ANTHROPIC_PAYMENTS, statistic="low"), ">=", 100), SUPPORTED),
                    (Condition(ANTHROPIC_PAYMENTS, ">=", 50), PARTLY),
                )
            ),
            context="Payments are each commitment spread over its duration (5 years where not disclosed, an "
            "ASSUMPTION); only commitments with a disclosed value count, so payments are a lower bound.",
            evidence=(
                "circular.annual_payments.anthropic",
                "circular.revenue_used.anthropic",
                "quality.revenue_coverage.anthropic",
            ),
            counter=("circular.operating_result_latest.anthropic",),
            watch="Anthropic's revenue run-rate against its cloud bills; Amazon's and Google's conditional tranches.",
        ),
        Rule(
            "C6",
            "circular",
            # The transfer is the confirmed fact (needed below); the graded part is the inference that there are few
            # large buyers outside the two labs, tested on how fast the rest of the backlog grows.
            Ladder(EX_LAB_GROWTH, supported_at=10, partly_at=20, higher_supports=False),
            context="Fact: Anthropic took capacity at xAI/SpaceX's Colossus (terminable on 90 days' notice). "
            "Inference graded here: few other large buyers.",
            needs=("circular.colossus1_gw",),
            evidence=("circular.colossus1_gw", "circular.colossus1_price_per_year"),
            counter=("backlog.ex_lab_growth",),
            watch="Who else leases large clusters; whether the Colossus lease runs past its notice period.",
        ),
        Rule(
            "C7",
            "absorption",
            Steps(
                ((Condition(LABS_COVER, "<", 50), PARTLY), (Condition(LABS_COVER, ">=", 100), NOT_SUPPORTED)),
                otherwise=CANNOT_TELL,
            ),
            context="The capacity figure's provenance is itself unverified, so never fully supported.",
            evidence=("absorption.gw", "absorption.required_revenue"),
            counter=("absorption.payback_year",),
            watch="Sightline's next tracker update; hyperscalers' capacity additions.",
        ),
        Rule(
            "C8",
            "passthrough",
            # The shares of cost an application and a model provider pay on are assumptions: 'supported' needs the
            # low end of their ranges to pass.
            Steps(
                (
                    (Condition(dataclasses.replace(PASSED_UP, statistic="low"), ">=", 50), SUPPORTED),
                    (Condition(PASSED_UP, ">=", 50), PARTLY),
                    (Condition(dataclasses.replace(PASSED_UP, statistic="low"), ">=", 30), PARTLY),
                )
            ),
            context="Margins are sourced; the shares of cost paid on (80% to model providers, 90% to clouds) are "
            "our ASSUMPTIONS, so the grade follows the low end of their ranges.",
            evidence=("passthrough.labs_share_of_ai_startup_revenue",),
            counter=("passthrough.app_gross_margin_used",),
            watch="Audited gross margins and cost breakdowns of AI applications (IPO filings).",
        ),
        Rule(
            "C9",
            "passthrough",
            Steps(
                (
                    (
                        Condition(Value("passthrough.app_keeps", "the median application gross margin"), "<", 20),
                        SUPPORTED,
                    ),
                    (
                        AnyOf(
                            (
                                Condition(
                                    Value("passthrough.app_keeps", "the median application gross margin"), "<", 50
                                ),
                                Condition(
                                    Value(
                                        "passthrough.negative_margin_cases",
                                        "the number of applications reporting a negative gross margin",
                                        unit="count",
                                    ),
                                    ">",
                                    0,
                                ),
                            )
                        ),
                        PARTLY,
                    ),
                )
            ),
            watch="Application margins as model prices fall.",
        ),
        Rule(
            "C10",
            "backlog",
            Ladder(
                Count(
                    (
                        Condition(
                            Value(
                                "backlog.top_customer_share.nvidia", "Nvidia's largest customer's share of its revenue"
                            ),
                            ">=",
                            15,
                        ),
                        Condition(
                            Value(
                                "backlog.top_customer_share.coreweave",
                                "CoreWeave's largest customer's share of its revenue",
                            ),
                            ">=",
                            50,
                        ),
                        # Concentration at the clouds can only be shown for the part of backlog whose payer is known.
                        Condition(UNDISCLOSED_BACKLOG, "<", 50),
                    )
                ),
                partly_at=2,
            ),
            context="Filings do not name the labs as Nvidia's or CoreWeave's customers, so high concentration gives "
            "at most 'partly supported'.",
            evidence=("quality.backlog_share.not_disclosed", "backlog.combined_share"),
            counter=("quality.backlog_share.not_disclosed",),
            watch="Nvidia's and CoreWeave's customer concentration in their next filings.",
        ),
        Rule(
            "C11",
            "absorption",
            # Proposal of the absorption chapter (research/rules/absorption.md): 'supported' only if depreciation is
            # over half the requirement under every defensible choice (the low end of its range).
            Steps(
                (
                    (Condition(dataclasses.replace(DEPRECIATION_SHARE, statistic="low"), ">=", 50), SUPPORTED),
                    (Condition(DEPRECIATION_SHARE, ">=", 33), PARTLY),
                )
            ),
            context="Accounting lives only: economic lives shorter than accounting lives, and facilities that last "
            "15–20+ years, are not in the data.",
            evidence=("absorption.capital",),
            watch="Changes in the hyperscalers' stated server lives.",
        ),
        Rule(
            "C12",
            "absorption",
            Steps(
                (
                    (Condition(LABS_COVER, ">=", 100), NOT_SUPPORTED),
                    # Proposal of the absorption chapter: no defensible choice covers it today (the high end).
                    (
                        AllOf(
                            (
                                Condition(LABS_COVER_HIGH, "<", 100),
                                Condition(YEARS_TO_COVER, ">", 3),
                                Condition(COMMITMENTS_COVERED, "<", 50),
                            )
                        ),
                        SUPPORTED,
                    ),
                ),
                otherwise=PARTLY,
            ),
            evidence=(
                "absorption.required_revenue",
                "absorption.labs_revenue",
                "absorption.gap",
                "quality.commitments_share.paid_from_revenue",
            ),
            counter=("absorption.payback_year_earliest",),
            watch="The labs' revenue growth against their compute bills.",
        ),
    )
}


def ledger(records: Mapping[str, Record], claim_ids: Sequence[str], rules: Mapping[str, Rule] = RULES) -> list[Verdict]:
    """Every claim's verdict on one set of records; raises :class:`MissingRecordError` if a rule's record is
    missing."""
    unknown = [c for c in claim_ids if c not in rules]
    if unknown:
        raise KeyError(f"no verdict rule for claims {unknown}")
    columns = Columns.from_records([records])
    return [rules[c].verdict(records, columns) for c in claim_ids]


def verdict_book(verdicts: Sequence[Verdict]) -> RecordBook:
    """The verdicts as records of the summary (``summary.verdict.C3``, unit 'text'), so ``diff`` can compare them."""
    book = RecordBook("summary")
    for v in verdicts:
        book.record(
            f"verdict.{v.claim_id}",
            v.verdict,
            unit="text",
            label=f"Verdict on claim {v.claim_id}",
            sources=[],
            note=v.reason,
        )
    return book
