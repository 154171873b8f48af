"""Chart builders for every chapter: aggregate in pandas, then one Altair spec per chart, in the one theme.

Titles state the finding (passed in by the notebook, built from records); the last subtitle line names the publishers
and the date of the data ("Source: … · data to …"); every chart carries a ``description`` (the title and its key values)
for screen readers; tooltips show formatted values with units under plain-English titles.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterable, Sequence
from functools import lru_cache

import altair as alt
import numpy as np
import pandas as pd

from aicompute.analysis.vocabulary import LABS
from aicompute.present.theme import (
    END_COLORS,
    ENTITY_COLORS,
    FLOW_COLORS,
    FLOW_LABELS,
    NARROW_PX,
    PAIR_COLORS,
    PART_COLORS,
    SIGN_COLORS,
    color_scale,
)

# ---------------------------------------------------------------------------------------------------------------------
# Words and numbers as a reader sees them


def money(usd_bn: float | None, digits: int = 1) -> str:
    """USD bn as text: 44.175 -> '$44.2bn'; 1179 -> '$1,179bn'; missing -> 'not disclosed'."""
    if usd_bn is None or pd.isna(usd_bn):
        return "not disclosed"
    usd_bn = float(usd_bn)
    places = 0 if abs(usd_bn) >= 100 else digits
    sign = "−" if usd_bn < 0 else ""
    return f"{sign}${abs(usd_bn):,.{places}f}bn"


def percent(value: float | None, digits: int = 0) -> str:
    """A percentage as text: 38.2 -> '38%'; missing -> 'not disclosed'."""
    if value is None or pd.isna(value):
        return "not disclosed"
    return f"{float(value):.{digits}f}%".replace("-", "−")


def cents(dollars: float) -> str:
    """A share of one dollar in cents: 0.2834 -> '28.3¢'; 1.0 -> '$1.00'."""
    if round(float(dollars), 4) == 1.0:
        return "$1.00"
    return f"{float(dollars) * 100:.1f}¢".replace("-", "−")


def day(when: object) -> str:
    """A date as '2026-03-31' (missing -> 'not disclosed')."""
    return "not disclosed" if when is None or pd.isna(when) else pd.Timestamp(when).strftime("%Y-%m-%d")


@lru_cache(maxsize=1)
def _publishers() -> dict[str, str]:
    from aicompute.analysis import data

    sources = data.load("sources")
    # "Reportify (summary of Morgan Stanley report)" -> "Reportify": the caption names the publisher, briefly.
    names = sources["publisher"].astype(str).str.split(" (", regex=False).str[0].str.strip()
    return dict(zip(sources["source_id"], names, strict=True))


def sources_text(source_ids: Iterable[str], lead: str = "", limit: int = 3, max_chars: int = 40) -> str:
    """The publishers behind ``source_ids`` (most cited first), e.g. 'company filings; The Information, WSJ and 3 more'.

    Names come from data/sources.csv, so the caption never shows a file name or a source id; fewer names are given
    when the line would be longer than ``max_chars`` (the source line must fit on one line in a phone-wide chart).
    """
    names = pd.Series([_publishers().get(i, i) for i in source_ids if isinstance(i, str) and i]).str.strip()
    ranked = list(names.value_counts(sort=True).index) if not names.empty else []
    for shown_count in range(min(limit, len(ranked)), -1, -1):
        shown = ", ".join(ranked[:shown_count])
        rest = len(ranked) - shown_count
        more = (f" and {rest} more" if shown else f"{rest} publishers") if rest else ""
        body = f"{shown}{more}"
        text = f"{lead}; {body}" if lead and body else (lead or body or "see the sources list")
        if len(text) <= max_chars:
            return text
    # Even the count does not fit: the lead alone (the sources list in the appendix names every publisher).
    return lead or text


def _lines(text: str | Sequence[str] | None, width: int) -> list[str]:
    items = [text] if isinstance(text, str) else list(text or [])
    return [line for item in items if item for line in textwrap.wrap(item, width)]


# Characters per title and subtitle line, so that both fit a phone's column (~366 px) at 15 px bold and 11 px: the
# chart's text keeps its size there, and the page reads the title as plain lines (its label and caption).
TITLE_CHARS = 44
SUBTITLE_CHARS = 66


def chart_title(text: str, subtitle: str | Sequence[str] | None, source: str | None, as_of: str | None) -> alt.Title:
    """The title and its subtitle, wrapped to a phone's width. The subtitle's last line, 'Source: … · data to …', is
    never wrapped: the page shows that line as the chart's caption (kept short by :func:`sources_text`)."""
    lines = _lines(subtitle, SUBTITLE_CHARS)
    if source or as_of:
        lines.append(f"Source: {source or 'see the sources list'} · data to {as_of or 'not stated'}")
    return alt.Title(text=_lines(text, TITLE_CHARS), subtitle=lines)


def finish(
    chart: alt.TopLevelMixin,
    *,
    title: str,
    subtitle: str | Sequence[str] | None,
    source: str | None,
    as_of: str | None,
    key_values: str,
    fit: bool = True,
) -> alt.TopLevelMixin:
    """Title, caption line and screen-reader description. With ``fit`` the chart takes its container's width (labels
    included) so its text keeps its size on a phone; a figure is drawn at theme.WIDTH. Without ``fit`` (stacked
    panels, which Vega-Lite cannot size to a container) it keeps its own width."""
    props: dict = {
        "title": chart_title(title, subtitle, source, as_of),
        "description": f"{title}. {key_values}".strip(),
    }
    if fit:
        props["autosize"] = alt.AutoSizeParams(type="fit-x", contains="padding", resize=True)
        props["width"] = "container"
    return chart.properties(**props)


# ---------------------------------------------------------------------------------------------------------------------
# Chapter 1: backlog


def snapshot_frame(split: pd.DataFrame, ranges: pd.DataFrame) -> pd.DataFrame:
    """Each provider's backlog as three segments (OpenAI, Anthropic, other customers) with $ · % labels."""
    rows = []
    for _, r in split.iterrows():
        start = 0.0
        for part in ("OpenAI", "Anthropic", "other"):
            amount = r[part]
            label = "Other customers" if part == "other" else part
            rng = ranges[(ranges["provider"] == r["provider"]) & (ranges["lab"] == part)]
            if part != "other" and pd.isna(amount):
                basis, amount = "no sourced estimate (counted in other customers)", 0.0
            elif part == "other":
                basis = "upper bound: a lab's part is unknown" if r["other_is_upper_bound"] else "the remainder"
            else:
                g = rng.iloc[0]
                basis = f"{int(g['n_estimates'])} estimate(s), {money(g['low'], 0)}–{money(g['high'], 0)}"
            share = float(amount) / r["backlog"] * 100
            rows.append(
                {
                    "provider": r["provider"],
                    "part": label,
                    "amount": float(amount),
                    "start": start,
                    "end": start + float(amount),
                    "amount_text": money(amount),
                    "share_text": percent(share),
                    "backlog_text": money(r["backlog"]),
                    "quarter_end": day(r["period_end"]),
                    "basis": basis,
                    # Only segments wide enough for the text get it; the tooltip has every segment's numbers.
                    "label": f"{money(amount, 0)} · {percent(share)}" if share >= 14 else "",
                }
            )
            start += float(amount)
    return pd.DataFrame(rows)


