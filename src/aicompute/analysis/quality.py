"""Chapter 5 models: how good is the demand behind the backlog and the labs' commitments?

Every dollar of the four providers' backlog, and every valued dollar of the labs' compute commitments, sits in exactly
one tier of one ladder on firmness (:data:`TIERS`, firmest first). A tier is assigned by a rule from columns in
``data/`` (a deal's status, a disclosed termination right, the payer's revenue against its annual payments), never by
hand. Where a disclosure exists only per provider or per payer, the split of dollars it implies is a labelled
assumption (a parameter, with its alternatives in :data:`CHOICES`).

The providers' backlog and the labs' commitments are two views of overlapping money (OpenAI's Azure commitment is in
both), so they are reported side by side and reconciled, never added.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from aicompute.analysis import backlog as bk
from aicompute.analysis import circular as cc
from aicompute.analysis.data import central_value
from aicompute.analysis.labs import latest_figure
from aicompute.analysis.memo import same_tables
from aicompute.analysis.records import ChapterResult, Later, RecordBook
from aicompute.analysis.vocabulary import LABS

# The ladder, firmest first. Keys name records; labels are what a reader sees.
TIERS: dict[str, str] = {
    "paid_from_revenue": "Binding, payer's revenue covers it",
    "needs_new_money": "Binding, payer must raise money",
    "short_notice": "Terminable on short notice",
    "unconfirmed": "Reported, not confirmed",
    "letter_of_intent": "Letter of intent",
    "not_disclosed": "Not disclosed",
}
# A binding contract before its payer's means are weighed; split into the first two tiers by revenue coverage.
BINDING = "binding"
# The backlog chapter's tables (its split of each provider's backlog is the starting point) and this chapter's own.
TABLES = tuple(dict.fromkeys((*bk.TABLES, "equity_investments", "demand_quality")))
QUALITY_PROVIDERS = ("Microsoft", "Oracle", "Alphabet", "Amazon")
FUNDED_BY = ("revenue", "revenue_and_raised")

# The choices a careful analyst could make differently (central first), for ranges and the robustness grid.
# Who the "other customers" of a backlog are, and how they pay, is not disclosed: that stays its own tier in every
# choice (``other_customers_tier`` is a parameter for a reader's own scenario, not a defensible default).
CHOICES: dict[str, tuple] = {
    "estimate": ("central", "low", "high"),
    "deals_after_backlog_date": ("include", "exclude"),
    "funded_by": ("revenue", "revenue_and_raised"),
    "contract_years": (5.0, 3.0, 8.0),
    "revenue_basis": ("net", "gross"),
}
# Choices that move a breakdown but no tier a verdict reads: they widen the printed ranges, not the verdict grid.
RANGE_ONLY_CHOICES: dict[str, tuple] = {
    "short_notice_days": (180.0, 90.0, 365.0),
    "ai_app_share_of_api_pct": (None, 25.0, 75.0),
}

DEFAULTS: dict = {
    "as_of": "2026-06-30",
    "estimate": "central",
    "deals_after_backlog_date": "include",
    "other_customers_tier": "not_disclosed",
    "funded_by": "revenue",
    "short_notice_days": 180.0,
    "contract_years": 5.0,
    "horizon_years": 5.0,
    "revenue_basis": "net",
    "ai_app_share_of_api_pct": None,
    "openai_ai_app_share_of_api_pct": 50.0,
}


def contract_tier(status: str, notice_days: float | None, short_notice_days: float) -> str:
    """The firmness of one contract from its status and any disclosed termination right.

    A right to end the contract on ``short_notice_days`` or less outranks its status: a binding contract that either
    party can leave in 90 days is only as firm as 90 days of payments.
    """
    if notice_days is not None and not pd.isna(notice_days) and notice_days <= short_notice_days:
        return "short_notice"
    if status in ("committed", "funded"):
        return BINDING
    if status == "conditional":
        return "needs_new_money"
    if status == "reported":
        return "unconfirmed"
    if status == "letter_of_intent":
        return "letter_of_intent"
    return "not_disclosed"


def revenue_coverage(revenue: float | None, annual_payments: float) -> float:
    """Share (0–1) of a payer's annual contract payments that its revenue covers; unknown revenue covers nothing."""
    if annual_payments <= 0:
        return 1.0
    if revenue is None or pd.isna(revenue) or revenue <= 0:
        return 0.0
    return float(min(1.0, revenue / annual_payments))


