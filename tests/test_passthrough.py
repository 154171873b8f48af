"""Chapter 3 models: the waterfall on hand-worked dollars."""

from __future__ import annotations

import pandas as pd
import pytest

from aicompute.analysis import passthrough as pt


def chain(app=20.0, share=80.0, model=50.0, cloud=90.0, hardware=50.0):
    return pt.ChainAssumptions(app, share, model, cloud, hardware)


def test_waterfall_hand_worked():
    # $1: app keeps 0.20; cost 0.80 of which 80% = 0.64 to the model provider, 0.16 other app costs.
    # Model keeps 50% of 0.64 = 0.32; its cost 0.32: 90% = 0.288 to the cloud, 0.032 other model costs.
    # Cloud passes 50% = 0.144 to chip makers and keeps 0.144.
    table = pt.waterfall(chain()).set_index("layer")["kept"]
    assert table["application"] == pytest.approx(0.20)
    assert table["application's other costs"] == pytest.approx(0.16)
    assert table["model provider"] == pytest.approx(0.32)
    assert table["model provider's other costs"] == pytest.approx(0.032)
    assert table["cloud"] == pytest.approx(0.144)
    assert table["chip makers"] == pytest.approx(0.144)
    assert table.sum() == pytest.approx(1.0)
    assert pt.passed_up(chain()) == pytest.approx(0.32 + 0.144 + 0.144)


@pytest.mark.parametrize("app", [0.0, 100.0])
@pytest.mark.parametrize("model", [0.0, 100.0])
def test_margins_at_zero_and_hundred_still_sum_to_the_dollar(app, model):
    table = pt.waterfall(chain(app=app, model=model)).set_index("layer")["kept"]
    assert table.sum() == pytest.approx(1.0)
    if app == 100.0:
        assert table["application"] == 1.0 and table.drop("application").abs().sum() == 0
    if model == 100.0 and app < 100:
        assert table["cloud"] == 0 and table["chip makers"] == 0


def test_negative_app_margin_is_shown_not_clipped():
    # A -50% margin: the app pays 1.50 in cost for each dollar; it keeps -0.50 and passes 1.20 to the model provider.
    flow = pt.waterfall(chain(app=-50.0)).set_index("layer")
    assert flow.loc["application", "kept"] == pytest.approx(-0.5)
    assert flow.loc["model provider", "received"] == pytest.approx(1.2)
    assert flow["kept"].sum() == pytest.approx(1.0)


@pytest.mark.parametrize(
    "field, value", [("share", 120.0), ("model", -1.0), ("cloud", 101.0), ("hardware", -5.0), ("app", 100.5)]
)
def test_inputs_outside_range_are_rejected(field, value):
    with pytest.raises(ValueError, match="percent|at most 100"):
        chain(**{field: value})


def test_tornado_orders_by_swing():
    ranges = {"app_gross_margin_pct": (0.0, 40.0), "hardware_share_of_cloud_cost_pct": (40.0, 60.0)}
    torn = pt.tornado(chain(), ranges, layer="application")
    assert list(torn["assumption"]) == ["app_gross_margin_pct", "hardware_share_of_cloud_cost_pct"]
    assert torn.iloc[0]["swing"] == pytest.approx(0.4)
    assert torn.iloc[1]["swing"] == 0  # hardware share does not change what the application keeps


def test_spend_ceiling_and_ratio():
    # A 70% target margin leaves 30% for cost of revenue; if 80% of that is model fees, at most 24% of revenue.
    assert pt.max_model_spend_share(70, 80) == pytest.approx(24)
    assert pt.spend_to_revenue(34, 57) == pytest.approx(167.647, rel=1e-4)
    with pytest.raises(ValueError):
        pt.spend_to_revenue(0, 5)


def test_real_cases_pick_latest_and_match_spend_year():
    app = pd.DataFrame(
        {
            "company": ["X", "X", "X", "X", "X"],
            "metric": ["revenue_run_rate", "revenue_run_rate", "revenue", "spend_on_model_providers", "gross_margin"],
            "as_of": pd.to_datetime(["2025-01-31", "2026-01-31", "2024-12-31", "2024-12-31", "2025-06-30"]),
            "value": [0.1, 0.4, 0.05, 0.08, -10.0],
            "value_low": [None] * 5,
            "value_high": [None] * 5,
            "basis": ["press_reported"] * 5,
            "source_id": ["a", "b", "c", "d", "e"],
        }
    )
    row = pt.real_cases(app, ["X"]).iloc[0]
    assert row["revenue"] == 0.4 and row["gross_margin_pct"] == -10
    assert row["spend_to_revenue_pct"] == pytest.approx(160)


# ---------------------------------------------------------------------------------------------------------------------
# The chapter's run() on three applications and two labs worked by hand.


