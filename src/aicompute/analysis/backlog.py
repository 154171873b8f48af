"""Chapter 1 models: how much of the clouds' contract backlog is owed by OpenAI and Anthropic?

Backlog (remaining performance obligations) is contracted future revenue, not revenue. Estimates of the labs' part
come as stated shares, derived shares or commitment amounts; each is converted to an amount and then to a share of the
provider's backlog at the snapshot quarter, so estimates made at different dates can be compared on one basis.
"""

from __future__ import annotations

import itertools
from dataclasses import replace

import numpy as np
import pandas as pd

from aicompute.analysis.labs import latest_figure
from aicompute.analysis.memo import same_tables
from aicompute.analysis.records import ChapterResult, Later, RecordBook
from aicompute.analysis.vocabulary import BASIS_RANK, LABS, PROVIDERS

# Preference when one quarter has several headline figures: the company's own figure first.
# Which estimate of a lab's part the split uses: the lowest, the median of the estimates' midpoints, or the highest.
ESTIMATES = ("low", "central", "high")


def _check_choice(choice: str) -> None:
    if choice not in ESTIMATES:
        raise ValueError(f"estimate choice must be one of {ESTIMATES}, got {choice!r}")


@same_tables()
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
    latest = {base["provider"]: base for base in snap.to_dict("records")}
    for row in rows.to_dict("records"):
        base = latest[row["provider"]]
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


def _amounts(row: dict, series: pd.DataFrame, snapshot_value: float) -> tuple[float, float] | None:
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


def split_ranges(estimates: pd.DataFrame, snap: pd.DataFrame, fallback: pd.DataFrame | None = None) -> pd.DataFrame:
    """Low / central / high amount for every provider and lab; pairs with no estimate are marked unknown (NaN).

    With ``fallback`` (a wider pool of estimates), an unknown pair takes the lowest amount sourced for it there
    (low = central = high), marked in ``bases``; a pair with nothing sourced at all stays unknown.
    """
    out = []
    empty = estimates.iloc[0:0]
    pairs = dict(tuple(estimates.groupby(["provider", "lab"], sort=False))) if len(estimates) else {}
    for base in snap.to_dict("records"):
        for lab in LABS:
            rows = pairs.get((base["provider"], lab), empty)
            spare = _pair(fallback, base["provider"], lab) if fallback is not None and rows.empty else None
            if spare is not None and not spare.empty:
                low = central = high = float(spare["amount_low"].min())
                n, bases = len(spare), "lowest sourced estimate for an otherwise unknown pair"
            elif rows.empty:
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
    columns = ["provider", "lab", "backlog", "period_end", "low", "central", "high", "n_estimates", "bases", "known"]
    return pd.DataFrame(out, columns=columns)


def _pair(estimates: pd.DataFrame, provider: str, lab: str) -> pd.DataFrame:
    return estimates[(estimates["provider"] == provider) & (estimates["lab"] == lab)]


@same_tables()
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
    columns = ["provider", "period_end", "backlog", *LABS, "other", "other_is_upper_bound", "labs_share_pct"]
    return pd.DataFrame(out, columns=[*columns, "backlog_after_haircut"])


@same_tables()
def combined_share(ranges: pd.DataFrame, providers: list[str] | tuple[str, ...] | None = None) -> dict:
    """The two labs' share of the providers' combined backlog, low / central / high.

    Unknown provider–lab pairs count as zero, so the result is a lower bound wherever pairs are unknown; the count of
    unknown pairs is returned with it.
    """
    frame = ranges if providers is None else ranges[ranges["provider"].isin(providers)]
    total = float(frame.drop_duplicates("provider")["backlog"].sum())
    result = {"total_backlog": total, "unknown_pairs": int((~frame["known"]).sum()), "pairs": len(frame)}
    for choice in ESTIMATES:
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


