"""Chapter 2 models: who funds whom, and how much comes back as cloud and chip revenue?

Equity investments (money from investor to lab) and compute deals (money promised from lab to seller) become one
table of typed, dated edges with a status. The same deal reported by two sources shares a ``group`` and is counted
once, with the sources' spread kept as a low–high range.
"""

from __future__ import annotations

import itertools

import networkx as nx
import numpy as np
import pandas as pd

from aicompute.analysis.data import central_value
from aicompute.analysis.labs import latest_figure
from aicompute.analysis.memo import same_tables
from aicompute.analysis.records import ChapterResult, Later, RecordBook
from aicompute.analysis.vocabulary import LABS

EDGE_TYPES = ("equity", "cloud_capacity", "chips", "datacenter_lease", "other")
# One status vocabulary for both tables: a deal's "binding contract" is a commitment,
# "reported, unconfirmed" is reported.
STATUSES = ("funded", "committed", "conditional", "letter_of_intent", "reported", "superseded")
_DEAL_STATUS = {
    "binding_contract": "committed",
    "letter_of_intent": "letter_of_intent",
    "reported_unconfirmed": "reported",
    "superseded": "superseded",
}
# When reports of one deal differ in status, the group takes the first of these that any report has: a deal any
# report calls superseded is superseded; otherwise the most confirmed status wins.
STATUS_PRECEDENCE = ("superseded", "funded", "committed", "conditional", "reported", "letter_of_intent")
STRATEGIC = (
    "OpenAI",
    "Anthropic",
    "Microsoft",
    "Amazon",
    "Alphabet",
    "Oracle",
    "Nvidia",
    "AMD",
    "Broadcom",
    "SoftBank",
    "CoreWeave",
    "Cerebras",
    "Fluidstack",
    "Akamai",
    "SpaceX (xAI)",
)


def canonical(name: str) -> str:
    """One node per company: 'AMD (warrant ...)' is AMD, 'SB Energy (SoftBank)' is SoftBank.

    Venture and sovereign funds become 'Other investors'.
    """
    name = name.strip()
    if name in STRATEGIC:
        return name
    for company in STRATEGIC:
        if name.startswith(company + " ") or name.startswith(company + "-"):
            return company
    if name.startswith("SB Energy"):
        return "SoftBank"
    if "investor" in name.lower() or "syndicate" in name.lower():
        return "Other investors"
    return name


def edges_from_tables(equity: pd.DataFrame, deals: pd.DataFrame) -> pd.DataFrame:
    """One row per reported money flow: investor→lab for equity, lab→seller for compute deals."""
    eq = pd.DataFrame(
        {
            "edge_id": equity["investment_id"],
            "group": equity["group"].fillna(equity["investment_id"]),
            "payer": equity["investor"].map(canonical),
            "payee": equity["lab"],
            "type": "equity",
            "amount_low": equity["committed_usd_bn"].astype(float),
            "amount_high": equity["committed_usd_bn"].astype(float),
            "funded": equity["funded_usd_bn"].astype(float),
            "date": equity["announced"],
            "status": equity["status"],
            "source_id": equity["source_id"],
            "detail": equity["conditions"].fillna(""),
            "duration_years": np.nan,
        }
    )
    low = deals["value_low_usd_bn"].fillna(deals["value_usd_bn"]).astype(float)
    high = deals["value_high_usd_bn"].fillna(deals["value_usd_bn"]).astype(float)
    dl = pd.DataFrame(
        {
            "edge_id": deals["deal_id"],
            "group": deals["group"].fillna(deals["deal_id"]),
            "payer": deals["buyer"].map(canonical),
            "payee": deals["seller"].map(canonical),
            "type": deals["kind"],
            "amount_low": low.fillna(high),
            "amount_high": high.fillna(low),
            "funded": np.nan,
            "date": deals["announced"],
            "status": deals["status"].map(_DEAL_STATUS).fillna(deals["status"]),
            "source_id": deals["source_id"],
            "detail": deals["chips"].fillna(""),
            "duration_years": deals["duration_years"].astype(float) if "duration_years" in deals else np.nan,
        }
    )
    return pd.concat([eq, dl], ignore_index=True)


@same_tables()
def filter_edges(
    edges: pd.DataFrame,
    *,
    statuses: list[str] | tuple[str, ...],
    types: list[str] | tuple[str, ...],
    cutoff: pd.Timestamp | str | None = None,
) -> pd.DataFrame:
    """Keep edges of the given statuses and types announced on or before ``cutoff``."""
    bad = sorted(set(statuses) - set(STATUSES)) + sorted(set(types) - set(EDGE_TYPES))
    if bad:
        raise ValueError(f"unknown status or edge type {bad}; statuses: {STATUSES}; types: {EDGE_TYPES}")
    keep = edges["status"].isin(statuses) & edges["type"].isin(types)
    if cutoff is not None:
        keep &= edges["date"] <= pd.Timestamp(cutoff)
    return edges[keep].copy()


