"""Chapter 2 models on a three-company graph worked by hand."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from aicompute.analysis import circular as cc


def equity_rows(rows):
    frame = pd.DataFrame(
        rows,
        columns=[
            "investment_id",
            "group",
            "investor",
            "lab",
            "announced",
            "committed_usd_bn",
            "funded_usd_bn",
            "status",
            "conditions",
            "source_id",
        ],
    )
    frame["announced"] = pd.to_datetime(frame["announced"])
    return frame


def deal_rows(rows):
    frame = pd.DataFrame(
        rows,
        columns=[
            "deal_id",
            "group",
            "buyer",
            "seller",
            "kind",
            "value_usd_bn",
            "value_low_usd_bn",
            "value_high_usd_bn",
            "announced",
            "status",
            "chips",
            "source_id",
        ],
    )
    frame["announced"] = pd.to_datetime(frame["announced"])
    return frame


@pytest.fixture
def edges():
    # Microsoft invests 10 in OpenAI; OpenAI commits 30 to Microsoft (ratio 3).
    # Nvidia invests 20 in OpenAI (conditional) and sells nothing to it (ratio 0).
    # OpenAI commits 50 to Oracle, reported twice (50 and 60): one edge, range 50-60; Oracle never invested.
    equity = equity_rows(
        [
            ("e1", "e1", "Microsoft", "OpenAI", "2024-01-15", 10, 10, "funded", "", "s1"),
            ("e2", "e2", "Nvidia", "OpenAI", "2025-06-30", 20, None, "conditional", "milestones", "s2"),
        ]
    )
    deals = deal_rows(
        [
            (
                "d1",
                "d1",
                "OpenAI",
                "Microsoft",
                "cloud_capacity",
                30,
                None,
                None,
                "2025-03-01",
                "binding_contract",
                "",
                "s3",
            ),
            (
                "d2a",
                "d2",
                "OpenAI",
                "Oracle",
                "cloud_capacity",
                50,
                None,
                None,
                "2025-09-10",
                "reported_unconfirmed",
                "",
                "s4",
            ),
            (
                "d2b",
                "d2",
                "OpenAI",
                "Oracle",
                "cloud_capacity",
                60,
                None,
                None,
                "2025-09-12",
                "binding_contract",
                "",
                "s5",
            ),
            ("d3", "d3", "OpenAI", "Nvidia", "chips", None, None, 100, "2025-09-22", "letter_of_intent", "", "s6"),
        ]
    )
    return cc.dedupe(cc.edges_from_tables(equity, deals))


def test_duplicate_reports_become_one_edge_with_a_range(edges):
    oracle = edges[edges["payee"] == "Oracle"]
    assert len(oracle) == 1
    row = oracle.iloc[0]
    assert (row["amount_low"], row["amount_high"], row["amount"]) == (50, 60, 55)
    assert row["n_reports"] == 2 and row["sources"] == "s4, s5"
    assert row["status"] == "committed"  # one report confirms the deal: the group is committed, not 'reported'


def test_round_trips_hand_worked(edges):
    # Without letters of intent, Nvidia invested 20 and sells nothing to OpenAI.
    counted = cc.filter_edges(
        edges, statuses=["funded", "committed", "conditional", "reported"], types=list(cc.EDGE_TYPES)
    )
    trips = cc.round_trips(counted).set_index(["investor", "lab"])
    assert trips.loc[("Microsoft", "OpenAI"), "ratio"] == pytest.approx(3.0)
    # An investment with no purchase is ratio 0, not an error.
    assert trips.loc[("Nvidia", "OpenAI"), "spend_committed"] == 0
    assert trips.loc[("Nvidia", "OpenAI"), "ratio"] == 0
    # With the letter of intent counted, Nvidia's 'up to' 100 against its 20 gives 5.
    assert cc.round_trips(edges).set_index(["investor", "lab"]).loc[("Nvidia", "OpenAI"), "ratio"] == 5
    # A purchase with no investment is no round trip.
    assert not trips.loc[("Oracle", "OpenAI"), "round_trip"] and math.isnan(trips.loc[("Oracle", "OpenAI"), "ratio"])
    total = cc.round_trip_total(cc.round_trips(counted))
    assert total == {"pairs": 1, "invested": 10.0, "spend_committed": 30.0, "ratio": 3.0}


def test_filter_by_status_type_and_date(edges):
    funded_only = cc.filter_edges(edges, statuses=["funded"], types=["equity"])
    assert list(funded_only["payer"]) == ["Microsoft"]
    no_loi = cc.filter_edges(
        edges, statuses=["funded", "committed", "conditional", "reported"], types=list(cc.EDGE_TYPES)
    )
    assert "Nvidia" not in set(no_loi["payee"])  # the letter of intent is out
    early = cc.filter_edges(edges, statuses=list(cc.STATUSES), types=list(cc.EDGE_TYPES), cutoff="2025-06-30")
    assert set(early["group"]) == {"e1", "e2", "d1"}


def test_filter_rejects_unknown_status(edges):
    with pytest.raises(ValueError, match="unknown status"):
        cc.filter_edges(edges, statuses=["rumoured"], types=["equity"])


def test_undisclosed_amount_stays_missing(edges):
    nvidia_deal = edges[(edges["payee"] == "Nvidia")].iloc[0]
    assert nvidia_deal["amount_high"] == 100 and nvidia_deal["amount_low"] == 100  # 'up to' only: both ends


def test_cumulative_by_quarter(edges):
    cum = cc.cumulative_by_quarter(edges)
    equity = cum[cum["type"] == "equity"].set_index("quarter")["cumulative"]
    assert equity[pd.Timestamp("2024-03-31")] == 10
    assert equity[pd.Timestamp("2025-06-30")] == 30
    cloud = cum[cum["type"] == "cloud_capacity"].set_index("quarter")["cumulative"]
    assert cloud[pd.Timestamp("2025-09-30")] == 30 + 55


def test_financing_dependence(edges):
    dep = cc.financing_dependence(edges, {"OpenAI": 20.0}, {"OpenAI": 50.0}).set_index("lab")
    # OpenAI's compute commitments: 30 + 55 + 100 = 185.
    assert dep.loc["OpenAI", "commitments"] == 185
    assert dep.loc["OpenAI", "years_of_revenue"] == pytest.approx(9.25)
    assert dep.loc["OpenAI", "commitments_per_dollar_raised"] == pytest.approx(3.7)
    assert math.isnan(dep.loc["Anthropic", "years_of_revenue"])


def test_canonical_names():
    assert cc.canonical("AMD (warrant issued to OpenAI)") == "AMD"
    assert cc.canonical("SB Energy (SoftBank), Nvidia as possible guarantor") == "SoftBank"
    assert cc.canonical("Investor group (ICONIQ-led)") == "Other investors"
    assert cc.canonical("Microsoft") == "Microsoft"


def test_layout_is_stable_and_fits_the_chart(edges):
    first, second = cc.layout(edges), cc.layout(edges)
    pd.testing.assert_frame_equal(first, second)
    assert first[["x", "y"]].abs().max().max() <= 1.0


# ---------------------------------------------------------------------------------------------------------------------
# The chapter's run(): a two-lab world small enough to work by hand.

EQUITY_COLUMNS = [
    "investment_id",
    "group",
    "counted",
    "investor",
    "lab",
    "announced",
    "committed_usd_bn",
    "funded_usd_bn",
    "status",
    "conditions",
    "source_id",
]
DEAL_COLUMNS = [
    "deal_id",
    "group",
    "counted",
    "buyer",
    "seller",
    "kind",
    "value_usd_bn",
    "value_low_usd_bn",
    "value_high_usd_bn",
    "duration_years",
    "capacity_gw",
    "chips",
    "announced",
    "status",
    "basis",
    "source_id",
    "note",
]
FIN_COLUMNS = [
    "lab",
    "metric",
    "period",
    "period_end",
    "value",
    "value_low",
    "value_high",
    "unit",
    "definition",
    "basis",
    "source_id",
]


def small_world() -> dict[str, pd.DataFrame]:
    equity = pd.DataFrame(
        [
            ("e1", "e1", True, "Microsoft", "OpenAI", "2024-01-15", 10, 10, "funded", "", "s-e1"),
            ("e2", "e2", True, "Amazon", "Anthropic", "2025-09-01", 8, None, "committed", "", "s-e2"),
            ("e3", "e3", True, "Investor group (X-led)", "Anthropic", "2025-10-01", 20, 20, "funded", "", "s-e3"),
            ("e4", "e4", False, "Amazon", "Anthropic", "2025-09-01", 8, None, "committed", "", "s-e4"),  # restates e2
        ],
        columns=EQUITY_COLUMNS,
    )
    deals = pd.DataFrame(
        [
            (
                "d1",
                "d1",
                True,
                "OpenAI",
                "Microsoft",
                "cloud_capacity",
                30,
                None,
                None,
                None,
                None,
                "",
                "2025-03-01",
                "binding_contract",
                "company_reported",
                "s-d1",
                "",
            ),
            (
                "d2",
                "d2",
                True,
                "OpenAI",
                "Oracle",
                "cloud_capacity",
                50,
                None,
                None,
                None,
                None,
                "",
                "2025-09-10",
                "reported_unconfirmed",
                "press_reported",
                "s-d2",
                "",
            ),
            (
                "d3",
                "d3",
                True,
                "Anthropic",
                "Amazon",
                "cloud_capacity",
                40,
                None,
                None,
                None,
                None,
                "",
                "2026-04-21",
                "binding_contract",
                "company_reported",
                "s-d3",
                "",
            ),
            # Announced after the analysis date: out.
            (
                "d4",
                "d4",
                True,
                "Anthropic",
                "Alphabet",
                "cloud_capacity",
                100,
                None,
                None,
                None,
                None,
                "",
                "2026-08-01",
                "binding_contract",
                "company_reported",
                "s-d4",
                "",
            ),
            (
                "c1",
                "colossus",
                True,
                "Anthropic",
                "SpaceX (xAI)",
                "datacenter_lease",
                None,
                None,
                None,
                0.5,
                0.3,
                "",
                "2026-05-06",
                "binding_contract",
                "company_reported",
                "s-c1",
                "",
            ),
            (
                "c2",
                "colossus-annual",
                False,
                "Anthropic",
                "SpaceX (xAI)",
                "datacenter_lease",
                None,
                3,
                4,
                1.0,
                0.3,
                "",
                "2026-05-06",
                "reported_unconfirmed",
                "press_reported",
                "s-c2",
                "",
            ),
        ],
        columns=DEAL_COLUMNS,
    )
    fin = pd.DataFrame(
        [
            ("OpenAI", "revenue_run_rate", "Feb", "2026-02-28", 20, None, None, "usd_bn", "", "press_reported", "s-f1"),
            ("OpenAI", "revenue_run_rate", "Aug", "2026-08-23", 40, None, None, "usd_bn", "", "press_reported", "s-f2"),
            (
                "Anthropic",
                "revenue_run_rate",
                "Apr",
                "2026-04-30",
                30,
                None,
                None,
                "usd_bn",
                "",
                "company_reported",
                "s-f3",
            ),
            (
                "OpenAI",
                "capital_raised_total",
                "mid",
                "2026-06-30",
                100,
                None,
                None,
                "usd_bn",
                "",
                "press_reported",
                "s-f4",
            ),
            # A restatement of Anthropic's April run-rate net of partners' share: 24 of a gross 30 (factor 0.8).
            (
                "Anthropic",
                "revenue_run_rate",
                "Apr (restated)",
                "2026-04-13",
                24,
                None,
                None,
                "usd_bn",
                "Anthropic run-rate restated net of cloud-reseller share",
                "press_reported",
                "s-f6",
            ),
            # OpenAI pays Microsoft 20% of its revenue: gross = net / 0.8.
            (
                "OpenAI",
                "other",
                "to 2030",
                "2025-12-31",
                20,
                None,
                None,
                "pct",
                "Share of OpenAI revenue paid to Microsoft",
                "press_reported",
                "s-f7",
            ),
            (
                "Anthropic",
                "capital_raised_total",
                "mid",
                "2026-06-30",
                50,
                None,
                None,
                "usd_bn",
                "",
                "press_reported",
                "s-f5",
            ),
        ],
        columns=FIN_COLUMNS,
    )
    for frame, column in ((equity, "announced"), (deals, "announced"), (fin, "period_end")):
        frame[column] = pd.to_datetime(frame[column])
    return {"equity_investments": equity, "compute_deals": deals, "lab_financials": fin}


def default_params(**changes) -> dict:
    params = {
        "statuses": ["funded", "committed", "conditional", "reported"],
        "edge_types": ["equity", "cloud_capacity", "chips", "datacenter_lease"],
        "as_of": "2026-06-30",
        "include_conditional": True,
        "default_duration_years": 5.0,
        "revenue_basis": "net",
    }
    return {**params, **changes}


def test_run_hand_worked():
    result = cc.run(small_world(), default_params())
    value = {key.split(".", 1)[1]: rec.value for key, rec in result.records.items()}
    # Counted edges by 2026-06-30: equity 10 + 8 + 20; deals 30 + 50 + 40 (d4 is later; Colossus has no value).
    assert value["equity_into_labs"] == 38
    assert value["lab_compute_commitments"] == 120
    # Round trips: Microsoft 10 in, 30 back; Amazon 8 in, 40 back; the investor group 20 in, nothing back.
    assert value["round_trip_pairs"] == 2
    assert value["round_trip_ratio"] == pytest.approx(70 / 18, rel=1e-5)
    # Owed to the lab's own investors: Microsoft's 30 and Amazon's 40 of 120; Oracle's 50 is not.
    assert value["spend_to_own_investors"] == pytest.approx(100 * 70 / 120, rel=1e-5)
    # Announced from July 2025: 8 + 20 + 50 + 40 = 118 of 158.
    assert value["share_since_mid_2025"] == pytest.approx(100 * 118 / 158, rel=1e-5)
    # Net revenue: OpenAI's February 20 (August is after the analysis date); Anthropic's gross 30 x 0.8 = 24.
    assert (value["revenue_used.openai"], value["revenue_used.anthropic"]) == (20, 24)
    assert value["years_of_revenue.openai"] == pytest.approx(4.0)  # stock vs flow: 80 / 20
    assert value["years_of_revenue.anthropic"] == pytest.approx(40 / 24, rel=1e-5)
    # No durations disclosed: the default 5 years. OpenAI pays (30 + 50) / 5 = 16 a year, 80% of 20;
    # Anthropic 40 / 5 = 8 a year, a third of 24.
    assert value["annual_payments.openai"] == pytest.approx(16)
    assert value["payments_to_revenue.openai"] == pytest.approx(80)
    assert value["payments_to_revenue.anthropic"] == pytest.approx(100 / 3, rel=1e-5)
    # Money in from investors that sell (10 + 8) against money out to them (30 + 40): equity covers 18 / 70.
    assert (value["investor_money_in"], value["investor_money_out"]) == (18, 70)
    assert value["equity_covers_investor_payments"] == pytest.approx(100 * 18 / 70, rel=1e-5)
    assert value["investor_payments_per_year"] == pytest.approx(14)
    assert value["colossus1_gw"] == 0.3
    price = result["colossus1_price_per_year"]
    assert (price.value, price.low, price.high) == (3.5, 3.0, 4.0)
    assert value["colossus1_lease_months"] == 6


def test_run_frames_feed_the_charts():
    frames = cc.run(small_world(), default_params()).frames
    assert set(frames["nodes"]["node"]) >= {"OpenAI", "Anthropic", "Microsoft", "Oracle", "Amazon"}
    assert list(frames["counts"]["edges"]) == [8, 8, 7]  # 3 + 5 counted rows; one group each; d4 after as_of
    bars = frames["trip_bars"].set_index(["pair", "flow"])["usd_bn"]
    assert bars[("Amazon → Anthropic", "lab's spend committed back")] == 40


def test_run_as_of_moves_figures():
    # At 2026-12-31 d4 (100) and OpenAI's August run-rate (40) count: OpenAI 80 / 40, Anthropic 140.
    value = cc.run(small_world(), default_params(as_of="2026-12-31")).records
    assert value["circular.years_of_revenue.openai"].value == pytest.approx(2.0)
    assert value["circular.lab_compute_commitments"].value == 220


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"statuses": ["rumoured"]}, "unknown status"),
        ({"edge_types": ["gift"]}, "unknown status or edge type"),
        ({"as_of": "not a date"}, "as_of must be a date"),
        ({"cutoff": "2026-06-30"}, "unknown \\['cutoff'\\]"),
    ],
)
def test_run_rejects_bad_params(changes, message):
    with pytest.raises(ValueError, match=message):
        cc.run(small_world(), default_params(**changes))


def test_run_requires_every_param():
    params = default_params()
    del params["as_of"]
    with pytest.raises(ValueError, match="missing \\['as_of'\\]"):
        cc.run(small_world(), params)


def test_a_value_keeps_its_own_status():
    # Oracle's case: a binding contract disclosed without a value, and a press report of 300 that is unconfirmed.
    # The 300 is only reported: the group is 'reported', not 'committed'.
    deals = deal_rows(
        [
            (
                "o-a",
                "o",
                "OpenAI",
                "Oracle",
                "cloud_capacity",
                300,
                None,
                None,
                "2025-09-10",
                "reported_unconfirmed",
                "",
                "press",
            ),
            (
                "o-b",
                "o",
                "OpenAI",
                "Oracle",
                "cloud_capacity",
                None,
                None,
                None,
                "2025-07-22",
                "binding_contract",
                "",
                "company",
            ),
        ]
    )
    edge = cc.dedupe(cc.edges_from_tables(equity_rows([]), deals)).iloc[0]
    assert (edge["status"], edge["amount"]) == ("reported", 300)
    # Confirmed-only counting leaves it out; a group with no value at all takes the binding status.
    strict = cc.filter_edges(
        cc.dedupe(cc.edges_from_tables(equity_rows([]), deals)), statuses=["committed"], types=["cloud_capacity"]
    )
    assert strict.empty
    unpriced = cc.dedupe(cc.edges_from_tables(equity_rows([]), deals.iloc[[1]]))
    assert unpriced.iloc[0]["status"] == "committed"


def test_ranges_span_the_choices():
    result = cc.run(small_world(), default_params())
    # Gross basis: OpenAI 20 / 0.8 = 25 -> 80 / 25 = 3.2 years; the longest default (8 years) gives 80 / 8 = 10 a
    # year = 40% of 25; the shortest (3 years) 80 / 3 a year = 133% of 20. Statuses do not matter here (no
    # conditional tranche; Oracle's reported 50 out under confirmed-only: 30 / 20 = 1.5 years).
    years = result["years_of_revenue.openai"]
    assert (years.low, years.high) == (pytest.approx(30 / 25), pytest.approx(4.0))
    pay = result["payments_to_revenue.openai"]
    assert (pay.low, pay.high) == (
        pytest.approx(100 * (30 / 8) / 25, rel=1e-5),
        pytest.approx(100 * 80 / 3 / 20, rel=1e-5),
    )


def test_bad_choice_params():
    with pytest.raises(ValueError, match="revenue_basis"):
        cc.run(small_world(), default_params(revenue_basis="adjusted"))
    with pytest.raises(ValueError, match="default_duration_years"):
        cc.run(small_world(), default_params(default_duration_years=0))
