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
