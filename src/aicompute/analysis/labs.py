"""Picking the labs' figures (revenue run-rate, capital raised...) that the chapters compare against."""

from __future__ import annotations

import pandas as pd

from aicompute.analysis.data import central_value
from aicompute.analysis.memo import same_tables
from aicompute.analysis.vocabulary import BASIS_RANK


@same_tables(size=256)
def latest_figure(
    fin: pd.DataFrame, lab: str, metric: str, as_of: pd.Timestamp | str, unit: str = "usd_bn"
) -> pd.Series | None:
    """The latest figure of ``metric`` for ``lab`` dated on or before ``as_of`` (company-reported first on ties).

    Range-only rows use :func:`aicompute.data.central_value`. Returns None where nothing is sourced.
    """
    rows = fin[
        (fin["lab"] == lab)
        & (fin["metric"] == metric)
        & (fin["unit"] == unit)
        & fin["period_end"].notna()
        & (fin["period_end"] <= pd.Timestamp(as_of))
    ].copy()
    if rows.empty:
        return None
    rows["value"] = central_value(rows["value"], rows["value_low"], rows["value_high"])
    rows = rows.dropna(subset=["value"])
    if rows.empty:
        return None
    rows["rank"] = rows["basis"].map(BASIS_RANK).fillna(9)
    rows = rows.sort_values(["period_end", "rank"], ascending=[False, True])
    return rows.iloc[0]