@same_tables()
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
    deals: pd.DataFrame | None = None,
    deals_after_backlog_date: str = "include",
    unknown_pairs: str = "zero",
    earliest: pd.Timestamp | str | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Snapshot, per-estimate table and low/central/high ranges at ``as_of`` (see :func:`latest_vintage`).

    ``estimator`` keeps only the estimates of one named source (matched case-insensitively within the estimator's
    name, e.g. "The Information" or "Morgan Stanley"); pairs it does not cover become unknown.
    ``deals_after_backlog_date="exclude"`` drops deal-headline estimates whose deal (from ``deals``) was announced
    after the backlog's quarter end (see :func:`deal_announced`). ``unknown_pairs="lowest"`` gives a pair with no
    usable estimate the lowest amount sourced for it (any date up to ``as_of``, undated included, any estimator).
    ``earliest`` drops estimates dated before it (the year-ago split's window).
    """
    check_option("deals_after_backlog_date", deals_after_backlog_date)
    check_option("unknown_pairs", unknown_pairs)
    snap = snapshot(series, as_of, providers)
    if earliest is not None:
        attribution = attribution[attribution["as_of"].isna() | (attribution["as_of"] >= pd.Timestamp(earliest))]

    def pool(rows: pd.DataFrame) -> pd.DataFrame:
        found = lab_estimates(rows, series, snap, include_commitment_amounts)
        found["deal_announced"] = deal_announced(found, deals)
        if deals_after_backlog_date == "exclude":
            found = found[~(found["deal_announced"] > found["snapshot_end"])]
        return found.reset_index(drop=True)

    usable = usable_estimates(attribution, as_of, include_undated)
    if estimator:
        usable = usable[usable["estimator"].str.contains(estimator, case=False, regex=False)]
    estimates = latest_vintage(pool(usable), window_days)
    fallback = pool(usable_estimates(attribution, as_of, True)) if unknown_pairs == "lowest" else None
    return snap, estimates, split_ranges(estimates, snap, fallback)


# The options of the chapter's discrete choices (checked wherever they are used).
OPTIONS = {
    "deals_after_backlog_date": ("include", "exclude"),
    "unknown_pairs": ("zero", "lowest"),
    "year_ago_labs": ("previous_quarter", "same_quarter"),
}


def check_option(name: str, value: str) -> None:
    if value not in OPTIONS[name]:
        raise ValueError(f"{name} must be one of {OPTIONS[name]}, got {value!r}")


def deal_announced(estimates: pd.DataFrame, deals: pd.DataFrame | None) -> pd.Series:
    """When the deal behind each deal-headline estimate was announced (NaT for shares, or with no deals table).

    The deal is the latest counted, not superseded, valued deal between the lab (buyer) and the provider (seller)
    announced on or before the estimate's own date; where no such deal is recorded, the estimate's date stands in.
    A share of a dated backlog is not a deal and gets NaT.
    """
    out = pd.Series(pd.NaT, index=estimates.index, dtype="datetime64[ns]")
    if deals is None or estimates.empty:
        return out
    deal_rows = estimates[estimates["measure"] == "commitment_total"]
    for index, row in zip(deal_rows.index, deal_rows.to_dict("records"), strict=True):
        dates = announcement_dates(deals, row["lab"], row["provider"])
        if pd.notna(row["as_of"]):
            dates = dates[dates <= row["as_of"]]
        out[index] = dates.max() if dates.notna().any() else row["as_of"]
    return out


@same_tables()
def announcement_dates(deals: pd.DataFrame, lab: str, provider: str) -> pd.Series:
    """When each counted, valued, not-superseded deal of ``lab`` buying from ``provider`` was announced."""
    valued = deals["value_usd_bn"].notna() | deals["value_low_usd_bn"].notna() | deals["value_high_usd_bn"].notna()
    counted = valued & deals["counted"].fillna(False).astype(bool) & (deals["status"] != "superseded")
    return deals.loc[counted & (deals["buyer"] == lab) & (deals["seller"] == provider), "announced"]


@same_tables()
def ex_lab_growth(
    series: pd.DataFrame, split: pd.DataFrame, split_year_ago: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Year-over-year growth of the backlog that is *not* OpenAI or Anthropic, quarter against the same quarter.

    Now: the backlog less the labs' amounts in ``split`` (pairs with no estimate count as zero and are listed in
    ``unquantified``: a lab part there would lower 'other now'). A year earlier: the backlog at the same quarter less
    the labs' amounts in ``split_year_ago`` where that split is for the same quarter (its ``estimate_dates`` column,
    if present, says which estimates it used); elsewhere the whole year-ago backlog counts as 'other'. Neither side
    is a bound: an unknown part today raises the growth, an unknown part a year ago lowers it. ``year_ago_basis``
    says whether the year-ago backlog is reported or derived.
    """
    out = []
    earlier = split_year_ago.set_index("provider") if split_year_ago is not None else None
    for _, row in split.iterrows():
        year_ago = row["period_end"] - pd.DateOffset(years=1)
        prior = backlog_on(series, row["provider"], year_ago)
        unquantified = [lab for lab in LABS if np.isnan(row[lab])]
        result = {
            "provider": row["provider"],
            "period_end": row["period_end"],
            "other_now": row["other"],
            "backlog_year_ago": np.nan,
            "year_ago_basis": "",
            "labs_year_ago": np.nan,
            "other_year_ago": np.nan,
            "ex_lab_growth_pct": np.nan,
            "kind": "not computable: no backlog a year earlier",
            "total_growth_pct": np.nan,
            "unquantified": ", ".join(unquantified),
        }
        if not prior.empty:
            base = float(prior["value"].iloc[0])
            labs_then, kind = _labs_year_ago(earlier, row["provider"], year_ago)
            result.update(
                {
                    "backlog_year_ago": base,
                    "year_ago_basis": prior["basis"].iloc[0],
                    "labs_year_ago": labs_then,
                    "other_year_ago": base - labs_then,
                    "ex_lab_growth_pct": 100 * (row["other"] / (base - labs_then) - 1),
                    "kind": kind,
                    "total_growth_pct": 100 * (row["backlog"] / base - 1),
                }
            )
        out.append(result)
    return pd.DataFrame(out)


@same_tables()
def backlog_on(series: pd.DataFrame, provider: str, period_end: pd.Timestamp) -> pd.DataFrame:
    """The provider's row of the series at exactly ``period_end`` (empty if that quarter is not sourced)."""
    return series[(series["provider"] == provider) & (series["period_end"] == period_end)]


def _labs_year_ago(earlier: pd.DataFrame | None, provider: str, year_ago: pd.Timestamp) -> tuple[float, str]:
    """The labs' estimated part at the year-ago quarter and how it was found (0 where nothing is estimated)."""
    none = (0.0, "labs' year-ago part not estimated: the whole year-ago backlog counts as other")
    if earlier is None or provider not in earlier.index:
        return none
    then = earlier.loc[provider]
    known = [then[lab] for lab in LABS if not np.isnan(then[lab])]
    if not known or then["period_end"] != year_ago:
        return none
    dates = then.get("estimate_dates", "")
    source = f" (estimate dated {dates})" if dates else ""
    return float(sum(known)), f"labs' year-ago part subtracted{source}"


@same_tables()
def years_of_revenue(split: pd.DataFrame, revenue: pd.DataFrame, business: dict[str, str]) -> pd.DataFrame:
    """Backlog divided by the latest annual revenue of the same business (how many years of revenue it holds)."""
    out = []
    for _, row in split.iterrows():
        segment = business.get(row["provider"])
        rows = fiscal_years(revenue, row["provider"], segment)
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


@same_tables()
def fiscal_years(revenue: pd.DataFrame, company: str, segment: str | None) -> pd.DataFrame:
    """The company's fiscal-year revenue rows for one segment."""
    return revenue[
        (revenue["company"] == company) & (revenue["segment"] == segment) & (revenue["period_kind"] == "fiscal_year")
    ]


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


@same_tables()
def haircut_table(split: pd.DataFrame, steps: range = range(0, 101, 10)) -> pd.DataFrame:
    """Each provider's backlog left after haircuts of 0%, 10%, ... 100% on the labs' amounts."""
    for haircut in steps:
        check_pct("haircut_pct", haircut)
    cuts = np.repeat(np.asarray(list(steps)), len(split))
    labs = np.tile(split[list(LABS)].fillna(0).sum(axis=1).to_numpy(), len(steps))
    backlog = np.tile(split["backlog"].to_numpy(), len(steps))
    return pd.DataFrame(
        {
            "provider": np.tile(split["provider"].to_numpy(), len(steps)),
            "haircut_pct": cuts,
            "backlog_after_haircut": after_haircut(backlog, labs, cuts),
        }
    )


def after_haircut(backlog, labs_amount, haircut_pct: float):
    """Backlog left when ``haircut_pct`` of the labs' amount is never paid (works on numbers and Series)."""
    return backlog - labs_amount * haircut_pct / 100


@same_tables()
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
    deals: pd.DataFrame | None = None,
    deals_after_backlog_date: str = "include",
    year_ago_labs: str = "previous_quarter",
) -> pd.DataFrame:
    """Each provider's split at the quarter a year before its snapshot, for :func:`ex_lab_growth` (dated estimates).

    ``year_ago_labs`` says which estimates may stand for that quarter: "same_quarter" only those dated within it;
    "previous_quarter" also those dated in the quarter before (carried forward, e.g. Microsoft's December 2024
    figure for March 2025). The ``estimate_dates`` column lists the dates of the estimates used.
    """
    check_option("year_ago_labs", year_ago_labs)
    quarters = tuple(zip(split["provider"], split["period_end"], strict=True))
    return _year_ago_split(
        series,
        attribution,
        quarters,
        choice,
        include_commitment_amounts=include_commitment_amounts,
        deals=deals,
        deals_after_backlog_date=deals_after_backlog_date,
        year_ago_labs=year_ago_labs,
    )