@same_tables()
def ladder(items: pd.DataFrame, coverage: dict[str, float]) -> pd.DataFrame:
    """Dollars per (holder, tier): binding items are split between the first two tiers by their payer's coverage.

    ``items`` has columns holder, payer, amount and tier (a key of :data:`TIERS`, or :data:`BINDING`).
    """
    unknown = sorted(set(items["tier"]) - set(TIERS) - {BINDING})
    if unknown:
        raise ValueError(f"unknown tier(s) {unknown}; tiers: {[*TIERS, BINDING]}")
    # Every tier appears for every holder, so a tier with no dollars reads 0 rather than vanishing.
    parts: dict[tuple[str, str], list[float]] = {
        (holder, tier): [] for holder in dict.fromkeys(items["holder"]) for tier in TIERS
    }
    for holder, payer, amount, tier in zip(
        items["holder"], items["payer"], items["amount"], items["tier"], strict=True
    ):
        if tier == BINDING:
            share = coverage.get(payer, 0.0)
            parts[(holder, "paid_from_revenue")].append(amount * share)
            parts[(holder, "needs_new_money")].append(amount * (1 - share))
        else:
            parts[(holder, tier)].append(amount)
    return pd.DataFrame(
        [(holder, tier, math.fsum(values)) for (holder, tier), values in parts.items()],
        columns=["holder", "tier", "amount"],
    )


@same_tables()
def tier_amounts(ladder_frame: pd.DataFrame) -> dict[str, float]:
    """Each tier's dollars in a ladder (every tier listed, in ladder order; 0 where it has none)."""
    parts: dict[str, list[float]] = {tier: [] for tier in TIERS}
    for tier, amount in zip(ladder_frame["tier"], ladder_frame["amount"], strict=True):
        parts[tier].append(float(amount))
    return {tier: math.fsum(values) for tier, values in parts.items()}


@same_tables()
def shares(ladder_frame: pd.DataFrame) -> pd.Series:
    """Each tier's share (percent) of all the dollars in a ladder, in ladder order."""
    by_tier = pd.Series(tier_amounts(ladder_frame), name="amount").rename_axis("tier")
    total = math.fsum(by_tier)
    return by_tier / total * 100 if total else by_tier * np.nan


# ---------------------------------------------------------------------------------------------------------------------
# From the tables to the items of each ladder


def lab_commitments(tables: dict[str, pd.DataFrame], as_of: str) -> pd.DataFrame:
    """The labs' valued compute commitments, one row per deal group, announced on or before ``as_of``."""
    return _lab_commitments(tables["equity_investments"], tables["compute_deals"], tables["demand_quality"], str(as_of))


@same_tables()
def _lab_commitments(equity: pd.DataFrame, deals: pd.DataFrame, quality: pd.DataFrame, as_of: str) -> pd.DataFrame:
    edges = cc.counted_edges(equity, deals)
    keep = (
        (edges["type"] != "equity")
        & edges["payer"].isin(LABS)
        & (edges["status"] != "superseded")
        & (edges["date"] <= pd.Timestamp(as_of))
        & edges["amount"].notna()
    )
    commitments = edges[keep].copy()
    # A termination right disclosed for a deal (see data/demand_quality.csv).
    notice = quality[quality["dimension"] == "termination_notice_days"].groupby("deal_group")["value"].max()
    commitments["notice_days"] = commitments["group"].map(notice).astype(float)
    return commitments.reset_index(drop=True)