def backlog_snapshot(
    split: pd.DataFrame,
    ranges: pd.DataFrame,
    title: str,
    subtitle: str | Sequence[str] | None = None,
    *,
    source: str | None = None,
    as_of: str | None = None,
) -> alt.LayerChart:
    """One stacked bar per provider (as The Information's chart), $ and % printed on the bars."""
    frame = snapshot_frame(split, ranges)
    order = ["OpenAI", "Anthropic", "Other customers"]
    providers = list(split["provider"])
    base = alt.Chart(frame).encode(
        y=alt.Y("provider:N", sort=providers, title=None, axis=alt.Axis(labelFontWeight="bold")),
        tooltip=[
            alt.Tooltip("provider:N", title="Provider"),
            alt.Tooltip("part:N", title="Customer"),
            alt.Tooltip("amount_text:N", title="Amount"),
            alt.Tooltip("share_text:N", title="Share of the backlog"),
            alt.Tooltip("backlog_text:N", title="Whole backlog"),
            alt.Tooltip("quarter_end:N", title="Quarter end"),
            alt.Tooltip("basis:N", title="Basis"),
        ],
    )
    bars = base.mark_bar(stroke="white", strokeWidth=1).encode(
        x=alt.X("start:Q", title="Backlog at the latest reported quarter (US$ bn)"),
        x2="end:Q",
        color=alt.Color("part:N", scale=color_scale(ENTITY_COLORS, order), title=None),
    )
    text = (
        base.mark_text(fontSize=10, color="white", fontWeight="bold")
        .encode(x=alt.X("mid:Q"), text="label:N")
        .transform_calculate(mid="(datum.start + datum.end) / 2")
    )
    totals = (
        alt.Chart(frame[frame["part"] == "Other customers"])
        .mark_text(align="left", dx=4, fontSize=10, color="#333")
        .encode(y=alt.Y("provider:N", sort=providers), x="end:Q", text="backlog_text:N")
    )
    key = "; ".join(
        f"{r.provider} {money(r.backlog, 0)}: OpenAI {money(r.OpenAI, 0)}, Anthropic {money(r.Anthropic, 0)}"
        for r in split.itertuples()
    )
    chart = alt.layer(bars, text, totals).properties(height=44 * len(providers))
    return finish(chart, title=title, subtitle=subtitle, source=source, as_of=as_of, key_values=key)


def deal_markers(deals: pd.DataFrame) -> pd.DataFrame:
    """One marker per deal (reports of one deal merged): buyer, seller, date, a short name and a stagger row."""
    d = deals.copy()
    d["value"] = pd.to_numeric(d["value_usd_bn"], errors="coerce").fillna(
        pd.to_numeric(d["value_low_usd_bn"], errors="coerce")
    )
    rows = []
    for (buyer, seller, _), g in d.groupby(["buyer", "seller", "group"], sort=False):
        value = g["value"].max()
        rows.append(
            {
                "buyer": buyer,
                "seller": seller,
                "announced": g["announced"].min(),
                "date_text": day(g["announced"].min()),
                "name": f"{buyer} {money(value, 0)}" if pd.notna(value) else f"{buyer}, value n/d",
                "value_text": money(value, 0),
                "status": ", ".join(sorted(set(g["status"].astype(str).str.replace("_", " ")))),
            }
        )
    out = pd.DataFrame(rows).sort_values(["seller", "announced"]).reset_index(drop=True)
    # Each deal of a seller gets its own label line, so labels of deals close in time never overprint.
    out["row"] = out.groupby("seller").cumcount()
    return out


# Stacked panels cannot take their container's width, so they are drawn narrow enough for a phone's column.
SERIES_PANEL_WIDTH = 300


def backlog_series(
    series: pd.DataFrame,
    deals: pd.DataFrame,
    title: str,
    subtitle: str | Sequence[str] | None = None,
    *,
    source: str | None = None,
    as_of: str | None = None,
) -> alt.VConcatChart:
    """One panel per provider: backlog by quarter (dated axis) with each lab deal marked and named."""
    markers = deal_markers(deals) if not deals.empty else pd.DataFrame()
    end = series["period_end"].max()
    if not markers.empty:
        end = max(end, markers["announced"].max())
    domain = [day(series["period_end"].min() - pd.Timedelta(days=20)), day(end + pd.Timedelta(days=20))]
    x = alt.X("period_end:T", title=None, scale=alt.Scale(domain=domain), axis=alt.Axis(format="%b %Y", tickCount=6))
    panels = []
    for provider in series["provider"].unique():
        s = series[series["provider"] == provider].copy()
        s["value_text"] = s["value"].map(money)
        s["range_text"] = [f"{money(lo)}–{money(hi)}" for lo, hi in zip(s["low"], s["high"], strict=True)]
        s["date_text"] = s["period_end"].map(day)
        s["basis_text"] = s["basis"].astype(str).str.replace("_", " ")
        top = float(s["high"].max()) * 1.45
        base = alt.Chart(s).encode(x=x)
        y = alt.Y("value:Q", title="US$ bn", scale=alt.Scale(domain=[0, top]), axis=alt.Axis(tickCount=3))
        line = base.mark_line(
            point=alt.OverlayMarkDef(color=ENTITY_COLORS.get(provider, "#555")),
            color=ENTITY_COLORS.get(provider, "#555"),
        ).encode(
            y=y,
            tooltip=[
                alt.Tooltip("fiscal_label:N", title=f"{provider}, quarter"),
                alt.Tooltip("date_text:N", title="Quarter end"),
                alt.Tooltip("value_text:N", title="Backlog"),
                alt.Tooltip("range_text:N", title="Sources' range"),
                alt.Tooltip("basis_text:N", title="Basis"),
            ],
        )
        band = base.mark_errorbar(color="#888").encode(y=alt.Y("low:Q", title="US$ bn"), y2="high:Q")
        layers = [band, line]
        d = markers[markers["seller"] == provider] if not markers.empty else markers
        if not d.empty:
            color = alt.Color("buyer:N", scale=color_scale(ENTITY_COLORS, list(LABS)), title="Deal signed by")
            tips = [
                alt.Tooltip("name:N", title="Deal"),
                alt.Tooltip("seller:N", title="With"),
                alt.Tooltip("date_text:N", title="Announced"),
                alt.Tooltip("value_text:N", title="Headline value"),
                alt.Tooltip("status:N", title="Status"),
            ]
            deal_x = alt.X("announced:T", scale=alt.Scale(domain=domain))
            rules = (
                alt.Chart(d).mark_rule(strokeDash=[4, 3], strokeWidth=1.5).encode(x=deal_x, color=color, tooltip=tips)
            )
            names = (
                alt.Chart(d)
                .mark_text(align="right", dx=-3, fontSize=10, fontWeight="bold")
                .encode(x=deal_x, y=alt.Y("ypos:Q", scale=alt.Scale(domain=[0, top])), text="name:N", color=color)
                .transform_calculate(ypos=f"{top} * (0.95 - 0.13 * datum.row)")
            )
            layers += [rules, names]
        name = alt.Title(provider, fontSize=12)
        panel = alt.layer(*layers).properties(width=SERIES_PANEL_WIDTH, height=110, title=name)
        panels.append(panel)
    key = "; ".join(
        f"{p}: {money(g['value'].iloc[0], 0)} ({g['fiscal_label'].iloc[0]}) to {money(g['value'].iloc[-1], 0)} "
        f"({g['fiscal_label'].iloc[-1]})"
        for p, g in series.groupby("provider", sort=False)
    )
    chart = alt.vconcat(*panels, spacing=14).resolve_scale(y="independent")
    return finish(chart, title=title, subtitle=subtitle, source=source, as_of=as_of, key_values=key, fit=False)


ALL_FOUR = "All four"


def counter_case_frame(growth: pd.DataFrame, total_label: str = ALL_FOUR) -> pd.DataFrame:
    """Backlog outside the labs a year ago and now, per provider, plus a row adding the providers up (the headline)."""
    g = growth.dropna(subset=["ex_lab_growth_pct"])[
        ["provider", "other_year_ago", "other_now", "ex_lab_growth_pct", "total_growth_pct", "kind"]
    ].copy()
    before, now = g["other_year_ago"].sum(), g["other_now"].sum()
    total = {
        "provider": total_label,
        "other_year_ago": before,
        "other_now": now,
        "ex_lab_growth_pct": (now / before - 1) * 100,
        "total_growth_pct": np.nan,
        "kind": "sum of the rows above",
    }
    out = pd.concat([g, pd.DataFrame([total])], ignore_index=True)
    out["growth_text"] = out["ex_lab_growth_pct"].map(lambda v: f"+{v:.0f}%" if v >= 0 else percent(v))
    out["before_text"] = out["other_year_ago"].map(money)
    out["now_text"] = out["other_now"].map(money)
    out["whole_text"] = out["total_growth_pct"].map(lambda v: "" if pd.isna(v) else f"+{v:.0f}%")
    out["is_total"] = out["provider"] == total_label
    return out


