"""Chapter 4 models: what must the capacity under construction earn each year, and who pays for it?

Annual cost of capacity = straight-line depreciation + operating cost + a required return on the capital.
Required revenue = annual cost grossed up by the gross margin of whoever sells the compute.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from aicompute.analysis.data import central_value


@dataclass(frozen=True)
class CapacityAssumptions:
    gw: float  # capacity, GW
    cost_per_gw: float  # USD bn of capital per GW (scope stated in the data)
    useful_life_years: float  # straight-line depreciation period
    required_return_pct: float  # annual return required on the capital, percent
    opex_pct_of_capex: float  # annual operating cost (power, staff, upkeep) as percent of capital
    seller_gross_margin_pct: float  # gross margin of whoever sells the compute, percent

    def __post_init__(self) -> None:
        if self.gw < 0:
            raise ValueError(f"gw must not be negative, got {self.gw}")
        if self.cost_per_gw <= 0:
            raise ValueError(f"cost_per_gw must be positive, got {self.cost_per_gw}")
        if self.useful_life_years <= 0:
            raise ValueError(f"useful_life_years must be positive, got {self.useful_life_years}")
        for name in ("required_return_pct", "opex_pct_of_capex"):
            if not 0 <= getattr(self, name) <= 100:
                raise ValueError(f"{name} must be between 0 and 100 percent, got {getattr(self, name)}")
        if not 0 <= self.seller_gross_margin_pct < 100:
            raise ValueError(
                f"seller_gross_margin_pct must be at least 0 and below 100, got {self.seller_gross_margin_pct}"
            )


def capital(a: CapacityAssumptions) -> float:
    return a.gw * a.cost_per_gw


def cost_stack(a: CapacityAssumptions) -> dict[str, float]:
    """The parts of the annual revenue requirement, USD bn per year."""
    cap = capital(a)
    depreciation = cap / a.useful_life_years
    opex = cap * a.opex_pct_of_capex / 100
    ret = cap * a.required_return_pct / 100
    cost = depreciation + opex + ret
    revenue = cost / (1 - a.seller_gross_margin_pct / 100)
    return {
        "depreciation": depreciation,
        "operating cost": opex,
        "return on capital": ret,
        "gross margin of seller": revenue - cost,
    }


def required_revenue(a: CapacityAssumptions) -> float:
    return float(sum(cost_stack(a).values()))


def vectorised_required_revenue(gw, cost_per_gw, life, ret_pct, opex_pct, margin_pct):
    """The same formula over numpy arrays (for the Monte Carlo)."""
    cap = gw * cost_per_gw
    cost = cap / life + cap * opex_pct / 100 + cap * ret_pct / 100
    return cost / (1 - margin_pct / 100)


def monte_carlo(
    ranges: dict[str, tuple[float, float, float]], draws: int, seed: int, visible_revenue: float | None = None
) -> dict[str, float]:
    """p5 / median / p95 of required revenue (and of the gap to ``visible_revenue``) over triangular draws.

    ``ranges`` maps each of gw, cost_per_gw, useful_life_years, required_return_pct, opex_pct_of_capex,
    seller_gross_margin_pct to (low, mode, high).
    """
    if draws < 1:
        raise ValueError(f"draws must be at least 1, got {draws}")
    needed = (
        "gw",
        "cost_per_gw",
        "useful_life_years",
        "required_return_pct",
        "opex_pct_of_capex",
        "seller_gross_margin_pct",
    )
    missing = [n for n in needed if n not in ranges]
    if missing:
        raise ValueError(f"missing ranges for {missing}")
    for name in needed:
        low, mode, high = ranges[name]
        if not low <= mode <= high:
            raise ValueError(f"range for {name} must satisfy low <= central <= high, got {ranges[name]}")
    CapacityAssumptions(*[ranges[n][0] for n in needed])  # validates the low ends
    CapacityAssumptions(*[ranges[n][2] for n in needed[:5]], min(ranges[needed[5]][2], 99.9))
    rng = np.random.default_rng(seed)

    def draw(name: str) -> np.ndarray:
        low, mode, high = ranges[name]
        return np.full(draws, float(mode)) if low == high else rng.triangular(low, mode, high, draws)

    values = vectorised_required_revenue(*[draw(n) for n in needed])
    result = {
        "p5": float(np.percentile(values, 5)),
        "median": float(np.median(values)),
        "p95": float(np.percentile(values, 95)),
        "draws": draws,
    }
    if visible_revenue is not None:
        gap = values - visible_revenue
        result.update(
            {
                "gap_p5": float(np.percentile(gap, 5)),
                "gap_median": float(np.median(gap)),
                "gap_p95": float(np.percentile(gap, 95)),
            }
        )
    return result


def tornado(base: CapacityAssumptions, ranges: dict[str, tuple[float, float]]) -> pd.DataFrame:
    """Required revenue with each assumption at its low and its high, the others at base; biggest swing first."""
    rows = []
    centre = required_revenue(base)
    for name, (low, high) in ranges.items():
        at = [required_revenue(CapacityAssumptions(**{**base.__dict__, name: v})) for v in (low, high)]
        rows.append(
            {
                "assumption": name,
                "low_value": low,
                "high_value": high,
                "at_low": at[0],
                "at_high": at[1],
                "base": centre,
                "swing": abs(at[1] - at[0]),
            }
        )
    return pd.DataFrame(rows).sort_values("swing", ascending=False).reset_index(drop=True)


def payback_year(start_year: int, revenue_now: float, growth_pct: float, required: float, horizon: int) -> int | None:
    """First year in which revenue growing at ``growth_pct`` a year covers ``required``; None if not by the horizon."""
    if revenue_now < 0 or required < 0:
        raise ValueError("revenue and required revenue must not be negative")
    if revenue_now >= required:
        return start_year
    if revenue_now == 0 or growth_pct <= 0:
        return None
    years = int(np.ceil(np.log(required / revenue_now) / np.log(1 + growth_pct / 100) - 1e-12))
    return start_year + years if start_year + years <= horizon else None


def sequoia_question(nvidia_dc_run_rate: float) -> float:
    """Sequoia's method: Nvidia data-center run-rate × 2 (total data-center cost) × 2 (a 50% software margin)."""
    return nvidia_dc_run_rate * 2 * 2