@same_tables()
def coverage_by_lab(
    commitments: pd.DataFrame,
    financials: pd.DataFrame,
    as_of: str,
    *,
    contract_years: float,
    funded_by: str,
    horizon_years: float,
    revenue_basis: str,
) -> pd.DataFrame:
    """For each lab: payments per year on its contracts (signed or reported), its revenue, and the share covered.

    Payments and revenue are the circular-investment chapter's (:func:`circular.annual_payments`,
    :func:`circular.lab_revenue`), so coverage here is the inverse of its payments-to-revenue, capped at 100%. With
    ``funded_by='revenue_and_raised'`` the capital the lab has raised, spread over ``horizon_years``, counts as money
    in hand beside revenue (money already raised is not money it still has to raise).
    """
    if funded_by not in FUNDED_BY:
        raise ValueError(f"funded_by must be one of {FUNDED_BY}, got {funded_by!r}")
    if contract_years <= 0:
        raise ValueError(f"contract_years must be positive, got {contract_years}")
    # The lab's revenue pays all its bills at once: every contract it signed or is reported to have signed
    # (letters of intent aside) weighs on the same revenue.
    owed = commitments[commitments["status"] != "letter_of_intent"]
    payments = cc.annual_payments(owed, contract_years).set_index("lab")["per_year"]
    revenue, sources = cc.lab_revenue(financials, pd.Timestamp(as_of), revenue_basis)
    rows = []
    for lab in LABS:
        raised = latest_figure(financials, lab, "capital_raised_total", as_of)
        means = revenue[lab]
        if funded_by == "revenue_and_raised" and raised is not None:
            means = (0.0 if np.isnan(means) else means) + float(raised["value"]) / horizon_years
        rows.append(
            {
                "lab": lab,
                "annual_payments": float(payments.get(lab, 0.0)),
                "revenue": revenue[lab],
                "revenue_basis": revenue_basis,
                "revenue_sources": ", ".join(sources),
                "means": means,
                "coverage": revenue_coverage(means, float(payments.get(lab, 0.0))),
            }
        )
    return pd.DataFrame(rows)


@same_tables()
def commitment_items(commitments: pd.DataFrame, short_notice_days: float) -> pd.DataFrame:
    """The labs' commitments as ladder items: held by the lab that owes them, tiered by status and notice."""
    return pd.DataFrame(
        {
            "holder": commitments["payer"],
            "payer": commitments["payer"],
            "seller": commitments["payee"],
            "group": commitments["group"],
            "amount": commitments["amount"],
            "tier": [
                contract_tier(s, n, short_notice_days)
                for s, n in zip(commitments["status"], commitments["notice_days"], strict=True)
            ],
        }
    )


@same_tables()
def pair_tier(commitments: pd.DataFrame, provider: str, lab: str, bases: str, short_notice_days: float) -> str:
    """The firmness of a lab's part of a provider's backlog.

    The provider's own statement of the share (a company-reported estimate) makes it binding; otherwise the largest
    valued contract between the two decides (a letter of intent only where there is nothing else, since backlog holds
    contracts); with no deal on record, the terms are not disclosed.
    """
    if "company_reported" in (bases or ""):
        return BINDING
    deals = commitments[(commitments["payer"] == lab) & (commitments["payee"] == provider)]
    if deals.empty:
        return "not_disclosed"
    contracts = deals[deals["status"] != "letter_of_intent"]
    deals = contracts if not contracts.empty else deals
    largest = deals.sort_values("amount", ascending=False).iloc[0]
    return contract_tier(largest["status"], largest["notice_days"], short_notice_days)


@same_tables()
def backlog_items(
    split: pd.DataFrame,
    ranges: pd.DataFrame,
    commitments: pd.DataFrame,
    *,
    other_customers_tier: str,
    short_notice_days: float,
) -> pd.DataFrame:
    """Each provider's backlog as ladder items: each lab's attributed part, and the rest owed by other customers."""
    if other_customers_tier not in TIERS:
        raise ValueError(f"other_customers_tier must be one of {list(TIERS)}, got {other_customers_tier!r}")
    rows = []
    for row in split.itertuples():
        attributed = 0.0
        for lab in LABS:
            amount = getattr(row, lab)
            if pd.isna(amount) or amount <= 0:
                continue
            bases = ranges.loc[(ranges["provider"] == row.provider) & (ranges["lab"] == lab), "bases"]
            tier = pair_tier(commitments, row.provider, lab, bases.iloc[0] if len(bases) else "", short_notice_days)
            rows.append((row.provider, lab, float(amount), tier))
            attributed += float(amount)
        rows.append((row.provider, "Other customers", float(row.backlog) - attributed, other_customers_tier))
    return pd.DataFrame(rows, columns=["holder", "payer", "amount", "tier"])


# ---------------------------------------------------------------------------------------------------------------------
# When the backlog turns into revenue, what the provider carries, and who pays in the end


