"""Chart builders on small hand-made frames: English titles and tooltips, a source line and a description, the flow's
band widths, the waterfall's steps and the counter-case's total row worked by hand, and every spec draws."""

from __future__ import annotations

import math

import pandas as pd
import pytest
import vl_convert as vlc

from aicompute.present import charts, quality_charts, theme

AS_OF = "2026-06-30"
SOURCE = "company filings; The Information"
FINISH = {"source": SOURCE, "as_of": AS_OF}

# Channels that draw an axis or a legend, so their title is what a reader sees.
TITLED = {"x", "y", "color", "fill", "stroke", "opacity", "size", "shape", "strokeWidth"}


def _groups(spec: dict):
    """Every group of views sharing axes: a unit view alone, or the views of one layer."""
    if "layer" in spec:
        yield [v for child in spec["layer"] for v in _groups(child) for v in v]
    elif any(key in spec for key in ("vconcat", "hconcat", "concat")):
        for key in ("vconcat", "hconcat", "concat"):
            for child in spec.get(key, []):
                yield from _groups(child)
    else:
        yield [spec]


def check_readable(spec: dict) -> None:
    """No snake_case title, every tooltip titled and formatted, source line last, and a description.

    In a layer the views share their axes, so a channel needs its title in one of them (Vega-Lite shows that one).
    """
    for group in _groups(spec):
        fields, titled = {}, set()
        for view in group:
            for channel, enc in (view.get("encoding") or {}).items():
                if channel == "tooltip":
                    for tip in enc if isinstance(enc, list) else [enc]:
                        assert isinstance(tip, dict) and tip.get("title"), f"untitled tooltip {tip}"
                        assert "_" not in tip["title"], tip
                        if tip.get("type") == "quantitative":
                            assert tip.get("format"), f"raw number in tooltip {tip}"
                    continue
                if channel not in TITLED or not isinstance(enc, dict) or "field" not in enc:
                    continue
                if enc.get("axis", {}) is None or enc.get("legend", {}) is None or enc.get("scale", {}) is None:
                    titled.add(channel)
                    continue
                fields.setdefault(channel, enc["field"])
                if "title" in enc:
                    titled.add(channel)
                    assert enc["title"] is None or "_" not in str(enc["title"]), enc
        for channel, field in fields.items():
            assert channel in titled, f"{channel} would show the field name {field!r}"
    subtitle = spec["title"]["subtitle"]
    assert subtitle[-1] == f"Source: {SOURCE} · data to {AS_OF}"
    assert spec["description"].startswith("".join(spec["title"]["text"])[:20])


def draws(chart) -> str:
    svg = vlc.vegalite_to_svg(chart.to_dict(), vl_version="v6.4")
    assert svg.startswith("<svg") and "<text" in svg
    return svg


# ---------------------------------------------------------------------------------------------------------------------
# Hand-made inputs


def segments() -> pd.DataFrame:
    """Two investors into OpenAI (10 funded, 30 conditional); OpenAI to two sellers (80 committed, one undisclosed)."""
    rows = [
        ("A", "OpenAI", "equity", "funded", 10.0, "g1"),
        ("B", "OpenAI", "equity", "conditional", 30.0, "g2"),
        ("OpenAI", "Oracle", "cloud_capacity", "committed", 80.0, "g3"),
        ("OpenAI", "AMD", "chips", "reported", math.nan, "g4"),
    ]
    frame = pd.DataFrame(rows, columns=["payer", "payee", "type", "status", "amount", "group"])
    frame["amount_low"] = frame["amount"]
    frame["amount_high"] = frame["amount"]
    frame["sources"] = "src-a"
    return frame


def flow() -> pd.DataFrame:
    """The application keeps 30¢ of $1; the model provider gets 70¢ and keeps 50¢; the cloud gets and keeps 20¢."""
    return pd.DataFrame(
        {"layer": ["application", "model provider", "cloud"], "received": [1.0, 0.7, 0.2], "kept": [0.3, 0.5, 0.2]}
    )


def growth() -> pd.DataFrame:
    """Backlog outside the labs: P 100 → 150, Q 50 → 60; R has no growth figure (left out)."""
    return pd.DataFrame(
        {
            "provider": ["P", "Q", "R"],
            "other_year_ago": [100.0, 50.0, 10.0],
            "other_now": [150.0, 60.0, 20.0],
            "ex_lab_growth_pct": [50.0, 20.0, math.nan],
            "total_growth_pct": [80.0, 30.0, math.nan],
            "kind": ["subtracted", "whole backlog", "n/a"],
        }
    )


