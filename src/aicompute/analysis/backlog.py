"""Chapter 1 models: how much of the clouds' contract backlog is owed by OpenAI and Anthropic?

Backlog (remaining performance obligations) is contracted future revenue, not revenue. Estimates of the labs' part
come as stated shares, derived shares or commitment amounts; each is converted to an amount and then to a share of the
provider's backlog at the snapshot quarter, so estimates made at different dates can be compared on one basis.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from aicompute.analysis.vocabulary import LABS, PROVIDERS

# Preference when one quarter has several headline figures: the company's own figure first.
BASIS_RANK = {"company_reported": 0, "derived": 1, "press_reported": 2, "analyst_estimate": 3}
CHOICES = ("low", "central", "high")


def _check_choice(choice: str) -> None:
    if choice not in CHOICES:
        raise ValueError(f"estimate choice must be one of {CHOICES}, got {choice!r}")


def backlog_series(backlog: pd.DataFrame) -> pd.DataFrame:
    """One row per provider and quarter of the headline backlog metric.

    ``value`` is the best-basis figure (company-reported before derived before press), ``low``/``high`` span every
    headline figure for that quarter, so a disagreement between sources stays visible. Missing quarters stay missing.
    """
    rows = backlog[backlog["headline"].fillna(False).astype(bool)].copy()
    rows["rank"] = rows["basis"].map(BASIS_RANK).fillna(9)
    out = []
    for (provider, period_end), group in rows.groupby(["provider", "period_end"], sort=True):
        best = group[group["rank"] == group["rank"].min()]
        out.append(
            {
                "provider": provider,
                "period_end": period_end,
                "fiscal_label": group["fiscal_label"].iloc[0],
                "value": float(best["value_usd_bn"].astype(float).median()),
                "low": float(group["value_usd_bn"].min()),
                "high": float(group["value_usd_bn"].max()),
                "basis": best["basis"].iloc[0],
                "sources": ", ".join(sorted(set(group["source_id"]))),
                "n_sources": int(group["source_id"].nunique()),
            }
        )
    return pd.DataFrame(
        out, columns=["provider", "period_end", "fiscal_label", "value", "low", "high", "basis", "sources", "n_sources"]
    )


def snapshot(
    series: pd.DataFrame, as_of: pd.Timestamp | str | None = None, providers: list[str] | tuple[str, ...] = PROVIDERS
) -> pd.DataFrame:
    """Each provider's latest quarter on or before ``as_of`` (all quarters when ``as_of`` is None)."""
    unknown = sorted(set(providers) - set(series["provider"]))
    if unknown:
        known = sorted(set(series["provider"]))
        raise ValueError(f"unknown provider(s) {unknown}: no backlog rows for them; providers in the data: {known}")
    frame = series[series["provider"].isin(providers)]
    if as_of is not None:
        frame = frame[frame["period_end"] <= pd.Timestamp(as_of)]
    latest = frame.sort_values("period_end").groupby("provider", sort=False).tail(1)
    order = {p: i for i, p in enumerate(providers)}
    return latest.sort_values("provider", key=lambda s: s.map(order)).reset_index(drop=True)


def backlog_at(series: pd.DataFrame, provider: str, date: pd.Timestamp) -> float | None:
    """The provider's backlog at the last quarter end on or before ``date`` (None if none is sourced)."""
    rows = series[(series["provider"] == provider) & (series["period_end"] <= pd.Timestamp(date))]
    return None if rows.empty else float(rows.sort_values("period_end")["value"].iloc[-1])