@same_tables()
def _year_ago_split(
    series: pd.DataFrame,
    attribution: pd.DataFrame,
    quarters: tuple[tuple[str, pd.Timestamp], ...],
    choice: str,
    *,
    include_commitment_amounts: bool,
    deals: pd.DataFrame | None,
    deals_after_backlog_date: str,
    year_ago_labs: str,
) -> pd.DataFrame | None:
    """:func:`year_ago_split` for each (provider, snapshot quarter end): shared by every split of those quarters."""
    months = 3 if year_ago_labs == "same_quarter" else 6
    splits = []
    for provider, period_end in quarters:
        then = period_end - pd.DateOffset(years=1)
        _, estimates, ranges = split_at(
            series,
            attribution,
            then,
            [provider],
            include_commitment_amounts=include_commitment_amounts,
            include_undated=False,
            deals=deals,
            deals_after_backlog_date=deals_after_backlog_date,
            earliest=then - pd.DateOffset(months=months) + pd.Timedelta(days=1),
        )
        if ranges.empty:
            continue
        dates = ", ".join(sorted({f"{d:%Y-%m-%d}" for d in estimates["as_of"].dropna()}))
        splits.append(snapshot_split(ranges, choice).assign(estimate_dates=dates))
    return pd.concat(splits, ignore_index=True) if splits else None


