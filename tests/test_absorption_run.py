"""absorption.run on small hand-made tables whose every number is worked out by hand in the comments."""

from __future__ import annotations

import pandas as pd
import pytest

from aicompute.analysis import absorption as ab

NA = None


def capacity_cost() -> pd.DataFrame:
    rows = [
        # estimate_id, metric, subject, value, low, high, as_of, includes_compute, coverage, source
        ("cc-001", "capacity_under_construction", "Test capacity", 10.0, NA, NA, "2026-04-30", NA, "market", "s-gw"),
        (
            "cc-002",
            "capacity_under_construction",
            "Smaller market figure",
            5.0,
            NA,
            NA,
            "2026-02-28",
            NA,
            "market",
            "s-gw2",
        ),
        ("cc-030", "cost_per_gw", "Cheap all-in", 40.0, NA, NA, "2025-08-27", "yes", NA, "s-c1"),
        ("cc-031", "cost_per_gw", "Dear all-in (range)", NA, 50.0, 70.0, "2025-12-04", "yes", NA, "s-c2"),
        ("cc-032", "cost_per_gw", "Shell only", 10.0, NA, NA, "2025-12-31", "no", NA, "s-c3"),
        ("cc-039", "cost_per_gw", "After the analysis date", 1000.0, NA, NA, "2026-07-05", "yes", NA, "s-late"),
        ("cc-057", "useful_life_servers", "Microsoft", 5.0, NA, NA, "2022-07-01", NA, NA, "s-l1"),
        ("cc-058", "useful_life_servers", "Alphabet", 5.0, NA, NA, "2023-01-01", NA, NA, "s-l2"),
        ("cc-065", "useful_life_servers", "Nebius (peer comparison)", 4.0, NA, NA, "2025-09-23", NA, NA, "s-l3"),
    ]
    frame = pd.DataFrame(
        rows,
        columns=[
            "estimate_id",
            "metric",
            "subject",
            "value",
            "value_low",
            "value_high",
            "as_of",
            "includes_compute",
            "coverage",
            "source_id",
        ],
    )
    for column in ("value", "value_low", "value_high"):
        frame[column] = frame[column].astype("Float64")
    frame["as_of"] = pd.to_datetime(frame["as_of"])
    frame["due_by"] = pd.Timestamp("2028-12-31")
    frame["scope"], frame["basis"], frame["unit"] = "test", "analyst_estimate", "gw"
    return frame


def lab_financials() -> pd.DataFrame:
    rows = [
        ("fin-a", "OpenAI", "revenue_run_rate", "2026-06-30", 25.0, "usd_bn", "s-oai"),  # reported net
        ("fin-b", "OpenAI", "revenue_run_rate", "2026-08-23", 100.0, "usd_bn", "s-oai-late"),  # after as_of
        ("fin-c", "Anthropic", "revenue_run_rate", "2026-05-28", 80.0, "usd_bn", "s-anth"),  # reported gross
        ("fin-035", "OpenAI", "other", "2030-12-31", 20.0, "pct", "s-msft-share"),  # Microsoft's share: 20%
        ("fin-060", "Anthropic", "revenue_run_rate", "2026-04-30", 40.0, "usd_bn", "s-anth-gross"),
        ("fin-061", "Anthropic", "revenue_run_rate", "2026-04-13", 30.0, "usd_bn", "s-anth-net"),  # net = 0.75 gross
    ]
    frame = pd.DataFrame(rows, columns=["fin_id", "lab", "metric", "period_end", "value", "unit", "source_id"])
    frame["period_end"] = pd.to_datetime(frame["period_end"])
    frame["value"] = frame["value"].astype("Float64")
    frame["value_low"] = frame["value_high"] = pd.array([NA] * len(frame), dtype="Float64")
    frame["basis"], frame["definition"] = "company_reported", "test"
    return frame


def revenue() -> pd.DataFrame:
    rows = [
        ("Nvidia", "Data Center", "FY2027 Q1", "quarter", "2026-04-26", 50.0, "s-nvda"),
        ("Nvidia", "Data Center", "FY2027 Q2", "quarter", "2026-07-26", 99.0, "s-nvda-late"),  # after as_of
        ("Microsoft", "AI business annual revenue run-rate", "FY2026 Q3", "run_rate", "2026-03-31", 37.0, "s-msft"),
    ]
    frame = pd.DataFrame(
        rows, columns=["company", "segment", "fiscal_label", "period_kind", "period_end", "value_usd_bn", "source_id"]
    )
    frame["period_end"] = pd.to_datetime(frame["period_end"])
    return frame