def lab_estimates(
    attribution: pd.DataFrame, series: pd.DataFrame, snap: pd.DataFrame, include_commitment_amounts: bool = True
) -> pd.DataFrame:
    """Every single-provider estimate of a lab's part, as an amount and as a share of the snapshot backlog.

    * an amount (USD bn) is used as it is;
    * a share with a date is turned into an amount with the provider's backlog at that date;
    * a share without a date is taken to apply at the snapshot.
    Estimates of commitments that the provider says are *not* in its reported backlog are dropped (they are not part
    of the figure being split); commitment amounts (deal headlines) can be excluded with the flag.
    """
    rows = attribution[attribution["lab"].isin(LABS) & attribution["provider"].isin(snap["provider"])]
    rows = rows[rows["in_reported_backlog"] != "no"]
    if not include_commitment_amounts:
        rows = rows[rows["measure"] != "commitment_total"]
    out = []
    for _, row in rows.iterrows():
        base = snap.loc[snap["provider"] == row["provider"]].iloc[0]
        amounts = _amounts(row, series, float(base["value"]))
        if amounts is None:
            continue
        low, high = amounts
        out.append(
            {
                "attribution_id": row["attribution_id"],
                "provider": row["provider"],
                "lab": row["lab"],
                "as_of": row["as_of"],
                "measure": row["measure"],
                "basis": row["basis"],
                "estimator": row["estimator"],
                "source_id": row["source_id"],
                "amount_low": low,
                "amount_high": high,
                "share_low": 100 * low / float(base["value"]),
                "share_high": 100 * high / float(base["value"]),
                "snapshot_end": base["period_end"],
            }
        )
    columns = [
        "attribution_id",
        "provider",
        "lab",
        "as_of",
        "measure",
        "basis",
        "estimator",
        "source_id",
        "amount_low",
        "amount_high",
        "share_low",
        "share_high",
        "snapshot_end",
    ]
    return pd.DataFrame(out, columns=columns)


def _amounts(row: pd.Series, series: pd.DataFrame, snapshot_value: float) -> tuple[float, float] | None:
    lo_amt, hi_amt = row["amount_low_usd_bn"], row["amount_high_usd_bn"]
    if pd.notna(lo_amt) or pd.notna(hi_amt):
        lo = float(lo_amt) if pd.notna(lo_amt) else float(hi_amt)
        hi = float(hi_amt) if pd.notna(hi_amt) else float(lo_amt)
        return lo, hi
    lo_sh, hi_sh = row["share_low_pct"], row["share_high_pct"]
    if pd.isna(lo_sh) and pd.isna(hi_sh):
        return None
    lo = float(lo_sh) if pd.notna(lo_sh) else float(hi_sh)
    hi = float(hi_sh) if pd.notna(hi_sh) else float(lo_sh)
    base = backlog_at(series, row["provider"], row["as_of"]) if pd.notna(row["as_of"]) else None
    base = snapshot_value if base is None else base
    return lo / 100 * base, hi / 100 * base


def split_ranges(estimates: pd.DataFrame, snap: pd.DataFrame) -> pd.DataFrame:
    """Low / central / high amount for every provider and lab; pairs with no estimate are marked unknown (NaN)."""
    out = []
    for _, base in snap.iterrows():
        for lab in LABS:
            rows = estimates[(estimates["provider"] == base["provider"]) & (estimates["lab"] == lab)]
            if rows.empty:
                low = central = high = np.nan
                n, bases = 0, ""
            else:
                low = float(rows["amount_low"].min())
                high = float(rows["amount_high"].max())
                central = float(((rows["amount_low"] + rows["amount_high"]) / 2).median())
                n, bases = len(rows), ", ".join(sorted(set(rows["basis"])))
            out.append(
                {
                    "provider": base["provider"],
                    "lab": lab,
                    "backlog": float(base["value"]),
                    "period_end": base["period_end"],
                    "low": low,
                    "central": central,
                    "high": high,
                    "n_estimates": n,
                    "bases": bases,
                    "known": n > 0,
                }
            )
    return pd.DataFrame(out)


