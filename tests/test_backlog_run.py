"""Chapter 1 as one function: run(tables, params) on a small hand-made set of tables, answers worked by hand."""

from __future__ import annotations

import pandas as pd
import pytest

from aicompute.analysis import backlog as bk

T = pd.Timestamp
PARAMS = {"as_of": "2026-06-30", "providers": ["Microsoft", "Oracle"]}


def frame(columns: list[str], rows: list[tuple], dates: tuple[str, ...] = ()) -> pd.DataFrame:
    out = pd.DataFrame(rows, columns=columns)
    for column in dates:
        out[column] = pd.to_datetime(out[column])
    return out


def make_tables() -> dict[str, pd.DataFrame]:
    """Two providers, a year apart.

    Backlog: Microsoft 100 (2025-03-31) -> 200 (2026-03-31); Oracle 50 (2025-02-28) -> 100 (2026-02-28).
    The labs' part today: Microsoft/OpenAI 60-80 (central 70), Microsoft/Anthropic 20 (a deal announced 2026-04-10,
    after Microsoft's 31 March quarter), Oracle/OpenAI 40, Oracle/Anthropic unknown except for an undated 10-30.
    A year earlier: Microsoft/OpenAI 10 dated 2024-12-31, the quarter before Microsoft's year-ago quarter.
    """
    backlog = frame(
        ["provider", "metric_name", "fiscal_label", "period_end", "value_usd_bn", "headline", "basis", "source_id"],
        [
            ("Microsoft", "rpo", "FY2025 Q3", "2025-03-31", 100.0, True, "company_reported", "m1"),
            ("Microsoft", "rpo", "FY2026 Q3", "2026-03-31", 200.0, True, "company_reported", "m2"),
            ("Oracle", "rpo", "FY2025 Q3", "2025-02-28", 50.0, True, "company_reported", "o1"),
            ("Oracle", "rpo", "FY2026 Q3", "2026-02-28", 100.0, True, "company_reported", "o2"),
            # A quarter after the analysis date is never used.
            ("Oracle", "rpo", "FY2027 Q1", "2026-08-31", 999.0, True, "company_reported", "o3"),
        ],
        dates=("period_end",),
    )
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
    deal, unknown, press, analyst = "commitment_total", "unknown", "press_reported", "analyst_estimate"
    attribution = frame(
        columns,
        [
            ("m-open", "Microsoft", "OpenAI", "2026-03-31", None, None, 60.0, 80.0, deal, unknown, press, "X", "s1"),
            ("m-anth", "Microsoft", "Anthropic", "2026-05-15", None, None, 20.0, 20.0, deal, unknown, press, "X", "s2"),
            ("o-open", "Oracle", "OpenAI", "2026-02-28", None, None, 40.0, 40.0, deal, unknown, press, "Y", "s3"),
            (
                "o-anth",
                "Oracle",
                "Anthropic",
                None,
                None,
                None,
                10.0,
                30.0,
                deal,
                unknown,
                analyst,
                "Z",
                "s4",
            ),
            (
                "m-then",
                "Microsoft",
                "OpenAI",
                "2024-12-31",
                None,
                None,
                10.0,
                10.0,
                "implied_amount",
                "yes",
                "derived",
                "W",
                "s5",
            ),
        ],
        dates=("as_of",),
    )
    deals = frame(
        ["deal_id", "buyer", "seller", "counted", "status", "announced", "value_usd_bn", "value_low_usd_bn",
         "value_high_usd_bn", "source_id"],
        [("d1", "OpenAI", "Oracle", True, "binding_contract", "2026-01-15", 40.0, None, None, "s3"),
         ("d2", "Anthropic", "Microsoft", True, "binding_contract", "2026-04-10", 20.0, None, None, "s2")],
        dates=("announced",),
    )  # fmt: skip
    revenue = frame(
        ["company", "segment", "fiscal_label", "period_kind", "period_end", "value_usd_bn"],
        [
            ("Microsoft", "Microsoft Cloud", "FY2025", "fiscal_year", "2025-06-30", 50.0),
            ("Oracle", "Oracle Cloud (IaaS plus SaaS)", "FY2025", "fiscal_year", "2025-05-31", 20.0),
        ],
        dates=("period_end",),
    )
    lab_financials = frame(
        ["lab", "metric", "unit", "period_end", "value", "value_low", "value_high", "basis", "source_id"],
        [
            ("OpenAI", "revenue_run_rate", "usd_bn", "2026-03-31", 11.0, None, None, "company_reported", "r1"),
            ("Anthropic", "revenue_run_rate", "usd_bn", "2026-05-31", 8.0, None, None, "company_reported", "r2"),
            # After the analysis date: ignored.
            ("OpenAI", "revenue_run_rate", "usd_bn", "2026-08-31", 30.0, None, None, "company_reported", "r3"),
        ],
        dates=("period_end",),
    )
    for column in ("value", "value_low", "value_high"):
        lab_financials[column] = lab_financials[column].astype("Float64")
    concentration = frame(
        ["company", "period", "period_end", "customer", "measure", "share_pct", "basis", "source_id"],
        [("Nvidia", "FY2027 Q1", "2026-04-30", "Customer A", "revenue_share", 21.0, "company_reported", "n1")],
        dates=("period_end",),
    )
    return {
        "backlog": backlog,
        "backlog_attribution": attribution,
        "compute_deals": deals,
        "revenue": revenue,
        "lab_financials": lab_financials,
        "customer_concentration": concentration,
    }


