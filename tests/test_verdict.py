"""Verdict rules on hand-made evidence: every verdict is reachable and new data can flip one."""

from __future__ import annotations

import pytest

from aicompute.analysis import data
from aicompute.analysis.records import Record
from aicompute.analysis.verdicts import CANNOT_TELL, NOT_SUPPORTED, PARTLY, RULES, SUPPORTED, VERDICTS, ledger


def rec(key, value, low=None, high=None, unit="pct"):
    return Record(key=key, value=value, unit=unit, label=key, low=low, high=high)


def book(**values):
    out = {}
    for key, value in values.items():
        key = key.replace("__", ".")
        out[key] = value if isinstance(value, Record) else rec(key, value)
    return out


@pytest.mark.parametrize("low, expected", [(45, SUPPORTED), (30, PARTLY), (10, NOT_SUPPORTED)])
def test_c3_follows_the_low_end_of_the_combined_share(low, expected):
    records = {"backlog.combined_share": rec("backlog.combined_share", low + 5, low=low, high=low + 10)}
    assert RULES["C3"](records).verdict == expected


def test_c3_cannot_tell_without_evidence():
    assert RULES["C3"]({}).verdict == CANNOT_TELL


def test_c3_flips_when_new_data_lowers_the_share():
    before = RULES["C3"]({"backlog.combined_share": rec("backlog.combined_share", 45, low=42, high=48)}).verdict
    after = RULES["C3"]({"backlog.combined_share": rec("backlog.combined_share", 38, low=35, high=40)}).verdict
    assert (before, after) == (SUPPORTED, PARTLY)


@pytest.mark.parametrize("ratio, owed, expected", [(1.5, 70, SUPPORTED), (1.5, 30, PARTLY), (0.5, 30, NOT_SUPPORTED)])
def test_c4(ratio, owed, expected):
    records = book(circular__round_trip_ratio=ratio, circular__spend_to_own_investors=owed)
    assert RULES["C4"](records).verdict == expected


@pytest.mark.parametrize("up, expected", [(60, SUPPORTED), (40, PARTLY), (10, NOT_SUPPORTED), (None, CANNOT_TELL)])
def test_c8(up, expected):
    records = {} if up is None else book(passthrough__passed_up=up)
    assert RULES["C8"](records).verdict == expected


@pytest.mark.parametrize(
    "cover, payback, expected",
    [(27, 2031, SUPPORTED), (27, 2027, PARTLY), (80, 2031, PARTLY), (120, 2026, NOT_SUPPORTED)],
)
def test_c12(cover, payback, expected):
    records = book(absorption__labs_cover=cover)
    records["absorption.payback_year"] = rec("absorption.payback_year", payback, unit="year")
    records["absorption.start_year"] = rec("absorption.start_year", 2026, unit="year")
    assert RULES["C12"](records).verdict == expected


def test_c12_not_within_horizon_counts_as_late():
    records = book(absorption__labs_cover=20)
    records["absorption.payback_year"] = rec("absorption.payback_year", "not by 2035", unit="text")
    assert RULES["C12"](records).verdict == SUPPORTED


def test_c2_is_cannot_tell_without_company_disclosure():
    assert RULES["C2"]({}).verdict == CANNOT_TELL


def test_every_verdict_is_reachable_across_rules():
    cases = [
        book(backlog__combined_share=rec("backlog.combined_share", 50, low=45, high=55)),
        book(backlog__combined_share=rec("backlog.combined_share", 30, low=28, high=33)),
        book(backlog__combined_share=rec("backlog.combined_share", 5, low=4, high=6)),
        {},
    ]
    reached = {RULES["C3"](c).verdict for c in cases}
    assert reached == set(VERDICTS)


def test_ledger_covers_every_claim_in_the_data():
    claims = list(data.load("claims")["claim_id"])
    verdicts = ledger({}, claims)
    assert [v.claim_id for v in verdicts] == claims
    assert all(v.verdict in VERDICTS and v.rule for v in verdicts)
    with pytest.raises(KeyError):
        ledger({}, ["C99"])