def peer_estimates() -> pd.DataFrame:
    rows = [
        ("app-peer-sequoia-600b", 600.0, "s-seq"),
        ("app-peer-jpm-650b", 650.0, "s-jpm"),
        ("app-peer-jpm-5t", 5000.0, "s-jpm5"),
        ("app-peer-bain-2t", 2000.0, "s-bain"),
    ]
    frame = pd.DataFrame(rows, columns=["peer_id", "headline_usd_bn", "source_id"])
    for column in ("publisher", "name", "headline_metric", "target_year", "method"):
        frame[column] = "test"
    return frame


def capex() -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "company": ["A", "B"],
            "fiscal_year": ["2026", "2026"],
            "period_end": pd.to_datetime(["2026-12-31", "2026-12-31"]),
            "value_usd_bn": [100.0, 70.0],
            "value_low_usd_bn": [None, None],
            "value_high_usd_bn": [None, None],
            "kind": ["actual", "actual"],
            "basis": ["company_reported", "company_reported"],
            "includes_finance_leases": ["no", "no"],
            "source_id": ["s-a", "s-b"],
        }
    )
    return frame


def tables() -> dict[str, pd.DataFrame]:
    return {
        "capacity_cost": capacity_cost(),
        "lab_financials": lab_financials(),
        "revenue": revenue(),
        "peer_estimates": peer_estimates(),
        "capex": capex(),
    }


FAST = {"draws": 2000, "seed": 1}


def value(result, key):
    return result[key].value


def test_central_case_hand_worked():
    result = ab.run(tables(), FAST)
    # 10 GW; cost per GW = median of the all-in figures 40 and 60 (midpoint of 50–70) = 50 (the July row of 1000 is
    # after as_of and left out, as demand rows are); life = median(5, 5) = 5.
    assert value(result, "gw") == 10
    assert value(result, "cost_per_gw") == 50
    assert value(result, "useful_life_years") == 5
    # Capital 500: depreciation 100, opex 4% = 20, return 10% = 50 -> 170 a year; depreciation 100/170.
    assert value(result, "capital") == 500
    assert value(result, "required_revenue") == pytest.approx(170)
    assert value(result, "depreciation_share") == pytest.approx(100 * 100 / 170, rel=1e-5)
    assert value(result, "biggest_part") == "depreciation"
    assert value(result, "shortest_sourced_life") == 4
    assert "s-late" not in result["capital"].sources


def test_demand_cuts_at_as_of_and_puts_both_labs_on_one_basis():
    result = ab.run(tables(), FAST)
    # OpenAI's August row (100) is after as_of. Net basis: OpenAI as reported, 25; Anthropic 80 gross × 30/40 = 60;
    # together 85. Gross basis: 25 / (1 - 20%) = 31.25 plus 80 = 111.25.
    assert value(result, "labs_revenue_net") == 85
    assert value(result, "labs_revenue_gross") == pytest.approx(111.25)
    labs = result["labs_revenue"]
    assert (labs.value, labs.low, labs.high) == (85, 85, pytest.approx(111.25))
    # Central basis net: gap 170 - 85 = 85; cover 50%.
    assert value(result, "gap") == pytest.approx(85)
    assert value(result, "labs_cover") == pytest.approx(50)
    # 85 growing 50%: 127.5 in 2027, 191.25 in 2028 >= 170.
    assert value(result, "payback_year") == 2028
    assert value(result, "start_year") == 2026
    assert list(result.frames["demand"]["who"]) == ["OpenAI", "Anthropic", "Microsoft"]


def test_gross_basis_changes_the_comparison():
    result = ab.run(tables(), {**FAST, "revenue_basis": "gross"})
    assert value(result, "labs_cover") == pytest.approx(100 * 111.25 / 170)
    assert value(result, "payback_year") == 2028  # 111.25 -> 166.9 (2027, short of 170) -> 250.3 (2028)


def test_capex_and_peers_hand_worked():
    result = ab.run(tables(), FAST)
    assert value(result, "capex_latest_year") == 170  # 100 + 70
    assert value(result, "capex_to_labs_revenue") == pytest.approx(2.0)  # 170 / 85
    assert value(result, "sequoia_recomputed") == 800  # Nvidia's April quarter 50 × 4 × 2 × 2 (July's is after as_of)
    # J.P. Morgan's 5,000 of capex in our model: 5000/5 + 4% + 10% = 1000 + 200 + 500.
    assert value(result, "jpm_recomputed") == pytest.approx(1700)
    assert value(result, "peer_headline.sequoia") == 600
    assert value(result, "peer_headline.bain") == 2000


def test_monte_carlo_is_seeded_and_brackets_its_median():
    one, two = ab.run(tables(), FAST), ab.run(tables(), FAST)
    mc = one["required_revenue_mc"]
    assert mc.low < mc.value < mc.high
    assert mc.value == two["required_revenue_mc"].value