@same_tables()
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


# ---------------------------------------------------------------------------------------------------------------------
# The chapter as one function: run(tables, params) -> ChapterResult

# The tables the chapter reads (the build's cache keys on them).
TABLES = ("backlog", "backlog_attribution", "compute_deals", "revenue", "lab_financials", "customer_concentration")

# The notebook's parameters and their defaults (the notebook's parameters cell declares the same names).
DEFAULT_PARAMS: dict = {
    "as_of": "2026-06-30",
    "estimate": "central",
    "estimator": "",
    "haircut_pct": 0.0,
    "providers": ["Microsoft", "Oracle", "Alphabet", "Amazon"],
    "include_commitment_amounts": True,
    "include_undated": False,
    "contract_years": 5.0,
    # Whether a deal announced after a backlog's quarter end counts inside that backlog (ASSUMPTION either way:
    # no company says; the Alphabet-Anthropic $200bn deal, reported May 2026, against Alphabet's 31 March backlog).
    "deals_after_backlog_date": "include",
    # Provider-lab pairs with no usable estimate: "zero", or "lowest" sourced estimate for the pair (if any).
    "unknown_pairs": "zero",
    # Which estimates stand for the labs' part a year earlier: "previous_quarter" carries one from the quarter
    # before the year-ago quarter (ASSUMPTION: their part did not change in that quarter); "same_quarter" only
    # uses estimates dated within it.
    "year_ago_labs": "previous_quarter",
}

# The defensible alternatives for each parameter a careful analyst could set differently (central first). The
# robustness grid runs the chapter over their full factorial; the headlines' printed ranges are its min and max.
CHOICES: dict[str, tuple] = {
    "estimate": ("central", "low", "high"),
    "deals_after_backlog_date": ("include", "exclude"),
    "include_undated": (False, True),
    "unknown_pairs": ("zero", "lowest"),
    "year_ago_labs": ("previous_quarter", "same_quarter"),
}
# The headline records whose low/high are the spread over CHOICES (see :func:`choice_range`).
RANGED_RECORDS = ("combined_share", "labs_amount", "ex_lab_growth")

# Companies whose largest customer's share of revenue the chapter records (the chain beyond the clouds).
CONCENTRATION_COMPANIES = ("Nvidia", "CoreWeave")
# The quarter at which Microsoft disclosed OpenAI's share of its backlog, and the same quarter a year earlier.
MICROSOFT_DISCLOSURE = ("2025-12-31", "2024-12-31")


