"""Chart builders for every chapter: aggregate in pandas, then one Altair spec per chart, in the one theme.

Titles state the finding (passed in by the notebook, built from records), subtitles give source and as-of date,
and every mark carries a tooltip with its source.
"""

from __future__ import annotations

import altair as alt
import pandas as pd

from aicompute.present.theme import ENTITY_COLORS, FLOW_COLORS, PART_COLORS, color_scale


def _title(text: str, subtitle: str | list[str]) -> alt.TitleParams:
    return alt.TitleParams(text=text, subtitle=subtitle if isinstance(subtitle, list) else [subtitle])


# ---------------------------------------------------------------------------------------------------------------------
# Chapter 1: backlog


def backlog_snapshot(split: pd.DataFrame, ranges: pd.DataFrame, title: str, subtitle: str) -> alt.Chart:
    """Stacked bars: each provider's backlog split into OpenAI / Anthropic / other customers."""
    rows = []
    for _, r in split.iterrows():
        for part in ("OpenAI", "Anthropic", "other"):
            amount = r[part]
            label = "Other customers" if part == "other" else part
            rng = ranges[(ranges["provider"] == r["provider"]) & (ranges["lab"] == part)]
            if part != "other" and pd.isna(amount):
                note = "unknown: no sourced estimate"
                amount = 0.0
            elif part == "other":
                note = "upper bound: part of a lab is unknown" if r["other_is_upper_bound"] else "remainder"
            else:
                g = rng.iloc[0]
                note = f"estimates {g['low']:.0f}–{g['high']:.0f} bn ({int(g['n_estimates'])}; {g['bases']})"
            rows.append(
                {
                    "provider": r["provider"],
                    "part": label,
                    "amount": float(amount),
                    "share": float(amount) / r["backlog"],
                    "backlog": r["backlog"],
                    "quarter_end": r["period_end"].strftime("%Y-%m-%d"),
                    "basis": note,
                }
            )
    frame = pd.DataFrame(rows)
    order = ["OpenAI", "Anthropic", "Other customers"]
    frame["order"] = frame["part"].map({p: i for i, p in enumerate(order)})
    return (
        alt.Chart(frame, title=_title(title, subtitle))
        .mark_bar()
        .encode(
            y=alt.Y("provider:N", sort=list(split["provider"]), title=None),
            x=alt.X("amount:Q", title="Backlog at latest reported quarter (USD bn)"),
            color=alt.Color("part:N", scale=color_scale(ENTITY_COLORS, order), title=None),
            order=alt.Order("order:Q"),
            tooltip=[
                alt.Tooltip("provider:N"),
                alt.Tooltip("part:N"),
                alt.Tooltip("amount:Q", format=",.0f", title="USD bn"),
                alt.Tooltip("share:Q", format=".0%"),
                alt.Tooltip("backlog:Q", format=",.0f", title="total backlog"),
                alt.Tooltip("quarter_end:N", title="quarter end"),
                alt.Tooltip("basis:N", title="basis"),
            ],
        )
        .properties(width=560, height=40 * len(split))
    )