def snapshot_split(ranges: pd.DataFrame, choice: str = "central", haircut_pct: float = 0.0) -> pd.DataFrame:
    """Each provider's backlog split into OpenAI / Anthropic / other under one estimate choice.

    A haircut removes that percentage of the labs' amounts (commitments assumed never paid) from the backlog.
    Where a lab's part is unknown its amount is NaN and 'other' is an upper bound (``other_is_upper_bound``).
    """
    _check_choice(choice)
    check_pct("haircut_pct", haircut_pct)
    out = []
    for provider, group in ranges.groupby("provider", sort=False):
        backlog = float(group["backlog"].iloc[0])
        amounts = {row["lab"]: row[choice] for _, row in group.iterrows()}
        known = [v for v in amounts.values() if not np.isnan(v)]
        labs_total = float(sum(known))
        out.append(
            {
                "provider": provider,
                "period_end": group["period_end"].iloc[0],
                "backlog": backlog,
                "OpenAI": amounts.get("OpenAI", np.nan),
                "Anthropic": amounts.get("Anthropic", np.nan),
                "other": backlog - labs_total,
                "other_is_upper_bound": len(known) < len(LABS),
                "labs_share_pct": 100 * labs_total / backlog if known else np.nan,
                "backlog_after_haircut": after_haircut(backlog, labs_total, haircut_pct),
            }
        )
    return pd.DataFrame(out)


def combined_share(ranges: pd.DataFrame, providers: list[str] | tuple[str, ...] | None = None) -> dict:
    """The two labs' share of the providers' combined backlog, low / central / high.

    Unknown provider–lab pairs count as zero, so the result is a lower bound wherever pairs are unknown; the count of
    unknown pairs is returned with it.
    """
    frame = ranges if providers is None else ranges[ranges["provider"].isin(providers)]
    total = float(frame.drop_duplicates("provider")["backlog"].sum())
    result = {"total_backlog": total, "unknown_pairs": int((~frame["known"]).sum()), "pairs": len(frame)}
    for choice in CHOICES:
        result[choice] = 100 * float(frame[choice].fillna(0).sum()) / total if total else np.nan
    return result


def usable_estimates(attribution: pd.DataFrame, as_of: pd.Timestamp | str, include_undated: bool) -> pd.DataFrame:
    """Estimates published for a date on or before ``as_of``; undated estimates only when asked for."""
    dated = attribution["as_of"].notna() & (attribution["as_of"] <= pd.Timestamp(as_of))
    return attribution[dated | (attribution["as_of"].isna() & include_undated)]


def latest_vintage(estimates: pd.DataFrame, window_days: int) -> pd.DataFrame:
    """Per provider–lab pair, keep estimates dated within ``window_days`` of the pair's newest estimate.

    A lab's commitments grow deal by deal, so an estimate made long before the newest one describes an older,
    smaller book and is treated as superseded. Undated estimates are kept (they are opt-in).
    """
    if estimates.empty:
        return estimates
    newest = estimates.groupby(["provider", "lab"])["as_of"].transform("max")
    keep = estimates["as_of"].isna() | newest.isna() | (estimates["as_of"] >= newest - pd.Timedelta(days=window_days))
    return estimates[keep].reset_index(drop=True)