def group_status(rows: pd.DataFrame) -> str:
    """The status of one deal group: the most confirmed status among the reports that carry an amount.

    A binding contract disclosed without a value does not confirm a value reported elsewhere (Oracle's $300bn,
    Alphabet–Anthropic's $200bn). Only a group with no amount at all takes its status from every report. Either way a
    report calling the deal superseded wins (:data:`STATUS_PRECEDENCE`).
    """
    statuses = set(rows["status"])
    if "superseded" in statuses:
        return "superseded"
    valued = rows[rows["amount_low"].notna() | rows["amount_high"].notna()]
    pool = set(valued["status"]) if not valued.empty else statuses
    return next(st for st in (*STATUS_PRECEDENCE, *sorted(pool)) if st in pool)


def dedupe(edges: pd.DataFrame) -> pd.DataFrame:
    """One edge per deal ``group``: the spread of the sources' amounts as low–high, the midpoint as central.

    Rows of a group without an amount do not pull the range down; a group with no amount at all stays NaN. The
    group's status is :func:`group_status`: a value keeps its own status, so a price only reported in the press stays
    'reported' even when another report confirms the deal without a price. Run this before filtering by status.
    """
    out = []
    for group, rows in edges.groupby("group", sort=True):
        first = rows.sort_values("date").iloc[0]
        status = group_status(rows)
        low = rows["amount_low"].min()
        high = rows["amount_high"].max()
        out.append(
            {
                "group": group,
                "payer": first["payer"],
                "payee": first["payee"],
                "type": first["type"],
                "date": rows["date"].min(),
                "status": status,
                "amount_low": low,
                "amount_high": high,
                "amount": (low + high) / 2 if pd.notna(low) and pd.notna(high) else np.nan,
                "funded": rows["funded"].max(),
                "duration_years": rows["duration_years"].max(),
                "n_reports": len(rows),
                "sources": ", ".join(sorted(set(rows["source_id"]))),
                "detail": "; ".join(sorted({d for d in rows["detail"] if d})),
            }
        )
    return pd.DataFrame(
        out,
        columns=[
            "group",
            "payer",
            "payee",
            "type",
            "date",
            "status",
            "amount_low",
            "amount_high",
            "amount",
            "funded",
            "duration_years",
            "n_reports",
            "sources",
            "detail",
        ],
    )


@same_tables()
def round_trips(edges: pd.DataFrame) -> pd.DataFrame:
    """For each investor–lab pair: dollars invested, dollars the lab committed to spend with the investor, ratio.

    Every pair with an investment appears; a pair with no purchase has ratio 0. Pairs where the lab buys from a
    company that has not invested in it are listed with ``invested`` 0 and no ratio (no round trip).
    """
    invest = edges[edges["type"] == "equity"].groupby(["payer", "payee"])["amount"].sum(min_count=1)
    spend = edges[(edges["type"] != "equity") & edges["payer"].isin(LABS)].groupby(["payee", "payer"])["amount"]
    spend = spend.sum(min_count=1)
    pairs = sorted(set(invest.index) | set(spend.index))
    out = []
    for investor, lab in pairs:
        if lab not in LABS:
            continue
        invested = float(invest.get((investor, lab), 0.0) or 0.0)
        spent = float(spend.get((investor, lab), 0.0) or 0.0)
        out.append(
            {
                "investor": investor,
                "lab": lab,
                "invested": invested,
                "spend_committed": spent,
                "ratio": spent / invested if invested > 0 else np.nan,
                "round_trip": invested > 0 and spent > 0,
            }
        )
    return pd.DataFrame(out, columns=["investor", "lab", "invested", "spend_committed", "ratio", "round_trip"])


def round_trip_total(trips: pd.DataFrame) -> dict:
    both = trips[trips["round_trip"]]
    invested = float(both["invested"].sum())
    spent = float(both["spend_committed"].sum())
    return {
        "pairs": int(len(both)),
        "invested": invested,
        "spend_committed": spent,
        "ratio": spent / invested if invested else np.nan,
    }


@same_tables()
def cumulative_by_quarter(edges: pd.DataFrame) -> pd.DataFrame:
    """Cumulative dollars by edge type at each quarter end (edges without an amount are not counted)."""
    frame = edges.dropna(subset=["amount", "date"]).copy()
    if frame.empty:
        return pd.DataFrame(columns=["quarter", "type", "cumulative"])
    frame["quarter"] = frame["date"].dt.to_period("Q").dt.end_time.dt.normalize()
    quarters = pd.period_range(frame["date"].min(), frame["date"].max(), freq="Q").end_time.normalize()
    table = frame.pivot_table(index="quarter", columns="type", values="amount", aggfunc="sum").reindex(quarters)
    table = table.fillna(0).cumsum()
    table.index.name = "quarter"
    return table.reset_index().melt(id_vars="quarter", var_name="type", value_name="cumulative")