def backlog_series(series: pd.DataFrame, deals: pd.DataFrame, title: str, subtitle: str) -> alt.VConcatChart:
    """One small panel per provider: backlog by quarter with the labs' deals marked on the time axis."""
    panels = []
    x_domain = [
        series["period_end"].min().strftime("%Y-%m-%d"),
        max(
            series["period_end"].max(), deals["announced"].max() if not deals.empty else series["period_end"].max()
        ).strftime("%Y-%m-%d"),
    ]
    for provider in series["provider"].unique():
        s = series[series["provider"] == provider].copy()
        s["quarter"] = s["fiscal_label"]
        d = deals[deals["seller"] == provider].copy()
        base = alt.Chart(s).encode(x=alt.X("period_end:T", title=None, scale=alt.Scale(domain=x_domain)))
        line = base.mark_line(point=True, color=ENTITY_COLORS.get(provider, "#555")).encode(
            y=alt.Y("value:Q", title="USD bn"),
            tooltip=[
                alt.Tooltip("provider:N"),
                alt.Tooltip("quarter:N"),
                alt.Tooltip("period_end:T", title="quarter end"),
                alt.Tooltip("value:Q", format=",.1f", title="backlog, USD bn"),
                alt.Tooltip("low:Q", format=",.1f", title="lowest source"),
                alt.Tooltip("high:Q", format=",.1f", title="highest source"),
                alt.Tooltip("basis:N"),
                alt.Tooltip("sources:N"),
            ],
        )
        band = base.mark_errorbar(color="#888").encode(y=alt.Y("low:Q", title="USD bn"), y2="high:Q")
        layers = [band, line]
        if not d.empty:
            rules = (
                alt.Chart(d)
                .mark_rule(strokeDash=[4, 3], strokeWidth=2)
                .encode(
                    x="announced:T",
                    color=alt.Color(
                        "buyer:N", scale=color_scale(ENTITY_COLORS, ["OpenAI", "Anthropic"]), title="deal by"
                    ),
                    tooltip=[
                        alt.Tooltip("buyer:N", title="deal by"),
                        alt.Tooltip("seller:N"),
                        alt.Tooltip("announced:T"),
                        alt.Tooltip("value_text:N", title="headline value"),
                        alt.Tooltip("status:N"),
                        alt.Tooltip("source_id:N", title="source"),
                    ],
                )
            )
            layers.append(rules)
        panels.append(alt.layer(*layers).properties(width=560, height=110, title=provider))
    return alt.vconcat(*panels, title=_title(title, subtitle)).resolve_scale(y="independent")


def ex_lab_growth_chart(growth: pd.DataFrame, title: str, subtitle: str) -> alt.Chart:
    frame = growth.dropna(subset=["ex_lab_growth_pct"]).melt(
        id_vars=["provider", "kind", "unquantified"],
        value_vars=["total_growth_pct", "ex_lab_growth_pct"],
        var_name="measure",
        value_name="growth",
    )
    frame["measure"] = frame["measure"].map(
        {"total_growth_pct": "whole backlog", "ex_lab_growth_pct": "excluding OpenAI and Anthropic"}
    )
    return (
        alt.Chart(frame, title=_title(title, subtitle))
        .mark_bar()
        .encode(
            y=alt.Y("provider:N", title=None),
            yOffset="measure:N",
            x=alt.X("growth:Q", title="Growth over a year (%)"),
            color=alt.Color(
                "measure:N",
                scale=alt.Scale(
                    domain=["whole backlog", "excluding OpenAI and Anthropic"],
                    range=["#bdbdbd", ENTITY_COLORS["Other customers"]],
                ),
                title=None,
            ),
            tooltip=[
                "provider:N",
                "measure:N",
                alt.Tooltip("growth:Q", format=".0f", title="growth %"),
                alt.Tooltip("kind:N", title="how computed"),
                alt.Tooltip("unquantified:N", title="labs not quantified"),
            ],
        )
        .properties(width=560, height=60 * frame["provider"].nunique())
    )


def haircut_chart(frame: pd.DataFrame, chosen: float, title: str, subtitle: str) -> alt.LayerChart:
    base = alt.Chart(frame, title=_title(title, subtitle)).encode(
        x=alt.X("haircut_pct:Q", title="Share of the labs' amounts never paid (%)"),
        y=alt.Y("backlog_after_haircut:Q", title="Backlog left (USD bn)"),
        color=alt.Color("provider:N", scale=color_scale(ENTITY_COLORS, list(frame["provider"].unique())), title=None),
        tooltip=[
            "provider:N",
            alt.Tooltip("haircut_pct:Q", title="haircut %"),
            alt.Tooltip("backlog_after_haircut:Q", format=",.0f", title="backlog left, USD bn"),
        ],
    )
    rule = (
        alt.Chart(pd.DataFrame({"haircut_pct": [chosen]}))
        .mark_rule(strokeDash=[2, 2], color="#333")
        .encode(x="haircut_pct:Q", tooltip=[alt.Tooltip("haircut_pct:Q", title="chosen haircut %")])
    )
    return alt.layer(base.mark_line(point=True), rule).properties(width=560, height=260)