def small_tables() -> dict[str, pd.DataFrame]:
    app = pd.DataFrame(
        {
            "company": ["A", "B", "C", "A", "A", "34 leading AI startups (db)"],
            "metric": ["gross_margin", "gross_margin", "gross_margin", "revenue", "spend_on_model_providers", "other"],
            "counterpart": [None] * 6,
            "as_of": pd.to_datetime(
                ["2025-12-31", "2025-12-31", "2025-12-31", "2024-12-31", "2024-12-31", "2026-05-18"]
            ),
            "value": [-10.0, 30.0, 50.0, 0.5, 0.6, 89.0],
            "value_low": [None] * 6,
            "value_high": [None] * 6,
            "basis": ["press_reported"] * 6,
            "source_id": ["a-gm", "b-gm", "c-gm", "a-rev", "a-spend", "db"],
            "note": [""] * 6,
        }
    )
    fin = pd.DataFrame(
        {
            "lab": ["OpenAI", "Anthropic", "Anthropic"],
            "metric": ["gross_margin"] * 3,
            "period": ["FY2025", "FY2025", "FY2028"],
            "period_end": pd.to_datetime(["2025-12-31", "2025-12-31", "2028-12-31"]),
            "value": [60.0, 40.0, 77.0],  # the 2028 projection is not a 2025 margin
            "value_low": [None] * 3,
            "value_high": [None] * 3,
            "unit": ["pct"] * 3,
            "definition": [""] * 3,
            "basis": ["press_reported"] * 3,
            "source_id": ["o-gm", "a-gm25", "a-gm28"],
        }
    )
    return {"application_layer": app, "lab_financials": fin}


def params(**changes) -> dict:
    base = {
        "as_of": "2026-06-30",
        "app_gross_margin_pct": None,
        "model_gross_margin_pct": None,
        "model_share_of_app_cost_pct": 80.0,
        "cloud_share_of_model_cost_pct": 90.0,
        "hardware_share_of_cloud_cost_pct": 50.0,
        "target_gross_margin_pct": 70.0,
        "app_opex_pct_of_revenue": 40.0,
        "cases": ["A", "B", "C"],
    }
    return {**base, **changes}


def test_run_hand_worked():
    result = pt.run(small_tables(), params())
    value = {key.split(".", 1)[1]: rec.value for key, rec in result.records.items()}
    # Medians: apps (-10, 30, 50) -> 30; labs' 2025 margins (60, 40) -> 50.
    assert (value["app_gross_margin_used"], value["model_gross_margin_used"]) == (30, 50)
    # $1: app keeps 0.30; 0.70 cost, 80% = 0.56 to the model; it keeps 0.28; 90% of 0.28 = 0.252 to the cloud,
    # half of which (0.126) goes on to chip makers. Up the chain: 0.28 + 0.126 + 0.126 = 0.532.
    assert value["passed_up"] == pytest.approx(53.2)
    assert value["app_keeps"] == pytest.approx(30)
    assert value["negative_margin_cases"] == 1 and value["margin_cases"] == 3
    # Break-even at 40% gross margin: A (-10) and B (30) are below it.
    assert value["break_even_gross_margin"] == 40 and value["below_break_even_cases"] == 2
    assert value["max_model_spend"] == pytest.approx(24)  # (100 - 70) x 80%
    assert value["spend_to_revenue.a"] == pytest.approx(120)  # 0.6 / 0.5 in the same year
    assert value["labs_share_of_ai_startup_revenue"] == 89
    assert list(result.frames["below_break_even"]["company"]) == ["A", "B"]


def test_run_uses_a_set_margin_over_the_median():
    result = pt.run(small_tables(), params(app_gross_margin_pct=60.0))
    # The app keeps 0.60; 0.40 x 80% = 0.32 to the model, which keeps 0.16; 0.144 to the cloud, 0.072 to chips.
    assert result["passed_up"].value == pytest.approx(100 * (0.16 + 0.072 + 0.072))


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"model_share_of_app_cost_pct": 120.0}, "between 0 and 100"),
        ({"cloud_share_of_model_cost_pct": None}, "must be a number"),
        ({"app_opex_pct_of_revenue": -5.0}, "between 0 and 1000"),
        ({"cases": "Replit"}, "list of company names"),
        ({"haircut": 1.0}, "unknown \\['haircut'\\]"),
    ],
)
def test_run_rejects_bad_params(changes, message):
    with pytest.raises(ValueError, match=message):
        pt.run(small_tables(), params(**changes))


def test_run_ignores_figures_after_as_of():
    tables = small_tables()
    later = tables["application_layer"].iloc[[1]].assign(as_of=pd.Timestamp("2026-09-30"), value=-90.0)
    tables["application_layer"] = pd.concat([tables["application_layer"], later], ignore_index=True)
    # By 2026-06-30 B's margin is still 30: the median stays 30. Moving as_of past September makes B -90:
    # margins (-10, -90, 50) -> median -10.
    assert pt.run(tables, params())["app_gross_margin_used"].value == 30
    assert pt.run(tables, params(as_of="2026-12-31"))["app_gross_margin_used"].value == -10


def test_passed_up_over_assumption_ranges_hand_worked():
    ranges = {
        "app_gross_margin_pct": (0.0, 50.0),
        "model_gross_margin_pct": (50.0, 50.0),
        "model_share_of_app_cost_pct": (100.0, 100.0),
        "cloud_share_of_model_cost_pct": (0.0, 100.0),
    }
    # Lowest: app keeps 50%, fees 0.5, model keeps 0.25, nothing to the cloud -> 0.25.
    # Highest: app keeps 0, fees 1.0, model keeps 0.5, the other 0.5 all to the cloud -> 1.0.
    low, high = pt.passed_up_over_ranges(ranges, chain(app=20.0, share=100.0, model=50.0, cloud=50.0))
    assert (low, high) == (pytest.approx(0.25), pytest.approx(1.0))


def test_choices_are_the_assumptions_ranges_central_first():
    assert pt.CHOICES["model_share_of_app_cost_pct"] == (80.0, 50.0, 100.0)
    assert pt.CHOICES["cloud_share_of_model_cost_pct"] == (90.0, 70.0, 100.0)
