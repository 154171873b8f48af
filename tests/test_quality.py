"""Chapter 5 models (demand quality) on hand-worked examples, and the ladder's invariants on the real data."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from aicompute.analysis import data
from aicompute.analysis import quality as q


@pytest.mark.parametrize(
    "status, notice, tier",
    [
        ("committed", None, q.BINDING),
        ("funded", float("nan"), q.BINDING),
        ("committed", 90.0, "short_notice"),  # a 90-day exit outranks the contract's status
        ("committed", 365.0, q.BINDING),  # a year's notice is not short notice at the 180-day threshold
        ("conditional", None, "needs_new_money"),
        ("reported", None, "unconfirmed"),
        ("letter_of_intent", None, "letter_of_intent"),
        ("something else", None, "not_disclosed"),
    ],
)
def test_contract_tier(status, notice, tier):
    assert q.contract_tier(status, notice, short_notice_days=180) == tier


def test_revenue_coverage():
    assert q.revenue_coverage(24.0, 160.0) == pytest.approx(0.15)
    assert q.revenue_coverage(200.0, 160.0) == 1.0  # revenue above the payments covers all of them, no more
    assert q.revenue_coverage(None, 160.0) == 0.0  # unknown revenue covers nothing
    assert q.revenue_coverage(10.0, 0.0) == 1.0  # nothing to pay


def test_ladder_puts_every_dollar_in_exactly_one_tier():
    items = pd.DataFrame(
        [
            ("P", "OpenAI", 100.0, q.BINDING),
            ("P", "Anthropic", 20.0, "unconfirmed"),
            ("P", "Other customers", 50.0, "not_disclosed"),
        ],
        columns=["holder", "payer", "amount", "tier"],
    )
    out = q.ladder(items, {"OpenAI": 0.25}).set_index("tier")["amount"]
    # OpenAI's revenue covers a quarter of its payments: 25 of its 100 are covered, 75 need new money.
    assert out.to_dict() == {
        "paid_from_revenue": 25.0,
        "needs_new_money": 75.0,
        "short_notice": 0.0,
        "unconfirmed": 20.0,
        "letter_of_intent": 0.0,
        "not_disclosed": 50.0,
    }
    assert out.sum() == items["amount"].sum() == 170.0
    shares = q.shares(q.ladder(items, {"OpenAI": 0.25}))
    assert shares["not_disclosed"] == pytest.approx(100 * 50 / 170)  # 29.4%
    with pytest.raises(ValueError, match="unknown tier"):
        q.ladder(items.assign(tier="firm-ish"), {})


def test_pair_tier_prefers_the_providers_own_statement_and_contracts_over_letters():
    commitments = pd.DataFrame(
        {
            "payer": ["OpenAI", "OpenAI"],
            "payee": ["Oracle", "Oracle"],
            "amount": [300.0, 400.0],
            "status": ["reported", "letter_of_intent"],
            "notice_days": [float("nan"), float("nan")],
        }
    )
    # The larger row is a letter of intent, but backlog holds contracts: the reported $300bn contract decides.
    assert q.pair_tier(commitments, "Oracle", "OpenAI", "press_reported", 180) == "unconfirmed"
    assert q.pair_tier(commitments, "Oracle", "OpenAI", "company_reported, press_reported", 180) == q.BINDING
    assert q.pair_tier(commitments, "Alphabet", "OpenAI", "", 180) == "not_disclosed"


def test_end_demand_share():
    # Anthropic-like: 20% consumers, 80% business of which half from AI apps: 20 + 80 × 0.5 = 60.
    assert q.end_demand_share(20.0, 50.0) == pytest.approx(60.0)
    # OpenAI-like: 66% consumers, the 34% rest half from AI apps: 66 + 17 = 83.
    assert q.end_demand_share(66.0, 50.0) == pytest.approx(83.0)
    with pytest.raises(ValueError, match="between 0 and 100"):
        q.end_demand_share(120.0, 50.0)


def test_bad_parameters_are_clear_errors():
    tables = {name: pd.DataFrame() for name in q.TABLES}
    with pytest.raises(ValueError, match="unknown parameter"):
        q.run(tables, {"as_off": "2026-06-30"})
    with pytest.raises(ValueError, match="estimate must be one of"):
        q.run(tables, {"estimate": "best"})
    with pytest.raises(ValueError, match="short_notice_days must be positive"):
        q.run(tables, {"short_notice_days": 0})


@pytest.fixture(scope="module")
def result():
    return q.run(data.load_all(q.TABLES), {"as_of": "2026-06-30"})


def test_real_ladders_sum_to_their_totals(result):
    for view, total in (("backlog", "backlog_total"), ("commitments", "commitments_total")):
        amounts = [result[f"{view}_amount.{tier}"].value for tier in q.TIERS]
        assert sum(amounts) == pytest.approx(result[total].value, rel=1e-5)
        shares = [result[f"{view}_share.{tier}"].value for tier in q.TIERS]
        assert sum(shares) == pytest.approx(100.0, abs=0.01)
    frame = result.frames["backlog_ladder"]
    per_provider = frame.groupby("holder")["amount"].sum()
    split = result.frames["timing"].set_index("provider")["backlog"]
    assert per_provider.sort_index().tolist() == pytest.approx(split.sort_index().tolist())


def test_not_disclosed_is_a_tier_with_dollars_and_a_note_never_a_zero(result):
    assert result["backlog_share.not_disclosed"].value > 0
    amazon = result["recognised_12m.amazon"]
    assert amazon.value is None and amazon.note == "not disclosed"
    assert math.isclose(result["recognised_12m.microsoft"].value, 25.0)


def test_short_notice_contract_is_tiered_as_such(result):
    owed = result.frames["commitment_items"]
    colossus = owed[owed["group"] == "anthropic-spacex-colossus-2026"]
    assert colossus["tier"].tolist() == ["short_notice"]


def test_coverage_is_the_inverse_of_the_circular_chapters_payments_to_revenue(result):
    """One number per concept: the same payments and the same revenue as the circular-investment chapter."""
    from aicompute.analysis import circular, report

    params = report.complete_parameters({}, ("circular",))["circular"]
    circ = circular.run(data.load_all(circular.TABLES), params)
    for lab in ("openai", "anthropic"):
        payments_to_revenue = circ[f"payments_to_revenue.{lab}"].value
        expected = min(100.0, 100 * 100 / payments_to_revenue)
        assert result[f"revenue_coverage.{lab}"].value == pytest.approx(expected, rel=1e-4)
