"""Chart builders for the demand-quality chapter: the firmness ladder as one stacked bar per holder, $ and % printed."""

from __future__ import annotations

import altair as alt
import pandas as pd

from aicompute.present.charts import finish
from aicompute.present.theme import PAIR_COLORS, TIER_COLORS, color_scale, legend_columns

ALL = "All four"


def with_total_row(ladder: pd.DataFrame, total_label: str) -> pd.DataFrame:
    """The ladder per holder plus one row that adds the holders up (shares recomputed on the total)."""
    total = ladder.groupby(["tier", "tier_label", "order"], as_index=False, sort=False)["amount"].sum()
    total["holder"] = total_label
    total["share_pct"] = total["amount"] / total["amount"].sum() * 100
    return pd.concat([ladder, total], ignore_index=True)


# Tiers whose colour is dark enough for white text on the bar.
_DARK_TIERS = {"Binding, payer's revenue covers it", "Reported, not confirmed", "Letter of intent"}


def ladder_frame(ladder: pd.DataFrame, total_label: str) -> pd.DataFrame:
    """Each holder's bar as 100% of its own total: start, end and middle of every tier's segment, with its labels."""
    frame = with_total_row(ladder, total_label)
    frame = frame[frame["amount"] > 0].sort_values(["holder", "order"], kind="stable").copy()
    frame["end"] = frame.groupby("holder", sort=False)["share_pct"].cumsum()
    frame["start"] = frame["end"] - frame["share_pct"]
    frame["middle"] = (frame["start"] + frame["end"]) / 2
    pairs = zip(frame["amount"], frame["share_pct"], strict=True)
    # The chart shows a segment's label only where its drawn width holds it (see ladder_chart); the tooltip carries
    # every segment's numbers.
    frame["label"] = [f"${a:,.0f}bn · {s:.0f}%" for a, s in pairs]
    frame["short_label"] = frame["share_pct"].map(lambda s: f"{s:.0f}%")
    frame["amount_text"] = frame["amount"].map(lambda a: f"${a:,.1f}bn")
    frame["share_text"] = frame["share_pct"].map(lambda s: f"{s:.0f}%")
    frame["total_text"] = frame.groupby("holder")["amount"].transform("sum").map(lambda a: f"${a:,.0f}bn")
    frame["text_color"] = ["white" if tier in _DARK_TIERS else "black" for tier in frame["tier_label"]]
    return frame


# Drawn widths (px) a segment needs for its label at 10 px: '$441bn · 54%', or just '54%'.
LONG_LABEL_PX, SHORT_LABEL_PX = 76, 26


def ladder_chart(
    ladder: pd.DataFrame,
    *,
    title: str,
    subtitle: str | list[str],
    total_label: str = ALL,
    source: str | None = None,
    as_of: str | None = None,
) -> alt.LayerChart:
    """One 100% bar per holder (and the total), tiers ordered firmest to weakest, $ and % on each wide segment."""
    frame = ladder_frame(ladder, total_label)
    holders = [*dict.fromkeys(ladder["holder"]), total_label]
    base = alt.Chart(frame).encode(
        y=alt.Y("holder:N", sort=holders, title=None),
        tooltip=[
            alt.Tooltip("holder:N", title="Whose"),
            alt.Tooltip("tier_label:N", title="Tier"),
            alt.Tooltip("amount_text:N", title="Amount"),
            alt.Tooltip("share_text:N", title="Share of its total"),
            alt.Tooltip("total_text:N", title="Total"),
        ],
    )
    bars = base.mark_bar().encode(
        x=alt.X("start:Q", title="Share of each total (%)", scale=alt.Scale(domain=[0, 100])),
        x2="end:Q",
        color=alt.Color(
            "tier_label:N",
            scale=color_scale(TIER_COLORS, list(TIER_COLORS)),
            title=None,
            legend=alt.Legend(orient="top", columns=legend_columns(2), labelLimit=0),
        ),
    )
    # '$441bn · 54%' where the segment is at least LONG_LABEL_PX wide as drawn, '54%' where SHORT_LABEL_PX, else none:
    # the chart's width is the column's, so a phone shows fewer labels rather than overlapping ones.
    segment_px = "datum.share_pct * width / 100"
    text = (
        base.transform_calculate(
            shown=f"{segment_px} >= {LONG_LABEL_PX} ? datum.label : "
            f"({segment_px} >= {SHORT_LABEL_PX} ? datum.short_label : '')"
        )
        .mark_text(baseline="middle", fontSize=10)
        .encode(x="middle:Q", text="shown:N", color=alt.Color("text_color:N", scale=None))
    )
    total = frame[frame["holder"] == total_label]
    key = f"{total_label} ({total['total_text'].iloc[0] if not total.empty else ''}): " + "; ".join(
        f"{r.tier_label} {r.amount_text} ({r.share_text})" for r in total.itertuples()
    )
    chart = (bars + text).properties(height=34 * len(holders))
    return finish(chart, title=title, subtitle=subtitle, source=source, as_of=as_of, key_values=key)


def timing_chart(
    timing: pd.DataFrame,
    *,
    title: str,
    subtitle: str | list[str],
    source: str | None = None,
    as_of: str | None = None,
) -> alt.LayerChart:
    """Share of each provider's backlog it expects to recognise within 12 and 24 months; 'not disclosed' shown."""
    rows = []
    for r in timing.itertuples():
        for months in (12, 24):
            value = getattr(r, f"within_{months}m_pct")
            disclosed = not pd.isna(value)
            disclosed_for = getattr(r, f"within_{months}m_as_of")
            rows.append(
                {
                    "provider": r.provider,
                    "window": f"within {months} months",
                    "share": float(value) if disclosed else 0.0,
                    "label": f"{value:.0f}%" if disclosed else "not disclosed",
                    "as_of": f"{disclosed_for:%b %Y}" if disclosed else "not disclosed",
                }
            )
    frame = pd.DataFrame(rows)
    base = alt.Chart(frame).encode(
        y=alt.Y("provider:N", sort=list(timing["provider"]), title=None),
        yOffset=alt.YOffset("window:N"),
        x=alt.X("share:Q", title="Share of backlog (%)", scale=alt.Scale(domain=[0, 100])),
    )
    bars = base.mark_bar().encode(
        color=alt.Color(
            "window:N", scale=alt.Scale(range=list(PAIR_COLORS)), title=None, legend=alt.Legend(orient="top")
        ),
        tooltip=[
            alt.Tooltip("provider:N", title="Provider"),
            alt.Tooltip("window:N", title="Window"),
            alt.Tooltip("label:N", title="Share"),
            alt.Tooltip("as_of:N", title="Disclosed for"),
        ],
    )
    text = base.mark_text(align="left", dx=4, fontSize=10).encode(text="label:N")
    key = "; ".join(f"{r.provider} {r.window}: {r.label}" for r in frame.itertuples())
    chart = (bars + text).properties(height=56 * len(timing))
    return finish(chart, title=title, subtitle=subtitle, source=source, as_of=as_of, key_values=key)