def test_overrides_reach_the_numbers():
    result = ab.run(tables(), {**FAST, "gw": 20.0, "useful_life_years": 10.0})
    # 20 × 50 = 1000: 100 + 40 + 100 = 240.
    assert value(result, "required_revenue") == pytest.approx(240)


@pytest.mark.parametrize(
    "params, message",
    [
        ({"no_such_parameter": 1}, "unknown absorption parameters"),
        ({"capacity_estimate": "cc-999"}, "cc-999"),
        ({"draws": -1}, "draws"),
        ({"cost_per_gw_rule": "mean"}, "cost_per_gw_rule"),
        ({"draws": 2.5}, "draws"),
        ({"as_of": "not a date"}, "as_of"),
        ({"useful_life_years": 0.0}, "useful_life"),
        ({"required_return_pct": 150.0}, "required_return"),
        ({"horizon": 2020}, "horizon"),
        ({"revenue_basis": "as reported"}, "revenue_basis"),
    ],
)
def test_bad_params_raise_clear_errors(params, message):
    with pytest.raises(ValueError, match=message):
        ab.run(tables(), {**FAST, **params})


def test_missing_table_is_named():
    incomplete = tables()
    del incomplete["capex"]
    with pytest.raises(ValueError, match="capex"):
        ab.run(incomplete, FAST)


def test_monte_carlo_asks_one_question():
    result = ab.run(tables(), FAST)
    ranges = result.frames["ranges"].set_index("assumption")
    # Capacity and the seller's margin stay at the case asked about; life spans the current policies only (5-5, not
    # the peer's 4 years); cost spans the sourced all-in figures dated by as_of (40-70, not the July 1000).
    assert ranges.loc["gw"].tolist() == [10, 10, 10]
    assert ranges.loc["seller_gross_margin_pct"].tolist() == [0, 0, 0]
    assert ranges.loc["useful_life_years"].tolist() == [5, 5, 5]
    assert ranges.loc["cost_per_gw"].tolist() == [40, 50, 70]
    assert 0 < result["central_percentile_in_mc"].value < 100


def test_other_capacities_and_margins_are_labelled_scenarios():
    result = ab.run(tables(), FAST)
    scenarios = result.frames["capacity_scenarios"].set_index("estimate_id")["required_revenue"]
    # 5 GW × 50 = 250 of capital: 50 + 10 + 25 = 85 a year; the chosen 10 GW gives the central 170.
    assert scenarios.to_dict() == {"cc-002": pytest.approx(85), "cc-001": pytest.approx(170)}
    assert value(result, "required_revenue_end_customer") == pytest.approx(340)  # 170 / (1 - 50%)


def test_headlines_carry_the_spread_of_the_defensible_choices():
    result = ab.run(tables(), {"draws": 0})
    # Cost 40/50/60 (lowest, median, highest dated all-in figure), life 5, return 6-14%, opex 2-8%, basis net/gross.
    # Lowest requirement: 40 × 10 = 400 of capital: 80 + 2% 8 + 6% 24 = 112. Highest: 600: 120 + 48 + 84 = 252.
    required = result["required_revenue"]
    assert (required.value, required.low, required.high) == (pytest.approx(170), pytest.approx(112), 252)
    cover = result["labs_cover"]  # net 85 of the highest 252 .. gross 111.25 of the lowest 112
    assert (cover.low, cover.high) == (pytest.approx(100 * 85 / 252, rel=1e-5), pytest.approx(100 * 111.25 / 112))
    gap = result["gap"]
    assert (gap.low, gap.high) == (pytest.approx(0.75), pytest.approx(167))
    assert value(result, "choice_grid_size") == 3 * 3 * 3 * 3 * 2
    assert "required_revenue_mc" not in result.book  # draws=0 skips the Monte Carlo


def test_choice_rules_pick_the_sourced_extremes():
    result = ab.run(tables(), {"draws": 0, "cost_per_gw_rule": "highest", "server_life_rule": "shortest"})
    assert value(result, "cost_per_gw") == 60  # midpoint of 50-70; the July 1000 is after as_of
    assert value(result, "useful_life_years") == 5


def test_every_choice_combination_runs():
    import itertools

    names = list(ab.CHOICES)
    for combo in itertools.product(*ab.CHOICES.values()):
        result = ab.run(tables(), {"draws": 0, **dict(zip(names, combo, strict=True))})
        assert result["labs_cover"].low <= result["labs_cover"].value <= result["labs_cover"].high


def test_payback_paths_frame():
    frame = ab.run(tables(), FAST).frames["payback_paths"]
    path = frame[frame["growth_pct"] == 50].set_index("year")["usd_bn"]
    assert path[2026] == 85 and path[2028] == pytest.approx(191.25)  # 85 × 1.5²
    assert frame["required"].tolist() == [pytest.approx(170)] * len(frame)
