"""The specification-curve chart of the ledger: for each claim, the share of specifications giving each verdict."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import altair as alt
import pandas as pd

from aicompute.analysis.verdicts import VERDICTS
from aicompute.present.charts import finish
from aicompute.present.theme import color_scale

# The ledger's badge colours (report.css), so a verdict looks the same in the table and the chart.
VERDICT_COLORS: dict[str, str] = dict(zip(VERDICTS, ("#1a7f37", "#9a6700", "#cf222e", "#6e7781"), strict=True))


def verdict_shares(results: Mapping[str, object], order: Sequence[str] | None = None) -> pd.DataFrame:
    """One row per claim and verdict: the share of specifications, the central verdict and the flips (tooltip)."""
    rows = []
    for claim in order or list(results):
        result = results[claim]
        for verdict in VERDICTS:
            rows.append(
                {
                    "claim": claim,
                    "verdict": verdict,
                    "share": result.shares.get(verdict, 0.0),
                    "central": result.central,
                    "specifications": result.specifications,
                    "robustness": result.summary(),
                }
            )
    return pd.DataFrame(rows)


def spec_curve(
    results: Mapping[str, object],
    title: str,
    subtitle: str | list[str],
    *,
    source: str | None = None,
    as_of: str | None = None,
) -> alt.Chart:
    """Stacked horizontal bars, one per claim: how the verdict spreads across the grid of defensible choices."""
    frame = verdict_shares(results)
    frame = frame[frame["share"] > 0].copy()
    frame["share_text"] = frame["share"].map(lambda v: f"{v:.0%}")
    claims = list(results)
    chart = (
        alt.Chart(frame)
        .mark_bar()
        .encode(
            y=alt.Y("claim:N", sort=claims, title=None),
            x=alt.X(
                "share:Q",
                stack="zero",
                axis=alt.Axis(format="%"),
                title="Share of the defensible specifications (%)",
                scale=alt.Scale(domain=[0, 1]),
            ),
            color=alt.Color("verdict:N", scale=color_scale(VERDICT_COLORS, list(VERDICTS)), title=None),
            order=alt.Order("order:Q"),
            tooltip=[
                alt.Tooltip("claim:N", title="Claim"),
                alt.Tooltip("verdict:N", title="Verdict"),
                alt.Tooltip("share_text:N", title="Share of specifications"),
                alt.Tooltip("central:N", title="Verdict at the central choices"),
                alt.Tooltip("specifications:Q", title="Specifications", format=","),
                alt.Tooltip("robustness:N", title="Robust, or flips if"),
            ],
        )
        .transform_calculate(order=f"indexof({list(VERDICTS)!r}, datum.verdict)")
        .properties(height=alt.Step(22))
    )
    key = "; ".join(
        f"{claim}: " + ", ".join(f"{r.verdict} {r.share_text}" for r in g.itertuples())
        for claim, g in frame.groupby("claim", sort=False)
    )
    return finish(chart, title=title, subtitle=subtitle, source=source, as_of=as_of, key_values=key)