def ex_lab_growth_chart(
    growth: pd.DataFrame,
    title: str,
    subtitle: str | Sequence[str] | None = None,
    *,
    source: str | None = None,
    as_of: str | None = None,
) -> alt.LayerChart:
    """The counter-case: dot-and-arrow rows (year ago → now, backlog outside the labs) and "All four"."""
    frame = counter_case_frame(growth)
    order = list(frame["provider"])
    y = alt.Y("provider:N", sort=order, title=None, axis=alt.Axis(labelFontWeight="bold"))
    tips = [
        alt.Tooltip("provider:N", title="Provider"),
        alt.Tooltip("before_text:N", title="Outside the labs, a year ago"),
        alt.Tooltip("now_text:N", title="Outside the labs, now"),
        alt.Tooltip("growth_text:N", title="Growth outside the labs"),
        alt.Tooltip("whole_text:N", title="Growth of the whole backlog"),
        alt.Tooltip("kind:N", title="How computed"),
    ]
    base = alt.Chart(frame).encode(y=y, tooltip=tips)
    color = alt.condition("datum.is_total", alt.value("#1d2733"), alt.value("#6b7b8c"))
    shaft = base.mark_rule(strokeWidth=2.5).encode(
        x=alt.X("other_year_ago:Q", title=["Backlog owed by customers other than", "OpenAI and Anthropic (US$ bn)"]),
        x2="other_now:Q",
        color=color,
    )
    start = base.mark_point(filled=True, size=70, color="#b9c4d0", opacity=1).encode(x="other_year_ago:Q")
    head = base.mark_point(shape="triangle-right", filled=True, size=150, opacity=1).encode(
        x="other_now:Q", color=color
    )
    label = base.mark_text(align="left", dx=12, fontSize=11, fontWeight="bold").encode(
        x="other_now:Q", text="growth_text:N", color=color
    )
    amounts = (
        alt.Chart(frame[frame["is_total"]])
        .mark_text(dy=-11, fontSize=10, color="#1d2733")
        .encode(y=y, x="mid:Q", text="span:N")
        .transform_calculate(
            mid="(datum.other_year_ago + datum.other_now) / 2",
            span="datum.before_text + ' a year ago → ' + datum.now_text + ' now'",
        )
    )
    total = frame[frame["is_total"]].iloc[0]
    key = f"All four: {total.before_text} a year ago to {total.now_text} now ({total.growth_text}); " + "; ".join(
        f"{r.provider} {r.before_text} to {r.now_text} ({r.growth_text})"
        for r in frame[~frame["is_total"]].itertuples()
    )
    chart = alt.layer(shaft, start, head, label, amounts).properties(height=46 * len(frame))
    return finish(chart, title=title, subtitle=subtitle, source=source, as_of=as_of, key_values=key)


def haircut_chart(
    frame: pd.DataFrame,
    chosen: float,
    title: str,
    subtitle: str | Sequence[str] | None = None,
    *,
    source: str | None = None,
    as_of: str | None = None,
) -> alt.LayerChart:
    data = frame.copy()
    data["haircut_text"] = data["haircut_pct"].map(percent)
    data["left_text"] = data["backlog_after_haircut"].map(money)
    providers = list(data["provider"].unique())
    base = alt.Chart(data).encode(
        x=alt.X("haircut_pct:Q", title="Share of the labs' amounts never paid (%)"),
        y=alt.Y("backlog_after_haircut:Q", title="Backlog left (US$ bn)"),
        color=alt.Color("provider:N", scale=color_scale(ENTITY_COLORS, providers), title=None),
        tooltip=[
            alt.Tooltip("provider:N", title="Provider"),
            alt.Tooltip("haircut_text:N", title="Labs' amounts never paid"),
            alt.Tooltip("left_text:N", title="Backlog left"),
        ],
    )
    rule = (
        alt.Chart(pd.DataFrame({"haircut_pct": [chosen], "text": [f"chosen: {percent(chosen)}"]}))
        .mark_rule(strokeDash=[2, 2], color="#333")
        .encode(x="haircut_pct:Q", tooltip=[alt.Tooltip("text:N", title="Haircut")])
    )
    key = "; ".join(
        f"{p}: {money(g['backlog_after_haircut'].iloc[0], 0)} with nothing cut, "
        f"{money(g['backlog_after_haircut'].iloc[-1], 0)} at {percent(g['haircut_pct'].iloc[-1])}"
        for p, g in data.groupby("provider", sort=False)
    )
    chart = alt.layer(base.mark_line(point=True), rule).properties(height=260)
    return finish(chart, title=title, subtitle=subtitle, source=source, as_of=as_of, key_values=key)


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
    tooltip: list,
    offset: str | None = None,
) -> alt.LayerChart:
    """Bars with a whisker for the range (no title: the caller finishes the chart)."""
    enc_y = {"y": alt.Y(f"{label}:N", sort=None, title=None)}
    if offset:
        enc_y["yOffset"] = alt.YOffset(f"{offset}:N")
    base = alt.Chart(frame).encode(**enc_y)
    enc = {"x": alt.X(f"{value}:Q", title=x_title), "tooltip": tooltip}
    if color_field:
        enc["color"] = alt.Color(
            f"{color_field}:N", scale=color_scale(colors or {}, list(colors or frame[color_field].unique())), title=None
        )
    bars = base.mark_bar(opacity=0.9).encode(**enc)
    whiskers = base.mark_errorbar(color="#222", ticks=True).encode(
        x=alt.X(f"{low}:Q", title=x_title), x2=f"{high}:Q", tooltip=tooltip
    )
    return alt.layer(bars, whiskers).properties(height=max(80, 26 * len(frame)))


# Plain names for the models' inputs, and how their ranges read ("Capacity, 12–18 GW").
ASSUMPTIONS: dict[str, tuple[str, str]] = {
    "gw": ("Capacity", "{lo:g}–{hi:g} GW"),
    "cost_per_gw": ("Capital cost per GW", "${lo:g}–{hi:g}bn"),
    "useful_life_years": ("Server life", "{lo:g}–{hi:g} years"),
    "required_return_pct": ("Return on capital", "{lo:g}–{hi:g}% a year"),
    "opex_pct_of_capex": ("Operating cost", "{lo:g}–{hi:g}% of capital a year"),
    "seller_gross_margin_pct": ("Seller's gross margin", "{lo:g}–{hi:g}%"),
    "app_gross_margin_pct": ("Application gross margin", "{lo:g}% to {hi:g}%"),
    "model_gross_margin_pct": ("Model provider's gross margin", "{lo:g}–{hi:g}%"),
    "model_share_of_app_cost_pct": ("Model fees' share of an app's costs", "{lo:g}–{hi:g}%"),
    "cloud_share_of_model_cost_pct": ("Cloud's share of a model provider's costs", "{lo:g}–{hi:g}%"),
    "hardware_share_of_cloud_cost_pct": ("Chips' share of a cloud's costs", "{lo:g}–{hi:g}%"),
}


def assumption_name(name: str) -> str:
    """A model input in plain words: 'cost_per_gw' -> 'Capital cost per GW' (unknown names lose underscores)."""
    return ASSUMPTIONS.get(name, (name.replace("_", " ").capitalize(), ""))[0]


def assumption_label(name: str, low: float, high: float) -> str:
    """The input and its range in one label: 'Server life, 5–6 years'."""
    plain, pattern = ASSUMPTIONS.get(name, (assumption_name(name), "{lo:g}–{hi:g}"))
    return f"{plain}, {pattern.format(lo=low, hi=high).replace('-', '−')}"


def verdict_thresholds(claim_id: str, record_key: str) -> list[float]:
    """The thresholds the claims ledger compares ``record_key`` with in ``claim_id``'s rule (declared once there)."""
    from aicompute.analysis import verdicts

    found: list[float] = []

    def walk(node: object) -> None:
        if isinstance(node, verdicts.Condition):
            quantity = node.quantity
            if getattr(quantity, "key", None) == record_key:
                found.append(float(node.threshold))
        for child in getattr(node, "conditions", ()) or ():
            walk(child)
        for step in getattr(node, "steps", ()) or ():
            walk(step[0])

    walk(verdicts.RULES[claim_id].test)
    return sorted(set(found))


# An axis label "name, range" drawn as two lines, the name above its range.
TWO_LINES = "split(datum.label, ', ')"


def tornado_frame(frame: pd.DataFrame, fmt=money) -> pd.DataFrame:
    """Two bars per input (its low and its high end), labelled with the input's range in plain words."""
    rows = []
    for r in frame.itertuples():
        label = assumption_label(r.assumption, r.low_value, r.high_value)
        for end, setting, result in (
            ("low end of its range", r.low_value, r.at_low),
            ("high end of its range", r.high_value, r.at_high),
        ):
            rows.append(
                {
                    "assumption": label,
                    "end": end,
                    "value": float(result),
                    "base": float(r.base),
                    "setting_text": f"{setting:g}",
                    "result_text": fmt(result),
                    "change_text": fmt(float(result) - float(r.base)),
                }
            )
    return pd.DataFrame(rows)


