"""The claims ledger: a verdict for each claim, decided by a rule written next to its evidence.

Each rule reads recorded key numbers (see :mod:`aicompute.records`), so new data can change a verdict; the ledger
shows the rule, the evidence, the strongest counter-evidence and the figure to watch.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

from aicompute.analysis.records import Record

SUPPORTED = "supported"
PARTLY = "partly supported"
NOT_SUPPORTED = "not supported"
CANNOT_TELL = "cannot tell with public data"
VERDICTS = (SUPPORTED, PARTLY, NOT_SUPPORTED, CANNOT_TELL)


@dataclass(frozen=True)
class Verdict:
    claim_id: str
    verdict: str
    rule: str
    evidence: list[str] = field(default_factory=list)
    counter: list[str] = field(default_factory=list)
    watch: str = ""
    chapter: str = ""


def _v(records: dict[str, Record], key: str) -> float | None:
    record = records.get(key)
    if record is None or record.value is None or isinstance(record.value, str):
        return None
    return None if math.isnan(record.value) else float(record.value)


def _low(records: dict[str, Record], key: str) -> float | None:
    record = records.get(key)
    if record is None:
        return None
    return record.low if record.low is not None else _v(records, key)


def c1(r: dict[str, Record]) -> Verdict:
    shares = [_v(r, f"backlog.labs_share.{p}") for p in ("microsoft", "amazon", "alphabet")]
    known = [s for s in shares if s is not None]
    rule = (
        "Capacity use is not disclosed. Partly supported if the labs hold at least a third of the backlog at "
        "Microsoft, Amazon and Alphabet on average (backlog is future capacity sold); otherwise cannot tell."
    )
    verdict = PARTLY if known and sum(known) / len(known) >= 33 else CANNOT_TELL
    return Verdict(
        "C1",
        verdict,
        rule,
        [f"backlog.labs_share.{p}" for p in ("microsoft", "amazon", "alphabet")],
        ["backlog.ex_lab_growth"],
        "Any disclosure of capacity or revenue by customer in the clouds' filings.",
        "backlog",
    )


def c2(r: dict[str, Record]) -> Verdict:
    rule = (
        "Needs a company-reported split of the clouds' AI revenue by customer; the only figures are a critic's "
        "estimates, so the verdict is 'cannot tell' until a company discloses one."
    )
    return Verdict(
        "C2",
        CANNOT_TELL,
        rule,
        ["passthrough.labs_share_of_ai_startup_revenue"],
        [],
        "Microsoft's, Amazon's or Google's AI revenue by customer, if ever disclosed.",
        "passthrough",
    )


def c3(r: dict[str, Record]) -> Verdict:
    low = _low(r, "backlog.combined_share")
    rule = (
        "Supported if the low end of the two labs' share of the four clouds' combined backlog is at least 40%; "
        "partly supported from 25%; not supported below."
    )
    if low is None:
        verdict = CANNOT_TELL
    else:
        verdict = SUPPORTED if low >= 40 else PARTLY if low >= 25 else NOT_SUPPORTED
    return Verdict(
        "C3",
        verdict,
        rule,
        ["backlog.combined_share", "backlog.labs_amount"],
        ["backlog.ex_lab_growth", "backlog.microsoft_ex_openai_growth_2025q4"],
        "Next quarter's backlog, and any disclosure of the labs' share (Microsoft stopped repeating its own).",
        "backlog",
    )


def c4(r: dict[str, Record]) -> Verdict:
    ratio, owed = _v(r, "circular.round_trip_ratio"), _v(r, "circular.spend_to_own_investors")
    rule = (
        "Supported if the labs' compute commitments to their investors exceed those investors' equity (ratio "
        "≥ 1) and at least half of the labs' valued commitments are owed to their own investors; partly "
        "supported if one holds; not supported if neither."
    )
    if ratio is None or owed is None:
        verdict = CANNOT_TELL
    else:
        hits = (ratio >= 1) + (owed >= 50)
        verdict = SUPPORTED if hits == 2 else PARTLY if hits == 1 else NOT_SUPPORTED
    return Verdict(
        "C4",
        verdict,
        rule,
        ["circular.round_trip_ratio", "circular.spend_to_own_investors", "circular.equity_into_labs"],
        ["circular.lab_compute_commitments"],
        "Whether conditional equity tranches are paid, and whether the labs' bills are paid from revenue.",
        "circular",
    )


def c5(r: dict[str, Record]) -> Verdict:
    years = _v(r, "circular.years_of_revenue.anthropic")
    rule = (
        "Supported if Anthropic's disclosed compute commitments exceed three years of its current revenue "
        "run-rate (its bills then rest on growth or new money); partly supported from one year; not supported below."
    )
    verdict = CANNOT_TELL if years is None else SUPPORTED if years >= 3 else PARTLY if years >= 1 else NOT_SUPPORTED
    return Verdict(
        "C5",
        verdict,
        rule,
        ["circular.years_of_revenue.anthropic"],
        ["backlog.annual_payments_to_revenue.anthropic"],
        "Anthropic's revenue run-rate against its cloud bills; Amazon's and Google's conditional tranches.",
        "circular",
    )


def c6(r: dict[str, Record]) -> Verdict:
    gw, growth = _v(r, "circular.colossus1_gw"), _v(r, "backlog.ex_lab_growth")
    rule = (
        "The transfer itself is checked in the data. 'Few other buyers' is tested against the growth of the "
        "clouds' backlog outside the two labs: supported if the transfer is confirmed and that growth is below "
        "20% a year; partly supported if it is confirmed but the rest of the backlog grows faster."
    )
    if gw is None:
        verdict = CANNOT_TELL
    else:
        verdict = SUPPORTED if growth is not None and growth < 20 else PARTLY
    return Verdict(
        "C6",
        verdict,
        rule,
        ["circular.colossus1_gw"],
        ["backlog.ex_lab_growth"],
        "Who else leases large clusters; whether the Colossus-1 lease is renewed.",
        "circular",
    )


def c7(r: dict[str, Record]) -> Verdict:
    cover = _v(r, "absorption.labs_cover")
    rule = (
        "Partly supported if the two labs' whole revenue covers less than half of what the capacity must earn "
        "each year (the capacity figure's provenance is itself unverified, so never fully); not supported if "
        "it covers all of it; cannot tell otherwise."
    )
    verdict = CANNOT_TELL if cover is None else PARTLY if cover < 50 else NOT_SUPPORTED if cover >= 100 else CANNOT_TELL
    return Verdict(
        "C7",
        verdict,
        rule,
        ["absorption.gw", "absorption.required_revenue", "absorption.labs_cover"],
        ["absorption.payback_year"],
        "Sightline's next tracker update; hyperscalers' capacity additions.",
        "absorption",
    )


def c8(r: dict[str, Record]) -> Verdict:
    up = _v(r, "passthrough.passed_up")
    rule = (
        "Supported if at least half of an application dollar reaches model providers, clouds and chip makers under "
        "the sourced margins; partly supported from 30%; not supported below."
    )
    verdict = CANNOT_TELL if up is None else SUPPORTED if up >= 50 else PARTLY if up >= 30 else NOT_SUPPORTED
    return Verdict(
        "C8",
        verdict,
        rule,
        ["passthrough.passed_up", "passthrough.labs_share_of_ai_startup_revenue"],
        ["passthrough.app_keeps"],
        "Audited gross margins of AI applications (IPO filings).",
        "passthrough",
    )


def c9(r: dict[str, Record]) -> Verdict:
    keeps, negatives = _v(r, "passthrough.app_keeps"), _v(r, "passthrough.negative_margin_cases")
    rule = (
        "Supported if the median reported application gross margin is below 20%; partly supported if it is below "
        "50% or any application reports a negative margin; not supported otherwise."
    )
    if keeps is None:
        verdict = CANNOT_TELL
    else:
        verdict = SUPPORTED if keeps < 20 else PARTLY if keeps < 50 or (negatives or 0) > 0 else NOT_SUPPORTED
    return Verdict(
        "C9",
        verdict,
        rule,
        ["passthrough.app_keeps", "passthrough.negative_margin_cases"],
        ["passthrough.max_model_spend"],
        "Application margins as model prices fall.",
        "passthrough",
    )


def c10(r: dict[str, Record]) -> Verdict:
    nvda, crwv = _v(r, "backlog.top_customer_share.nvidia"), _v(r, "backlog.top_customer_share.coreweave")
    rule = (
        "Concentration is high if Nvidia's largest customer is at least 15% of its revenue and CoreWeave's at "
        "least 50%; since filings do not name the labs, high concentration gives 'partly supported', low gives "
        "'not supported'."
    )
    if nvda is None or crwv is None:
        verdict = CANNOT_TELL
    else:
        verdict = PARTLY if nvda >= 15 and crwv >= 50 else NOT_SUPPORTED
    return Verdict(
        "C10",
        verdict,
        rule,
        ["backlog.top_customer_share.nvidia", "backlog.top_customer_share.coreweave"],
        [],
        "Nvidia's and CoreWeave's customer concentration in their next filings.",
        "backlog",
    )


def c11(r: dict[str, Record]) -> Verdict:
    dep = _v(r, "absorption.depreciation_share")
    rule = (
        "Supported if depreciation is at least half of the annual revenue the capacity must earn; partly "
        "supported from a third; not supported below."
    )
    verdict = CANNOT_TELL if dep is None else SUPPORTED if dep >= 50 else PARTLY if dep >= 33 else NOT_SUPPORTED
    return Verdict(
        "C11",
        verdict,
        rule,
        ["absorption.depreciation_share", "absorption.capital"],
        [],
        "Changes in the hyperscalers' stated server lives.",
        "absorption",
    )


def c12(r: dict[str, Record]) -> Verdict:
    cover = _v(r, "absorption.labs_cover")
    payback = r.get("absorption.payback_year")
    rule = (
        "Supported if the labs' revenue covers under half of the capacity's annual cost and, at the assumed "
        "growth, would not cover it within three years; partly supported if it covers under all of it; not "
        "supported if it already covers it."
    )
    if cover is None or payback is None:
        verdict = CANNOT_TELL
    elif cover >= 100:
        verdict = NOT_SUPPORTED
    else:
        late = isinstance(payback.value, str) or (payback.value - _start_year(r)) > 3
        verdict = SUPPORTED if cover < 50 and late else PARTLY
    return Verdict(
        "C12",
        verdict,
        rule,
        ["absorption.labs_cover", "absorption.gap_mc", "absorption.payback_year"],
        ["absorption.labs_revenue"],
        "The labs' revenue growth against their compute bills.",
        "absorption",
    )


def _start_year(r: dict[str, Record]) -> int:
    start = r.get("absorption.start_year")
    return int(start.value) if start is not None and not isinstance(start.value, str) else 2026


RULES: dict[str, Callable[[dict[str, Record]], Verdict]] = {
    "C1": c1,
    "C2": c2,
    "C3": c3,
    "C4": c4,
    "C5": c5,
    "C6": c6,
    "C7": c7,
    "C8": c8,
    "C9": c9,
    "C10": c10,
    "C11": c11,
    "C12": c12,
}


def ledger(records: dict[str, Record], claim_ids: list[str]) -> list[Verdict]:
    unknown = [c for c in claim_ids if c not in RULES]
    if unknown:
        raise KeyError(f"no verdict rule for claims {unknown}")
    return [RULES[c](records) for c in claim_ids]