@pytest.fixture
def result():
    return bk.run(make_tables(), PARAMS)


def value(result, key):
    return result[key].value


def test_tables_declared_are_the_ones_read():
    assert set(bk.TABLES) == set(make_tables())


def test_combined_share_and_amount(result):
    # Total backlog 200 + 100 = 300. Labs: 70 + 20 + 40 = 130 central, 60 + 20 + 40 = 120 low, 80 + 20 + 40 = 140 high.
    share = result["combined_share"]
    assert share.value == pytest.approx(100 * 130 / 300, rel=1e-5)
    assert (share.low, share.high) == pytest.approx((40.0, 100 * 140 / 300), rel=1e-5)
    amount = result["labs_amount"]
    assert (amount.value, amount.low, amount.high) == pytest.approx((130, 120, 140))
    assert value(result, "combined_backlog") == 300
    assert value(result, "unknown_pairs") == 1 and value(result, "provider_lab_pairs") == 4
    assert share.sources == ["s1", "s2", "s3"]


def test_per_provider_shares(result):
    assert value(result, "labs_share.microsoft") == pytest.approx(45.0)  # (70 + 20) / 200
    assert value(result, "labs_share.oracle") == pytest.approx(40.0)  # 40 / 100


def test_series_growth_cuts_at_the_analysis_date(result):
    # (200 + 100) / (100 + 50) - 1 = 100%; Oracle's 999 after the analysis date is not the latest quarter.
    assert value(result, "combined_backlog_growth") == pytest.approx(100.0)
    assert result.frames["series"]["period_end"].max() == T("2026-03-31")


def test_ex_lab_growth(result):
    # Other now: Microsoft 200 - 90 = 110, Oracle 100 - 40 = 60. A year earlier: Microsoft 100 less the 10 carried
    # from December 2024 = 90, Oracle 50. (110 + 60) / (90 + 50) - 1 = 21.43%.
    assert value(result, "ex_lab_growth") == pytest.approx(100 * (170 / 140 - 1), rel=1e-5)
    assert "lower bound" not in result["ex_lab_growth"].label
    # Only estimates dated within the year-ago quarter: nothing, so 170 / 150 - 1 = 13.33%.
    same = bk.run(make_tables(), {**PARAMS, "year_ago_labs": "same_quarter"})
    assert value(same, "ex_lab_growth") == pytest.approx(100 * (170 / 150 - 1), rel=1e-5)
    assert value(result, "microsoft_ex_openai_growth_2025q4") is None  # no December quarters in these tables


def test_scale_records(result):
    # Years of revenue: Microsoft 200 / 50 = 4, Oracle 100 / 20 = 5 -> the largest is Oracle's 5.
    assert value(result, "max_years_of_revenue") == pytest.approx(5.0)
    assert result["max_years_of_revenue"].label.endswith("(Oracle)")
    # Payments over 5 years: OpenAI (70 + 40) / 5 = 22 a year against 11 run-rate (the August 30 is after as_of).
    assert value(result, "annual_payments_to_revenue.openai") == pytest.approx(2.0)
    assert value(result, "annual_payments_to_revenue.anthropic") == pytest.approx(20 / 5 / 8)


def test_haircut_records(result):
    assert value(result, "backlog_after_haircut") == 300
    assert value(result, "backlog_after_half_haircut") == pytest.approx(300 - 130 / 2)
    cut = bk.run(make_tables(), {**PARAMS, "haircut_pct": 50.0})
    assert value(cut, "backlog_after_haircut") == pytest.approx(235)
    assert cut["backlog_after_haircut"].label.startswith("Combined backlog after a 50% haircut")


def test_haircut_moves_everything_that_depends_on_it(result):
    # At 0% the labs keep 130 of 300; at 50% they keep 65 of 300 - 65 = 235, a share of 65 / 235 = 27.66%.
    assert value(result, "labs_amount_after_haircut") == pytest.approx(130)
    assert value(result, "labs_share_after_haircut") == pytest.approx(100 * 130 / 300, rel=1e-5)
    cut = bk.run(make_tables(), {**PARAMS, "haircut_pct": 50.0})
    assert value(cut, "labs_amount_after_haircut") == pytest.approx(65)
    assert value(cut, "labs_share_after_haircut") == pytest.approx(100 * 65 / 235, rel=1e-5)
    # The measured share of the reported backlog is not a haircut's business.
    assert value(cut, "combined_share") == value(result, "combined_share")
    # Everything else the haircut is allowed to move: only these records, and the haircut frames.
    moved = {key for key in result.records if result.records[key].value != cut.records[key].value}
    assert moved == {f"backlog.{k}" for k in ("backlog_after_haircut", "labs_amount_after_haircut",
                                               "labs_share_after_haircut")}  # fmt: skip