def tornado() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "assumption": ["cost_per_gw", "useful_life_years", "gw"],
            "low_value": [35.0, 5.0, 12.0],
            "high_value": [100.0, 6.0, 18.0],
            "at_low": [170.0, 280.0, 262.0],
            "at_high": [480.0, 250.0, 262.0],
            "base": [262.0, 262.0, 262.0],
            "swing": [310.0, 30.0, 0.0],
        }
    )


# ---------------------------------------------------------------------------------------------------------------------
# The flow: widths proportional to amounts (hand-worked)


def test_flow_links_group_by_certainty_and_keep_undisclosed():
    links = charts.flow_links(segments())
    b = links[links["payer"] == "B"].iloc[0]
    assert b["certainty"] == charts.UNCONFIRMED and b["amount"] == 30.0
    assert links[links["payer"] == "A"].iloc[0]["certainty"] == charts.CONFIRMED
    amd = links[links["payee"] == "AMD"].iloc[0]
    assert not amd["disclosed"] and math.isnan(amd["amount"])


def test_flow_band_widths_are_proportional_to_amounts():
    # Columns: investors 10 + 30 with one 13-px gap -> (460 - 13) / 40 = 11.175 px per bn; the lab 80 -> 460 / 80
    # = 5.75; sellers 80 + an undisclosed node, one gap -> (460 - 13) / 80 = 5.5875. The tightest column sets the
    # scale: 5.5875 px per bn, so the bands are 55.875, 167.625 and 447 px wide.
    nodes, bands, scale = charts.flow_layout(charts.flow_links(segments()), height=460)
    assert scale == pytest.approx(5.5875)
    width = bands.set_index("payer")["width"]
    assert width["A"] == pytest.approx(55.875)
    assert width["B"] == pytest.approx(167.625)
    assert bands.loc[bands["payee"] == "Oracle", "width"].iloc[0] == pytest.approx(447.0)
    # The lab's node is as tall as the larger of what flows in and out (80 bn), and the bands leaving it start at its
    # top edge one after another.
    lab = nodes.set_index("node").loc["OpenAI"]
    assert lab["bottom"] - lab["top"] == pytest.approx(447.0)
    into = bands[bands["payee"] == "OpenAI"].sort_values("y1_top")
    assert into["y1_top"].iloc[0] == pytest.approx(lab["top"])
    assert into["y1_top"].iloc[1] == pytest.approx(lab["top"] + into["width"].iloc[0])


def test_flow_needs_a_lab():
    bad = segments().assign(payer="X", payee="Y")
    with pytest.raises(ValueError, match="no segment has a lab"):
        charts.flow_links(bad)


def test_deal_graph_colours_nodes_by_entity_and_draws():
    chart = charts.deal_graph(None, segments(), title="$40bn in, $80bn out", subtitle="x", **FINISH)
    spec = chart.to_dict()
    check_readable(spec)
    colors = {row["color"] for d in spec["datasets"].values() for row in d if "color" in row}
    assert theme.ENTITY_COLORS["OpenAI"] in colors and theme.ENTITY_COLORS["Oracle"] in colors
    svg = draws(chart)
    assert "$80bn" in svg  # the largest flow is labelled


# ---------------------------------------------------------------------------------------------------------------------
# The waterfall: steps from $1.00 to zero (hand-worked)


def test_waterfall_steps_sum_from_one_dollar():
    frame = charts.waterfall_frame(flow(), assumed_layers={"cloud"})
    assert list(frame["start"]) == pytest.approx([1.0, 1.0, 0.7, 0.2])
    assert list(frame["end"]) == pytest.approx([0.0, 0.7, 0.2, 0.0])
    assert list(frame["cents_text"]) == ["$1.00", "30.0¢", "50.0¢", "20.0¢"]
    assert list(frame["basis"]) == ["total", "sourced", "sourced", "assumed"]
    assert (frame["start"] - frame["end"]).iloc[1:].sum() == pytest.approx(1.0)