@same_tables()
def latest_disclosure(quality: pd.DataFrame, subject: str, dimension: str, as_of: str) -> pd.DataFrame:
    """Rows of one dimension for one subject at its latest date on or before ``as_of`` (several if sources differ)."""
    mine = (quality["subject"] == subject) & (quality["dimension"] == dimension)
    rows = quality[mine & (quality["as_of"] <= pd.Timestamp(as_of))]
    return rows[rows["as_of"] == rows["as_of"].max()] if not rows.empty else rows


def recognition(quality: pd.DataFrame, totals: pd.Series, as_of: str) -> pd.DataFrame:
    """Per provider: the latest disclosed share of backlog recognised within 12 and 24 months, and its dollars.

    Applying a share disclosed at one date to the backlog at a later date is an assumption; the date of each share is
    kept beside it. A provider that discloses no such share reads 'not disclosed', never zero.
    """
    rows = []
    for provider, backlog in totals.items():
        row = {"provider": provider, "backlog": float(backlog)}
        for months in (12, 24):
            found = latest_disclosure(quality, provider, f"recognition_{months}m_pct", as_of)
            value = central_value(found["value"], found["value_low"], found["value_high"])
            row[f"within_{months}m_pct"] = float(value.median()) if len(found) else np.nan
            row[f"within_{months}m_low"] = float(value.min()) if len(found) else np.nan
            row[f"within_{months}m_high"] = float(value.max()) if len(found) else np.nan
            row[f"within_{months}m_as_of"] = found["as_of"].max() if len(found) else pd.NaT
            row[f"within_{months}m_usd_bn"] = row[f"within_{months}m_pct"] / 100 * float(backlog)
            row[f"within_{months}m_sources"] = ", ".join(found["source_id"])
        rows.append(row)
    return pd.DataFrame(rows)


@same_tables()
def recognition_of(quality: pd.DataFrame, split: pd.DataFrame, as_of: str) -> pd.DataFrame:
    """:func:`recognition` of each provider's backlog in a split (the same for every choice that keeps the split)."""
    return recognition(quality, split.set_index("provider")["backlog"], as_of)


def end_demand_share(consumer_pct: float, ai_app_share_of_business_pct: float) -> float:
    """Share (percent) of a lab's revenue paid by end customers rather than by AI-application companies.

    Consumers are end customers; of the business (API) revenue, the part from AI-application companies is not, since
    those companies may be paying with money they raised. The result is an upper bound on end demand where business
    customers themselves resell.
    """
    for name, value in (("consumer share", consumer_pct), ("AI-app share", ai_app_share_of_business_pct)):
        if not 0 <= value <= 100:
            raise ValueError(f"{name} must be between 0 and 100, got {value}")
    business = 100 - consumer_pct
    return consumer_pct + business * (1 - ai_app_share_of_business_pct / 100)


@dataclass(frozen=True)
class EndDemand:
    lab: str
    consumer_pct: float
    ai_app_share_of_business_pct: float
    share_pct: float
    run_rate: float
    sources: tuple[str, ...]


def end_demand(quality: pd.DataFrame, financials: pd.DataFrame, params: dict) -> list[EndDemand]:
    """Each lab's end-demand share from the sourced revenue mix and, where unsourced, a labelled assumption; each lab
    weighted by its revenue on the chapter's revenue basis."""
    return _end_demand(
        quality,
        financials,
        str(params["as_of"]),
        params["revenue_basis"],
        float(params["openai_ai_app_share_of_api_pct"]),
        params.get("ai_app_share_of_api_pct"),
    )


@same_tables()
def _end_demand(
    quality: pd.DataFrame,
    financials: pd.DataFrame,
    as_of: str,
    revenue_basis: str,
    openai_ai_app_share_of_api_pct: float,
    ai_app_share_of_api_pct: float | None,
) -> list[EndDemand]:
    revenue, _ = cc.lab_revenue(financials, pd.Timestamp(as_of), revenue_basis)
    out = []
    for lab in LABS:
        consumer = latest_disclosure(quality, lab, "consumer_share_pct", as_of)
        api = latest_disclosure(quality, lab, "api_share_pct", as_of)
        if len(consumer):
            consumer_pct, mix_sources = float(consumer["value"].median()), tuple(consumer["source_id"])
        elif len(api):
            consumer_pct, mix_sources = 100 - float(api["value"].median()), tuple(api["source_id"])
        else:
            continue
        apps = latest_disclosure(quality, lab, "ai_app_share_of_api_pct", as_of)
        if lab == "OpenAI" or apps.empty:
            app_share, app_sources = float(openai_ai_app_share_of_api_pct), ()
        else:
            app_share, app_sources = float(apps["value"].median()), tuple(apps["source_id"])
        if ai_app_share_of_api_pct is not None:
            app_share = float(ai_app_share_of_api_pct)
        out.append(
            EndDemand(
                lab,
                consumer_pct,
                app_share,
                end_demand_share(consumer_pct, app_share),
                revenue[lab],
                mix_sources + app_sources,
            )
        )
    return out