def split_at(
    series: pd.DataFrame,
    attribution: pd.DataFrame,
    as_of: pd.Timestamp | str,
    providers: list[str] | tuple[str, ...],
    *,
    include_commitment_amounts: bool = True,
    include_undated: bool = False,
    window_days: int = 300,
    estimator: str = "",
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Snapshot, per-estimate table and low/central/high ranges at ``as_of`` (see :func:`latest_vintage`).

    ``estimator`` keeps only the estimates of one named source (matched case-insensitively within the estimator's
    name, e.g. "The Information" or "Morgan Stanley"); pairs it does not cover become unknown.
    """
    snap = snapshot(series, as_of, providers)
    usable = usable_estimates(attribution, as_of, include_undated)
    if estimator:
        usable = usable[usable["estimator"].str.contains(estimator, case=False, regex=False)]
    estimates = lab_estimates(usable, series, snap, include_commitment_amounts)
    estimates = latest_vintage(estimates, window_days)
    return snap, estimates, split_ranges(estimates, snap)


def ex_lab_growth(
    series: pd.DataFrame, split: pd.DataFrame, split_year_ago: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Year-over-year growth of the backlog that is *not* OpenAI or Anthropic (as far as their part is quantified).

    Where the labs' part a year earlier is estimated (``split_year_ago``), it is subtracted and the growth is a point
    estimate. Where it is not, the whole year-ago backlog counts as 'other' and the growth is a lower bound.
    Provider–lab pairs with no estimate today count as zero and are listed in ``unquantified``: a lab part there
    would lower the growth.
    """
    out = []
    earlier = split_year_ago.set_index("provider") if split_year_ago is not None else None
    for _, row in split.iterrows():
        year_ago = row["period_end"] - pd.DateOffset(years=1)
        prior = series[(series["provider"] == row["provider"]) & (series["period_end"] == year_ago)]
        unquantified = [lab for lab in LABS if np.isnan(row[lab])]
        result = {
            "provider": row["provider"],
            "period_end": row["period_end"],
            "other_now": row["other"],
            "backlog_year_ago": np.nan,
            "labs_year_ago": np.nan,
            "other_year_ago": np.nan,
            "ex_lab_growth_pct": np.nan,
            "kind": "not computable: no backlog a year earlier",
            "total_growth_pct": np.nan,
            "unquantified": ", ".join(unquantified),
        }
        if not prior.empty:
            base = float(prior["value"].iloc[0])
            labs_then = 0.0
            kind = "lower bound (labs' part a year earlier not estimated)"
            if earlier is not None and row["provider"] in earlier.index:
                then = earlier.loc[row["provider"]]
                known_then = [then[lab] for lab in LABS if not np.isnan(then[lab])]
                if known_then and then["period_end"] == year_ago:
                    labs_then = float(sum(known_then))
                    kind = "estimate (labs' part a year earlier subtracted)"
            result.update(
                {
                    "backlog_year_ago": base,
                    "labs_year_ago": labs_then,
                    "other_year_ago": base - labs_then,
                    "ex_lab_growth_pct": 100 * (row["other"] / (base - labs_then) - 1),
                    "kind": kind,
                    "total_growth_pct": 100 * (row["backlog"] / base - 1),
                }
            )
        out.append(result)
    return pd.DataFrame(out)


def years_of_revenue(split: pd.DataFrame, revenue: pd.DataFrame, business: dict[str, str]) -> pd.DataFrame:
    """Backlog divided by the latest annual revenue of the same business (how many years of revenue it holds)."""
    out = []
    for _, row in split.iterrows():
        segment = business.get(row["provider"])
        rows = revenue[
            (revenue["company"] == row["provider"])
            & (revenue["segment"] == segment)
            & (revenue["period_kind"] == "fiscal_year")
        ]
        if rows.empty:
            out.append(
                {
                    "provider": row["provider"],
                    "segment": segment,
                    "annual_revenue": np.nan,
                    "revenue_year": "",
                    "years": np.nan,
                }
            )
            continue
        latest = rows.sort_values("period_end").iloc[-1]
        out.append(
            {
                "provider": row["provider"],
                "segment": segment,
                "annual_revenue": float(latest["value_usd_bn"]),
                "revenue_year": latest["fiscal_label"],
                "years": row["backlog"] / float(latest["value_usd_bn"]),
            }
        )
    return pd.DataFrame(out)


def annual_lab_payments(split: pd.DataFrame, duration_years: float) -> pd.DataFrame:
    """The labs' amounts in backlog spread evenly over ``duration_years``: what they would pay each year."""
    if duration_years <= 0:
        raise ValueError(f"duration_years must be positive, got {duration_years}")
    out = []
    for lab in LABS:
        total = float(split[lab].fillna(0).sum())
        out.append({"lab": lab, "in_backlog": total, "per_year": total / duration_years})
    return pd.DataFrame(out)


def check_pct(name: str, value: float, low: float = 0.0, high: float = 100.0) -> None:
    if not (low <= value <= high) or np.isnan(value):
        raise ValueError(f"{name} must be between {low:g} and {high:g} percent, got {value}")


# The revenue line closest to each provider's backlog (Oracle's RPO is company-wide, so its cloud revenue overstates
# the years of revenue the backlog represents; the notebook says so).
SAME_BUSINESS = {
    "Microsoft": "Microsoft Cloud",
    "Oracle": "Oracle Cloud (IaaS plus SaaS)",
    "Alphabet": "Google Cloud",
    "Amazon": "AWS",
    "CoreWeave": "Total revenue",
}


def haircut_table(split: pd.DataFrame, steps: range = range(0, 101, 10)) -> pd.DataFrame:
    """Each provider's backlog left after haircuts of 0%, 10%, ... 100% on the labs' amounts."""
    rows = []
    for haircut in steps:
        for _, r in snapshot_split_from(split, haircut).iterrows():
            rows.append(
                {"provider": r["provider"], "haircut_pct": haircut, "backlog_after_haircut": r["backlog_after_haircut"]}
            )
    return pd.DataFrame(rows)


def snapshot_split_from(split: pd.DataFrame, haircut_pct: float) -> pd.DataFrame:
    """Re-apply a haircut to an existing split (same estimate choice)."""
    check_pct("haircut_pct", haircut_pct)
    out = split.copy()
    out["backlog_after_haircut"] = after_haircut(out["backlog"], out[list(LABS)].fillna(0).sum(axis=1), haircut_pct)
    return out


def after_haircut(backlog, labs_amount, haircut_pct: float):
    """Backlog left when ``haircut_pct`` of the labs' amount is never paid (works on numbers and Series)."""
    return backlog - labs_amount * haircut_pct / 100


def deal_markers(deals: pd.DataFrame, providers: list[str] | tuple[str, ...]) -> pd.DataFrame:
    """The labs' counted, dated, not-superseded deals with the given providers, with a headline value as text."""
    rows = deals[
        deals["buyer"].isin(LABS)
        & deals["seller"].isin(providers)
        & deals["counted"]
        & (deals["status"] != "superseded")
        & deals["announced"].notna()
    ].copy()
    headline = rows["value_usd_bn"].fillna(rows["value_low_usd_bn"]).fillna(rows["value_high_usd_bn"])
    rows["value_text"] = headline.map(lambda v: "undisclosed" if pd.isna(v) else f"{v:,.0f} bn")
    return rows


def year_ago_split(
    series: pd.DataFrame,
    attribution: pd.DataFrame,
    split: pd.DataFrame,
    choice: str,
    *,
    include_commitment_amounts: bool = True,
) -> pd.DataFrame:
    """Each provider's split a year before its snapshot quarter, for :func:`ex_lab_growth` (dated estimates only)."""
    splits = []
    for _, row in split.iterrows():
        then = row["period_end"] - pd.DateOffset(years=1)
        _, _, ranges = split_at(
            series,
            attribution,
            then,
            [row["provider"]],
            include_commitment_amounts=include_commitment_amounts,
            include_undated=False,
        )
        splits.append(snapshot_split(ranges, choice))
    return pd.concat(splits, ignore_index=True)


def top_customer_share(concentration: pd.DataFrame, company: str) -> tuple[float, pd.Timestamp, list[str]] | None:
    """The largest single customer's share of ``company``'s revenue in its latest period (combined, per-customer
    thresholds and prior-year comparatives left out), with the period end and sources; None if not disclosed."""
    rows = concentration[
        (concentration["company"] == company)
        & (concentration["measure"] == "revenue_share")
        & concentration["period_end"].notna()
        & ~concentration["customer"].str.contains("combined|each|prior", case=False)
    ]
    if rows.empty:
        return None
    latest = rows[rows["period_end"] == rows["period_end"].max()]
    return float(latest["share_pct"].max()), latest["period_end"].iloc[0], sorted(set(latest["source_id"]))
