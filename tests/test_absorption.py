"""Chapter 4 models: annual cost, required revenue, Monte Carlo and payback on hand-worked numbers."""

from __future__ import annotations

import pytest

from aicompute.analysis import absorption as ab

# The central case of every test below: 10 GW at 50 bn per GW, 5-year life, 10% return, 4% opex, no seller margin.
CENTRAL = {
    "gw": 10.0,
    "cost_per_gw": 50.0,
    "useful_life_years": 5.0,
    "required_return_pct": 10.0,
    "opex_pct_of_capex": 4.0,
    "seller_gross_margin_pct": 0.0,
}


def caps(**kw):
    return ab.CapacityAssumptions(**{**CENTRAL, **kw})


def test_cost_stack_hand_worked():
    # 10 GW × 50 = 500 bn of capital: depreciation 100, opex 20, return 50 -> 170 a year.
    stack = ab.cost_stack(caps())
    assert ab.capital(caps()) == 500
    assert stack == pytest.approx(
        {"depreciation": 100, "operating cost": 20, "return on capital": 50, "gross margin of seller": 0}
    )
    assert ab.required_revenue(caps()) == pytest.approx(170)


def test_seller_margin_grosses_up():
    # At a 50% gross margin the seller needs twice the cost: 340.
    assert ab.required_revenue(caps(seller_gross_margin_pct=50)) == pytest.approx(340)


@pytest.mark.parametrize("life, expected", [(1.0, 500 + 20 + 50), (100.0, 5 + 20 + 50)])
def test_useful_life_edges(life, expected):
    assert ab.required_revenue(caps(useful_life_years=life)) == pytest.approx(expected)


@pytest.mark.parametrize("ret, expected", [(0.0, 120), (100.0, 620)])
def test_return_edges(ret, expected):
    assert ab.required_revenue(caps(required_return_pct=ret)) == pytest.approx(expected)


@pytest.mark.parametrize(
    "kw, message",
    [
        ({"useful_life_years": 0}, "useful_life"),
        ({"gw": -1}, "gw"),
        ({"cost_per_gw": 0}, "cost_per_gw"),
        ({"required_return_pct": 120}, "required_return"),
        ({"seller_gross_margin_pct": 100}, "seller_gross_margin"),
    ],
)
def test_invalid_inputs_are_rejected(kw, message):
    with pytest.raises(ValueError, match=message):
        caps(**kw)


def narrow_ranges(spread=0.001):
    return {k: (v * (1 - spread), v, v * (1 + spread)) for k, v in CENTRAL.items()}


def test_monte_carlo_median_close_to_central_case_for_narrow_ranges():
    result = ab.monte_carlo(narrow_ranges(), draws=20_000, seed=1, visible_revenue=70)
    assert result["median"] == pytest.approx(170, rel=1e-3)
    assert result["p5"] < result["median"] < result["p95"]
    assert result["gap_median"] == pytest.approx(100, rel=1e-2)


def test_monte_carlo_same_seed_same_percentiles():
    wide = {
        "gw": (5, 15, 35),
        "cost_per_gw": (35, 55, 100),
        "useful_life_years": (4, 5.75, 6),
        "required_return_pct": (6, 10, 14),
        "opex_pct_of_capex": (2, 4, 8),
        "seller_gross_margin_pct": (0, 0, 50),
    }
    assert ab.monte_carlo(wide, 5000, 42) == ab.monte_carlo(wide, 5000, 42)
    assert ab.monte_carlo(wide, 5000, 42) != ab.monte_carlo(wide, 5000, 43)


def test_monte_carlo_rejects_bad_ranges():
    ranges = narrow_ranges()
    ranges["gw"] = (20, 10, 30)
    with pytest.raises(ValueError, match="low <= central <= high"):
        ab.monte_carlo(ranges, 100, 1)
    with pytest.raises(ValueError, match="draws"):
        ab.monte_carlo(narrow_ranges(), 0, 1)


def test_tornado_hand_worked():
    torn = ab.tornado(caps(), {"useful_life_years": (4.0, 6.0), "opex_pct_of_capex": (2.0, 8.0)})
    # Life 4 -> 125 + 20 + 50 = 195; life 6 -> 83.33 + 70 = 153.33 (swing 41.67); opex swing 500 × 6% = 30.
    assert list(torn["assumption"]) == ["useful_life_years", "opex_pct_of_capex"]
    assert torn.iloc[0]["at_low"] == pytest.approx(195)
    assert torn.iloc[0]["swing"] == pytest.approx(125 - 500 / 6)


@pytest.mark.parametrize(
    "now, growth, required, horizon, expected",
    [
        (100, 50, 100, 2035, 2026),  # already covered
        (100, 100, 400, 2035, 2028),  # 100 -> 200 -> 400
        (100, 50, 340, 2035, 2030),  # 150 (2027), 225 (2028), 337.5 (2029) is short of 340, 506 (2030)
        (100, 10, 10_000, 2035, None),
        (100, 0, 200, 2035, None),
    ],
)
def test_payback_year(now, growth, required, horizon, expected):
    assert ab.payback_year(2026, now, growth, required, horizon) == expected


def test_sequoia_method():
    assert ab.sequoia_question(150) == 600  # Sequoia's own 2024 inputs give its $600B


def test_capex_by_year_prefers_actuals_and_latest_guidance():
    import pandas as pd

    capex = pd.DataFrame(
        {
            "company": ["A", "A", "A", "A", "B", "B"],
            "fiscal_year": ["2025", "2025", "2026", "2026", "2026", "FY2026 (Q1-Q3 only)"],
            "period_end": pd.to_datetime(
                ["2025-12-31", "2025-12-31", "2026-12-31", "2026-12-31", "2026-12-31", "2026-09-30"]
            ),
            "value_usd_bn": [100.0, 95.0, None, None, 50.0, 30.0],
            "value_low_usd_bn": [None, None, 175.0, 180.0, None, None],
            "value_high_usd_bn": [None, None, 185.0, 190.0, None, None],
            "kind": ["actual", "actual", "guidance", "guidance", "guidance", "actual"],
            "basis": ["company_reported", "derived", "press_reported", "analyst_estimate", "press_reported", "derived"],
            "includes_finance_leases": ["no"] * 6,
            "source_id": list("abcdef"),
        }
    )
    by_year = ab.capex_by_year(capex).set_index(["company", "year"])
    assert by_year.loc[("A", 2025), "value"] == 100  # company figure, not the derived one
    assert by_year.loc[("A", 2026), "value"] == 185  # the raised guidance, midpoint of 180-190
    assert ("B", 2026) in by_year.index and len(by_year) == 3  # partial year left out
    assert ab.latest_complete_year(by_year.reset_index()) == 2026