# ---------------------------------------------------------------------------------------------------------------------
# The chapter


def check_params(params: dict) -> dict:
    """The parameters with defaults filled in; a clear error for a value the chapter cannot use."""
    merged = {**DEFAULTS, **params}
    unknown = sorted(set(params) - set(DEFAULTS))
    if unknown:
        raise ValueError(f"unknown parameter(s) {unknown}; the quality chapter takes {sorted(DEFAULTS)}")
    if merged["revenue_basis"] not in cc.REVENUE_BASES:
        raise ValueError(f"revenue_basis must be one of {cc.REVENUE_BASES}, got {merged['revenue_basis']!r}")
    if merged["estimate"] not in bk.ESTIMATES:
        raise ValueError(f"estimate must be one of {bk.ESTIMATES}, got {merged['estimate']!r}")
    bk.check_option("deals_after_backlog_date", merged["deals_after_backlog_date"])
    for name in ("short_notice_days", "contract_years", "horizon_years"):
        if float(merged[name]) <= 0:
            raise ValueError(f"{name} must be positive, got {merged[name]}")
    return merged


def backlog_ranges(tables: dict[str, pd.DataFrame], as_of: str, deals_after_backlog_date: str) -> pd.DataFrame:
    """The labs' estimated parts of the four providers' latest backlog, low/central/high, as the backlog chapter
    computes them (its own run, at its defaults but for the analysis date and the deal-timing choice)."""
    return _backlog_ranges(*(tables[name] for name in bk.TABLES), str(as_of), deals_after_backlog_date)


@same_tables()
def _backlog_ranges(*args) -> pd.DataFrame:
    *frames, as_of, timing = args
    params = {"as_of": as_of, "providers": list(QUALITY_PROVIDERS), "deals_after_backlog_date": timing}
    return bk.run(dict(zip(bk.TABLES, frames, strict=True)), params).frames["ranges"]


def evaluate(
    ranges: Callable[[str], pd.DataFrame],
    commitments: pd.DataFrame,
    financials: pd.DataFrame,
    params: dict,
) -> dict:
    """The two ladders under one set of choices (the cheap part of :func:`run`, repeated over the choice grid).

    ``ranges(deals_after_backlog_date)`` gives the backlog chapter's split. Its split per estimate and the coverage
    per funding choice are remembered across calls (:mod:`aicompute.analysis.memo`), so a grid stays fast.
    """
    split_ranges = ranges(params["deals_after_backlog_date"])
    split = bk.snapshot_split(split_ranges, params["estimate"], 0.0)
    coverage = coverage_by_lab(
        commitments,
        financials,
        params["as_of"],
        contract_years=float(params["contract_years"]),
        funded_by=params["funded_by"],
        horizon_years=float(params["horizon_years"]),
        revenue_basis=params["revenue_basis"],
    )
    cover = dict(zip(coverage["lab"], coverage["coverage"], strict=True))
    items = backlog_items(
        split,
        split_ranges,
        commitments,
        other_customers_tier=params["other_customers_tier"],
        short_notice_days=float(params["short_notice_days"]),
    )
    owed = commitment_items(commitments, float(params["short_notice_days"]))
    return {
        "split": split,
        "coverage": coverage,
        "backlog_items": items,
        "backlog_ladder": ladder(items, cover),
        "commitment_items": owed,
        "commitment_ladder": ladder(owed, cover),
    }


def grid(params: dict, choices: dict[str, tuple] = CHOICES) -> list[dict]:
    """Every combination of ``choices`` (the full factorial), applied on top of ``params``."""
    names = list(choices)
    return [{**params, **dict(zip(names, combo, strict=True))} for combo in itertools.product(*choices.values())]