def estimate_values(rows: pd.DataFrame) -> pd.Series:
    """A central value for each estimate row (see :func:`aicompute.data.central_value`)."""
    return central_value(rows["value"], rows["value_low"], rows["value_high"]).astype(float)


def sourced_triangle(rows: pd.DataFrame, mode: float) -> tuple[float, float, float]:
    """(low, mode, high) for a Monte Carlo input: the lowest and highest sourced figures around a chosen mode."""
    values = []
    for _, r in rows.iterrows():
        values += [float(v) for v in (r.get("value"), r.get("value_low"), r.get("value_high")) if pd.notna(v)]
    if not values:
        raise ValueError("no sourced figures to build a range from")
    return min(min(values), mode), mode, max(max(values), mode)


def capex_by_year(capex: pd.DataFrame) -> pd.DataFrame:
    """One bar per company and fiscal year: the latest actual, else the latest guidance (midpoint of its range).

    Partial years (a fiscal year reported quarter by quarter) and rows without a value are left out.
    """
    rows = capex[~capex["fiscal_year"].str.contains(r"Q\d|only", regex=True)].copy()
    rows["value"] = central_value(rows["value_usd_bn"], rows["value_low_usd_bn"], rows["value_high_usd_bn"])
    rows = rows.dropna(subset=["value"])
    # An actual beats guidance; among actuals the company's own figure beats a derived one; among guidance the
    # latest listed (guidance is raised during the year and rows are kept in the order given) wins.
    rows["guidance"] = (rows["kind"] != "actual").astype(int)
    rows["derived"] = ((rows["kind"] == "actual") & (rows["basis"] != "company_reported")).astype(int)
    rows["order"] = -pd.RangeIndex(len(rows))
    rows = rows.sort_values(["company", "period_end", "guidance", "derived", "order"])
    rows = rows.groupby(["company", "period_end"]).head(1)
    rows["year"] = rows["period_end"].dt.year
    rows["range"] = rows.apply(
        lambda r: (
            f"{r['value_low_usd_bn']:g}–{r['value_high_usd_bn']:g}"
            if pd.notna(r["value_low_usd_bn"]) and pd.notna(r["value_high_usd_bn"])
            else ""
        ),
        axis=1,
    )
    return rows.reset_index(drop=True)


def latest_complete_year(by_year: pd.DataFrame) -> int:
    """The latest fiscal year for which every company in the table has a figure."""
    companies = by_year["company"].nunique()
    counts = by_year.groupby("year")["company"].nunique()
    complete = counts[counts == companies]
    if complete.empty:
        raise ValueError("no fiscal year has a figure for every company")
    return int(complete.index.max())