def test_concentration_and_frames(result):
    assert value(result, "top_customer_share.nvidia") == 21
    assert "top_customer_share.coreweave" not in result.book  # not disclosed: not recorded
    for name in ("snapshot", "estimates", "ranges", "split", "series", "deals", "ex_lab_growth", "haircut", "payments"):
        assert isinstance(result.frames[name], pd.DataFrame), name


def test_estimate_choice_moves_the_central_case():
    low = bk.run(make_tables(), {**PARAMS, "estimate": "low"})
    assert value(low, "combined_share") == pytest.approx(40.0)
    assert value(low, "labs_share.microsoft") == pytest.approx(40.0)  # (60 + 20) / 200


def test_providers_parameter_restricts_everything():
    only = bk.run(make_tables(), {**PARAMS, "providers": ["Oracle"]})
    assert value(only, "combined_backlog") == 100
    assert "labs_share.microsoft" not in only.book
    assert "microsoft_ex_openai_growth_2025q4" not in only.book


@pytest.mark.parametrize(
    "bad, message",
    [
        ({"providers": []}, "non-empty"),
        ({"providers": ["Microsoft", "Nope"]}, "unknown provider"),
        ({"providers": "Microsoft"}, "non-empty list"),
        ({"estimate": "median"}, "estimate choice"),
        ({"haircut_pct": 120.0}, "haircut_pct"),
        ({"as_of": "not a date"}, "as_of"),
        ({"contract_years": 0}, "contract_years"),
        ({"include_undated": "yes"}, "include_undated"),
        ({"haricut_pct": 10.0}, "unknown parameter"),
    ],
)
def test_bad_parameters_are_rejected_clearly(bad, message):
    with pytest.raises(ValueError, match=message):
        bk.run(make_tables(), {**PARAMS, **bad})


def test_run_does_not_modify_its_tables():
    tables = make_tables()
    copies = {name: table.copy() for name, table in tables.items()}
    bk.run(tables, PARAMS)
    for name, table in tables.items():
        pd.testing.assert_frame_equal(table, copies[name])


def test_deal_announced_after_the_backlog_date_can_be_left_out():
    # Microsoft/Anthropic's deal was announced 2026-04-10, after Microsoft's 2026-03-31 quarter: excluded, the pair
    # becomes unknown and the share is (70 + 40) / 300 = 36.67% instead of 43.33%.
    out = bk.run(make_tables(), {**PARAMS, "deals_after_backlog_date": "exclude"})
    assert value(out, "combined_share") == pytest.approx(100 * 110 / 300, rel=1e-5)
    assert value(out, "unknown_pairs") == 2
    # Oracle/OpenAI's deal (2026-01-15) is before Oracle's 2026-02-28 quarter and stays.
    assert value(out, "labs_share.oracle") == pytest.approx(40.0)


def test_unknown_pairs_as_lowest_sourced_estimate():
    # Oracle/Anthropic has only an undated 10-30: left out by default (zero), its lowest end (10) with "lowest":
    # (130 + 10) / 300 = 46.67%. With undated estimates in, the pair is known: central 20, (130 + 20) / 300 = 50%.
    lowest = bk.run(make_tables(), {**PARAMS, "unknown_pairs": "lowest"})
    assert value(lowest, "combined_share") == pytest.approx(100 * 140 / 300, rel=1e-5)
    assert value(lowest, "unknown_pairs") == 0
    undated = bk.run(make_tables(), {**PARAMS, "include_undated": True})
    assert value(undated, "combined_share") == pytest.approx(50.0)


def test_choices_and_their_range():
    assert all(len(options) >= 2 for options in bk.CHOICES.values())
    assert all(options[0] == bk.DEFAULT_PARAMS[name] for name, options in bk.CHOICES.items())  # central first
    # Lowest: low estimates, the April deal out, undated out, unknown pairs zero: 60 + 40 = 100 of 300.
    # Highest: high estimates, the deal in, undated in (Oracle/Anthropic 30): 80 + 20 + 40 + 30 = 170 of 300.
    low, high = bk.choice_range(make_tables(), PARAMS, "combined_share")
    assert (low, high) == pytest.approx((100 / 3, 170 / 3), rel=1e-5)
    ranged = bk.run(make_tables(), PARAMS, choice_ranges=True)
    share = ranged["combined_share"]
    assert share.value == pytest.approx(100 * 130 / 300, rel=1e-5)  # the central case is unchanged
    assert (share.low, share.high) == pytest.approx((100 / 3, 170 / 3), rel=1e-5)
    assert "deals_after_backlog_date=exclude" in share.note
    flips = ranged.frames["choice_flips"].set_index("choice")
    assert flips.loc["deals_after_backlog_date = exclude", "combined_share"] == pytest.approx(100 * 110 / 300)


@pytest.mark.parametrize("name", ["deals_after_backlog_date", "unknown_pairs", "year_ago_labs"])
def test_choice_parameters_are_checked(name):
    with pytest.raises(ValueError, match=name):
        bk.run(make_tables(), {**PARAMS, name: "maybe"})