def tornado_chart(
    frame: pd.DataFrame,
    base_value: float,
    x_title: str,
    title: str,
    subtitle: str | Sequence[str] | None = None,
    *,
    thresholds: Sequence[tuple[float, str]] = (),
    fmt=money,
    axis_format: str | None = None,
    source: str | None = None,
    as_of: str | None = None,
) -> alt.LayerChart:
    """Each input at the low and the high end of its range, the others at the central case; a line per verdict
    threshold (``thresholds``: value on this axis and its label)."""
    data = tornado_frame(frame, fmt)
    order = list(dict.fromkeys(data["assumption"]))
    axis = alt.Axis(format=axis_format) if axis_format else alt.Axis()
    extent = [*data["value"], base_value, *(t for t, _ in thresholds)]
    domain = [min(0.0, min(extent)), max(extent) * 1.05]
    bars = (
        alt.Chart(data)
        .mark_bar(height=14)
        .encode(
            # "Capital cost per GW, $35–100bn" on two lines: the labels leave the bars room on a phone.
            y=alt.Y("assumption:N", sort=order, title=None, axis=alt.Axis(labelLimit=280, labelExpr=TWO_LINES)),
            x=alt.X("value:Q", title=x_title, axis=axis, scale=alt.Scale(domain=domain)),
            x2="base:Q",
            color=alt.Color(
                "end:N", scale=alt.Scale(domain=list(END_COLORS), range=list(END_COLORS.values())), title=None
            ),
            tooltip=[
                alt.Tooltip("assumption:N", title="Assumption, range"),
                alt.Tooltip("end:N", title="Set to"),
                alt.Tooltip("setting_text:N", title="Value"),
                alt.Tooltip("result_text:N", title="Result"),
                alt.Tooltip("change_text:N", title="Change from the central case"),
            ],
        )
    )
    centre = pd.DataFrame({"x": [base_value], "text": [f"central case {fmt(base_value)}"]})
    rule = (
        alt.Chart(centre)
        .mark_rule(color="#111", strokeWidth=1.5)
        .encode(x="x:Q", tooltip=[alt.Tooltip("text:N", title="Central case")])
    )
    layers = [bars, rule]
    still = data.groupby("assumption").filter(lambda g: (g["value"] - g["base"]).abs().max() < 1e-9)
    if not still.empty:
        layers.append(
            alt.Chart(still.drop_duplicates("assumption"))
            .mark_text(align="left", dx=5, fontSize=10, color="#555", fontStyle="italic")
            .encode(y=alt.Y("assumption:N", sort=order), x="base:Q", text=alt.value("no effect"))
        )
    if thresholds:
        lines = pd.DataFrame({"x": [t for t, _ in thresholds], "text": [text for _, text in thresholds]})
        layers.append(
            alt.Chart(lines)
            .mark_rule(color="#b2182b", strokeDash=[5, 3], strokeWidth=1.5)
            .encode(x="x:Q", tooltip=[alt.Tooltip("text:N", title="Verdict threshold")])
        )
        # Each threshold's label runs up beside its line, so close thresholds never overprint.
        layers.append(
            alt.Chart(lines)
            .mark_text(angle=270, align="right", baseline="bottom", dy=-3, fontSize=10, color="#b2182b")
            .encode(x="x:Q", y=alt.value(2), text="text:N")
        )
    key = "; ".join(
        f"{r.assumption}: {fmt(r.at_low)} to {fmt(r.at_high)}"
        for r in frame.assign(
            assumption=[
                assumption_label(*a)
                for a in zip(frame["assumption"], frame["low_value"], frame["high_value"], strict=True)
            ]
        ).itertuples()
    )
    chart = alt.layer(*layers).properties(height=38 * len(order) + (14 if thresholds else 0))
    return finish(
        chart,
        title=title,
        subtitle=subtitle,
        source=source,
        as_of=as_of,
        key_values=f"Central case {fmt(base_value)}. {key}",
    )


# ---------------------------------------------------------------------------------------------------------------------
# Chapter 2: circular investment — the money as a three-column flow

CONFIRMED = "confirmed"
UNCONFIRMED = "conditional or unconfirmed"
FIRM_STATUSES = frozenset({"funded", "committed"})
_NEUTRAL = "#bdbdbd"

# Layout of the flow chart, in pixels: plot height, node width, gap between nodes, and the columns' x positions (0–1).
FLOW_HEIGHT = 460
NODE_WIDTH = {"investor": 0.022, "lab": 0.085, "seller": 0.022}
NODE_GAP = 13.0
LAB_GAP = 40.0
COLUMN_X = {"investor": 0.2, "lab": 0.5, "seller": 0.79}


def flow_links(segments: pd.DataFrame, labs: Sequence[str] = LABS) -> pd.DataFrame:
    """Money into and out of the labs, one row per payer, payee and certainty (amounts summed, USD bn).

    stage is 'in' (investor → lab) or 'out' (lab → seller of compute); certainty is 'confirmed' (funded or committed)
    or 'conditional or unconfirmed'; amounts not disclosed are kept with amount NaN (drawn as a dotted thread).
    """
    seg = segments[segments["payee"].isin(labs) | segments["payer"].isin(labs)].copy()
    if seg.empty:
        raise ValueError("flow_links: no segment has a lab as payer or payee")
    seg["stage"] = np.where(seg["payee"].isin(labs), "in", "out")
    seg["certainty"] = np.where(seg["status"].isin(FIRM_STATUSES), CONFIRMED, UNCONFIRMED)
    seg["disclosed"] = seg["amount"].notna()
    links = seg.groupby(["stage", "payer", "payee", "certainty", "disclosed"], as_index=False, sort=False).agg(
        amount=("amount", lambda s: s.sum(min_count=1)),
        low=("amount_low", lambda s: s.sum(min_count=1)),
        high=("amount_high", lambda s: s.sum(min_count=1)),
        deals=("group", "nunique"),
        kinds=("type", lambda s: ", ".join(sorted({FLOW_LABELS.get(t, t).lower() for t in s}))),
        statuses=("status", lambda s: ", ".join(sorted(set(s.astype(str).str.replace("_", " "))))),
        sources=("sources", lambda s: ", ".join(s.astype(str))),
    )
    return links


def _node_order(links: pd.DataFrame, column: str, lab_order: Sequence[str]) -> list[str]:
    """Investors (or sellers) ordered by the lab they deal with most, then by size, so bands cross as little as
    possible; the lumped 'Other investors' goes last."""
    side = "payer" if column == "investor" else "payee"
    lab_side = "payee" if column == "investor" else "payer"
    disclosed = links[links["disclosed"]]
    total = disclosed.groupby(side)["amount"].sum()
    names = list(dict.fromkeys(links[side]))
    first_lab = disclosed[disclosed[lab_side] == lab_order[0]].groupby(side)["amount"].sum()
    share = (first_lab / total).reindex(names).fillna(0.5)

    def key(name: str) -> tuple:
        return (name.startswith("Other"), -round(share.get(name, 0.5), 2), -total.get(name, 0.0))

    return sorted(names, key=key)