@same_tables()
def financing_dependence(edges: pd.DataFrame, revenue: dict[str, float], raised: dict[str, float]) -> pd.DataFrame:
    """Each lab's compute commitments against its annual revenue (years of revenue) and the capital it raised."""
    out = []
    for lab in LABS:
        committed = float(edges[(edges["payer"] == lab) & (edges["type"] != "equity")]["amount"].sum())
        rev, cap = revenue.get(lab, np.nan), raised.get(lab, np.nan)
        out.append(
            {
                "lab": lab,
                "commitments": committed,
                "annual_revenue": rev,
                "years_of_revenue": committed / rev if rev else np.nan,
                "capital_raised": cap,
                "commitments_per_dollar_raised": committed / cap if cap else np.nan,
            }
        )
    return pd.DataFrame(out)


@same_tables()
def layout(edges: pd.DataFrame, seed: int = 7) -> pd.DataFrame:
    """Stable node positions for the deal graph (a seeded spring layout; the labs pinned at the centre)."""
    graph = nx.Graph()
    for _, e in edges.iterrows():
        weight = float(e["amount"]) if pd.notna(e["amount"]) else 1.0
        graph.add_edge(e["payer"], e["payee"], weight=np.log1p(weight))
    for lab in LABS:
        graph.add_node(lab)
    fixed = {"OpenAI": (-0.35, 0.0), "Anthropic": (0.35, 0.0)}
    pos = nx.spring_layout(graph, pos=fixed, fixed=[n for n in fixed if n in graph], seed=seed, k=0.9, iterations=200)
    frame = pd.DataFrame([{"node": n, "x": float(x), "y": float(y)} for n, (x, y) in sorted(pos.items())])
    # Pinned nodes keep the layout from rescaling itself: fit it into [-1, 1] on both axes for the chart.
    for axis in ("x", "y"):
        low, high = frame[axis].min(), frame[axis].max()
        frame[axis] = (2 * (frame[axis] - low) / (high - low) - 1 if high > low else 0.0).round(4)
    return frame


@same_tables()
def edge_segments(edges: pd.DataFrame, nodes: pd.DataFrame, offset: float = 0.025) -> pd.DataFrame:
    """Line segments for the graph chart; the two directions between a pair are drawn side by side."""
    pos = nodes.set_index("node")[["x", "y"]]
    rows = []
    for _, e in edges.iterrows():
        (x1, y1), (x2, y2) = pos.loc[e["payer"]].to_numpy(), pos.loc[e["payee"]].to_numpy()
        dx, dy = x2 - x1, y2 - y1
        length = float(np.hypot(dx, dy)) or 1.0
        # Shift perpendicular to the line, by direction, so A→B and B→A do not overlap.
        nx_, ny_ = -dy / length * offset, dx / length * offset
        rows.append({**e.to_dict(), "x": x1 + nx_, "y": y1 + ny_, "x2": x2 + nx_, "y2": y2 + ny_})
    return pd.DataFrame(rows)


# ---------------------------------------------------------------------------------------------------------------------
# The chapter as one function: tables and parameters in, records and chart frames out.

TABLES = ("equity_investments", "compute_deals", "lab_financials")
PARAMS = ("statuses", "edge_types", "as_of", "include_conditional", "default_duration_years", "revenue_basis")
# Each lab's revenue basis as reported (lab_financials.csv `definition`): OpenAI books Microsoft's revenue share net,
# Anthropic's run-rate is gross of the cloud partners' share.
LAB_REVENUE_BASIS = {"OpenAI": "net", "Anthropic": "gross"}
REVENUE_BASES = ("net", "gross")
# The defensible alternatives for each parameter, central first. The robustness engine runs
# run(tables, {**params, **combo}) over their full factorial; run() records each headline's min–max over it.
CHOICES: dict[str, tuple] = {
    # Reported-but-unconfirmed values in (central) or confirmed statuses only.
    "statuses": (("funded", "committed", "conditional", "reported"), ("funded", "committed", "conditional")),
    # Conditional equity tranches (IPO, milestones) counted or not.
    "include_conditional": (True, False),
    # ASSUMPTION: years over which a commitment with no disclosed duration is paid; 5 is the median disclosed
    # duration (3-10 years in compute_deals.csv), 3 and 8 bracket it.
    "default_duration_years": (5.0, 3.0, 8.0),
    # Both labs' revenue on one basis: net of partners' revenue share (what a lab keeps to pay its bills) or gross.
    "revenue_basis": ("net", "gross"),
}
RECENT_FROM = pd.Timestamp("2025-07-01")  # "from July 2025 on": the start of the wave the chapter dates


