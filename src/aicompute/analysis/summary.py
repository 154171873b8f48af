"""What the summary quotes: the headline numbers, the ratios it states (each from the very records it names), the
verdict tally, and what changes when the analysis date moves to the newest figures in ``data/``.

The summary is prose over these; keeping the choices here lets a test recompute every quoted ratio from
``report/records.json``, so a sentence can never put the numerator of one case over the denominator of another.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from aicompute.analysis.records import Record, moved
from aicompute.analysis.verdicts import CANNOT_TELL, NOT_SUPPORTED, PARTLY, SUPPORTED, Verdict

# The three most quotable numbers, each with its honest range (first screen).
HEADLINES: tuple[str, ...] = (
    "backlog.combined_share",
    "quality.backlog_share.paid_from_revenue",
    "absorption.labs_cover",
)
# The demand-quality ladder as the bottom line states it, firmest first.
QUALITY_SENTENCE: tuple[str, ...] = (
    "quality.backlog_share.paid_from_revenue",
    "quality.backlog_share.needs_new_money",
    "quality.backlog_share.unconfirmed",
    "quality.backlog_share.not_disclosed",
)
# Numbers compared between the default analysis date and the latest figures.
COMPARED: tuple[str, ...] = (
    "backlog.combined_share",
    "backlog.ex_lab_growth",
    "circular.years_of_revenue.openai",
    "circular.payments_to_revenue.anthropic",
    "absorption.labs_revenue",
    "absorption.labs_cover",
    "absorption.required_revenue",
    "quality.backlog_share.paid_from_revenue",
)


@dataclass(frozen=True)
class Ratio:
    """A ratio the summary states: ``ratio = numerator / denominator × scale``, all three records of one run."""

    ratio: str
    numerator: str
    denominator: str
    scale: float = 100.0

    def recomputed(self, records: Mapping[str, Record]) -> float:
        numerator, denominator = records[self.numerator].value, records[self.denominator].value
        return float(numerator) / float(denominator) * self.scale


# Every ratio quoted in the summary's prose (tests/test_summary.py recomputes each from the published records).
QUOTED_RATIOS: tuple[Ratio, ...] = (
    Ratio("absorption.labs_cover", "absorption.labs_revenue", "absorption.required_revenue"),
    Ratio("backlog.combined_share", "backlog.labs_amount", "backlog.combined_backlog"),
)

def ratio_mismatches(records: Mapping[str, Record], ratios: Sequence[Ratio] = QUOTED_RATIOS) -> list[str]:
    """Quoted ratios that do not equal their parts' ratio (records keep 6 significant digits, hence the tolerance)."""
    out = []
    for ratio in ratios:
        quoted, recomputed = float(records[ratio.ratio].value), ratio.recomputed(records)
        if abs(quoted - recomputed) > 1e-4 * max(1.0, abs(recomputed)):
            out.append(f"{ratio.ratio} = {quoted:g}, but {ratio.numerator} / {ratio.denominator} = {recomputed:g}")
    return out


ORDER = (SUPPORTED, PARTLY, NOT_SUPPORTED, CANNOT_TELL)


def tally(verdicts: Sequence[Verdict]) -> dict[str, int]:
    """How many claims got each verdict, in ladder order (verdicts no claim got are left out)."""
    counts = {verdict: sum(1 for v in verdicts if v.verdict == verdict) for verdict in ORDER}
    return {verdict: n for verdict, n in counts.items() if n}


def tally_text(verdicts: Sequence[Verdict], fragile: Sequence[str] = ()) -> str:
    """'12 claims: 2 supported, 8 partly supported, 1 not supported, 1 cannot tell …; 3 flip under one choice.'"""
    parts = [f"{n} {verdict}" for verdict, n in tally(verdicts).items()]
    text = f"{len(verdicts)} claims: " + ", ".join(parts) + "."
    if fragile:
        text += f" {len(fragile)} of them change under a single defensible choice ({', '.join(fragile)})."
    return text


@dataclass(frozen=True)
class Moved:
    key: str
    label: str
    before: str
    after: str


def changes(
    before: Mapping[str, Record], after: Mapping[str, Record], keys: Sequence[str] = COMPARED
) -> list[Moved]:
    """The compared numbers that moved (beyond rounding) between two runs, as text for a table."""
    out = []
    for key in keys:
        a, b = before.get(key), after.get(key)
        if a is None or b is None:
            continue
        if moved(a.value, b.value):
            out.append(Moved(key, a.label, a.text(), b.text()))
    return out


def flips(before: Sequence[Verdict], after: Sequence[Verdict]) -> list[tuple[str, str, str]]:
    """(claim, verdict before, verdict after) for every claim whose verdict differs between two runs."""
    later = {v.claim_id: v.verdict for v in after}
    return [(v.claim_id, v.verdict, later[v.claim_id]) for v in before if later.get(v.claim_id) != v.verdict]
