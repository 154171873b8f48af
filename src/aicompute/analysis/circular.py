"""Chapter 2 models: who funds whom, and how much comes back as cloud and chip revenue?

Equity investments (money from investor to lab) and compute deals (money promised from lab to seller) become one
table of typed, dated edges with a status. The same deal reported by two sources shares a ``group`` and is counted
once, with the sources' spread kept as a low–high range.
"""

from __future__ import annotations

import networkx as nx
import numpy as np
import pandas as pd

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
        }
    )
    return pd.concat([eq, dl], ignore_index=True)


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


def dedupe(edges: pd.DataFrame) -> pd.DataFrame:
    """One edge per deal ``group``: the spread of the sources' amounts as low–high, the midpoint as central.

    Rows of a group without an amount do not pull the range down; a group with no amount at all stays NaN. The
    group's status follows :data:`STATUS_PRECEDENCE`. Run this before filtering by status, so that a deal confirmed
    by one report and priced by another keeps its price.
    """
    out = []
    for group, rows in edges.groupby("group", sort=True):
        first = rows.sort_values("date").iloc[0]
        status = next(st for st in (*STATUS_PRECEDENCE, *rows["status"]) if st in set(rows["status"]))
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
            "n_reports",
            "sources",
            "detail",
        ],
    )


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
