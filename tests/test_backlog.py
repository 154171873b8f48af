"""Chapter 1 models on hand-worked examples."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from aicompute.analysis import backlog as bk

T = pd.Timestamp


def backlog_rows(rows):
    frame = pd.DataFrame(
        rows,
        columns=[
            "provider",
            "metric_name",
            "fiscal_label",
            "period_end",
            "value_usd_bn",
            "headline",
            "basis",
            "source_id",
        ],
    )
    frame["period_end"] = pd.to_datetime(frame["period_end"])
    return frame


def attribution_rows(rows):
    columns = [
        "attribution_id",
        "provider",
        "lab",
        "as_of",
        "share_low_pct",
        "share_high_pct",
        "amount_low_usd_bn",
        "amount_high_usd_bn",
        "measure",
        "in_reported_backlog",
        "basis",
        "estimator",
        "source_id",
    ]
    frame = pd.DataFrame(rows, columns=columns)
    frame["as_of"] = pd.to_datetime(frame["as_of"])
    return frame


@pytest.fixture
def series():
    # Provider A: quarters 2024-12 (100), a gap in 2025-03, 2025-06 (150), 2025-12 (200) with two sources (200, 240).
    # Provider B: 2024-12 (50), 2025-12 (80).  Provider C: 2025-12 (40), no attribution at all.
    rows = [
        ("A", "rpo", "FY2024 Q4", "2024-12-31", 100, True, "company_reported", "a1"),
        ("A", "rpo", "FY2025 Q2", "2025-06-30", 150, True, "company_reported", "a2"),
        ("A", "rpo", "FY2025 Q4", "2025-12-31", 200, True, "company_reported", "a3"),
        ("A", "rpo", "FY2025 Q4", "2025-12-31", 240, True, "press_reported", "a4"),
        ("A", "other measure", "FY2025 Q4", "2025-12-31", 999, False, "company_reported", "a5"),
        ("B", "rpo", "FY2024 Q4", "2024-12-31", 50, True, "company_reported", "b1"),
        ("B", "rpo", "FY2025 Q4", "2025-12-31", 80, True, "company_reported", "b2"),
        ("C", "rpo", "FY2025 Q4", "2025-12-31", 40, True, "company_reported", "c1"),
    ]
    return bk.backlog_series(backlog_rows(rows))


@pytest.fixture
def attribution():
    return attribution_rows(
        [
            # A/OpenAI: a stated 50% at 2025-06-30 (of 150 = 75) and a commitment of 90: range 75-90 at the snapshot.
            (
                "a-share",
                "A",
                "OpenAI",
                "2025-06-30",
                50,
                50,
                None,
                None,
                "stated_share",
                "yes",
                "company_reported",
                "X",
                "s1",
            ),
            (
                "a-deal",
                "A",
                "OpenAI",
                "2025-11-30",
                None,
                None,
                90,
                90,
                "commitment_total",
                "unknown",
                "press_reported",
                "Y",
                "s2",
            ),
            # A/Anthropic: 20 committed, but A says it is outside its reported backlog: not counted.
            (
                "a-out",
                "A",
                "Anthropic",
                "2025-11-30",
                None,
                None,
                20,
                20,
                "commitment_total",
                "no",
                "company_reported",
                "A",
                "s3",
            ),
            # B/Anthropic: a share range of 10-30% undated (used only when undated estimates are allowed).
            (
                "b-undated",
                "B",
                "Anthropic",
                None,
                10,
                30,
                None,
                None,
                "stated_share",
                "unknown",
                "analyst_estimate",
                "Z",
                "s4",
            ),
            # B/OpenAI: 8 committed.
            (
                "b-deal",
                "B",
                "OpenAI",
                "2025-12-31",
                None,
                None,
                8,
                8,
                "commitment_total",
                "unknown",
                "press_reported",
                "Y",
                "s5",
            ),
            # A combined estimate for several providers is not a single-provider estimate.
            (
                "ab",
                "A+B",
                "OpenAI+Anthropic",
                "2025-12-31",
                50,
                50,
                None,
                None,
                "stated_share",
                "unknown",
                "press_reported",
                "Y",
                "s6",
            ),
        ]
    )


def test_series_prefers_company_figure_and_keeps_range(series):
    a_dec = series[(series["provider"] == "A") & (series["period_end"] == T("2025-12-31"))].iloc[0]
    assert a_dec["value"] == 200 and a_dec["low"] == 200 and a_dec["high"] == 240
    assert a_dec["n_sources"] == 2


def test_series_keeps_gaps_missing(series):
    a = series[series["provider"] == "A"]
    assert list(a["period_end"].dt.strftime("%Y-%m")) == ["2024-12", "2025-06", "2025-12"]  # no 2025-03 invented


def test_snapshot_rejects_unknown_provider(series):
    with pytest.raises(ValueError, match="unknown provider"):
        bk.snapshot(series, "2025-12-31", ["Nope"])


def split_for(series, attribution, **kw):
    return bk.split_at(series, attribution, "2025-12-31", ["A", "B", "C"], **kw)


def test_estimates_convert_shares_at_their_own_date(series, attribution):
    _, est, ranges = split_for(series, attribution)
    a_share = est[est["attribution_id"] == "a-share"].iloc[0]
    assert a_share["amount_low"] == pytest.approx(75)  # 50% of the 150 at 2025-06-30
    assert a_share["share_low"] == pytest.approx(37.5)  # 75 of the 200 at the snapshot
    a_open = ranges[(ranges["provider"] == "A") & (ranges["lab"] == "OpenAI")].iloc[0]
    assert (a_open["low"], a_open["central"], a_open["high"]) == (75, 82.5, 90)
    assert "a-out" not in set(est["attribution_id"])  # outside reported backlog
    assert "ab" not in set(est["attribution_id"])  # combined estimate


def test_unknown_pair_is_nan_not_zero(series, attribution):
    _, _, ranges = split_for(series, attribution)
    c = ranges[ranges["provider"] == "C"]
    assert c["known"].eq(False).all() and c["central"].isna().all()
    split = bk.snapshot_split(ranges, "central")
    c_split = split[split["provider"] == "C"].iloc[0]
    assert math.isnan(c_split["OpenAI"]) and c_split["other_is_upper_bound"]
    assert math.isnan(c_split["labs_share_pct"])


def test_undated_estimates_are_opt_in(series, attribution):
    _, est, _ = split_for(series, attribution)
    assert "b-undated" not in set(est["attribution_id"])
    _, est, ranges = split_for(series, attribution, include_undated=True)
    b_anth = ranges[(ranges["provider"] == "B") & (ranges["lab"] == "Anthropic")].iloc[0]
    assert (b_anth["low"], b_anth["high"]) == pytest.approx((8, 24))  # 10% and 30% of 80


def test_commitment_amounts_can_be_excluded(series, attribution):
    _, est, _ = split_for(series, attribution, include_commitment_amounts=False)
    assert set(est["measure"]) == {"stated_share"}


def test_combined_share_hand_worked(series, attribution):
    _, _, ranges = split_for(series, attribution)
    result = bk.combined_share(ranges)
    # Total backlog 200 + 80 + 40 = 320. Labs: A/OpenAI 75-90 (central 82.5), B/OpenAI 8; all others unknown (0).
    assert result["total_backlog"] == 320
    assert result["low"] == pytest.approx(100 * 83 / 320)
    assert result["central"] == pytest.approx(100 * 90.5 / 320)
    assert result["high"] == pytest.approx(100 * 98 / 320)
    assert result["unknown_pairs"] == 4


@pytest.mark.parametrize("haircut, expected_a", [(0, 200.0), (100, 200.0 - 82.5), (50, 200.0 - 41.25)])
def test_haircut_hand_worked(series, attribution, haircut, expected_a):
    _, _, ranges = split_for(series, attribution)
    split = bk.snapshot_split(ranges, "central", haircut)
    assert split.set_index("provider").loc["A", "backlog_after_haircut"] == pytest.approx(expected_a)


@pytest.mark.parametrize("bad", [-1, 101, float("nan")])
def test_haircut_outside_range_is_rejected(series, attribution, bad):
    _, _, ranges = split_for(series, attribution)
    with pytest.raises(ValueError, match="haircut_pct"):
        bk.snapshot_split(ranges, "central", bad)


def test_estimate_choice_is_checked(series, attribution):
    _, _, ranges = split_for(series, attribution)
    with pytest.raises(ValueError, match="low, central or high|one of"):
        bk.snapshot_split(ranges, "median")


def test_ex_lab_growth_with_and_without_a_year_ago_estimate(series, attribution):
    _, _, ranges = split_for(series, attribution)
    split = bk.snapshot_split(ranges, "central")
    growth = bk.ex_lab_growth(series, split).set_index("provider")
    # A: other now = 200 - 82.5 = 117.5; a year earlier the whole 100 counts as other -> +17.5% (not a bound: the
    # unknown Anthropic part today would lower it, a lab part a year ago would raise it).
    assert growth.loc["A", "ex_lab_growth_pct"] == pytest.approx(17.5)
    assert growth.loc["A", "kind"].startswith("labs' year-ago part not estimated")
    assert growth.loc["A", "year_ago_basis"] == "company_reported"
    assert growth.loc["A", "unquantified"] == "Anthropic"
    # C has no quarter a year earlier: not computable, never zero.
    assert math.isnan(growth.loc["C", "ex_lab_growth_pct"])
    # With the labs' year-ago part known (A/OpenAI 30 at 2024-12-31) it is subtracted: 117.5 / 70 - 1.
    year_ago = pd.DataFrame([{"provider": "A", "period_end": T("2024-12-31"), "OpenAI": 30.0, "Anthropic": math.nan}])
    growth = bk.ex_lab_growth(series, split, year_ago).set_index("provider")
    assert growth.loc["A", "ex_lab_growth_pct"] == pytest.approx(100 * (117.5 / 70 - 1))
    assert growth.loc["A", "kind"].startswith("labs' year-ago part subtracted")


def test_latest_vintage_drops_superseded_estimates():
    est = pd.DataFrame(
        {
            "provider": ["A", "A", "A"],
            "lab": ["OpenAI"] * 3,
            "as_of": pd.to_datetime(["2024-12-31", "2025-10-31", "2025-12-31"]),
        }
    )
    kept = bk.latest_vintage(est, 300)
    assert list(kept["as_of"].dt.strftime("%Y-%m")) == ["2025-10", "2025-12"]


def test_years_of_revenue_and_annual_payments():
    split = pd.DataFrame({"provider": ["A"], "backlog": [300.0], "OpenAI": [100.0], "Anthropic": [math.nan]})
    revenue = pd.DataFrame(
        {
            "company": ["A", "A"],
            "segment": ["Cloud", "Cloud"],
            "period_kind": ["fiscal_year"] * 2,
            "fiscal_label": ["FY2024", "FY2025"],
            "period_end": pd.to_datetime(["2024-12-31", "2025-12-31"]),
            "value_usd_bn": [50.0, 60.0],
        }
    )
    years = bk.years_of_revenue(split, revenue, {"A": "Cloud"})
    assert years.iloc[0]["years"] == pytest.approx(5.0) and years.iloc[0]["revenue_year"] == "FY2025"
    pay = bk.annual_lab_payments(split, 4).set_index("lab")
    assert pay.loc["OpenAI", "per_year"] == 25 and pay.loc["Anthropic", "per_year"] == 0
    with pytest.raises(ValueError):
        bk.annual_lab_payments(split, 0)


def test_named_estimator_keeps_only_its_estimates():
    rows = backlog_rows(
        [
            ("Microsoft", "rpo", "FY2026 Q2", "2025-12-31", 600, True, "company_reported", "m1"),
            ("Oracle", "rpo", "FY2026 Q2", "2025-11-30", 500, True, "company_reported", "o1"),
        ]
    )
    series = bk.backlog_series(rows)
    attribution = attribution_rows(
        [
            (
                "m",
                "Microsoft",
                "OpenAI",
                "2025-12-31",
                45,
                45,
                None,
                None,
                "stated_share",
                "yes",
                "company_reported",
                "Microsoft",
                "s1",
            ),
            (
                "o",
                "Oracle",
                "OpenAI",
                "2025-10-31",
                None,
                None,
                300,
                300,
                "commitment_total",
                "unknown",
                "press_reported",
                "The Information",
                "s2",
            ),
        ]
    )
    _, est, ranges = bk.split_at(
        series, attribution, "2025-12-31", ["Microsoft", "Oracle"], estimator="the information"
    )
    assert list(est["attribution_id"]) == ["o"]
    assert not ranges.set_index(["provider", "lab"]).loc[("Microsoft", "OpenAI"), "known"]
    _, est, _ = bk.split_at(series, attribution, "2025-12-31", ["Microsoft", "Oracle"])
    assert sorted(est["attribution_id"]) == ["m", "o"]
    snap = bk.snapshot(series, "2025-11-30", ["Microsoft", "Oracle"])
    assert list(snap["provider"]) == ["Oracle"]  # Microsoft's quarter ends after the as-of date


def test_central_value_prefers_value_then_midpoint_then_either_end():
    from aicompute.analysis.data import central_value

    value = pd.Series([5.0, None, None, None, None])
    low = pd.Series([1.0, 10.0, 10.0, None, None])
    high = pd.Series([9.0, 20.0, None, 30.0, None])
    assert central_value(value, low, high).tolist()[:4] == [5.0, 15.0, 10.0, 30.0]
    assert math.isnan(central_value(value, low, high).iloc[4])


def test_deal_markers_and_top_customer_share():
    deals = pd.DataFrame(
        {
            "buyer": ["OpenAI", "OpenAI", "Anthropic", "Meta"],
            "seller": ["A", "A", "A", "A"],
            "counted": [True, True, False, True],
            "status": ["binding_contract", "superseded", "binding_contract", "binding_contract"],
            "announced": pd.to_datetime(["2025-01-01", "2025-02-01", "2025-03-01", "2025-04-01"]),
            "value_usd_bn": [None, 10.0, 5.0, 7.0],
            "value_low_usd_bn": [20.0, None, None, None],
            "value_high_usd_bn": [40.0, None, None, None],
        }
    )
    markers = bk.deal_markers(deals, ["A"])
    assert markers["value_text"].tolist() == ["20 bn"]  # a floor ("more than 20") is quoted, not a midpoint
    conc = pd.DataFrame(
        {
            "company": ["N", "N", "N", "N"],
            "measure": ["revenue_share"] * 4,
            "period_end": pd.to_datetime(["2025-01-31", "2025-04-30", "2025-04-30", "2025-04-30"]),
            "customer": ["Customer A", "Customer A", "Customer B", "Four direct customers combined"],
            "share_pct": [30.0, 21.0, 14.0, 54.0],
            "source_id": ["s1", "s2", "s2", "s3"],
        }
    )
    # The combined row (54%) is not a single customer, so neither its share nor its source counts.
    assert bk.top_customer_share(conc, "N") == (21.0, pd.Timestamp("2025-04-30"), ["s2"])
    assert bk.top_customer_share(conc, "Z") is None
