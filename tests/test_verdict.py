"""Verdict rules as declarations: today's verdicts kept, both sides of every threshold, missing vs not available."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from aicompute.analysis import data
from aicompute.analysis.records import Record
from aicompute.analysis.verdicts import (
    CANNOT_TELL,
    NOT_SUPPORTED,
    PARTLY,
    RULES,
    SUPPORTED,
    VERDICTS,
    MissingRecordError,
    ledger,
    verdict_book,
)

FIXTURE = Path(__file__).parent / "fixtures" / "records_published.json"

# The verdicts worked out by hand from the published records (tests/fixtures/records_published.json) and the rules'
# text: C3 45% >= 40; C4 owed 61% >= 50 but equity covers 20% < 50 (one of two); C5 Anthropic's payments 189% of
# revenue, low end 49% < 100; C6 growth outside the labs 63% >= 20; C8 passed up 58% >= 50 at the centre, low 27%;
# C10 Nvidia 21% >= 15, CoreWeave 67% >= 50, undisclosed backlog 55% not < 50 (two of three); C11 low end 43% < 50,
# value 55% >= 33; C12 high end of cover 59% < 100, payback 2030 more than 3 years after 2026, 14% of commitments
# covered < 50.
PUBLISHED_VERDICTS = {
    "C1": PARTLY,
    "C2": CANNOT_TELL,
    "C3": SUPPORTED,
    "C4": PARTLY,
    "C5": PARTLY,
    "C6": NOT_SUPPORTED,
    "C7": PARTLY,
    "C8": PARTLY,
    "C9": PARTLY,
    "C10": PARTLY,
    "C11": PARTLY,
    "C12": SUPPORTED,
}


def published() -> dict[str, Record]:
    return {key: Record(**item) for key, item in json.loads(FIXTURE.read_text(encoding="utf-8")).items()}


def changed(records: dict[str, Record], **values) -> dict[str, Record]:
    """The records with some values replaced: ``changed(r, backlog__combined_share=(38, 35, 41))`` sets value, low
    and high."""
    out = dict(records)
    for name, new in values.items():
        key = name.replace("__", ".")
        value, low, high = (tuple(new) + (None,))[:3] if isinstance(new, tuple) else (new, None, None)
        out[key] = dataclasses.replace(out[key], value=value, low=low, high=high)
    return out


def verdict_of(claim: str, records: dict[str, Record]) -> str:
    return RULES[claim](records).verdict


def test_declarations_give_the_hand_worked_verdicts_on_the_published_records():
    verdicts = ledger(published(), list(PUBLISHED_VERDICTS))
    assert {v.claim_id: v.verdict for v in verdicts} == PUBLISHED_VERDICTS


def test_ledger_covers_every_claim_in_the_data():
    claims = list(data.load("claims")["claim_id"])
    assert sorted(claims) == sorted(RULES)
    with pytest.raises(KeyError, match="C99"):
        ledger(published(), ["C99"])


# Each case: claim, the values changed on main's records, the verdict worked out by hand from the rule's text.
CASES = [
    # C1: mean of the three big clouds' lab shares >= 33 -> partly, else cannot tell.
    (
        "C1",
        dict(backlog__labs_share__microsoft=33, backlog__labs_share__amazon=33, backlog__labs_share__alphabet=33),
        PARTLY,
    ),
    (
        "C1",
        dict(backlog__labs_share__microsoft=32.9, backlog__labs_share__amazon=33, backlog__labs_share__alphabet=33),
        CANNOT_TELL,
    ),
    (
        "C1",
        dict(backlog__labs_share__microsoft=40, backlog__labs_share__amazon=30, backlog__labs_share__alphabet=29),
        PARTLY,
    ),
    # C3: the combined share (its value: the range is the grid's spread): >= 40 supported, >= 25 partly, else not.
    ("C3", dict(backlog__combined_share=(40, 30)), SUPPORTED),
    ("C3", dict(backlog__combined_share=(39.9, 39)), PARTLY),
    ("C3", dict(backlog__combined_share=25), PARTLY),
    ("C3", dict(backlog__combined_share=24.9), NOT_SUPPORTED),
    # C4: owed to own investors >= 50 and their equity covers >= 50 of it: both supported, one partly, none not.
    ("C4", dict(circular__spend_to_own_investors=50, circular__equity_covers_investor_payments=50), SUPPORTED),
    ("C4", dict(circular__spend_to_own_investors=50, circular__equity_covers_investor_payments=49.9), PARTLY),
    ("C4", dict(circular__spend_to_own_investors=49.9, circular__equity_covers_investor_payments=50), PARTLY),
    ("C4", dict(circular__spend_to_own_investors=49.9, circular__equity_covers_investor_payments=49.9), NOT_SUPPORTED),
    # C5: low end of Anthropic's payments/revenue >= 100 supported; value >= 50 partly; else not.
    ("C5", dict(circular__payments_to_revenue__anthropic=(150, 100, 200)), SUPPORTED),
    ("C5", dict(circular__payments_to_revenue__anthropic=(150, 99.9, 200)), PARTLY),
    ("C5", dict(circular__payments_to_revenue__anthropic=50), PARTLY),
    ("C5", dict(circular__payments_to_revenue__anthropic=49.9), NOT_SUPPORTED),
    # C6: transfer confirmed; growth outside the labs below 10 supported, below 20 partly, else not.
    ("C6", dict(backlog__ex_lab_growth=9.9), SUPPORTED),
    ("C6", dict(backlog__ex_lab_growth=10), PARTLY),
    ("C6", dict(backlog__ex_lab_growth=19.9), PARTLY),
    ("C6", dict(backlog__ex_lab_growth=20), NOT_SUPPORTED),
    # C7: cover < 50 partly, >= 100 not, in between cannot tell.
    ("C7", dict(absorption__labs_cover=49.9), PARTLY),
    ("C7", dict(absorption__labs_cover=50), CANNOT_TELL),
    ("C7", dict(absorption__labs_cover=99.9), CANNOT_TELL),
    ("C7", dict(absorption__labs_cover=100), NOT_SUPPORTED),
    # C8: low end of passed up >= 50 supported; value >= 50, or low end >= 30, partly; else not.
    ("C8", dict(passthrough__passed_up=(60, 50, 70)), SUPPORTED),
    ("C8", dict(passthrough__passed_up=(60, 29.9, 70)), PARTLY),
    ("C8", dict(passthrough__passed_up=(49.9, 30, 60)), PARTLY),
    ("C8", dict(passthrough__passed_up=(49.9, 29.9, 60)), NOT_SUPPORTED),
    # C9: margin < 20 supported; < 50 or a negative margin partly; else not.
    ("C9", dict(passthrough__app_keeps=19.9, passthrough__negative_margin_cases=0), SUPPORTED),
    ("C9", dict(passthrough__app_keeps=20, passthrough__negative_margin_cases=0), PARTLY),
    ("C9", dict(passthrough__app_keeps=49.9, passthrough__negative_margin_cases=0), PARTLY),
    ("C9", dict(passthrough__app_keeps=50, passthrough__negative_margin_cases=0), NOT_SUPPORTED),
    ("C9", dict(passthrough__app_keeps=50, passthrough__negative_margin_cases=1), PARTLY),
    # C10: Nvidia >= 15, CoreWeave >= 50, undisclosed backlog < 50: two of three partly, else not.
    ("C10", dict(backlog__top_customer_share__nvidia=15, backlog__top_customer_share__coreweave=50), PARTLY),
    (
        "C10",
        dict(backlog__top_customer_share__nvidia=14.9, backlog__top_customer_share__coreweave=50),
        NOT_SUPPORTED,
    ),
    (
        "C10",
        dict(backlog__top_customer_share__nvidia=14.9, quality__backlog_share__not_disclosed=49.9),
        PARTLY,
    ),
    ("C10", dict(backlog__top_customer_share__coreweave=49.9), NOT_SUPPORTED),
    # C11: low end of the depreciation share >= 50 supported; value >= 33 partly; else not.
    ("C11", dict(absorption__depreciation_share=(55, 50)), SUPPORTED),
    ("C11", dict(absorption__depreciation_share=(55, 49.9)), PARTLY),
    ("C11", dict(absorption__depreciation_share=50), SUPPORTED),  # no range: the low end is the value
    ("C11", dict(absorption__depreciation_share=33), PARTLY),
    ("C11", dict(absorption__depreciation_share=32.9), NOT_SUPPORTED),
    # C12 (start year 2026): cover >= 100 not; high end of cover < 100 and payback more than 3 years out supported;
    # else partly.
    ("C12", dict(absorption__labs_cover=100, absorption__payback_year=2026), NOT_SUPPORTED),
    ("C12", dict(absorption__labs_cover=99.9, absorption__payback_year=2030), SUPPORTED),
    ("C12", dict(absorption__labs_cover=99.9, absorption__payback_year=2029), PARTLY),
    ("C12", dict(absorption__labs_cover=20, absorption__payback_year="not by 2035"), SUPPORTED),
    ("C12", dict(absorption__labs_cover=(60, 40, 100), absorption__payback_year=2030), PARTLY),
    ("C12", dict(absorption__labs_cover=(60, 40, 99.9), absorption__payback_year=2030), SUPPORTED),
    # ... and the labs' commitments covered by their revenue must be below half for 'supported'.
    ("C12", dict(absorption__labs_cover=20, quality__commitments_share__paid_from_revenue=49.9), SUPPORTED),
    ("C12", dict(absorption__labs_cover=20, quality__commitments_share__paid_from_revenue=50), PARTLY),
]


@pytest.mark.parametrize("claim, values, expected", CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_each_threshold_on_both_sides(claim, values, expected):
    assert verdict_of(claim, changed(published(), **values)) == expected


def test_every_verdict_is_reachable():
    assert {expected for _, _, expected in CASES} == set(VERDICTS)


def test_rule_text_is_generated_from_the_thresholds():
    rule = RULES["C3"]
    assert "at least 40%" in rule.text and "from 25%" in rule.text
    moved = dataclasses.replace(rule, test=dataclasses.replace(rule.test, supported_at=50))
    assert "at least 50%" in moved.text and "40%" not in moved.text
    # the moved threshold also moves the verdict: 45% is below 50 now
    assert moved(changed(published(), backlog__combined_share=45)).verdict == PARTLY


def test_a_record_the_build_did_not_produce_fails_with_the_claim_and_key():
    records = published()
    del records["backlog.combined_share"]
    with pytest.raises(MissingRecordError, match=r"claim C3.*'backlog\.combined_share'"):
        ledger(records, ["C3"])


def test_missing_evidence_shown_in_the_ledger_also_fails():
    records = published()
    del records["backlog.labs_amount"]
    with pytest.raises(MissingRecordError, match=r"claim C3.*'backlog\.labs_amount'"):
        ledger(records, ["C3"])


def test_a_record_present_without_value_gives_cannot_tell_with_its_reason():
    records = published()
    records["circular.colossus1_gw"] = dataclasses.replace(
        records["circular.colossus1_gw"], value=None, note="not disclosed by either party"
    )
    verdict = ledger(records, ["C6"])[0]
    assert verdict.verdict == CANNOT_TELL
    assert "not disclosed by either party" in verdict.reason


def test_a_provider_left_out_by_the_parameters_is_skipped_in_c1_average():
    dropped = "not computed: Amazon left out by the parameter providers"
    records = changed(published(), backlog__labs_share__microsoft=40, backlog__labs_share__alphabet=30)
    records["backlog.labs_share.amazon"] = dataclasses.replace(
        records["backlog.labs_share.amazon"], value=None, note=dropped
    )
    assert verdict_of("C1", records) == PARTLY  # (40 + 30) / 2 = 35 >= 33
    # one of three is not enough for an average (the rule asks for two)
    records["backlog.labs_share.alphabet"] = dataclasses.replace(records["backlog.labs_share.alphabet"], value=None)
    verdict = RULES["C1"](records)
    assert verdict.verdict == CANNOT_TELL and dropped in verdict.reason


def test_counter_evidence_holds_only_records_that_argue_against():
    assert RULES["C4"].counter == ("circular.equity_covers_investor_payments",)
    assert RULES["C5"].counter == ("circular.operating_result_latest.anthropic",)
    assert RULES["C12"].counter == ("absorption.payback_year_earliest",)
    assert "backlog.ex_lab_growth" in RULES["C3"].counter


def test_verdicts_are_saved_as_text_records():
    book = verdict_book(ledger(published(), ["C2", "C3"]))
    assert book["verdict.C3"].value == SUPPORTED and book["verdict.C3"].unit == "text"
    assert book.records["summary.verdict.C2"].note.startswith("Needs a company-reported split")