def flow_layout(
    links: pd.DataFrame, height: float = FLOW_HEIGHT, labs: Sequence[str] = LABS
) -> tuple[pd.DataFrame, pd.DataFrame, float]:
    """Nodes (column, top, bottom) and link bands (y at both ends) of the three-column flow, in pixels from the top.

    One scale for every column — pixels per USD bn — so a band's width is its amount everywhere. Returns the nodes,
    the links with ``width``, ``y0_top`` (at the payer) and ``y1_top`` (at the payee), and the scale.
    """
    disclosed = links[links["disclosed"]]
    labs = [lab for lab in labs if lab in set(links["payer"]) | set(links["payee"])]
    columns = {
        "investor": _node_order(links[links["stage"] == "in"], "investor", labs),
        "lab": list(labs),
        "seller": _node_order(links[links["stage"] == "out"], "seller", labs),
    }
    out_of = disclosed.groupby("payer")["amount"].sum()
    into = disclosed.groupby("payee")["amount"].sum()
    size = {
        "investor": {n: out_of.get(n, 0.0) for n in columns["investor"]},
        "lab": {n: max(into.get(n, 0.0), out_of.get(n, 0.0)) for n in columns["lab"]},
        "seller": {n: into.get(n, 0.0) for n in columns["seller"]},
    }
    gaps = {c: (LAB_GAP if c == "lab" else NODE_GAP) * (len(columns[c]) - 1) for c in columns}
    scale = min((height - gaps[c]) / sum(size[c].values()) for c in columns if sum(size[c].values()) > 0)
    min_px = 3.0  # a node with only undisclosed amounts still shows
    nodes = []
    for column, names in columns.items():
        gap = LAB_GAP if column == "lab" else NODE_GAP
        heights = [max(size[column][n] * scale, min_px) for n in names]
        top = (height - sum(heights) - gap * (len(names) - 1)) / 2  # columns centred on one another
        for name, h in zip(names, heights, strict=True):
            nodes.append({"node": name, "column": column, "top": top, "bottom": top + h, "amount": size[column][name]})
            top += h + gap
    nodes = pd.DataFrame(nodes)
    pos = {(r.column, r.node): r for r in nodes.itertuples()}
    rank = {(r.column, r.node): i for i, r in enumerate(nodes.itertuples())}
    bands = links.copy()
    bands["source_col"] = np.where(bands["stage"] == "in", "investor", "lab")
    bands["target_col"] = np.where(bands["stage"] == "in", "lab", "seller")
    bands["width"] = bands["amount"].fillna(0.0) * scale
    # Stack the bands leaving each node in the order of their targets, and arriving in the order of their sources.
    bands["source_rank"] = [rank[(c, n)] for c, n in zip(bands["source_col"], bands["payer"], strict=True)]
    bands["target_rank"] = [rank[(c, n)] for c, n in zip(bands["target_col"], bands["payee"], strict=True)]
    bands["certainty_rank"] = (bands["certainty"] != CONFIRMED).astype(int)
    bands["y0_top"] = np.nan
    bands["y1_top"] = np.nan
    for ends, node_col, rank_col, y_col in (
        ("source_col", "payer", "target_rank", "y0_top"),
        ("target_col", "payee", "source_rank", "y1_top"),
    ):
        for (column, name), g in bands.groupby([ends, node_col], sort=False):
            node = pos[(column, name)]
            g = g.sort_values([rank_col, "certainty_rank"], kind="stable")
            offsets = g["width"].cumsum() - g["width"]
            bands.loc[g.index, y_col] = node.top + offsets
    # An undisclosed amount is a thread from the middle of one node to the middle of the other.
    undisclosed = ~bands["disclosed"]
    for y_col, col, name in (("y0_top", "source_col", "payer"), ("y1_top", "target_col", "payee")):
        bands.loc[undisclosed, y_col] = [
            (pos[(c, n)].top + pos[(c, n)].bottom) / 2
            for c, n in zip(bands.loc[undisclosed, col], bands.loc[undisclosed, name], strict=True)
        ]
    bands["link"] = range(len(bands))
    return nodes, bands.reset_index(drop=True), scale


def _band_points(bands: pd.DataFrame, steps: int = 16) -> pd.DataFrame:
    """Each band as a smooth S-curve sampled left to right: x, top and bottom at each step (for an area mark)."""
    t = np.linspace(0.0, 1.0, steps)
    ease = t * t * (3 - 2 * t)
    rows = []
    for b in bands.itertuples():
        x0 = COLUMN_X[b.source_col] + NODE_WIDTH[b.source_col]
        x1 = COLUMN_X[b.target_col]
        top = b.y0_top + (b.y1_top - b.y0_top) * ease
        for xi, yi in zip(x0 + (x1 - x0) * t, top, strict=True):
            rows.append({"link": b.link, "x": round(xi, 4), "top": round(yi, 2), "bottom": round(yi + b.width, 2)})
    # Only what the marks need per point; the tooltip's words are looked up once per band (keeps the page small).
    return pd.DataFrame(rows).merge(bands[["link", "color", "certainty"]], on="link")


def _entity_color(name: str) -> str:
    return ENTITY_COLORS.get(name, _NEUTRAL)