def check_params(params: dict) -> dict:
    """The chapter's parameters with defaults filled in; a clear ValueError for an unknown name or a bad value."""
    unknown = sorted(set(params) - set(DEFAULT_PARAMS))
    if unknown:
        raise ValueError(f"backlog: unknown parameter(s) {unknown}; known: {sorted(DEFAULT_PARAMS)}")
    p = {**DEFAULT_PARAMS, **params}
    try:
        p["as_of"] = pd.Timestamp(p["as_of"])
    except (TypeError, ValueError) as error:
        raise ValueError(f"as_of must be a date (YYYY-MM-DD), got {p['as_of']!r}") from error
    if pd.isna(p["as_of"]):
        raise ValueError("as_of must be a date (YYYY-MM-DD), got a missing value")
    _check_choice(p["estimate"])
    if not isinstance(p["estimator"], str):
        raise ValueError(f"estimator must be a source's name or '', got {p['estimator']!r}")
    check_pct("haircut_pct", float(p["haircut_pct"]))
    providers = p["providers"]
    if isinstance(providers, str) or not list(providers):
        raise ValueError(f"providers must be a non-empty list drawn from {list(PROVIDERS)}, got {providers!r}")
    bad = [name for name in providers if name not in PROVIDERS]
    if bad:
        raise ValueError(f"unknown provider(s) {bad}; providers are {list(PROVIDERS)}")
    if len(set(providers)) != len(providers):
        raise ValueError(f"providers lists a provider twice: {providers!r}")
    p["providers"] = list(providers)
    for flag in ("include_commitment_amounts", "include_undated"):
        if not isinstance(p[flag], bool | np.bool_):
            raise ValueError(f"{flag} must be true or false, got {p[flag]!r}")
    if not float(p["contract_years"]) > 0:
        raise ValueError(f"contract_years must be positive, got {p['contract_years']!r}")
    for name in OPTIONS:
        check_option(name, p[name])
    return p


def run(tables: dict[str, pd.DataFrame], params: dict, *, choice_ranges: bool = False) -> ChapterResult:
    """The whole chapter: every key number it records and every frame its charts and tables draw.

    Pure and fast (no I/O, no display), so the robustness grid can evaluate it many times over. The headline
    records' low/high span the estimate choice (low/high estimate per pair); with ``choice_ranges`` they span the
    full factorial of :data:`CHOICES` instead (what the notebook prints), and ``frames["choice_grid"]`` holds it.
    """
    p = check_params(params)
    book = RecordBook("backlog")
    frames: dict[str, pd.DataFrame] = {}
    series = backlog_series(tables["backlog"])
    attribution, deals = tables["backlog_attribution"], tables["compute_deals"]
    snap, estimates, ranges = split_at(
        series,
        attribution,
        p["as_of"],
        p["providers"],
        include_commitment_amounts=p["include_commitment_amounts"],
        include_undated=p["include_undated"],
        estimator=p["estimator"],
        deals=deals,
        deals_after_backlog_date=p["deals_after_backlog_date"],
        unknown_pairs=p["unknown_pairs"],
    )
    split = snapshot_split(ranges, p["estimate"], p["haircut_pct"])
    frames.update(snapshot=snap, estimates=estimates, ranges=ranges, split=split)
    frames.update(_published_estimates(attribution))
    _record_snapshot(book, snap, estimates, ranges, split, p)
    frames.update(_record_series(book, series, deals, p))
    frames.update(_record_ex_lab_growth(book, series, attribution, deals, estimates, split, p))
    frames.update(_record_scale(book, split, tables["revenue"], tables["lab_financials"], p))
    frames.update(_record_haircut(book, split, p))
    frames.update(_record_concentration(book, tables["customer_concentration"]))
    if choice_ranges:
        frames["choice_grid"] = choice_grid(tables, params, RANGED_RECORDS)
        frames["choice_flips"] = one_choice_at_a_time(frames["choice_grid"], RANGED_RECORDS)
        for key in RANGED_RECORDS:
            _widen_to_choices(book, key, frames["choice_grid"])
    return ChapterResult(book, frames)


def one_choice_at_a_time(grid: pd.DataFrame, keys: tuple[str, ...]) -> pd.DataFrame:
    """The central case, then each alternative option with every other choice left at its central option."""
    central = {name: options[0] for name, options in CHOICES.items()}
    rows = []
    for name, options in CHOICES.items():
        for option in options if name == next(iter(CHOICES)) else options[1:]:
            wanted = {**central, name: option}
            match = grid[np.logical_and.reduce([grid[k] == v for k, v in wanted.items()])]
            label = "central case" if wanted == central else f"{name} = {option}"
            rows.append({"choice": label, **{key: match[key].iloc[0] for key in keys}})
    return pd.DataFrame(rows).drop_duplicates("choice").reset_index(drop=True)