# ---------------------------------------------------------------------------------------------------------------------
# Shared: horizontal bars with a range, and tornado charts


def range_bars(
    frame: pd.DataFrame,
    *,
    label: str,
    value: str,
    low: str,
    high: str,
    color_field: str | None,
    colors: dict[str, str] | None,
    x_title: str,
    title: str,
    subtitle: str,
    tooltip: list,
) -> alt.LayerChart:
    base = alt.Chart(frame, title=_title(title, subtitle)).encode(y=alt.Y(f"{label}:N", sort=None, title=None))
    enc = {"x": alt.X(f"{value}:Q", title=x_title), "tooltip": tooltip}
    if color_field:
        enc["color"] = alt.Color(
            f"{color_field}:N", scale=color_scale(colors or {}, sorted(frame[color_field].unique())), title=None
        )
    bars = base.mark_bar(opacity=0.85).encode(**enc)
    whiskers = base.mark_errorbar(color="#222", ticks=True).encode(
        x=alt.X(f"{low}:Q", title=x_title), x2=f"{high}:Q", tooltip=tooltip
    )
    return alt.layer(bars, whiskers).properties(width=560, height=max(80, 26 * len(frame)))


def tornado_chart(frame: pd.DataFrame, base_value: float, x_title: str, title: str, subtitle: str) -> alt.LayerChart:
    rows = []
    for _, r in frame.iterrows():
        rows.append(
            {"assumption": r["assumption"], "end": "low value", "value": r["at_low"], "setting": r["low_value"]}
        )
        rows.append(
            {"assumption": r["assumption"], "end": "high value", "value": r["at_high"], "setting": r["high_value"]}
        )
    data = pd.DataFrame(rows)
    data["base"] = base_value
    order = list(frame["assumption"])
    bars = (
        alt.Chart(data, title=_title(title, subtitle))
        .mark_bar()
        .encode(
            y=alt.Y("assumption:N", sort=order, title=None),
            x=alt.X("value:Q", title=x_title),
            x2="base:Q",
            color=alt.Color(
                "end:N",
                scale=alt.Scale(domain=["low value", "high value"], range=["#1f78b4", "#e6ab02"]),
                title="assumption at its",
            ),
            tooltip=[
                "assumption:N",
                "end:N",
                alt.Tooltip("setting:Q", title="assumption value"),
                alt.Tooltip("value:Q", format=",.3f", title="result"),
            ],
        )
    )
    rule = (
        alt.Chart(pd.DataFrame({"base": [base_value]}))
        .mark_rule(color="#333")
        .encode(x="base:Q", tooltip=[alt.Tooltip("base:Q", format=",.3f", title="central case")])
    )
    return alt.layer(bars, rule).properties(width=560, height=34 * len(order))


# ---------------------------------------------------------------------------------------------------------------------
# Chapter 2: circular investment