def deal_graph(
    nodes: pd.DataFrame | None,
    segments: pd.DataFrame,
    title: str,
    subtitle: str | Sequence[str] | None = None,
    *,
    source: str | None = None,
    as_of: str | None = None,
    label_at_least: float = 25.0,
) -> alt.LayerChart:
    """The circular money as a left-to-right flow: investors → the labs → sellers of compute.

    Band width is the amount (one scale for all columns), colour the payer's entity colour, pale dashed bands are
    conditional or unconfirmed money, dotted threads are flows whose amount is not disclosed; amounts of
    ``label_at_least`` USD bn or more are printed on the bands. ``nodes`` (the old force layout) is not used.
    """
    links = flow_links(segments)
    node_frame, bands, _ = flow_layout(links)
    bands["color"] = bands["payer"].map(_entity_color)
    bands["amount_text"] = [
        money(a, 0) if lo == hi or pd.isna(lo) else f"{money(a, 0)} ({money(lo, 0)}–{money(hi, 0)})"
        for a, lo, hi in zip(bands["amount"], bands["low"], bands["high"], strict=True)
    ]
    bands["route"] = bands["payer"] + " → " + bands["payee"]
    bands["source_text"] = bands["sources"].map(lambda s: sources_text(s.split(", "), limit=3))
    points = _band_points(bands[bands["disclosed"]])
    tip_fields = ["route", "amount_text", "kinds", "statuses", "deals", "source_text"]
    lookup = alt.LookupData(data=bands[["link", *tip_fields]], key="link", fields=tip_fields)
    x = alt.X("x:Q", axis=None, scale=alt.Scale(domain=[0, 1]))
    y_scale = alt.Scale(domain=[FLOW_HEIGHT, 0])
    tips = [
        alt.Tooltip("route:N", title="Money from → to"),
        alt.Tooltip("amount_text:N", title="Amount"),
        alt.Tooltip("kinds:N", title="Kind"),
        alt.Tooltip("certainty:N", title="Certainty"),
        alt.Tooltip("statuses:N", title="Status"),
        alt.Tooltip("deals:Q", title="Deals", format="d"),
        alt.Tooltip("source_text:N", title="Reported by"),
    ]
    color = alt.Color("color:N", scale=None)
    firm = (
        alt.Chart(points[points["certainty"] == CONFIRMED])
        .transform_lookup(lookup="link", from_=lookup)
        .mark_area(opacity=0.6, interpolate="monotone")
        .encode(
            x=x, y=alt.Y("top:Q", scale=y_scale, axis=None), y2="bottom:Q", detail="link:N", color=color, tooltip=tips
        )
    )
    loose = (
        alt.Chart(points[points["certainty"] != CONFIRMED])
        .transform_lookup(lookup="link", from_=lookup)
        .mark_area(fillOpacity=0.16, strokeDash=[4, 3], strokeWidth=1, strokeOpacity=0.9, interpolate="monotone")
        .encode(
            x=x,
            y=alt.Y("top:Q", scale=y_scale),
            y2="bottom:Q",
            detail="link:N",
            color=color,
            stroke=alt.Stroke("color:N", scale=None),
            tooltip=tips,
        )
    )
    threads_data = _band_points(bands[~bands["disclosed"]].assign(width=0.0)) if (~bands["disclosed"]).any() else None
    layers = [firm, loose]
    if threads_data is not None:
        layers.append(
            alt.Chart(threads_data)
            .transform_lookup(lookup="link", from_=lookup)
            .mark_line(strokeDash=[1.5, 2.5], strokeWidth=1.5, opacity=0.9, interpolate="monotone")
            .encode(x=x, y=alt.Y("top:Q", scale=y_scale), detail="link:N", color=color, tooltip=tips)
        )
    nf = node_frame.copy()
    nf["x"] = nf["column"].map(COLUMN_X)
    nf["x2"] = nf["x"] + nf["column"].map(NODE_WIDTH)
    nf["color"] = nf["node"].map(_entity_color)
    nf["mid"] = (nf["top"] + nf["bottom"]) / 2
    into = links[links["disclosed"] & (links["stage"] == "in")].groupby("payee")["amount"].sum()
    out_of = links[links["disclosed"] & (links["stage"] == "out")].groupby("payer")["amount"].sum()
    nf["total_text"] = [
        f"in {money(into.get(n, 0), 0)} · out {money(out_of.get(n, 0), 0)}"
        if c == "lab"
        else money(a, 0)
        if a > 0
        else "not disclosed"
        for n, c, a in zip(nf["node"], nf["column"], nf["amount"], strict=True)
    ]
    nf["role"] = nf["column"].map({"investor": "Investor", "lab": "Lab", "seller": "Seller of compute"})
    # Two lines where the node is tall enough, else one, so neighbouring labels never overprint.
    nf["label"] = [
        f"{n}\n{t}" if b - tp >= 26 else f"{n} {t}"
        for n, t, tp, b in zip(nf["node"], nf["total_text"], nf["top"], nf["bottom"], strict=True)
    ]
    nf["in_text"] = [f"in {money(into.get(n, 0), 0)}" for n in nf["node"]]
    nf["out_text"] = [f"out {money(out_of.get(n, 0), 0)}" for n in nf["node"]]
    node_tips = [
        alt.Tooltip("node:N", title="Company"),
        alt.Tooltip("role:N", title="Role here"),
        alt.Tooltip("total_text:N", title="Disclosed amounts"),
    ]
    layers.append(
        alt.Chart(nf)
        .mark_rect(stroke="#222", strokeWidth=0.5)
        .encode(x=x, x2="x2:Q", y=alt.Y("top:Q", scale=y_scale), y2="bottom:Q", color=color, tooltip=node_tips)
    )
    for column, align, x_field in (("investor", "right", "x"), ("seller", "left", "x2")):
        layers.append(
            alt.Chart(nf[nf["column"] == column])
            .mark_text(
                align=align,
                dx=-4 if align == "right" else 4,
                fontSize=10,
                baseline="middle",
                lineBreak="\n",
                lineHeight=11,
            )
            .encode(
                x=alt.X(f"{x_field}:Q", scale=alt.Scale(domain=[0, 1]), axis=None),
                y=alt.Y("mid:Q", scale=y_scale),
                text="label:N",
                tooltip=node_tips,
            )
        )
    # The labs' names run up their (wider) bars, in white, with what flows in and out; in a phone's column a bar is too
    # narrow for three lines, so it carries the name alone (in and out are in its tooltip).
    labs_nf = nf[nf["column"] == "lab"].copy()
    labs_nf["x_mid"] = labs_nf["x"] + NODE_WIDTH["lab"] / 2
    narrow = f"width < {NARROW_PX}"
    for field, dy, weight, size in (
        ("node", -12, "bold", 12),
        ("in_text", 2, "normal", 10),
        ("out_text", 14, "normal", 10),
    ):
        shown = f"datum.{field}" if field == "node" else f"{narrow} ? '' : datum.{field}"
        layers.append(
            alt.Chart(labs_nf)
            .transform_calculate(shown=shown)
            .mark_text(
                align="center",
                baseline="middle",
                angle=270,
                dy=alt.ExprRef(f"{narrow} ? 0 : {dy}"),
                fontSize=size,
                fontWeight=weight,
                color="white",
            )
            .encode(
                x=alt.X("x_mid:Q", scale=alt.Scale(domain=[0, 1]), axis=None),
                y=alt.Y("mid:Q", scale=y_scale),
                text="shown:N",
                tooltip=node_tips,
            )
        )
    # Amounts sit where the bands are apart: near the investors on the left, near the sellers on the right.
    # ... and only on bands at least as tall as the text, so a label always sits inside its own band.
    big = bands[bands["disclosed"] & (bands["amount"] >= label_at_least) & (bands["width"] >= 11)].copy()
    at = np.where(big["stage"] == "in", 0.3, 0.74)
    ease = at * at * (3 - 2 * at)
    x0 = big["source_col"].map(COLUMN_X) + big["source_col"].map(NODE_WIDTH)
    big["x_mid"] = x0 + (big["target_col"].map(COLUMN_X) - x0) * at
    big["y_mid"] = big["y0_top"] + (big["y1_top"] - big["y0_top"]) * ease + big["width"] / 2
    big["short"] = big["amount"].map(lambda a: money(a, 0))
    layers.append(
        alt.Chart(big)
        .mark_text(fontSize=10, fontWeight="bold", color="#111", baseline="middle")
        .encode(
            x=alt.X("x_mid:Q", scale=alt.Scale(domain=[0, 1]), axis=None),
            y=alt.Y("y_mid:Q", scale=y_scale),
            text="short:N",
            tooltip=tips,
        )
    )
    heads = pd.DataFrame(
        {
            "x": [COLUMN_X[c] + NODE_WIDTH[c] / 2 for c in ("investor", "lab", "seller")],
            # Short lines, so the three heads stay apart in a phone's column (money flows left to right).
            "text": ["Investors\n(equity) →", "The labs →", "Sellers of\ncompute"],
        }
    )
    layers.append(
        alt.Chart(heads)
        .mark_text(fontSize=11, fontWeight="bold", color="#555", baseline="bottom", lineBreak="\n", lineHeight=12)
        .encode(x=x, y=alt.value(-42), text="text:N")
    )
    top = bands[bands["disclosed"]].nlargest(5, "amount")
    key = (
        "Money flows left to right. Largest flows: "
        + "; ".join(f"{r.route} {money(r.amount, 0)} ({r.certainty})" for r in top.itertuples())
        + f". {int((~bands['disclosed']).sum())} flows have no disclosed amount."
    )
    # Room either side: the outer columns' labels hang outside the plot, past what the fit measures on a phone.
    chart = alt.layer(*layers).properties(height=FLOW_HEIGHT, padding={"left": 18, "right": 18, "top": 5, "bottom": 5})
    return finish(chart, title=title, subtitle=subtitle, source=source, as_of=as_of, key_values=key)


def cumulative_chart(
    frame: pd.DataFrame,
    title: str,
    subtitle: str | Sequence[str] | None = None,
    *,
    source: str | None = None,
    as_of: str | None = None,
) -> alt.Chart:
    data = frame.copy()
    data["kind"] = data["type"].map(lambda t: FLOW_LABELS.get(t, t))
    data["quarter_text"] = data["quarter"].map(day)
    data["cumulative_text"] = data["cumulative"].map(money)
    kinds = [FLOW_LABELS[t] for t in FLOW_COLORS if t in set(data["type"])]
    colors = {FLOW_LABELS[t]: c for t, c in FLOW_COLORS.items()}
    chart = (
        alt.Chart(data)
        .mark_area(opacity=0.9)
        .encode(
            x=alt.X("quarter:T", title=None, axis=alt.Axis(format="%b %Y")),
            y=alt.Y("cumulative:Q", stack=True, title="Cumulative announced dollars (US$ bn)"),
            color=alt.Color("kind:N", scale=color_scale(colors, kinds), title=None),
            order=alt.Order("kind:N"),
            tooltip=[
                alt.Tooltip("quarter_text:N", title="Quarter end"),
                alt.Tooltip("kind:N", title="Kind of money"),
                alt.Tooltip("cumulative_text:N", title="Cumulative amount"),
            ],
        )
        .properties(height=260)
    )
    last = data[data["quarter"] == data["quarter"].max()]
    key = f"By {day(data['quarter'].max())}: " + "; ".join(
        f"{r.kind} {money(r.cumulative, 0)}" for r in last.itertuples()
    )
    return finish(chart, title=title, subtitle=subtitle, source=source, as_of=as_of, key_values=key)


def round_trip_chart(
    frame: pd.DataFrame,
    title: str,
    subtitle: str | Sequence[str] | None = None,
    *,
    source: str | None = None,
    as_of: str | None = None,
) -> alt.LayerChart:
    """Each investor–lab pair: equity invested beside the lab's spend committed back (bars side by side)."""
    data = frame.copy()
    data["flow"] = data["flow"].str.capitalize()
    data["amount_text"] = data["usd_bn"].map(money)
    data["ratio_text"] = data["ratio"].map(lambda v: "no round trip" if pd.isna(v) or v == 0 else f"{v:.1f}×")
    flows = list(dict.fromkeys(data["flow"]))
    chart = range_bars(
        data,
        label="pair",
        value="usd_bn",
        low="low",
        high="high",
        color_field="flow",
        colors=dict(zip(flows, PAIR_COLORS, strict=False)),
        x_title="US$ bn",
        offset="flow",
        tooltip=[
            alt.Tooltip("pair:N", title="Investor → lab"),
            alt.Tooltip("flow:N", title="Money"),
            alt.Tooltip("amount_text:N", title="Amount"),
            alt.Tooltip("ratio_text:N", title="Spend back per dollar invested"),
        ],
    ).properties(height=alt.Step(11))
    trips = data.drop_duplicates("pair")
    key = "; ".join(f"{r.pair}: {r.ratio_text}" for r in trips.itertuples())
    return finish(chart, title=title, subtitle=subtitle, source=source, as_of=as_of, key_values=key)