def choice_grid(tables: dict[str, pd.DataFrame], params: dict, keys: tuple[str, ...]) -> pd.DataFrame:
    """The records ``keys`` under every combination of :data:`CHOICES` (one row per combination)."""
    names = list(CHOICES)
    rows = []
    for combo in itertools.product(*(CHOICES[name] for name in names)):
        choice = dict(zip(names, combo, strict=True))
        result = run(tables, {**params, **choice})
        rows.append({**choice, **{key: result[key].value for key in keys}})
    return pd.DataFrame(rows)


def choice_range(tables: dict[str, pd.DataFrame], params: dict, key: str) -> tuple[float, float]:
    """The lowest and highest value of record ``key`` over the full factorial of :data:`CHOICES`."""
    values = choice_grid(tables, params, (key,))[key].dropna()
    return float(values.min()), float(values.max())


def _widen_to_choices(book: RecordBook, key: str, grid: pd.DataFrame) -> None:
    """Set a record's low/high to the spread over the grid, with a note naming the choices at each end."""
    values = grid[key].dropna()
    if values.empty:
        return
    record = book[key]
    ends = [_describe_choice(grid.loc[values.idxmin()]), _describe_choice(grid.loc[values.idxmax()])]
    note = (
        f"Range: lowest and highest over {len(grid)} combinations of the defensible choices "
        f"({', '.join(CHOICES)}); lowest with {ends[0]}; highest with {ends[1]}."
    )
    book.records[record.key] = replace(
        record,
        low=_rounded(values.min()),
        high=_rounded(values.max()),
        note=f"{record.note}. {note}" if record.note else note,
    )


def _describe_choice(row: pd.Series) -> str:
    central = {name: options[0] for name, options in CHOICES.items()}
    moved = [f"{name}={row[name]}" for name in CHOICES if row[name] != central[name]]
    return ", ".join(moved) if moved else "the central choices"


def _rounded(value: float) -> float:
    return float(f"{float(value):.6g}")