def deal_graph(nodes: pd.DataFrame, segments: pd.DataFrame, title: str, subtitle: str) -> alt.LayerChart:
    seg = segments.copy()
    seg["amount_text"] = seg.apply(
        lambda r: (
            "undisclosed"
            if pd.isna(r["amount"])
            else (
                f"{r['amount_low']:,.1f}–{r['amount_high']:,.1f} bn"
                if r["amount_low"] != r["amount_high"]
                else f"{r['amount']:,.1f} bn"
            )
        ),
        axis=1,
    )
    seg["width"] = seg["amount"].fillna(0.5).clip(lower=0.5)
    seg["date_text"] = seg["date"].dt.strftime("%Y-%m-%d")
    x = alt.X("x:Q", axis=None, scale=alt.Scale(domain=[-1.15, 1.15]))
    y = alt.Y("y:Q", axis=None, scale=alt.Scale(domain=[-1.15, 1.15]))
    edges = (
        alt.Chart(seg)
        .mark_rule(opacity=0.75)
        .encode(
            x=x,
            y=y,
            x2="x2:Q",
            y2="y2:Q",
            color=alt.Color("type:N", scale=color_scale(FLOW_COLORS, sorted(seg["type"].unique())), title="money flow"),
            strokeWidth=alt.StrokeWidth("width:Q", scale=alt.Scale(range=[1, 14]), title="USD bn"),
            tooltip=[
                alt.Tooltip("payer:N", title="from"),
                alt.Tooltip("payee:N", title="to"),
                "type:N",
                alt.Tooltip("amount_text:N", title="amount"),
                "status:N",
                alt.Tooltip("date_text:N", title="date"),
                alt.Tooltip("n_reports:Q", title="reports"),
                alt.Tooltip("sources:N"),
            ],
        )
    )
    node_data = nodes.copy()
    node_data["color"] = node_data["node"].map(lambda n: ENTITY_COLORS.get(n, "#bdbdbd"))
    points = (
        alt.Chart(node_data)
        .mark_circle(size=420, stroke="#333", strokeWidth=1)
        .encode(x=x, y=y, color=alt.Color("color:N", scale=None), tooltip=[alt.Tooltip("node:N", title="company")])
    )
    labels = alt.Chart(node_data).mark_text(dy=-17, fontSize=11, fontWeight="bold").encode(x=x, y=y, text="node:N")
    return alt.layer(edges, points, labels, title=_title(title, subtitle)).properties(width=620, height=520)


def cumulative_chart(frame: pd.DataFrame, title: str, subtitle: str) -> alt.Chart:
    return (
        alt.Chart(frame, title=_title(title, subtitle))
        .mark_area(opacity=0.85)
        .encode(
            x=alt.X("quarter:T", title=None),
            y=alt.Y("cumulative:Q", stack=True, title="Cumulative announced dollars (USD bn)"),
            color=alt.Color(
                "type:N", scale=color_scale(FLOW_COLORS, sorted(frame["type"].unique())), title="money flow"
            ),
            tooltip=[
                alt.Tooltip("quarter:T", title="quarter end"),
                "type:N",
                alt.Tooltip("cumulative:Q", format=",.0f", title="cumulative USD bn"),
            ],
        )
        .properties(width=560, height=260)
    )


def round_trip_chart(frame: pd.DataFrame, title: str, subtitle: str) -> alt.LayerChart:
    """Each investor–lab pair: equity invested beside the lab's spend committed back (bars side by side)."""
    return range_bars(
        frame,
        label="pair",
        value="usd_bn",
        low="low",
        high="high",
        color_field="flow",
        colors={"equity invested": "#1f78b4", "lab's spend committed back": "#d95f02"},
        x_title="USD bn",
        tooltip=["pair:N", "flow:N", "usd_bn:Q", "ratio:Q"],
        title=title,
        subtitle=subtitle,
    ).encode(yOffset="flow:N")


# ---------------------------------------------------------------------------------------------------------------------
# Chapter 3: pass-through


def waterfall_chart(frame: pd.DataFrame, title: str, subtitle: str) -> alt.Chart:
    data = frame.copy()
    data["order"] = range(len(data))
    data["who"] = data["layer"]
    return (
        alt.Chart(data, title=_title(title, subtitle))
        .mark_bar()
        .encode(
            y=alt.Y("layer:N", sort=list(data["layer"]), title=None),
            x=alt.X("kept:Q", title="Cents kept of each dollar the end customer pays", axis=alt.Axis(format=".0%")),
            color=alt.condition("datum.kept < 0", alt.value("#cf222e"), alt.value(PART_COLORS["kept"])),
            tooltip=[
                "layer:N",
                alt.Tooltip("received:Q", format=".3f", title="receives ($)"),
                alt.Tooltip("kept:Q", format=".3f", title="keeps ($)"),
            ],
        )
        .properties(width=560, height=36 * len(data))
    )