def check_params(params: dict) -> dict:
    """The chapter's parameters, checked: every name known and present, statuses and types from the vocabulary."""
    unknown = sorted(set(params) - set(PARAMS))
    missing = sorted(set(PARAMS) - set(params))
    if unknown or missing:
        raise ValueError(f"circular parameters: unknown {unknown}, missing {missing}; expected {list(PARAMS)}")
    bad = sorted(set(params["statuses"]) - set(STATUSES)) + sorted(set(params["edge_types"]) - set(EDGE_TYPES))
    if bad:
        raise ValueError(f"unknown status or edge type {bad}; statuses: {STATUSES}; types: {EDGE_TYPES}")
    try:
        as_of = pd.Timestamp(params["as_of"])
    except (TypeError, ValueError) as err:
        raise ValueError(f"as_of must be a date (YYYY-MM-DD), got {params['as_of']!r}") from err
    if pd.isna(as_of):
        raise ValueError(f"as_of must be a date (YYYY-MM-DD), got {params['as_of']!r}")
    years = params["default_duration_years"]
    if not isinstance(years, int | float) or not 0 < years <= 30:
        raise ValueError(f"default_duration_years must be a number of years in (0, 30], got {years!r}")
    if params["revenue_basis"] not in REVENUE_BASES:
        raise ValueError(f"revenue_basis must be one of {REVENUE_BASES}, got {params['revenue_basis']!r}")
    return {**params, "as_of": as_of}


def counted_statuses(statuses, include_conditional: bool) -> list[str]:
    """The statuses that count: ``include_conditional=False`` drops conditional even if listed."""
    return [s for s in statuses if include_conditional or s != "conditional"]


def lab_spending(edges: pd.DataFrame) -> pd.DataFrame:
    """The labs' compute commitments (every non-equity edge a lab pays)."""
    return edges[edges["payer"].isin(LABS) & (edges["type"] != "equity")]


def owed_to_own_investors(edges: pd.DataFrame) -> pd.Series:
    """For each of the labs' compute commitments: is the seller also an investor in that same lab?"""
    investors = edges[edges["type"] == "equity"].groupby("payee")["payer"].apply(set)
    spend = lab_spending(edges)
    return pd.Series(
        [row.payee in investors.get(row.payer, set()) for row in spend.itertuples()], index=spend.index, dtype=bool
    )


@same_tables()
def share_owed_to_own_investors(edges: pd.DataFrame) -> float:
    """Percent of the labs' valued compute commitments owed to companies that also invested in the same lab."""
    spend = lab_spending(edges)
    total = spend["amount"].sum()
    if not total:
        return float("nan")
    return float(100 * spend.loc[owed_to_own_investors(edges), "amount"].sum() / total)


def share_announced_since(edges: pd.DataFrame, start: pd.Timestamp) -> float:
    """Percent of the counted dollars (edges with an amount) announced on or after ``start``."""
    total = edges["amount"].sum()
    return float(100 * edges.loc[edges["date"] >= start, "amount"].sum() / total) if total else float("nan")


@same_tables()
def round_trip_bars(trips: pd.DataFrame) -> pd.DataFrame:
    """Long frame for the round-trip chart: each pair with an investment, its equity and the spend committed back."""
    frame = trips[trips["invested"] > 0].copy()
    frame["pair"] = frame["investor"] + " → " + frame["lab"]
    long = frame.melt(
        id_vars=["pair", "investor", "lab", "ratio"],
        value_vars=["invested", "spend_committed"],
        var_name="flow",
        value_name="usd_bn",
    )
    long["flow"] = long["flow"].map({"invested": "equity invested", "spend_committed": "lab's spend committed back"})
    long["low"] = long["usd_bn"]
    long["high"] = long["usd_bn"]
    return long


@same_tables()
def lab_figures(fin: pd.DataFrame, metric: str, as_of: pd.Timestamp) -> tuple[dict[str, float], list[str]]:
    """Each lab's latest ``metric`` on or before ``as_of`` (NaN where none), and the sources used."""
    values, sources = {}, []
    for lab in LABS:
        row = latest_figure(fin, lab, metric, as_of)
        values[lab] = float(row["value"]) if row is not None else float("nan")
        if row is not None:
            sources.append(row["source_id"])
    return values, sources


@same_tables()
def edge_table(edges: pd.DataFrame) -> pd.DataFrame:
    """The counted edges as the chapter's table shows them, by payer and date."""
    columns = [
        "payer",
        "payee",
        "type",
        "status",
        "date",
        "amount_low",
        "amount_high",
        "n_reports",
        "sources",
        "detail",
    ]
    return edges[columns].sort_values(["payer", "date"])