def test_waterfall_refuses_layers_that_do_not_add_up():
    with pytest.raises(ValueError, match="not 1.00"):
        charts.waterfall_frame(flow().assign(kept=[0.3, 0.4, 0.2]))


def test_waterfall_chart_draws():
    chart = charts.waterfall_chart(flow(), title="Of each dollar, 70¢ flows up", subtitle="x", **FINISH)
    check_readable(chart.to_dict())
    assert "30.0¢" in draws(chart)


# ---------------------------------------------------------------------------------------------------------------------
# The counter-case: 'All four' is the sum (hand-worked)


def test_counter_case_total_row_is_the_headline():
    # (150 + 60) / (100 + 50) - 1 = 40%; R has no growth figure and is left out of rows and total.
    frame = charts.counter_case_frame(growth())
    total = frame.set_index("provider").loc[charts.ALL_FOUR]
    assert total["other_year_ago"] == 150.0 and total["other_now"] == 210.0
    assert total["ex_lab_growth_pct"] == pytest.approx(40.0)
    assert total["growth_text"] == "+40%"
    assert list(frame["provider"]) == ["P", "Q", charts.ALL_FOUR]


def test_counter_case_chart_draws_the_headline():
    chart = charts.ex_lab_growth_chart(growth(), title="Without the labs, +40% in a year", subtitle="x", **FINISH)
    check_readable(chart.to_dict())
    assert "+40%" in draws(chart)


# ---------------------------------------------------------------------------------------------------------------------
# Tornados: ranges in words, thresholds from the ledger


def test_assumption_labels_state_the_range():
    assert charts.assumption_label("gw", 12, 18) == "Capacity, 12–18 GW"
    assert charts.assumption_label("useful_life_years", 5, 6) == "Server life, 5–6 years"
    assert charts.assumption_label("app_gross_margin_pct", -23, 35) == "Application gross margin, −23% to 35%"
    assert charts.assumption_name("some_new_input") == "Some new input"


def test_verdict_thresholds_come_from_the_ledger():
    assert charts.verdict_thresholds("C7", "absorption.labs_cover") == [50.0, 100.0]
    assert charts.verdict_thresholds("C7", "no.such.record") == []


def test_tornado_chart_with_thresholds_draws():
    chart = charts.tornado_chart(
        tornado(),
        262.0,
        x_title="Required revenue (US$ bn a year)",
        title="Cost per GW moves it most",
        subtitle="x",
        thresholds=[(117.0, "labs' revenue covers 50%")],
        **FINISH,
    )
    spec = chart.to_dict()
    check_readable(spec)
    svg = draws(chart)
    assert ">Capital cost per GW<" in svg and ">$35–100bn<" in svg and "covers 50%" in svg and "no effect" in svg


# ---------------------------------------------------------------------------------------------------------------------
# Every other builder: readable and draws


def test_formatting_helpers():
    assert (
        charts.money(44.175) == "$44.2bn"
        and charts.money(1179.2) == "$1,179bn"
        and charts.money(None) == ("not disclosed")
    )
    assert charts.money(-2.5) == "−$2.5bn"
    assert (
        charts.percent(38.2) == "38%" and charts.cents(0.2834) == "28.3¢" and charts.day("2026-03-31") == ("2026-03-31")
    )


def test_sources_text_names_publishers_not_ids():
    text = charts.sources_text(["deal-msft-10q-fy26q1-r26", "deal-msft-10q-fy26q1-r26"], lead="filings")
    assert text.startswith("filings; ") and "deal-" not in text
    many = charts._publishers()
    long = charts.sources_text(list(many)[:40], lead="company filings")
    assert len(long) <= 40 and long.startswith("company filings; ") and long.endswith(("more", "publishers")), long
    # The source line must fit a phone-wide chart: a long lead leaves no room for the count, so it stands alone.
    assert charts.sources_text(list(many)[:40], lead="company filings and calls; press reports") == (
        "company filings and calls; press reports"
    )


def test_category_palettes_never_reuse_entity_colours():
    entity = {c.lower() for c in theme.ENTITY_COLORS.values()}
    for palette in (theme.FLOW_COLORS, theme.PART_COLORS, theme.TIER_COLORS, theme.END_COLORS, theme.SIGN_COLORS):
        assert not entity & {c.lower() for c in palette.values()}, palette
    assert not entity & {c.lower() for c in theme.PAIR_COLORS}