def app_margin_chart(frame: pd.DataFrame, title: str, subtitle: str) -> alt.LayerChart:
    """Each application's latest reported gross margin, negative ones in red."""
    return range_bars(
        frame,
        label="company",
        value="gross_margin_pct",
        low="low",
        high="high",
        color_field="sign",
        colors={"negative": "#cf222e", "positive": "#1b9e77"},
        x_title="Gross margin (%)",
        tooltip=["company:N", "gross_margin_pct:Q", "gross_margin_basis:N", "sources:N"],
        title=title,
        subtitle=subtitle,
    )


# ---------------------------------------------------------------------------------------------------------------------
# Chapter 4: absorption


def cost_stack_chart(frame: pd.DataFrame, title: str, subtitle: str) -> alt.Chart:
    order = ["depreciation", "operating cost", "return on capital", "gross margin of seller"]
    return (
        alt.Chart(frame, title=_title(title, subtitle))
        .mark_bar()
        .encode(
            x=alt.X("case:N", sort=list(frame["case"].unique()), title=None, axis=alt.Axis(labelAngle=0)),
            y=alt.Y("value:Q", title="Revenue needed per year (USD bn)"),
            color=alt.Color("part:N", scale=color_scale(PART_COLORS, order), title=None),
            order=alt.Order("order:Q"),
            tooltip=[
                "case:N",
                "part:N",
                alt.Tooltip("value:Q", format=",.0f", title="USD bn a year"),
                alt.Tooltip("assumptions:N"),
            ],
        )
        .properties(width=560, height=300)
    )


def capex_chart(frame: pd.DataFrame, title: str, subtitle: str) -> alt.Chart:
    """Capex by company and fiscal year: actuals solid, guidance (midpoint, with its range) faded."""
    return (
        alt.Chart(frame, title=_title(title, subtitle))
        .mark_bar()
        .encode(
            x=alt.X("year:O", title="Fiscal year"),
            xOffset="company:N",
            y=alt.Y("value:Q", title="Capital expenditure (USD bn)"),
            color=alt.Color(
                "company:N", scale=color_scale(ENTITY_COLORS, sorted(frame["company"].unique())), title=None
            ),
            opacity=alt.Opacity(
                "kind:N", scale=alt.Scale(domain=["actual", "guidance"], range=[1.0, 0.45]), title=None
            ),
            tooltip=[
                "company:N",
                alt.Tooltip("fiscal_year:N", title="fiscal year"),
                "kind:N",
                alt.Tooltip("value:Q", format=",.1f", title="USD bn"),
                alt.Tooltip("range:N", title="guidance range"),
                alt.Tooltip("includes_finance_leases:N", title="finance leases included"),
                alt.Tooltip("source_id:N", title="source"),
            ],
        )
        .properties(width=560, height=280)
    )


def payback_chart(frame: pd.DataFrame, title: str, subtitle: str) -> alt.LayerChart:
    """The labs' revenue paths at a few growth rates against the required-revenue band (central, choices' range)."""
    band = frame.drop_duplicates("year")
    base = alt.Chart(band, title=_title(title, subtitle))
    area = base.mark_area(opacity=0.2, color="#888").encode(
        x=alt.X("year:O", title=None, axis=alt.Axis(labelAngle=0)),
        y=alt.Y("required_low:Q", title="USD bn a year"),
        y2="required_high:Q",
        tooltip=[alt.Tooltip("required_low:Q", format=",.0f"), alt.Tooltip("required_high:Q", format=",.0f")],
    )
    rule = base.mark_line(color="#333", strokeDash=[4, 3]).encode(
        x="year:O", y="required:Q", tooltip=[alt.Tooltip("required:Q", format=",.0f", title="central case")]
    )
    paths = (
        alt.Chart(frame)
        .mark_line(point=True)
        .encode(
            x="year:O",
            y="usd_bn:Q",
            color=alt.Color("series:N", title=None),
            tooltip=["series:N", "year:O", alt.Tooltip("usd_bn:Q", format=",.0f", title="USD bn")],
        )
    )
    return alt.layer(area, rule, paths).properties(width=560, height=300)