@same_tables()
def _published_estimates(attribution: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Estimates for several providers together (for comparison), and those outside the reported backlog."""
    multi = attribution[attribution["provider"].str.contains("+", regex=False)]
    excluded = attribution[attribution["in_reported_backlog"] == "no"]
    return {"multi_provider_estimates": multi, "excluded_estimates": excluded}


def _record_snapshot(
    book: RecordBook, snap: pd.DataFrame, estimates: pd.DataFrame, ranges: pd.DataFrame, split: pd.DataFrame, p: dict
) -> None:
    combined = combined_share(ranges)
    total, estimate = combined["total_backlog"], p["estimate"]
    note = f"{combined['unknown_pairs']} of {combined['pairs']} provider-lab pairs have no estimate and count as zero"
    book.record(
        "combined_share",
        combined[estimate],
        unit="pct",
        low=combined["low"],
        high=combined["high"],
        label="OpenAI and Anthropic's share of the four clouds' combined backlog",
        sources=estimates["source_id"],
        chart="snapshot",
        note=note,
    )
    book.record(
        "labs_amount",
        combined[estimate] * total / 100,
        unit="usd_bn",
        low=combined["low"] * total / 100,
        high=combined["high"] * total / 100,
        label="Backlog attributed to OpenAI and Anthropic at the providers shown",
        sources=estimates["source_id"],
        chart="snapshot",
    )
    book.record(
        "combined_backlog",
        total,
        unit="usd_bn",
        label="Combined backlog of the providers shown",
        sources=snap["sources"],
    )
    book.record(
        "unknown_pairs",
        combined["unknown_pairs"],
        unit="count",
        label="Provider-lab pairs with no sourced estimate of the lab's part",
        chart="snapshot",
    )
    book.record("provider_lab_pairs", combined["pairs"], unit="count", label="Provider-lab pairs in the split")
    for _, row in split.iterrows():
        book.record(
            f"labs_share.{row['provider'].lower()}",
            row["labs_share_pct"],
            unit="pct",
            label=f"OpenAI and Anthropic's share of {row['provider']}'s backlog",
            sources=sources_by_provider(estimates).get(row["provider"], []),
            chart="snapshot",
        )


@same_tables()
def sources_by_provider(estimates: pd.DataFrame) -> dict[str, list[str]]:
    """The source ids of the estimates for each provider."""
    return {provider: list(rows["source_id"]) for provider, rows in estimates.groupby("provider", sort=False)}


def _record_series(book: RecordBook, series: pd.DataFrame, deals: pd.DataFrame, p: dict) -> dict[str, pd.DataFrame]:
    in_series, growth = series_growth(series, p["providers"], p["as_of"])
    book.record(
        "combined_backlog_growth",
        growth,
        unit="pct",
        label="Growth of the providers' combined backlog from their first to latest sourced quarter",
        sources=in_series["sources"],
        chart="series",
    )
    return {"series": in_series, "deals": deal_markers(deals, p["providers"])}


@same_tables()
def series_growth(series: pd.DataFrame, providers: list[str], as_of: pd.Timestamp) -> tuple[pd.DataFrame, float]:
    """The providers' quarters up to ``as_of``, and their combined growth (percent) from first to latest quarter."""
    in_series = series[series["provider"].isin(providers) & (series["period_end"] <= as_of)]
    jump = in_series.sort_values("period_end").groupby("provider")["value"].agg(["first", "last"])
    return in_series, float(100 * (jump["last"].sum() / jump["first"].sum() - 1))


def _record_ex_lab_growth(
    book: RecordBook,
    series: pd.DataFrame,
    attribution: pd.DataFrame,
    deals: pd.DataFrame,
    estimates: pd.DataFrame,
    split: pd.DataFrame,
    p: dict,
) -> dict[str, pd.DataFrame]:
    year_ago = year_ago_split(
        series,
        attribution,
        split,
        p["estimate"],
        include_commitment_amounts=p["include_commitment_amounts"],
        deals=deals,
        deals_after_backlog_date=p["deals_after_backlog_date"],
        year_ago_labs=p["year_ago_labs"],
    )
    growth = ex_lab_growth(series, split, year_ago)
    valid = growth.dropna(subset=["ex_lab_growth_pct"])
    other_now, other_then = valid["other_now"].sum(), valid["other_year_ago"].sum()
    book.record(
        "ex_lab_growth",
        100 * (other_now / other_then - 1) if other_then else None,
        unit="pct",
        chart="ex-lab-growth",
        label="Growth over a year of the backlog not attributed to OpenAI or Anthropic",
        sources=estimates["source_id"],
        note=_ex_lab_growth_note(valid),
    )
    frames = {"ex_lab_growth": growth}
    if "Microsoft" in p["providers"]:
        frames["microsoft_growth_2025q4"] = _record_microsoft_disclosure_growth(book, series, attribution, p)
    return frames


def _ex_lab_growth_note(valid: pd.DataFrame) -> str:
    """How the aggregate was computed: same quarter a year earlier, which year-ago figures are derived or carried."""
    derived = valid.loc[valid["year_ago_basis"] == "derived", "provider"].tolist()
    subtracted = valid.loc[valid["labs_year_ago"] > 0, "provider"].tolist()
    parts = ["Each provider's latest quarter against the same quarter a year earlier"]
    parts.append(f"year-ago backlog derived, not reported: {', '.join(derived)}" if derived else "")
    parts.append(f"labs' year-ago part subtracted for {', '.join(subtracted)}, elsewhere counted as other")
    parts.append("not a bound: unknown lab parts today raise it, unknown parts a year ago lower it")
    return "; ".join(part for part in parts if part)


def _record_microsoft_disclosure_growth(
    book: RecordBook, series: pd.DataFrame, attribution: pd.DataFrame, p: dict
) -> pd.DataFrame:
    """The ex-lab growth at the quarter Microsoft disclosed OpenAI's share, where the year-ago part is implied."""
    now, year_ago = MICROSOFT_DISCLOSURE
    _, _, ranges_now = split_at(series, attribution, now, ["Microsoft"])
    _, _, ranges_then = split_at(series, attribution, year_ago, ["Microsoft"])
    growth = ex_lab_growth(
        series, snapshot_split(ranges_now, p["estimate"]), snapshot_split(ranges_then, p["estimate"])
    )
    book.record(
        "microsoft_ex_openai_growth_2025q4",
        growth["ex_lab_growth_pct"].iloc[0],
        unit="pct",
        label="Growth of Microsoft's commercial RPO excluding the labs, year to December 2025",
        sources=attribution.loc[attribution["provider"] == "Microsoft", "source_id"],
    )
    return growth


def _record_scale(
    book: RecordBook, split: pd.DataFrame, revenue: pd.DataFrame, lab_fin: pd.DataFrame, p: dict
) -> dict[str, pd.DataFrame]:
    years = years_of_revenue(split, revenue, SAME_BUSINESS)
    payments = payments_against_run_rate(annual_lab_payments(split, float(p["contract_years"])), lab_fin, p["as_of"])
    for _, row in payments.iterrows():
        book.record(
            f"annual_payments_to_revenue.{row['lab'].lower()}",
            row["payments_to_revenue"],
            unit="ratio",
            label=f"{row['lab']}'s implied annual payments to these providers ÷ its revenue run-rate",
            sources=[row["source"]] if row["source"] else [],
        )
    known = years.dropna(subset=["years"])
    largest = known.sort_values("years").iloc[-1] if not known.empty else None
    book.record(
        "max_years_of_revenue",
        None if largest is None else float(largest["years"]),
        unit="years",
        label=f"Largest backlog-to-revenue multiple ({'n/a' if largest is None else largest['provider']})",
    )
    return {"years_of_revenue": years, "payments": payments}


@same_tables()
def payments_against_run_rate(payments: pd.DataFrame, lab_fin: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    """Each lab's implied annual payments beside its latest revenue run-rate on or before ``as_of``, and their ratio."""
    rows = []
    for _, row in payments.iterrows():
        rate = latest_figure(lab_fin, row["lab"], "revenue_run_rate", as_of)
        rows.append(
            {
                **row.to_dict(),
                "revenue_run_rate": None if rate is None else float(rate["value"]),
                "run_rate_date": None if rate is None else rate["period_end"],
                "payments_to_revenue": None if rate is None else row["per_year"] / float(rate["value"]),
                "source": "" if rate is None else rate["source_id"],
            }
        )
    return pd.DataFrame(rows)


def _record_haircut(book: RecordBook, split: pd.DataFrame, p: dict) -> dict[str, pd.DataFrame]:
    """What a haircut moves: the backlog left, the labs' amount left and their share of what is left.

    The measured share (``combined_share``) describes the backlog as reported and does not move: a haircut is a
    stress test of how much of it would be paid, not a different reading of what it contains.
    """
    cuts = haircut_table(split)
    labs_total = float(split[list(LABS)].fillna(0).to_numpy().sum())
    labs_left = labs_total * (1 - p["haircut_pct"] / 100)
    backlog_left = float(split["backlog_after_haircut"].sum())
    book.record(
        "backlog_after_haircut",
        backlog_left,
        unit="usd_bn",
        label=f"Combined backlog after a {p['haircut_pct']:g}% haircut on the labs' amounts",
        chart="haircut",
    )
    book.record(
        "labs_amount_after_haircut",
        labs_left,
        unit="usd_bn",
        label=f"Backlog attributed to OpenAI and Anthropic after a {p['haircut_pct']:g}% haircut on it",
        chart="haircut",
    )
    book.record(
        "labs_share_after_haircut",
        100 * labs_left / backlog_left if backlog_left else None,
        unit="pct",
        label=f"OpenAI and Anthropic's share of the combined backlog left after a {p['haircut_pct']:g}% haircut",
        chart="haircut",
    )
    book.record(
        "backlog_after_half_haircut",
        float(cuts.loc[cuts["haircut_pct"] == 50, "backlog_after_haircut"].sum()),
        unit="usd_bn",
        label="Combined backlog if half of the labs' amounts were never paid",
        chart="haircut",
    )
    return {"haircut": cuts}


def _record_concentration(book: RecordBook, concentration: pd.DataFrame) -> dict[str, pd.DataFrame]:
    for company in CONCENTRATION_COMPANIES:
        top = top_customer_share(concentration, company)
        if top is not None:
            share, period_end, sources = top
            book.record(
                f"top_customer_share.{company.lower()}",
                share,
                unit="pct",
                sources=sources,
                label=f"{company}'s largest customer's share of revenue ({period_end:%Y-%m})",
            )
    return {"customer_concentration": Later(lambda: revenue_shares(concentration))}


def revenue_shares(concentration: pd.DataFrame) -> pd.DataFrame:
    """The dated revenue-share rows of the customer-concentration table (the chapter's table of them)."""
    return concentration[concentration["measure"] == "revenue_share"].dropna(subset=["period_end"])