def _snapshot_inputs():
    split = pd.DataFrame(
        {
            "provider": ["Microsoft", "Oracle"],
            "period_end": pd.to_datetime(["2026-03-31", "2026-05-31"]),
            "backlog": [600.0, 400.0],
            "OpenAI": [240.0, 100.0],
            "Anthropic": [60.0, math.nan],
            "other": [300.0, 300.0],
            "other_is_upper_bound": [False, True],
        }
    )
    ranges = pd.DataFrame(
        {
            "provider": ["Microsoft", "Microsoft", "Oracle", "Oracle"],
            "lab": ["OpenAI", "Anthropic", "OpenAI", "Anthropic"],
            "low": [230.0, 60.0, 100.0, math.nan],
            "high": [250.0, 60.0, 100.0, math.nan],
            "n_estimates": [2, 1, 1, 0],
        }
    )
    return split, ranges


def test_snapshot_prints_dollars_and_percent_on_bars():
    split, ranges = _snapshot_inputs()
    frame = charts.snapshot_frame(split, ranges)
    ms = frame[frame["provider"] == "Microsoft"].set_index("part")
    assert ms.loc["OpenAI", "label"] == "$240bn · 40%"  # 240 / 600
    assert ms.loc["Other customers", "start"] == 300.0 and ms.loc["Other customers", "end"] == 600.0
    chart = charts.backlog_snapshot(split, ranges, title="Labs hold 40%", subtitle="x", **FINISH)
    check_readable(chart.to_dict())
    assert "$240bn · 40%" in draws(chart)


def test_series_names_deals_and_dates_axis():
    series = pd.DataFrame(
        {
            "provider": ["Oracle"] * 3,
            "period_end": pd.to_datetime(["2025-02-28", "2025-05-31", "2025-08-31"]),
            "fiscal_label": ["FY2025 Q3", "FY2025 Q4", "FY2026 Q1"],
            "value": [130.0, 138.0, 455.0],
            "low": [130.0, 138.0, 455.0],
            "high": [130.0, 138.0, 455.0],
            "basis": ["company_reported"] * 3,
            "sources": ["s"] * 3,
        }
    )
    deals = pd.DataFrame(
        {
            "buyer": ["OpenAI", "OpenAI"],
            "seller": ["Oracle", "Oracle"],
            "group": ["g", "g"],
            "announced": pd.to_datetime(["2025-07-22", "2025-09-10"]),
            "value_usd_bn": [300.0, None],
            "value_low_usd_bn": [None, None],
            "status": ["binding_contract", "reported_unconfirmed"],
        }
    )
    markers = charts.deal_markers(deals)
    assert list(markers["name"]) == ["OpenAI $300bn"] and markers["date_text"].iloc[0] == "2025-07-22"
    chart = charts.backlog_series(series, deals, title="Backlog tripled", subtitle="x", **FINISH)
    check_readable(chart.to_dict())
    svg = draws(chart)
    assert "OpenAI $300bn" in svg and "2025" in svg


def test_payback_chart_band_and_paths():
    frame = pd.DataFrame(
        {
            "year": [2026, 2026, 2027, 2027],
            "series": ["a", "b", "a", "b"],
            "growth_pct": [50.0, 100.0, 50.0, 100.0],
            "usd_bn": [60.0, 60.0, 90.0, 120.0],
            "required": [260.0] * 4,
            "required_low": [130.0] * 4,
            "required_high": [570.0] * 4,
        }
    )
    chart = charts.payback_chart(frame, title="Covers in 2030", subtitle="x", chosen_growth_pct=50.0, **FINISH)
    spec = chart.to_dict()
    check_readable(spec)
    assert "$130bn–$570bn a year" in str(spec["datasets"])
    draws(chart)