@same_tables()
def colossus_rows(deals: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    """Every row of Anthropic's use of xAI/SpaceX's Colossus capacity announced by ``as_of`` (counted or not: the
    case study reads the estimates too)."""
    seller = deals["seller"].map(canonical)
    return deals[(deals["buyer"] == "Anthropic") & (seller == "SpaceX (xAI)") & (deals["announced"] <= as_of)]


def run(tables: dict[str, pd.DataFrame], params: dict) -> ChapterResult:
    """Chapter 2: every recorded number and every frame its charts and tables draw."""
    p = check_params(params)
    equity, deals, fin = (tables[name] for name in TABLES)
    statuses = counted_statuses(p["statuses"], p["include_conditional"])
    book = RecordBook("circular")
    all_edges = counted_edges(equity, deals)
    edges = filter_edges(all_edges, statuses=statuses, types=p["edge_types"], cutoff=p["as_of"])
    frames = {"statuses": statuses, "edges": edges, "all_edges": all_edges, "edge_table": edge_table(edges)}
    frames["counts"] = Later(
        lambda: pd.DataFrame(
            {
                "step": [
                    "reported rows",
                    "after merging reports of the same deal",
                    "after the status, type and date filters",
                ],
                "edges": [int(equity["counted"].sum() + deals["counted"].sum()), len(all_edges), len(edges)],
            }
        )
    )
    frames["dropped"] = Later(lambda: dropped_by_status(all_edges, edges))
    ranges = grid_ranges(equity, deals, fin, p["as_of"], tuple(p["edge_types"]))
    _record_graph(book, frames, edges)
    _record_round_trips(book, frames, edges, ranges, p)
    _record_timing(book, frames, edges)
    _record_dependence(book, frames, edges, fin, ranges, p)
    _record_colossus(book, frames, deals, p["as_of"])
    return ChapterResult(book, frames)


def dropped_by_status(all_edges: pd.DataFrame, edges: pd.DataFrame) -> pd.DataFrame:
    """How many merged deals the status, type and date filters left out, by status."""
    dropped = all_edges[~all_edges.index.isin(edges.index)]
    return dropped.groupby("status").size().rename("edges left out").reset_index()


def _record_graph(book: RecordBook, frames: dict, edges: pd.DataFrame) -> None:
    nodes = layout(edges)
    frames["nodes"], frames["segments"] = nodes, edge_segments(edges, nodes)
    lab_in = edges[edges["payee"].isin(LABS) & (edges["type"] == "equity")]["amount"].sum()
    book.record(
        "equity_into_labs",
        lab_in,
        unit="usd_bn",
        label="Equity into OpenAI and Anthropic (edges counted)",
        sources=edges["sources"],
        chart="deal-graph",
    )
    book.record(
        "lab_compute_commitments",
        lab_spending(edges)["amount"].sum(),
        unit="usd_bn",
        label="OpenAI's and Anthropic's compute commitments with a disclosed value (edges counted)",
        sources=edges["sources"],
        chart="deal-graph",
    )


def _record_round_trips(book: RecordBook, frames: dict, edges: pd.DataFrame, ranges: dict, p: dict) -> None:
    trips = round_trips(edges)
    total = round_trip_total(trips)
    frames["trips"], frames["trip_bars"] = trips, round_trip_bars(trips)
    frames["no_trip"] = trips[~trips["round_trip"]]
    book.record(
        "round_trip_ratio",
        total["ratio"],
        unit="ratio",
        chart="round-trips",
        label="Compute commitments to investors ÷ their equity, pairs with both (totals over the contracts)",
        sources=edges["sources"],
        **_spread(ranges, "round_trip_ratio"),
    )
    book.record("round_trip_pairs", total["pairs"], unit="count", label="Investor–lab pairs with a round trip")
    book.record(
        "spend_to_own_investors",
        share_owed_to_own_investors(edges),
        unit="pct",
        label="Share of the labs' valued compute commitments owed to their own investors",
        sources=edges["sources"],
        **_spread(ranges, "spend_to_own_investors"),
    )
    loop = investor_loop(edges, p["default_duration_years"])
    book.record(
        "investor_money_in",
        loop["money_in"],
        unit="usd_bn",
        label="Equity into the labs from investors that also sell them compute (pairs with both)",
        sources=edges["sources"],
    )
    book.record(
        "investor_money_out",
        loop["money_out"],
        unit="usd_bn",
        label="The labs' valued compute commitments to those same investors (total over the contracts)",
        sources=edges["sources"],
    )
    book.record(
        "investor_payments_per_year",
        loop["money_out_per_year"],
        unit="usd_bn",
        label="The labs' payments a year to their own investors (commitments ÷ their durations)",
        sources=edges["sources"],
        **_spread(ranges, "investor_payments_per_year"),
    )
    book.record(
        "equity_covers_investor_payments",
        loop["equity_covers"],
        unit="pct",
        label="Share of what the labs owe their investors that those investors' own equity could pay",
        sources=edges["sources"],
        **_spread(ranges, "equity_covers_investor_payments"),
    )


def _spread(ranges: dict, key: str) -> dict:
    """low/high and a note for a headline whose range is the spread over the factorial of :data:`CHOICES`."""
    low, high = ranges[key]
    return {"low": low, "high": high, "note": RANGE_NOTE}


RANGE_NOTE = (
    "Range: min–max over the defensible choices (reported values in or out, conditional tranches in or out, "
    "3/5/8 years for commitments without a disclosed duration, net or gross revenue)."
)


def _record_timing(book: RecordBook, frames: dict, edges: pd.DataFrame) -> None:
    frames["cumulative"] = cumulative_by_quarter(edges)
    book.record(
        "share_since_mid_2025",
        share_announced_since(edges, RECENT_FROM),
        unit="pct",
        chart="over-time",
        label="Share of counted dollars announced from July 2025 on",
    )


def _record_dependence(
    book: RecordBook, frames: dict, edges: pd.DataFrame, fin: pd.DataFrame, ranges: dict, p: dict
) -> None:
    basis = p["revenue_basis"]
    dep, rev_sources, sources = dependence(edges, fin, p["as_of"], basis, p["default_duration_years"])
    frames["dependence"] = dep
    frames["stated_commitments"] = stated_commitments(fin)
    frames["operating_results"] = operating_results(fin)
    for _, r in dep.iterrows():
        lab, key = r["lab"], r["lab"].lower()
        book.record(
            f"revenue_used.{key}",
            r["annual_revenue"],
            unit="usd_bn",
            sources=rev_sources,
            label=f"{lab}'s latest annualised revenue, {basis} of partners' revenue share",
            note=f"{lab} reports {LAB_REVENUE_BASIS[lab]}; converted where the basis differs.",
        )
        book.record(
            f"annual_payments.{key}",
            r["per_year"],
            unit="usd_bn",
            sources=edges["sources"],
            label=f"{lab}'s valued compute commitments per year (each divided over its duration)",
            **_spread(ranges, f"annual_payments.{key}"),
        )
        book.record(
            f"payments_to_revenue.{key}",
            r["payments_to_revenue_pct"],
            unit="pct",
            sources=[*sources, *edges["sources"]],
            label=f"{lab}'s compute payments a year as a share of its annual revenue ({basis})",
            **_spread(ranges, f"payments_to_revenue.{key}"),
        )
        book.record(
            f"years_of_revenue.{key}",
            r["years_of_revenue"],
            unit="years",
            sources=sources,
            label=f"Stock vs flow: {lab}'s disclosed compute commitments (paid over years) in years of its current "
            f"annual revenue ({basis})",
            **_spread(ranges, f"years_of_revenue.{key}"),
        )
        _record_operating(book, frames["operating_results"], lab, p["as_of"])


@same_tables()
def dependence(
    edges: pd.DataFrame, fin: pd.DataFrame, as_of: pd.Timestamp, basis: str, default_duration_years: float
) -> tuple[pd.DataFrame, list[str], list[str]]:
    """Each lab's commitments, payments a year and revenue on ``basis`` side by side; the revenue sources, and those
    with the capital-raised sources added."""
    revenue, rev_sources = lab_revenue(fin, as_of, basis)
    raised, cap_sources = lab_figures(fin, "capital_raised_total", as_of)
    pay = annual_payments(edges, default_duration_years)
    dep = financing_dependence(edges, revenue, raised).merge(pay[["lab", "per_year", "per_year_assumed_duration"]])
    dep["payments_to_revenue_pct"] = 100 * dep["per_year"] / dep["annual_revenue"]
    return dep, rev_sources, rev_sources + cap_sources


@same_tables()
def stated_commitments(fin: pd.DataFrame) -> pd.DataFrame:
    return fin[fin["metric"] == "compute_commitments_total"]


@same_tables()
def operating_picks(results: pd.DataFrame, lab: str, as_of: pd.Timestamp) -> tuple[pd.Series | None, pd.Series | None]:
    """The lab's latest operating result on or before ``as_of`` and its next projected one (None where none)."""
    rows = results[results["lab"] == lab]
    past, future = rows[rows["period_end"] <= as_of], rows[rows["period_end"] > as_of]
    return (past.iloc[-1] if not past.empty else None), (future.iloc[0] if not future.empty else None)


def _record_operating(book: RecordBook, results: pd.DataFrame, lab: str, as_of: pd.Timestamp) -> None:
    """The lab's latest reported operating result on or before as_of, and its next projected one (None if none)."""
    latest, projected = operating_picks(results, lab, as_of)
    for kind, row in (("latest", latest), ("projected", projected)):
        book.record(
            f"operating_result_{kind}.{lab.lower()}",
            float(row["signed"]) if row is not None else None,
            unit="usd_bn",
            sources=[row["source_id"]] if row is not None else [],
            label=f"{lab}'s {kind} operating profit (loss negative)"
            + (f": {row['period']}, {row['definition']}" if row is not None else ": none in our data"),
        )


def _record_colossus(book: RecordBook, frames: dict, deals: pd.DataFrame, as_of: pd.Timestamp) -> None:
    colossus = colossus_rows(deals, as_of)
    frames["colossus"] = colossus
    book.record(
        "colossus1_gw",
        float(colossus["capacity_gw"].max()),
        unit="gw",
        label="Colossus-1 capacity taken over by Anthropic",
        sources=colossus["source_id"],
    )
    priced = colossus.dropna(subset=["value_low_usd_bn"])
    low, high = float(priced["value_low_usd_bn"].min()), float(priced["value_high_usd_bn"].max())
    book.record(
        "colossus1_price_per_year",
        (low + high) / 2,
        low=low,
        high=high,
        unit="usd_bn",
        label="Reported (unconfirmed) price of Anthropic's Colossus capacity, per year",
        sources=priced["source_id"],
    )
    term = colossus.dropna(subset=["duration_years"])
    term = term[term["value_low_usd_bn"].isna() & term["value_high_usd_bn"].isna()]
    book.record(
        "colossus1_lease_months",
        float(term["duration_years"].min()) * 12,
        unit="count",
        label="Length of the Colossus lease in months, according to Elon Musk",
        sources=term["source_id"],
    )


# ---------------------------------------------------------------------------------------------------------------------
# Like with like: annual payments against annual revenue on one basis; money in from investors against money out.


def _restated(fin: pd.DataFrame) -> pd.Series:
    """Rows restating a lab's revenue on another lab's basis (kept out of the lab's own series)."""
    return fin["definition"].fillna("").str.contains("restated net", case=False)


@same_tables()
def basis_factor(fin: pd.DataFrame, lab: str, as_of: pd.Timestamp, basis: str) -> tuple[float, list[str]]:
    """Multiply a lab's reported run-rate by this to put it on ``basis`` (1 when the lab reports on it).

    Net → gross: divide by (1 − the revenue share paid to the partner), from the lab's own row of that share.
    Gross → net: the ratio of a same-month restatement net of partners' share to the gross run-rate.
    NaN where the data give no way to convert.
    """
    if basis == LAB_REVENUE_BASIS.get(lab, basis):
        return 1.0, []
    rows = fin[(fin["lab"] == lab) & fin["period_end"].notna() & (fin["period_end"] <= as_of)]
    if basis == "gross":
        share = rows[
            rows["definition"].fillna("").str.contains("revenue paid to", case=False) & (rows["unit"] == "pct")
        ]
        if share.empty:
            return float("nan"), []
        row = share.sort_values("period_end").iloc[-1]
        return 1 / (1 - float(row["value"]) / 100), [row["source_id"]]
    run_rates = rows[(rows["metric"] == "revenue_run_rate") & (rows["unit"] == "usd_bn")]
    restated = run_rates[_restated(run_rates)].sort_values("period_end")
    for _, net in restated[::-1].iterrows():
        month = net["period_end"].to_period("M")
        gross = run_rates[~_restated(run_rates) & (run_rates["period_end"].dt.to_period("M") == month)]
        if not gross.empty:
            return float(net["value"]) / float(gross["value"].mean()), [net["source_id"], *gross["source_id"]]
    return float("nan"), []


@same_tables()
def lab_revenue(fin: pd.DataFrame, as_of: pd.Timestamp, basis: str) -> tuple[dict[str, float], list[str]]:
    """Each lab's latest annualised revenue on ``basis`` (its own restatements by others left out), and sources."""
    own = fin[~_restated(fin)]
    values, sources = {}, []
    for lab in LABS:
        row = latest_figure(own, lab, "revenue_run_rate", as_of)
        factor, factor_sources = basis_factor(fin, lab, as_of, basis)
        values[lab] = float(row["value"]) * factor if row is not None else float("nan")
        sources += ([row["source_id"]] if row is not None else []) + factor_sources
    return values, sources


@same_tables()
def annual_payments(edges: pd.DataFrame, default_duration_years: float) -> pd.DataFrame:
    """Each lab's valued compute commitments spread evenly over their durations (the default where none is given)."""
    spend = lab_spending(edges).dropna(subset=["amount"])
    years = spend["duration_years"].fillna(default_duration_years)
    frame = spend.assign(years=years, per_year=spend["amount"] / years, assumed=spend["duration_years"].isna())
    out = []
    for lab in LABS:
        rows = frame[frame["payer"] == lab]
        out.append(
            {
                "lab": lab,
                "commitments": float(rows["amount"].sum()),
                "per_year": float(rows["per_year"].sum()),
                "per_year_assumed_duration": float(rows.loc[rows["assumed"], "per_year"].sum()),
            }
        )
    return pd.DataFrame(out)


@same_tables()
def investor_loop(edges: pd.DataFrame, default_duration_years: float) -> dict[str, float]:
    """Money in from the labs' investors that also sell to them, against money out to the same investors.

    Both as totals over the contracts' horizon (the equity is paid in within it), and the money out also per year.
    ``equity_covers`` is the percent of what the labs owe these investors that the investors' own equity could pay.
    """
    total = round_trip_total(round_trips(edges))
    owed = lab_spending(edges).dropna(subset=["amount"])
    owed = owed[owed_to_own_investors(edges).reindex(owed.index, fill_value=False)]
    per_year = float((owed["amount"] / owed["duration_years"].fillna(default_duration_years)).sum())
    money_in, money_out = total["invested"], total["spend_committed"]
    return {
        "money_in": money_in,
        "money_out": money_out,
        "money_out_per_year": per_year,
        "equity_covers": 100 * money_in / money_out if money_out else float("nan"),
    }


@same_tables()
def operating_results(fin: pd.DataFrame) -> pd.DataFrame:
    """The labs' operating profit or loss figures in our data (reported and projected), signed: a loss is negative."""
    rows = fin[
        fin["definition"].fillna("").str.contains("operating (?:loss|profit)|loss from operations", case=False)
        & (fin["unit"] == "usd_bn")
    ].copy()
    rows["value"] = central_value(rows["value"], rows["value_low"], rows["value_high"])
    loss = rows["definition"].str.contains("loss", case=False)
    rows["signed"] = rows["value"].where(~loss, -rows["value"])
    return rows.sort_values(["lab", "period_end"])


def headline(all_edges: pd.DataFrame, fin: pd.DataFrame, p: dict) -> dict[str, float]:
    """The chapter's uncertain headlines for one set of choices (no layout: cheap enough to run over the grid)."""
    revenue, _ = lab_revenue(fin, p["as_of"], p["revenue_basis"])
    return _headlines(_counted(all_edges, p), {p["revenue_basis"]: revenue}, (p["default_duration_years"],))[0]


def _counted(all_edges: pd.DataFrame, p: dict) -> pd.DataFrame:
    statuses = counted_statuses(p["statuses"], p["include_conditional"])
    return filter_edges(all_edges, statuses=statuses, types=p["edge_types"], cutoff=p["as_of"])


def _headlines(edges: pd.DataFrame, revenue: dict[str, dict], durations) -> list[dict[str, float]]:
    """Headlines for one set of counted edges, over revenue bases and default durations (the cheap inner loops)."""
    ratio, owed = round_trip_total(round_trips(edges))["ratio"], share_owed_to_own_investors(edges)
    out = []
    for years in durations:
        pay = annual_payments(edges, years).set_index("lab")
        loop = investor_loop(edges, years)
        for lab_revenue_on_basis in revenue.values():
            row = {
                "round_trip_ratio": ratio,
                "spend_to_own_investors": owed,
                "equity_covers_investor_payments": loop["equity_covers"],
                "investor_payments_per_year": loop["money_out_per_year"],
            }
            for lab in LABS:
                key, rev = lab.lower(), lab_revenue_on_basis[lab]
                row[f"annual_payments.{key}"] = pay.loc[lab, "per_year"]
                row[f"payments_to_revenue.{key}"] = 100 * pay.loc[lab, "per_year"] / rev
                row[f"years_of_revenue.{key}"] = pay.loc[lab, "commitments"] / rev
            out.append(row)
    return out


@same_tables()
def grid_ranges(
    equity: pd.DataFrame, deals: pd.DataFrame, fin: pd.DataFrame, as_of: pd.Timestamp, edge_types: tuple[str, ...]
) -> dict[str, tuple[float, float]]:
    """:func:`headline_ranges` from the tables: the same for every run of the robustness grid, so computed once."""
    return headline_ranges(counted_edges(equity, deals), fin, {"as_of": as_of, "edge_types": list(edge_types)})


@same_tables()
def counted_edges(equity: pd.DataFrame, deals: pd.DataFrame) -> pd.DataFrame:
    """Every counted row of both tables as money flows, one per deal group (:func:`dedupe`), before any filter."""
    return dedupe(edges_from_tables(equity[equity["counted"]], deals[deals["counted"]]))


def headline_ranges(all_edges: pd.DataFrame, fin: pd.DataFrame, p: dict) -> dict[str, tuple[float, float]]:
    """Min and max of every headline over the full factorial of :data:`CHOICES` (other parameters as given)."""
    if set(CHOICES) != {"statuses", "include_conditional", "default_duration_years", "revenue_basis"}:
        raise AssertionError("headline_ranges must loop over every choice in CHOICES")
    revenue = {basis: lab_revenue(fin, p["as_of"], basis)[0] for basis in CHOICES["revenue_basis"]}
    rows = []
    for statuses, conditional in itertools.product(CHOICES["statuses"], CHOICES["include_conditional"]):
        edges = _counted(all_edges, {**p, "statuses": statuses, "include_conditional": conditional})
        rows += _headlines(edges, revenue, CHOICES["default_duration_years"])
    frame = pd.DataFrame(rows)
    return {key: (float(frame[key].min()), float(frame[key].max())) for key in frame.columns}