# ---------------------------------------------------------------------------------------------------------------------
# Chapter 3: pass-through

# Layers whose split rests on one of our ASSUMPTION shares (of cost paid on), not on a sourced margin.
ASSUMED_LAYERS = frozenset({"application's other costs", "model provider's other costs", "cloud", "chip makers"})
_LAYER_NAMES = {
    "application": "Application keeps (gross margin)",
    "application's other costs": "Application's other costs",
    "model provider": "Model provider keeps (gross margin)",
    "model provider's other costs": "Model provider's other costs",
    "cloud": "Cloud keeps",
    "chip makers": "Chip makers get",
}


def waterfall_frame(flow: pd.DataFrame, assumed_layers: Iterable[str] = ASSUMED_LAYERS) -> pd.DataFrame:
    """The dollar from the end customer, then one step down per layer by what it keeps: start, end, cents labels.

    The first row is the whole dollar; each next row runs from the running total down by the layer's ``kept``. The
    steps add up to the dollar, so the last step ends at zero (raises if the layers do not add up to 1.00).
    """
    assumed = set(assumed_layers)
    total = float(flow["kept"].sum())
    if abs(total - 1.0) > 1e-6:
        raise ValueError(f"waterfall: the layers keep {total:.4f} of the dollar, not 1.00")
    rows = [{"step": "End customer pays", "start": 1.0, "end": 0.0, "kept": 1.0, "basis": "total", "received": 1.0}]
    level = 1.0
    for r in flow.itertuples():
        rows.append(
            {
                "step": _LAYER_NAMES.get(r.layer, r.layer.capitalize()),
                "start": level,
                "end": level - float(r.kept),
                "kept": float(r.kept),
                "basis": "assumed" if r.layer in assumed else "sourced",
                "received": float(r.received),
            }
        )
        level -= float(r.kept)
    out = pd.DataFrame(rows)
    out["cents_text"] = out["kept"].map(cents)
    out["received_text"] = out["received"].map(cents)
    out["basis_text"] = out["basis"].map(
        {
            "total": "the whole dollar",
            "sourced": "sourced gross margin (median of reported figures)",
            "assumed": "rests on an assumed share of cost (ASSUMPTION, see parameters)",
        }
    )
    out["wide"] = (out["start"] - out["end"]) >= 0.09
    return out


def waterfall_chart(
    frame: pd.DataFrame,
    title: str,
    subtitle: str | Sequence[str] | None = None,
    *,
    assumed_layers: Iterable[str] = ASSUMED_LAYERS,
    source: str | None = None,
    as_of: str | None = None,
) -> alt.LayerChart:
    """A true waterfall from $1.00: each layer's take is one step down, in cents; assumed layers pale and dashed."""
    data = waterfall_frame(frame, assumed_layers)
    order = list(data["step"])
    base = alt.Chart(data).encode(
        y=alt.Y("step:N", sort=order, title=None, axis=alt.Axis(labelLimit=260)),
        tooltip=[
            alt.Tooltip("step:N", title="Layer"),
            alt.Tooltip("received_text:N", title="Receives of each dollar"),
            alt.Tooltip("cents_text:N", title="Keeps of each dollar"),
            alt.Tooltip("basis_text:N", title="Rests on"),
        ],
    )
    scale = alt.Scale(domain=[0, 1])
    bars = base.mark_bar(height=18, strokeWidth=1.2).encode(
        x=alt.X(
            "end:Q",
            title="Cents of each dollar the end customer pays",
            scale=scale,
            axis=alt.Axis(format=".0%", labelExpr="round(datum.value * 100) + '¢'"),
        ),
        x2="start:Q",
        color=alt.Color(
            "basis:N",
            scale=alt.Scale(
                domain=["total", "sourced", "assumed"],
                range=[PART_COLORS["total"], PART_COLORS["sourced"], PART_COLORS["assumed"]],
            ),
            title=None,
            legend=alt.Legend(
                labelExpr="{'total': 'the dollar', 'sourced': 'sourced margin', "
                "'assumed': 'assumed share (pale, dashed)'}[datum.label]",
            ),
        ),
        stroke=alt.condition("datum.basis == 'assumed'", alt.value("#6b7b8c"), alt.value(None)),
        strokeDash=alt.condition("datum.basis == 'assumed'", alt.value([3, 2]), alt.value([1, 0])),
    )
    # Connectors: the running total carried from one step to the next.
    links = data.iloc[:-1][["step", "end"]].assign(next_step=order[1:])
    connector = (
        alt.Chart(links)
        .mark_rule(color="#888", strokeDash=[2, 2])
        .encode(x=alt.X("end:Q", scale=scale), y=alt.Y("step:N", sort=order), y2="next_step:N")
    )
    inside = (
        base.mark_text(fontSize=11, fontWeight="bold")
        .encode(
            x=alt.X("mid:Q", scale=scale),
            text="cents_text:N",
            color=alt.condition("datum.basis == 'assumed'", alt.value("#1d2733"), alt.value("white")),
        )
        .transform_filter("datum.wide")
        .transform_calculate(mid="(datum.start + datum.end) / 2")
    )
    outside = (
        base.mark_text(fontSize=11, fontWeight="bold", align="left", dx=4, color="#1d2733")
        .encode(x=alt.X("start:Q", scale=scale), text="cents_text:N")
        .transform_filter("!datum.wide")
    )
    key = "Of $1.00: " + "; ".join(f"{r.step} {r.cents_text}" for r in data.iloc[1:].itertuples())
    chart = alt.layer(bars, connector, inside, outside).properties(height=34 * len(data))
    return finish(chart, title=title, subtitle=subtitle, source=source, as_of=as_of, key_values=key)


def app_margin_chart(
    frame: pd.DataFrame,
    title: str,
    subtitle: str | Sequence[str] | None = None,
    *,
    source: str | None = None,
    as_of: str | None = None,
) -> alt.LayerChart:
    """Each application's latest reported gross margin, negative ones in red."""
    data = frame.copy()
    data["margin_text"] = data["gross_margin_pct"].map(percent)
    data["basis_text"] = data["gross_margin_basis"].astype(str).str.replace("_", " ")
    data["source_text"] = data["sources"].map(lambda s: sources_text(str(s).split(", "), limit=3))
    chart = range_bars(
        data,
        label="company",
        value="gross_margin_pct",
        low="low",
        high="high",
        color_field="sign",
        colors=SIGN_COLORS,
        x_title="Gross margin (%)",
        tooltip=[
            alt.Tooltip("company:N", title="Application"),
            alt.Tooltip("margin_text:N", title="Gross margin"),
            alt.Tooltip("basis_text:N", title="Basis"),
            alt.Tooltip("source_text:N", title="Reported by"),
        ],
    )
    key = "; ".join(f"{r.company} {r.margin_text}" for r in data.itertuples())
    return finish(chart, title=title, subtitle=subtitle, source=source, as_of=as_of, key_values=key)


# ---------------------------------------------------------------------------------------------------------------------
# Chapter 4: absorption