def test_other_builders_are_readable_and_draw():
    haircut = pd.DataFrame({"provider": ["Oracle"] * 2, "haircut_pct": [0, 50], "backlog_after_haircut": [638, 488]})
    trips = pd.DataFrame(
        {
            "pair": ["Amazon → OpenAI"] * 2,
            "ratio": [2.76, 2.76],
            "flow": ["equity invested", "lab's spend committed back"],
            "usd_bn": [50.0, 138.0],
            "low": [50.0, 138.0],
            "high": [50.0, 138.0],
        }
    )
    cumulative = pd.DataFrame(
        {
            "quarter": pd.to_datetime(["2025-03-31", "2025-06-30"] * 2),
            "type": ["equity"] * 2 + ["chips"] * 2,
            "cumulative": [10.0, 20.0, 0.0, 90.0],
        }
    )
    margins = pd.DataFrame(
        {
            "company": ["Cursor", "Replit"],
            "gross_margin_pct": [-23.0, 23.0],
            "gross_margin_basis": ["press_reported"] * 2,
            "sources": ["s1", "s2"],
            "low": [-23.0, 23.0],
            "high": [-23.0, 23.0],
            "sign": ["negative", "positive"],
        }
    )
    costs = pd.DataFrame(
        {
            "case": ["central case"] * 3,
            "part": ["depreciation", "operating cost", "return on capital"],
            "value": [145.0, 33.0, 84.0],
            "order": [0, 1, 2],
            "assumptions": ["15 GW"] * 3,
        }
    )
    capex = pd.DataFrame(
        {
            "company": ["Amazon", "Meta"],
            "fiscal_year": ["2025", "2026"],
            "year": [2025, 2026],
            "value": [131.8, 135.0],
            "kind": ["actual", "guidance"],
            "range": ["", "125–145"],
            "includes_finance_leases": ["no", "yes"],
            "source_id": ["s1", "s2"],
        }
    )
    ladder = pd.DataFrame(
        {
            "holder": ["Oracle", "Oracle"],
            "tier": ["a", "b"],
            "tier_label": ["Binding, payer must raise money", "Not disclosed"],
            "order": [1, 5],
            "amount": [300.0, 338.0],
            "share_pct": [47.0, 53.0],
        }
    )
    timing = pd.DataFrame(
        {
            "provider": ["Microsoft"],
            "within_12m_pct": [25.0],
            "within_12m_as_of": pd.to_datetime(["2026-03-31"]),
            "within_24m_pct": [math.nan],
            "within_24m_as_of": [pd.NaT],
        }
    )
    built = [
        charts.haircut_chart(haircut, 0.0, title="t", subtitle="x", **FINISH),
        charts.round_trip_chart(trips, title="t", subtitle="x", **FINISH),
        charts.cumulative_chart(cumulative, title="t", subtitle="x", **FINISH),
        charts.app_margin_chart(margins, title="t", subtitle="x", **FINISH),
        charts.cost_stack_chart(costs, title="t", subtitle="x", **FINISH),
        charts.capex_chart(capex, title="t", subtitle="x", **FINISH),
        quality_charts.ladder_chart(ladder, title="t", subtitle="x", **FINISH),
        quality_charts.timing_chart(timing, title="t", subtitle="x", **FINISH),
    ]
    for chart in built:
        check_readable(chart.to_dict())
        draws(chart)


def test_ladder_labels_shrink_with_the_drawn_width_instead_of_overlapping():
    """A segment is labelled '$Xbn · Y%' where its drawn width holds that (76 px), 'Y%' where it holds 26 px, else not
    at all. Worked by hand: at 300 px a 20% segment is 60 px ('20%'), at 700 px 140 px ('$20bn · 20%'); a 5% segment
    is 15 px or 35 px (nothing, then '5%')."""
    import re

    from aicompute.analysis import quality

    items = pd.DataFrame(
        {
            "holder": ["Lab"] * 3,
            "payer": ["Lab"] * 3,
            "amount": [75.0, 20.0, 5.0],
            "tier": ["not_disclosed", "unconfirmed", "letter_of_intent"],
        }
    )
    spec = quality_charts.ladder_chart(
        quality._labelled(quality.ladder(items, {})), title="t", subtitle="s", total_label="All"
    ).to_dict()

    def labels(width: int) -> list[str]:
        svg = vlc.vegalite_to_svg({**spec, "width": width})
        return [t for t in re.findall(r"<text[^>]*>([^<]*)</text>", svg) if "%" in t and "Share" not in t]

    # Each segment twice: the lab's bar and the total's.
    assert sorted(labels(300)) == sorted(["$75bn · 75%", "20%"] * 2)
    assert sorted(labels(700)) == sorted(["$75bn · 75%", "$20bn · 20%", "5%"] * 2)