def run(tables: dict[str, pd.DataFrame], params: dict, *, choice_ranges: bool = False) -> ChapterResult:
    """The demand-quality chapter: both ladders, the timing and funding breakdowns, end demand, and their ranges.

    Pure. The tiers' low/high span the estimate choice alone; with ``choice_ranges`` (what the notebook prints) they
    span the full factorial of :data:`CHOICES` and :data:`RANGE_ONLY_CHOICES`. The robustness grid calls it without,
    so that it does not nest one grid inside another.
    """
    params = check_params(params)
    as_of = params["as_of"]
    book = RecordBook("quality")
    quality = tables["demand_quality"]
    financials = tables["lab_financials"]

    def ranges(timing: str) -> pd.DataFrame:
        return backlog_ranges(tables, as_of, timing)

    commitments = lab_commitments(tables, as_of)
    central = evaluate(ranges, commitments, financials, params)

    # The spread of each tier's share across the defensible choices that touch the ladders.
    spread: dict[str, list[float]] = {}
    ladder_choices = {**CHOICES, "short_notice_days": RANGE_ONLY_CHOICES["short_notice_days"]}
    if not choice_ranges:
        ladder_choices = {"estimate": CHOICES["estimate"]}
    for choice in grid(params, ladder_choices):
        result = evaluate(ranges, commitments, financials, choice)
        for view in ("backlog", "commitment"):
            for tier, share in shares(result[f"{view}_ladder"]).items():
                spread.setdefault(f"{view}.{tier}", []).append(float(share))

    backlog_ladder = central["backlog_ladder"]
    total = float(backlog_ladder["amount"].sum())
    sources = sorted(set(commitments["sources"]) | set(quality["source_id"]))
    book.record(
        "backlog_total",
        total,
        unit="usd_bn",
        label="Backlog of Microsoft, Oracle, Alphabet and Amazon at their latest quarters",
        sources=tables["backlog"]["source_id"],
    )
    note = "; ".join(f"{name}: {', '.join(str(v) for v in values)}" for name, values in ladder_choices.items())
    for view, frame, what in (
        ("backlog", backlog_ladder, "the four providers' backlog"),
        ("commitments", central["commitment_ladder"], "the labs' valued compute commitments"),
    ):
        tier_shares = shares(frame)
        key = "backlog" if view == "backlog" else "commitment"
        for tier, label in TIERS.items():
            values = spread[f"{key}.{tier}"]
            book.record(
                f"{view}_share.{tier}",
                tier_shares[tier],
                unit="pct",
                low=min(values),
                high=max(values),
                label=f"Share of {what} in the tier '{label}'",
                sources=sources,
                chart=f"{view}-ladder",
                note=f"Range across the choices {note}",
            )
            book.record(
                f"{view}_amount.{tier}",
                tier_amounts(frame)[tier],
                unit="usd_bn",
                label=f"Dollars of {what} in the tier '{label}'",
                sources=sources,
                chart=f"{view}-ladder",
            )
    book.record(
        "commitments_total",
        float(central["commitment_ladder"]["amount"].sum()),
        unit="usd_bn",
        label="The labs' valued compute commitments announced by the analysis date",
        sources=commitments["sources"],
    )
    for row in central["coverage"].itertuples():
        book.record(
            f"revenue_coverage.{row.lab.lower()}",
            100 * row.coverage,
            unit="pct",
            label=f"Share of {row.lab}'s compute payments per year that its revenue ({row.revenue_basis}) covers",
            sources=row.revenue_sources.split(", "),
            note="The inverse of circular.payments_to_revenue, capped at 100%; durations not disclosed are taken as "
            f"{params['contract_years']:g} years (ASSUMPTION).",
        )

    timing = recognition_of(quality, central["split"], as_of)
    for row in timing.itertuples():
        for months in (12, 24):
            value = getattr(row, f"within_{months}m_pct")
            when = getattr(row, f"within_{months}m_as_of")
            book.record(
                f"recognised_{months}m.{row.provider.lower()}",
                None if pd.isna(value) else value,
                unit="pct",
                low=None if pd.isna(value) else getattr(row, f"within_{months}m_low"),
                high=None if pd.isna(value) else getattr(row, f"within_{months}m_high"),
                label=f"Share of {row.provider}'s backlog it expects to recognise within {months} months",
                sources=[getattr(row, f"within_{months}m_sources")],
                chart="timing",
                note="not disclosed" if pd.isna(value) else f"as disclosed for {when:%Y-%m-%d}",
            )
    funded = latest_disclosure(quality, "Oracle", "customer_funded_usd_bn", as_of)
    book.record(
        "customer_funded.oracle",
        float(central_value(funded["value"], funded["value_low"], funded["value_high"]).max()) if len(funded) else None,
        unit="usd_bn",
        label="Oracle contracts where the customer brings or prepays its own hardware (at least)",
        sources=funded["source_id"],
        note="a lower bound ('more than')" if len(funded) else "not disclosed",
    )

    demand = end_demand(quality, financials, params)
    demand_spread = []
    for choice in RANGE_ONLY_CHOICES["ai_app_share_of_api_pct"]:
        for consumer_choice in ("low", "high"):
            varied = {**params, "ai_app_share_of_api_pct": choice}
            rows = end_demand(quality, financials, varied)
            shares_at = []
            for lab_row in rows:
                consumer = latest_disclosure(quality, lab_row.lab, "consumer_share_pct", as_of)
                if len(consumer):
                    pick = consumer["value"].min() if consumer_choice == "low" else consumer["value"].max()
                    shares_at.append((end_demand_share(float(pick), lab_row.ai_app_share_of_business_pct), lab_row))
                else:
                    shares_at.append((lab_row.share_pct, lab_row))
            weight = sum(r.run_rate for _, r in shares_at)
            demand_spread.append(sum(s * r.run_rate for s, r in shares_at) / weight)
    weight = sum(d.run_rate for d in demand)
    combined = sum(d.share_pct * d.run_rate for d in demand) / weight
    book.record(
        "end_demand_share",
        combined,
        unit="pct",
        low=min(demand_spread),
        high=max(demand_spread),
        label="Share of OpenAI's and Anthropic's revenue paid by end customers rather than AI-application companies",
        sources=[s for d in demand for s in d.sources],
        chart="end-demand",
        note="Weighted by revenue run-rate; OpenAI's AI-app share of API revenue is an ASSUMPTION (not disclosed).",
    )
    for d in demand:
        book.record(
            f"end_demand_share.{d.lab.lower()}",
            d.share_pct,
            unit="pct",
            label=f"Share of {d.lab}'s revenue paid by end customers (consumers, and businesses other than AI apps)",
            sources=d.sources,
            chart="end-demand",
        )

    overlap = reconciliation(central["split"], commitments)
    book.record(
        "overlap",
        float(overlap["in_backlog"].sum()),
        unit="usd_bn",
        label="The labs' parts of the four providers' backlog that are also counted among their commitments",
        sources=commitments["sources"],
        chart="reconciliation",
    )
    frames = {
        "backlog_ladder": Later(lambda: _labelled(backlog_ladder)),
        "commitment_ladder": Later(lambda: _labelled(central["commitment_ladder"])),
        "backlog_items": central["backlog_items"],
        "commitment_items": central["commitment_items"],
        "coverage": central["coverage"],
        "timing": timing,
        "end_demand": pd.DataFrame([d.__dict__ for d in demand]),
        "reconciliation": overlap,
    }
    return ChapterResult(book, frames)


@same_tables()
def reconciliation(split: pd.DataFrame, commitments: pd.DataFrame) -> pd.DataFrame:
    """Per provider and lab: the lab's part of the provider's backlog beside the lab's commitments to that provider."""
    rows = []
    for row in split.itertuples():
        for lab in LABS:
            owed = commitments[(commitments["payer"] == lab) & (commitments["payee"] == row.provider)]["amount"].sum()
            part = getattr(row, lab)
            rows.append(
                {
                    "provider": row.provider,
                    "lab": lab,
                    "in_backlog": 0.0 if pd.isna(part) else float(part),
                    "commitments": float(owed),
                }
            )
    return pd.DataFrame(rows)


@same_tables()
def _labelled(frame: pd.DataFrame) -> pd.DataFrame:
    """A ladder with the tiers' reader-facing labels, their order and each holder's share of its own total."""
    out = frame.copy()
    out["tier_label"] = out["tier"].map(TIERS)
    out["order"] = out["tier"].map({tier: i for i, tier in enumerate(TIERS)})
    out["share_pct"] = out["amount"] / out.groupby("holder")["amount"].transform("sum") * 100
    return out