def cost_stack_chart(
    frame: pd.DataFrame,
    title: str,
    subtitle: str | Sequence[str] | None = None,
    *,
    source: str | None = None,
    as_of: str | None = None,
) -> alt.LayerChart:
    order = ["depreciation", "operating cost", "return on capital", "gross margin of seller"]
    data = frame[frame["value"] > 0].copy()
    data["part_text"] = data["part"].str.capitalize()
    data["value_text"] = data["value"].map(money)
    data["total"] = data.groupby("case")["value"].transform("sum")
    data["total_text"] = data["total"].map(money)
    data["end"] = data.sort_values("order").groupby("case")["value"].cumsum()
    data["start"] = data["end"] - data["value"]
    data["label"] = [t if v >= 25 else "" for t, v in zip(data["value_text"], data["value"], strict=True)]
    cases = list(dict.fromkeys(frame["case"]))
    colors = {k.capitalize(): v for k, v in PART_COLORS.items()}
    base = alt.Chart(data).encode(
        x=alt.X("case:N", sort=cases, title=None, axis=alt.Axis(labelAngle=0, labelLimit=240)),
        tooltip=[
            alt.Tooltip("case:N", title="Case"),
            alt.Tooltip("part_text:N", title="Part"),
            alt.Tooltip("value_text:N", title="Revenue needed a year"),
            alt.Tooltip("total_text:N", title="All parts"),
            alt.Tooltip("assumptions:N", title="Assumptions"),
        ],
    )
    bars = base.mark_bar(width=90).encode(
        y=alt.Y("start:Q", title="Revenue needed per year (US$ bn)"),
        y2="end:Q",
        color=alt.Color(
            "part_text:N",
            scale=color_scale(colors, [p.capitalize() for p in order if p in set(data["part"])]),
            title=None,
        ),
    )
    text = (
        base.mark_text(fontSize=10, fontWeight="bold")
        .encode(
            y="mid:Q",
            text="label:N",
            color=alt.condition("datum.part == 'depreciation'", alt.value("white"), alt.value("#1d2733")),
        )
        .transform_calculate(mid="(datum.start + datum.end) / 2")
    )
    totals = (
        alt.Chart(data.drop_duplicates("case"))
        .mark_text(dy=-8, fontSize=11, fontWeight="bold")
        .encode(x=alt.X("case:N", sort=cases), y=alt.Y("total:Q"), text="total_text:N")
    )
    key = "; ".join(
        f"{case}: {money(g['value'].sum(), 0)} a year ("
        + ", ".join(f"{p} {money(v, 0)}" for p, v in zip(g["part"], g["value"], strict=True))
        + ")"
        for case, g in data.groupby("case", sort=False)
    )
    chart = alt.layer(bars, text, totals).properties(height=300)
    return finish(chart, title=title, subtitle=subtitle, source=source, as_of=as_of, key_values=key)


def capex_chart(
    frame: pd.DataFrame,
    title: str,
    subtitle: str | Sequence[str] | None = None,
    *,
    source: str | None = None,
    as_of: str | None = None,
) -> alt.Chart:
    """Capex by company and fiscal year: actuals solid, guidance (midpoint, with its range) faded."""
    data = frame.copy()
    data["value_text"] = data["value"].map(money)
    data["range_text"] = data["range"].map(lambda s: f"${s}bn" if isinstance(s, str) and s else "—")
    data["leases_text"] = (
        data["includes_finance_leases"]
        .astype(str)
        .map({"yes": "yes", "no": "no", "True": "yes", "False": "no"})
        .fillna("not stated")
    )
    data["source_text"] = data["source_id"].map(lambda s: sources_text([s], limit=1))
    data["kind_text"] = data["kind"].map({"actual": "actual", "guidance": "guidance (midpoint)"}).fillna(data["kind"])
    companies = sorted(data["company"].unique())
    chart = (
        alt.Chart(data)
        .mark_bar()
        .encode(
            x=alt.X("year:O", title="Fiscal year", axis=alt.Axis(labelAngle=0)),
            xOffset="company:N",
            y=alt.Y("value:Q", title="Capital expenditure (US$ bn)"),
            color=alt.Color("company:N", scale=color_scale(ENTITY_COLORS, companies), title=None),
            opacity=alt.Opacity(
                "kind_text:N",
                scale=alt.Scale(domain=["actual", "guidance (midpoint)"], range=[1.0, 0.45]),
                title=None,
            ),
            tooltip=[
                alt.Tooltip("company:N", title="Company"),
                alt.Tooltip("fiscal_year:N", title="Fiscal year"),
                alt.Tooltip("kind_text:N", title="Figure"),
                alt.Tooltip("value_text:N", title="Capex"),
                alt.Tooltip("range_text:N", title="Guidance range"),
                alt.Tooltip("leases_text:N", title="Finance leases included"),
                alt.Tooltip("source_text:N", title="Reported by"),
            ],
        )
        .properties(height=280)
    )
    latest = data[data["year"] == data["year"].max()]
    key = f"Fiscal {data['year'].max()}: " + "; ".join(f"{r.company} {r.value_text}" for r in latest.itertuples())
    return finish(chart, title=title, subtitle=subtitle, source=source, as_of=as_of, key_values=key)


def payback_chart(
    frame: pd.DataFrame,
    title: str,
    subtitle: str | Sequence[str] | None = None,
    *,
    chosen_growth_pct: float | None = None,
    source: str | None = None,
    as_of: str | None = None,
) -> alt.LayerChart:
    """The labs' revenue paths at a few growth rates against the required-revenue band (central line, range band).

    The y axis stops at twice the band's top, so the fastest path leaves the chart rather than flattening the rest.
    """
    band = frame.drop_duplicates("year").copy()
    low = pd.to_numeric(band["required_low"], errors="coerce").fillna(band["required"])
    high = pd.to_numeric(band["required_high"], errors="coerce").fillna(band["required"])
    band["low"], band["high"] = low, high
    band["band_text"] = [f"{money(a, 0)}–{money(b, 0)} a year" for a, b in zip(low, high, strict=True)]
    band["required_text"] = band["required"].map(lambda v: f"{money(v, 0)} a year")
    ceiling = float(high.max()) * 2
    paths = frame.copy()
    paths["revenue_text"] = paths["usd_bn"].map(lambda v: f"{money(v, 0)} a year")
    paths["rate"] = paths["growth_pct"].map(lambda g: f"{g:g}% a year")
    paths["chosen"] = paths["growth_pct"] == chosen_growth_pct if chosen_growth_pct is not None else False
    rates = [f"{g:g}% a year" for g in sorted(paths["growth_pct"].unique())]
    shades = ["#7fcdbb", "#41b6c4", "#225ea8", "#253494", "#081d58"][: len(rates)]
    years = sorted(band["year"])
    x = alt.X(
        "year:Q",
        title=None,
        axis=alt.Axis(format="d", values=years, labelAngle=0),
        scale=alt.Scale(domain=[years[0], years[-1]], nice=False),
    )
    y_scale = alt.Scale(domain=[0, ceiling])
    area = (
        alt.Chart(band)
        .mark_area(opacity=0.25, color="#8c8c8c")
        .encode(
            x=x,
            y=alt.Y("low:Q", title="US$ bn a year", scale=y_scale),
            y2="high:Q",
            tooltip=[alt.Tooltip("band_text:N", title="Required revenue, range across choices")],
        )
    )
    centre = (
        alt.Chart(band)
        .mark_line(color="#1d2733", strokeDash=[5, 3], strokeWidth=2)
        .encode(
            x=x,
            y=alt.Y("required:Q", scale=y_scale),
            tooltip=[alt.Tooltip("required_text:N", title="Required revenue, central case")],
        )
    )
    lines = (
        alt.Chart(paths)
        .mark_line(point=True, clip=True)
        .encode(
            x=x,
            y=alt.Y("usd_bn:Q", scale=y_scale),
            color=alt.Color("rate:N", scale=alt.Scale(domain=rates, range=shades), title="Labs' revenue growing"),
            strokeWidth=alt.condition("datum.chosen", alt.value(3.5), alt.value(1.5)),
            tooltip=[
                alt.Tooltip("rate:N", title="Labs' revenue growing"),
                alt.Tooltip("year:Q", title="Year", format="d"),
                alt.Tooltip("revenue_text:N", title="Labs' revenue"),
            ],
        )
    )
    note = pd.DataFrame(
        {
            "year": [years[-1]],
            "y": [float(band["required"].iloc[0])],
            "text": [f"needed: {money(band['required'].iloc[0], 0)} a year"],
        }
    )
    note_text = (
        alt.Chart(note)
        .mark_text(align="right", dy=-8, fontSize=10, fontWeight="bold", color="#1d2733")
        .encode(x=x, y=alt.Y("y:Q", scale=y_scale), text="text:N")
    )
    first = band.iloc[0]
    key = (
        f"Required {first.required_text} (range {first.band_text}); labs' revenue {money(paths['usd_bn'].iloc[0], 0)} "
        f"in {years[0]}. "
        + "; ".join(
            f"at {rate}: {money(g['usd_bn'].iloc[-1], 0)} by {years[-1]}"
            for rate, g in paths.groupby("rate", sort=False)
        )
    )
    chart = alt.layer(area, centre, lines, note_text).properties(height=300)
    return finish(chart, title=title, subtitle=subtitle, source=source, as_of=as_of, key_values=key)
