"""Chapter 4 models: what must the capacity under construction earn each year, and who pays for it?

Annual cost of capacity = straight-line depreciation + operating cost + a required return on the capital.
Required revenue = annual cost grossed up by the gross margin of whoever sells the compute.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from aicompute.analysis import sensitivity
from aicompute.analysis.data import central_value
from aicompute.analysis.formula import Formula, evaluate
from aicompute.analysis.memo import same_tables
from aicompute.analysis.records import ChapterResult, Later, RecordBook, plain_number


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


# The one cost formula, declared once. The model evaluates it (annual_cost_parts, required_revenue, run) and the
# page's what-if chart compiles the same steps into Vega expressions (aicompute.present.interactive).
# Capital = GW × cost per GW; depreciation = capital / life; operating cost and the required return are percents of
# capital; the seller's gross margin grosses the cost up to the revenue it must charge.
COST_FORMULA = Formula(
    inputs=("gw", "cost_per_gw", "life", "ret_pct", "opex_pct", "margin_pct"),
    steps=(
        ("capital", "gw * cost_per_gw"),
        ("depreciation", "capital / life"),
        ("opex", "capital * opex_pct / 100"),
        ("ret", "capital * ret_pct / 100"),
        ("cost", "depreciation + opex + ret"),
        ("revenue", "cost / (1 - margin_pct / 100)"),
        ("seller_margin", "revenue - cost"),
        ("required", "depreciation + opex + ret + seller_margin"),
    ),
)
# The parts of the requirement as the chapter names them, and the formula step that gives each.
COST_PARTS = {
    "depreciation": "depreciation",
    "operating cost": "opex",
    "return on capital": "ret",
    "gross margin of seller": "seller_margin",
}
# What the labs' revenue covers of the requirement (percent), and the gap left, declared the same way.
COVER_FORMULA = Formula(
    inputs=("labs_revenue", "required"),
    steps=(("cover", "100 * labs_revenue / required"), ("gap", "required - labs_revenue")),
)


def cost_formula_values(gw, cost_per_gw, life, ret_pct, opex_pct, margin_pct) -> dict:
    """Every step of :data:`COST_FORMULA` (capital, each part, "required"), on floats or numpy arrays alike."""
    inputs = (gw, cost_per_gw, life, ret_pct, opex_pct, margin_pct)
    return evaluate(COST_FORMULA, dict(zip(COST_FORMULA.inputs, inputs, strict=True)))


def annual_cost_parts(gw, cost_per_gw, life, ret_pct, opex_pct, margin_pct) -> dict:
    """The parts of the annual revenue requirement (named as in :data:`COST_PARTS`), from :data:`COST_FORMULA`."""
    values = cost_formula_values(gw, cost_per_gw, life, ret_pct, opex_pct, margin_pct)
    return {part: values[step] for part, step in COST_PARTS.items()}


def _args(a: CapacityAssumptions) -> tuple[float, ...]:
    return tuple(getattr(a, name) for name in MC_INPUTS)  # the fields in COST_FORMULA's input order


def _parts(a: CapacityAssumptions) -> dict:
    return annual_cost_parts(*_args(a))


def cost_stack(a: CapacityAssumptions) -> dict[str, float]:
    """The parts of the annual revenue requirement, USD bn per year."""
    return {part: float(value) for part, value in _parts(a).items()}


def required_revenue(a: CapacityAssumptions) -> float:
    return float(cost_formula_values(*_args(a))["required"])


MC_INPUTS = (
    "gw",
    "cost_per_gw",
    "useful_life_years",
    "required_return_pct",
    "opex_pct_of_capex",
    "seller_gross_margin_pct",
)


def simulate_required_revenue(ranges: dict[str, tuple[float, float, float]], draws: int, seed: int) -> np.ndarray:
    """Required revenue for ``draws`` triangular draws of every input (seeded, so reproducible).

    ``ranges`` maps each of gw, cost_per_gw, useful_life_years, required_return_pct, opex_pct_of_capex,
    seller_gross_margin_pct to (low, mode, high).
    """
    if draws < 1:
        raise ValueError(f"draws must be at least 1, got {draws}")
    missing = [n for n in MC_INPUTS if n not in ranges]
    if missing:
        raise ValueError(f"missing ranges for {missing}")
    for name in MC_INPUTS:
        low, mode, high = ranges[name]
        if not low <= mode <= high:
            raise ValueError(f"range for {name} must satisfy low <= central <= high, got {ranges[name]}")
    CapacityAssumptions(*[ranges[n][0] for n in MC_INPUTS])  # validates the low ends
    CapacityAssumptions(*[ranges[n][2] for n in MC_INPUTS[:5]], min(ranges[MC_INPUTS[5]][2], 99.9))
    rng = np.random.default_rng(seed)

    def draw(name: str) -> np.ndarray:
        low, mode, high = ranges[name]
        return np.full(draws, float(mode)) if low == high else rng.triangular(low, mode, high, draws)

    return cost_formula_values(*[draw(n) for n in MC_INPUTS])["required"]


def monte_carlo(
    ranges: dict[str, tuple[float, float, float]],
    draws: int,
    seed: int,
    visible_revenue: float | None = None,
    central: float | None = None,
) -> dict[str, float]:
    """p5 / median / p95 of required revenue (and of the gap to ``visible_revenue``) over triangular draws.

    With ``central``, also the percentage of draws at or below it (where the central case sits in the simulation).
    """
    values = simulate_required_revenue(ranges, draws, seed)
    result = {
        "p5": float(np.percentile(values, 5)),
        "median": float(np.median(values)),
        "p95": float(np.percentile(values, 95)),
        "draws": draws,
    }
    if central is not None:
        result["central_percentile"] = float(100 * np.mean(values <= central))
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


@same_tables()
def tornado(base: CapacityAssumptions, ranges: dict[str, tuple[float, float]]) -> pd.DataFrame:
    """Required revenue with each assumption at its low and its high, the others at base; biggest swing first."""
    return sensitivity.tornado(lambda p: required_revenue(CapacityAssumptions(**p)), base.__dict__, ranges)


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


@same_tables()
def estimate_values(rows: pd.DataFrame) -> pd.Series:
    """A central value for each estimate row (see :func:`aicompute.data.central_value`)."""
    return central_value(rows["value"], rows["value_low"], rows["value_high"]).astype(float)


@same_tables()
def sourced_triangle(rows: pd.DataFrame, mode: float) -> tuple[float, float, float]:
    """(low, mode, high) for a Monte Carlo input: the lowest and highest sourced figures around a chosen mode."""
    values = []
    for _, r in rows.iterrows():
        values += [float(v) for v in (r.get("value"), r.get("value_low"), r.get("value_high")) if pd.notna(v)]
    if not values:
        raise ValueError("no sourced figures to build a range from")
    return min(min(values), mode), mode, max(max(values), mode)


@same_tables()
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


@same_tables()
def latest_complete_year(by_year: pd.DataFrame) -> int:
    """The latest fiscal year for which every company in the table has a figure."""
    companies = by_year["company"].nunique()
    counts = by_year.groupby("year")["company"].nunique()
    complete = counts[counts == companies]
    if complete.empty:
        raise ValueError("no fiscal year has a figure for every company")
    return int(complete.index.max())


# ---------------------------------------------------------------------------------------------------------------------
# The chapter: run(tables, params) -> ChapterResult

TABLES = ("capacity_cost", "revenue", "lab_financials", "peer_estimates", "capex")

# Each company's current accounting life for servers (data/capacity_cost.csv). Prior policies (cc-060, cc-062), a
# peer comparison (cc-065, Nebius) and a critic's view (cc-066, IBM's CEO) are shown but not used in the central case.
SERVER_LIFE_POLICIES = ("cc-057", "cc-058", "cc-059", "cc-061", "cc-063", "cc-064")

# The clouds' own AI revenue run-rates shown beside the labs' (data/revenue.csv segments).
CLOUD_AI_SEGMENTS = ("AI business annual revenue run-rate", "AWS AI services annual revenue run-rate")

# The peers' single-number answers set beside ours (data/peer_estimates.csv peer_id).
PEER_SEQUOIA, PEER_JPM_REVENUE, PEER_JPM_CAPEX, PEER_BAIN = (
    "app-peer-sequoia-600b",
    "app-peer-jpm-650b",
    "app-peer-jpm-5t",
    "app-peer-bain-2t",
)

DEFAULTS: dict = {
    "capacity_estimate": "cc-001",  # an estimate_id in data/capacity_cost.csv; cc-001 is the 15.2 GW figure
    "gw": None,  # override the capacity in GW (None: the chosen estimate's value)
    "cost_per_gw": None,  # USD bn per GW (None: median of the sourced all-in estimates, chips included)
    "useful_life_years": None,  # None: median of the hyperscalers' current server lives
    "required_return_pct": 10.0,  # ASSUMPTION (J.P. Morgan's framing uses 10%)
    "opex_pct_of_capex": 4.0,  # ASSUMPTION
    "seller_gross_margin_pct": 0.0,  # ASSUMPTION (Sequoia assumes 50%; 0 = the capacity owner's own revenue)
    "revenue_growth_pct": 50.0,  # ASSUMPTION: yearly growth of the labs' revenue, for the payback year
    "horizon": 2035,
    "as_of": "2026-06-30",
    "draws": 100_000,
    "seed": 20260630,
    # Basis of the labs' revenue: "net" of the partners' shares (as OpenAI reports) or "gross" (as Anthropic does).
    "revenue_basis": "net",
    # Which sourced figure sets the cost per GW and the server life when they are not given: "median" of the
    # sourced figures, or the "lowest"/"highest" cost and the "shortest"/"longest" current server life.
    "cost_per_gw_rule": "median",
    "server_life_rule": "median",
}

# The defensible alternatives (central first) for every run() parameter a careful analyst could set differently.
# The robustness grid runs run(tables, {**params, **combo}) over the full factorial (set draws=0 to skip the MC).
CHOICES: dict[str, tuple] = {
    "cost_per_gw_rule": ("median", "lowest", "highest"),
    "server_life_rule": ("median", "shortest", "longest"),
    "required_return_pct": (10.0, 6.0, 14.0),
    "opex_pct_of_capex": (4.0, 2.0, 8.0),
    "revenue_basis": ("net", "gross"),
}
# Different questions, not uncertainty about this one: run separately and label them.
SCENARIOS: dict[str, tuple] = {
    "seller_gross_margin_pct": (0.0, 50.0),
    "capacity_estimate": ("cc-001", "cc-008", "cc-015", "cc-050"),
}

# Our ranges (low, high) for the assumptions that have no sourced range (ASSUMPTION).
ASSUMED_RANGES = {
    "required_return_pct": (6.0, 14.0),
    "opex_pct_of_capex": (2.0, 8.0),
    "seller_gross_margin_pct": (0.0, 50.0),
}


def resolve_params(params: dict) -> dict:
    """``params`` over :data:`DEFAULTS`, checked: unknown names and impossible values raise a clear ValueError."""
    unknown = sorted(set(params) - set(DEFAULTS))
    if unknown:
        raise ValueError(f"unknown absorption parameters {unknown}; known: {sorted(DEFAULTS)}")
    p = {**DEFAULTS, **params}
    try:
        p["as_of"] = pd.Timestamp(p["as_of"])
    except (ValueError, TypeError) as err:
        raise ValueError(f"as_of must be a date (YYYY-MM-DD), got {p['as_of']!r}") from err
    for name in ("draws", "horizon", "seed"):
        if not isinstance(p[name], (int, np.integer)) or isinstance(p[name], bool):
            raise ValueError(f"{name} must be a whole number, got {p[name]!r}")
    if p["draws"] < 0:
        raise ValueError(f"draws must be 0 (skip the Monte Carlo) or more, got {p['draws']}")
    for name, allowed in (("cost_per_gw_rule", RULES_COST), ("server_life_rule", RULES_LIFE)):
        if p[name] not in allowed:
            raise ValueError(f"{name} must be one of {tuple(allowed)}, got {p[name]!r}")
    if p["horizon"] < p["as_of"].year:
        raise ValueError(f"horizon ({p['horizon']}) must not be before the as_of year ({p['as_of'].year})")
    if p["revenue_basis"] not in REVENUE_BASES:
        raise ValueError(f"revenue_basis must be one of {REVENUE_BASES}, got {p['revenue_basis']!r}")
    if not -100 < p["revenue_growth_pct"] <= 1000:
        raise ValueError(f"revenue_growth_pct must be above -100 and at most 1000, got {p['revenue_growth_pct']}")
    return p


def _pick_inputs(cc: pd.DataFrame, p: dict) -> dict:
    """The rows each model input comes from, chosen by explicit columns and ids, dated on or before ``as_of``.

    The analysis date cuts cost, life and capacity rows exactly as it cuts demand: a row whose ``as_of`` (the date
    the figure describes) is after the analysis date is left out. Undated rows are kept (they carry no date to cut).
    """
    return _inputs_at(cc, p["as_of"], p["capacity_estimate"])


@same_tables()
def _inputs_at(cc: pd.DataFrame, as_of: pd.Timestamp, capacity_estimate: str) -> dict:
    """:func:`_pick_inputs` for the two parameters it reads (remembered across the grid's other choices)."""
    if capacity_estimate not in set(cc["estimate_id"]):
        raise ValueError(f"capacity_estimate {capacity_estimate!r} is not an estimate_id in data/capacity_cost.csv")
    cc = cc[cc["as_of"].isna() | (cc["as_of"] <= as_of)]
    chosen = cc[cc["estimate_id"] == capacity_estimate]
    if chosen.empty:
        raise ValueError(f"capacity_estimate {capacity_estimate!r} is dated after as_of {as_of:%Y-%m-%d}")
    return {
        "chosen": chosen,
        "under_construction": cc[cc["metric"] == "capacity_under_construction"],
        "all_in": cc[(cc["metric"] == "cost_per_gw") & (cc["includes_compute"] == "yes")],
        "lives": cc[cc["estimate_id"].isin(SERVER_LIFE_POLICIES)],
        "all_lives": cc[cc["metric"] == "useful_life_servers"],
    }


@same_tables()
def input_facts(inputs: dict) -> dict:
    """The sources and sourced extremes the records quote from the chosen input rows (the same for every choice of
    rule, return or basis, so remembered across the grid's runs)."""
    row, lives = inputs["chosen"].iloc[0], inputs["all_lives"]
    shortest, longest = float(lives["value"].min()), float(lives["value"].max())
    return {
        "all_in_sources": list(inputs["all_in"]["source_id"]),
        "cost_sources": [*inputs["all_in"]["source_id"], row["source_id"]],
        "life_sources": list(inputs["lives"]["source_id"]),
        "shortest": shortest,
        "shortest_sources": list(lives.loc[lives["value"] == shortest, "source_id"]),
        "longest": longest,
        "longest_sources": list(lives.loc[lives["value"] == longest, "source_id"]),
    }


RULES_COST = {"median": "median", "lowest": "min", "highest": "max"}
RULES_LIFE = {"median": "median", "shortest": "min", "longest": "max"}


def _base_case(inputs: dict, p: dict) -> CapacityAssumptions:
    gw = float(estimate_values(inputs["chosen"]).iloc[0]) if p["gw"] is None else float(p["gw"])
    costs, lives = estimate_values(inputs["all_in"]), inputs["lives"]["value"].astype(float)
    if costs.empty or lives.empty:
        raise ValueError(f"no sourced cost per GW or server life on or before {p['as_of']:%Y-%m-%d}")
    cost = float(costs.agg(RULES_COST[p["cost_per_gw_rule"]])) if p["cost_per_gw"] is None else float(p["cost_per_gw"])
    life_rule = RULES_LIFE[p["server_life_rule"]]
    life = float(lives.agg(life_rule)) if p["useful_life_years"] is None else float(p["useful_life_years"])
    return CapacityAssumptions(
        gw, cost, life, p["required_return_pct"], p["opex_pct_of_capex"], p["seller_gross_margin_pct"]
    )


def _cost_cases(base: CapacityAssumptions, shortest: float) -> pd.DataFrame:
    """The cost stack at the central case and at the shortest sourced server life (the stacked-bar chart)."""
    rows = []
    for name, life in (
        ("central case", base.useful_life_years),
        (f"shortest sourced life ({shortest:g} years)", shortest),
    ):
        case = CapacityAssumptions(**{**base.__dict__, "useful_life_years": life})
        described = (
            f"{base.gw:g} GW × {base.cost_per_gw:.0f} bn/GW, life {life:g} y, return {base.required_return_pct:g}%, "
            f"opex {base.opex_pct_of_capex:g}%, seller margin {base.seller_gross_margin_pct:g}%"
        )
        for i, (part, value) in enumerate(cost_stack(case).items()):
            rows.append({"case": name, "part": part, "value": value, "order": i, "assumptions": described})
    return pd.DataFrame(rows)


# Revenue bases. OpenAI reports revenue net of the share it pays Microsoft (lab_financials fin-010, fin-035);
# Anthropic's run-rates are gross of its cloud partners' share (definition of fin-056..fin-063).
REPORTED_BASIS = {"OpenAI": "net", "Anthropic": "gross"}
REVENUE_BASES = ("net", "gross")
# The rows that convert one basis to the other: Microsoft's share of OpenAI's revenue (percent), and Anthropic's
# April 2026 run-rate restated net by OpenAI's CRO beside the gross figure Anthropic gave. They describe contract
# terms and one month's ratio, so the analysis date does not cut them.
MICROSOFT_SHARE_ROW, ANTHROPIC_NET_ROW, ANTHROPIC_GROSS_ROW = "fin-035", "fin-061", "fin-060"


def _row(lab_fin: pd.DataFrame, fin_id: str) -> pd.Series:
    rows = lab_fin[lab_fin["fin_id"] == fin_id]
    if rows.empty:
        raise ValueError(f"lab_financials has no row {fin_id!r} (needed to convert revenue bases)")
    return rows.iloc[0]


@same_tables()
def basis_factors(lab_fin: pd.DataFrame) -> dict[str, dict[str, float]]:
    """For each lab, the factor that turns its reported run-rate into each basis: {lab: {"net": f, "gross": g}}.

    OpenAI (reported net): gross = net / (1 - Microsoft's share). Anthropic (reported gross): net = gross × (its
    net restatement ÷ its gross figure for the same month), an ASSUMPTION that the April ratio holds later.
    """
    share = float(_row(lab_fin, MICROSOFT_SHARE_ROW)["value"]) / 100
    if not 0 <= share < 1:
        raise ValueError(f"Microsoft's share of OpenAI's revenue must be in [0, 100) percent, got {100 * share}")
    anthropic_net_ratio = float(_row(lab_fin, ANTHROPIC_NET_ROW)["value"]) / float(
        _row(lab_fin, ANTHROPIC_GROSS_ROW)["value"]
    )
    return {"OpenAI": {"net": 1.0, "gross": 1 / (1 - share)}, "Anthropic": {"net": anthropic_net_ratio, "gross": 1.0}}


@same_tables()
def basis_sources(lab_fin: pd.DataFrame) -> list[str]:
    return [
        _row(lab_fin, fin_id)["source_id"] for fin_id in (MICROSOFT_SHARE_ROW, ANTHROPIC_NET_ROW, ANTHROPIC_GROSS_ROW)
    ]


@same_tables()
def labs_demand(lab_fin: pd.DataFrame, as_of: pd.Timestamp, factors: dict | None = None) -> pd.DataFrame:
    """Each lab's latest revenue run-rate on or before ``as_of``, as reported and on the net and the gross basis.

    Without ``factors`` both bases equal the reported figure (no conversion).
    """
    from aicompute.analysis.labs import latest_figure
    from aicompute.analysis.vocabulary import LABS

    rows = []
    for lab in LABS:
        rr = latest_figure(lab_fin, lab, "revenue_run_rate", as_of)
        if rr is not None:
            reported = float(rr["value"])
            factor = (factors or {}).get(lab, {"net": 1.0, "gross": 1.0})
            rows.append(
                {
                    "who": lab,
                    "what": "revenue run-rate",
                    "as_of": rr["period_end"],
                    "reported_basis": REPORTED_BASIS.get(lab, "unknown"),
                    "usd_bn": reported,
                    "net_usd_bn": reported * factor["net"],
                    "gross_usd_bn": reported * factor["gross"],
                    "source_id": rr["source_id"],
                }
            )
    columns = ["who", "what", "as_of", "reported_basis", "usd_bn", "net_usd_bn", "gross_usd_bn", "source_id"]
    return pd.DataFrame(rows, columns=columns)


@same_tables()
@same_tables()
def labs_on_both_bases(lab_fin: pd.DataFrame, as_of: pd.Timestamp) -> tuple[pd.DataFrame, dict[str, float], list[str]]:
    """The labs' latest run-rates (:func:`labs_demand`), their sum on each revenue basis, and the sources of both."""
    labs = labs_demand(lab_fin, as_of, basis_factors(lab_fin))
    by_basis = {basis: float(labs[f"{basis}_usd_bn"].sum()) for basis in REVENUE_BASES}
    return labs, by_basis, [*labs["source_id"], *basis_sources(lab_fin)]


@same_tables()
def capex_in_year(by_year: pd.DataFrame, year: int) -> pd.DataFrame:
    return by_year[by_year["year"] == year]


def clouds_ai_demand(revenue: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    """Each cloud's latest AI revenue run-rate on or before ``as_of`` (the segments in CLOUD_AI_SEGMENTS)."""
    rows = revenue[
        (revenue["period_kind"] == "run_rate")
        & revenue["segment"].isin(CLOUD_AI_SEGMENTS)
        & (revenue["period_end"] <= as_of)
    ]
    rows = rows.sort_values("period_end", kind="stable").groupby("company").tail(1)
    return pd.DataFrame(
        {
            "who": rows["company"],
            "what": rows["segment"],
            "as_of": rows["period_end"],
            "usd_bn": rows["value_usd_bn"].astype(float),
            "source_id": rows["source_id"],
        }
    )


@same_tables()
def latest_nvidia_dc_quarter(revenue: pd.DataFrame, as_of: pd.Timestamp) -> pd.Series:
    rows = revenue[
        (revenue["company"] == "Nvidia")
        & (revenue["segment"] == "Data Center")
        & (revenue["period_kind"] == "quarter")
        & (revenue["period_end"] <= as_of)
    ]
    if rows.empty:
        raise ValueError(f"no Nvidia data-center quarter on or before {as_of:%Y-%m-%d}")
    return rows.sort_values("period_end", kind="stable").iloc[-1]


@same_tables()
def peer_headline(peers: pd.DataFrame, peer_id: str) -> float:
    row = peers[peers["peer_id"] == peer_id]
    if row.empty:
        raise ValueError(f"peer {peer_id!r} is not a row of data/peer_estimates.csv")
    return float(row["headline_usd_bn"].iloc[0])


@same_tables()
def mc_ranges(inputs: dict, base: CapacityAssumptions) -> dict[str, tuple[float, float, float]]:
    """(low, central, high) of every Monte Carlo input, for one question: who pays for *this* capacity.

    Capacity and the seller's margin stay at the case being asked about (other capacity figures and an end-customer
    margin are separate, labelled scenarios); cost per GW spans the sourced all-in figures and server life the
    companies' current policies that the central case uses; return and opex span our assumed ranges.
    """
    ranges = {
        "gw": (base.gw, base.gw, base.gw),
        "cost_per_gw": sourced_triangle(inputs["all_in"], base.cost_per_gw),
        "useful_life_years": sourced_triangle(inputs["lives"], base.useful_life_years),
    }
    for name, (low, high) in ASSUMED_RANGES.items():
        central = getattr(base, name)
        ranges[name] = (min(low, central), central, max(high, central))
    ranges["seller_gross_margin_pct"] = (base.seller_gross_margin_pct,) * 3
    return ranges


# ASSUMPTION: the end-customer scenario's seller margin (Sequoia's 50%), beside the capacity owner's own revenue.
END_CUSTOMER_MARGIN_PCT = 50.0


@same_tables()
def capacity_scenarios(inputs: dict, base: CapacityAssumptions) -> pd.DataFrame:
    """Required revenue at every other sourced figure of capacity under construction (separate, labelled scenarios)."""
    rows = inputs["under_construction"]
    values = estimate_values(rows)
    out = pd.DataFrame(
        {
            "estimate_id": rows["estimate_id"],
            "subject": rows["subject"],
            "coverage": rows["coverage"],
            "gw": values,
            "required_revenue": [
                required_revenue(CapacityAssumptions(**{**base.__dict__, "gw": float(v)})) for v in values
            ],
            "source_id": rows["source_id"],
        }
    )
    return out.dropna(subset=["gw"]).sort_values("gw", kind="stable").reset_index(drop=True)


@same_tables()
def choice_spread(inputs: dict, base: CapacityAssumptions, labs_by_basis: dict[str, float]) -> dict[str, np.ndarray]:
    """Required revenue, coverage and gap over every combination of the model CHOICES (capacity and margin fixed).

    Cost and life run over the values the rules would pick, return and opex over CHOICES, the labs' revenue over
    both bases: the spread a careful analyst's choices give, which the headline records carry as low/high.
    """
    costs = estimate_values(inputs["all_in"])
    lives = inputs["lives"]["value"].astype(float)
    grid = np.array(
        np.meshgrid(
            [costs.agg(rule) for rule in RULES_COST.values()],
            [lives.agg(rule) for rule in RULES_LIFE.values()],
            CHOICES["required_return_pct"],
            CHOICES["opex_pct_of_capex"],
            [labs_by_basis[b] for b in CHOICES["revenue_basis"]],
        )
    ).reshape(5, -1)
    cost, life, ret, opex, labs = grid
    values = cost_formula_values(base.gw, cost, life, ret, opex, base.seller_gross_margin_pct)
    required = values["required"]
    covered = evaluate(COVER_FORMULA, {"labs_revenue": labs, "required": required})
    return {
        "required": required,
        "depreciation_share": 100 * values["depreciation"] / required,
        "labs": labs,
        "cover": covered["cover"],
        "gap": covered["gap"],
    }


def payback_paths(
    labs_revenue: float, required: float, low: float, high: float, start: int, horizon: int, growth_rates
) -> pd.DataFrame:
    """The labs' revenue path at a few growth rates against the required-revenue band, year by year (for a chart)."""
    rows = []
    for year in range(start, horizon + 1):
        for rate in growth_rates:
            rows.append(
                {
                    "year": year,
                    "series": f"labs' revenue growing {rate:g}% a year",
                    "growth_pct": rate,
                    "usd_bn": labs_revenue * (1 + rate / 100) ** (year - start),
                    "required": required,
                    "required_low": low,
                    "required_high": high,
                }
            )
    return pd.DataFrame(rows)


# Growth rates drawn in the "when would it pay?" frame (ASSUMPTION: illustrative, beside revenue_growth_pct).
PATH_GROWTH_RATES = (25.0, 50.0, 100.0)


def run(tables: dict[str, pd.DataFrame], params: dict) -> ChapterResult:
    """The chapter: every key number (records) and every frame its charts and tables draw. Pure; no files written."""
    missing = [name for name in TABLES if name not in tables]
    if missing:
        raise ValueError(f"absorption.run needs the tables {missing}")
    p = resolve_params(params)
    as_of = p["as_of"]
    book = RecordBook("absorption")
    frames: dict[str, pd.DataFrame] = {}
    inputs = _pick_inputs(tables["capacity_cost"], p)
    base = _base_case(inputs, p)
    row = inputs["chosen"].iloc[0]
    frames["capacity_used"] = inputs["chosen"]
    # Frames only charts and tables read are built when first read (Later): the robustness grid never reads them.
    frames["capacity_estimates"] = Later(
        lambda: inputs["under_construction"][
            ["estimate_id", "subject", "value", "value_low", "value_high", "as_of", "due_by", "basis", "source_id"]
        ]
    )
    frames["cost_per_gw_estimates"] = Later(
        lambda: inputs["all_in"][
            ["estimate_id", "subject", "value", "value_low", "value_high", "scope", "basis", "source_id"]
        ]
    )
    frames["server_lives"] = Later(lambda: inputs["lives"][["subject", "value", "scope", "basis", "source_id"]])

    # The capacity, its cost and the annual revenue it must earn.
    facts = input_facts(inputs)
    cost_sources, life_sources = facts["cost_sources"], facts["life_sources"]
    book.record("gw", base.gw, unit="gw", label=f"Capacity used: {row['subject']}", sources=[row["source_id"]])
    book.record(
        "cost_per_gw",
        base.cost_per_gw,
        unit="usd_bn",
        label="Capital cost per GW used (USD bn per GW)",
        sources=facts["all_in_sources"],
    )
    book.record(
        "useful_life_years",
        base.useful_life_years,
        unit="years",
        label="Server life used for depreciation",
        sources=life_sources,
    )
    shortest = facts["shortest"]
    book.record(
        "shortest_sourced_life",
        shortest,
        unit="years",
        label="Shortest server life in the sources",
        sources=facts["shortest_sources"],
    )
    stack = cost_stack(base)
    total = sum(stack.values())
    book.record(
        "depreciation_share",
        100 * stack["depreciation"] / total,
        unit="pct",
        label="Depreciation's share of the annual revenue requirement",
        chart="cost-stack",
    )
    book.record(
        "biggest_part",
        max(stack, key=stack.get),
        unit="text",
        label="Biggest part of the annual revenue requirement",
        chart="cost-stack",
    )
    book.record("capital", capital(base), unit="usd_bn", label="Capital cost of the capacity", sources=cost_sources)
    required = book.record(
        "required_revenue",
        required_revenue(base),
        unit="usd_bn",
        chart="cost-stack",
        label="Revenue the capacity must earn each year (central case)",
        sources=[*cost_sources, *life_sources],
    )
    frames["cost_cases"] = Later(lambda: _cost_cases(base, shortest))

    # Against the demand we can see, on one revenue basis (net of the partners' shares, or gross).
    lab_fin = tables["lab_financials"]
    labs, by_basis, lab_sources = labs_on_both_bases(lab_fin, as_of)
    frames["demand"] = Later(lambda: pd.concat([labs, clouds_ai_demand(tables["revenue"], as_of)], ignore_index=True))
    labs_revenue = by_basis[p["revenue_basis"]]
    for basis in REVENUE_BASES:
        book.record(
            f"labs_revenue_{basis}",
            by_basis[basis],
            unit="usd_bn",
            label=f"OpenAI's and Anthropic's revenue run-rates combined, both {basis} of partners' shares",
            sources=lab_sources,
        )
    book.record("revenue_basis", p["revenue_basis"], unit="text", label="Revenue basis of the labs' combined run-rate")
    book.record(
        "labs_revenue",
        labs_revenue,
        unit="usd_bn",
        low=min(by_basis.values()),
        high=max(by_basis.values()),
        label=f"OpenAI's and Anthropic's revenue run-rates combined ({p['revenue_basis']}; range: net to gross)",
        sources=lab_sources,
    )
    covered = evaluate(COVER_FORMULA, {"labs_revenue": labs_revenue, "required": required.value})
    book.record("gap", covered["gap"], unit="usd_bn", label="Required revenue minus the labs' combined run-rate")
    book.record(
        "labs_cover",
        covered["cover"],
        unit="pct",
        label="Share of the required revenue the two labs' whole revenue would cover",
    )

    # One number per concept: the central case, with the spread across the defensible CHOICES as its range.
    spread = choice_spread(inputs, base, by_basis)
    for key, values in (
        ("required_revenue", spread["required"]),
        ("depreciation_share", spread["depreciation_share"]),
        ("gap", spread["gap"]),
        ("labs_cover", spread["cover"]),
    ):
        _set_range(book, key, values)
    book.record(
        "choice_grid_size",
        len(spread["required"]),
        unit="count",
        label="Combinations of the defensible choices behind the headline ranges",
    )
    longest = facts["longest"]
    book.record(
        "longest_sourced_life",
        longest,
        unit="years",
        label="Longest server life in the sources",
        sources=facts["longest_sources"],
    )
    for name, life in (("shortest", shortest), ("longest", longest)):
        at = cost_stack(CapacityAssumptions(**{**base.__dict__, "useful_life_years": life}))
        book.record(
            f"depreciation_share_{name}_life",
            100 * at["depreciation"] / sum(at.values()),
            unit="pct",
            label=f"Depreciation's share of the requirement at the {name} sourced server life ({life:g} years)",
        )

    # What the hyperscalers are spending.
    by_year = capex_by_year(tables["capex"])
    latest_year = latest_complete_year(by_year)
    in_year = capex_in_year(by_year, latest_year)
    spend = book.record(
        "capex_latest_year",
        float(in_year["value"].sum()),
        unit="usd_bn",
        label=f"Capital expenditure of Microsoft, Alphabet, Amazon, Meta and Oracle in fiscal "
        f"{latest_year} (actual or guidance midpoint)",
        sources=in_year["source_id"],
        chart="capex",
    )
    book.record("capex_year", latest_year, unit="year", label="Latest fiscal year with every company's capex")
    book.record(
        "capex_to_labs_revenue",
        spend.value / labs_revenue,
        unit="ratio",
        chart="capex",
        label="The five's capex in that year over the two labs' combined revenue run-rate",
    )
    frames["capex_by_year"] = by_year

    # Peers side by side.
    peers = tables["peer_estimates"]
    dc = latest_nvidia_dc_quarter(tables["revenue"], as_of)
    sequoia = book.record(
        "sequoia_recomputed",
        sequoia_question(4 * float(dc["value_usd_bn"])),
        unit="usd_bn",
        label=f"Sequoia's question recomputed on Nvidia's data-center run-rate ({dc['fiscal_label']})",
        sources=[dc["source_id"], "app-sequoia-600b"],
    )
    jpm_capex = peer_headline(peers, PEER_JPM_CAPEX)
    jpm = book.record(
        "jpm_recomputed",
        required_revenue(CapacityAssumptions(**{**base.__dict__, "gw": 1.0, "cost_per_gw": jpm_capex})),
        unit="usd_bn",
        label="Our annual-cost model on J.P. Morgan's capex base",
        sources=[peers.loc[peers["peer_id"] == PEER_JPM_CAPEX, "source_id"].iloc[0]],
    )
    headlines = {pid: peer_headline(peers, pid) for pid in (PEER_SEQUOIA, PEER_JPM_REVENUE, PEER_BAIN)}
    for key, pid in (("sequoia", PEER_SEQUOIA), ("jpm", PEER_JPM_REVENUE), ("bain", PEER_BAIN)):
        book.record(
            f"peer_headline.{key}",
            headlines[pid],
            unit="usd_bn",
            label=f"Headline of {pid}",
            sources=peers.loc[peers["peer_id"] == pid, "source_id"],
        )
    frames["peers_side_by_side"] = Later(
        lambda: pd.DataFrame(
            [
                {
                    "analysis": "Sequoia, AI's $600B question",
                    "their_headline": headlines[PEER_SEQUOIA],
                    "recomputed_here": sequoia.value,
                    "what_differs": "Same method (Nvidia run-rate × 2 × 2) on Nvidia's latest data-center quarter; "
                    "Nvidia's revenue has grown since 2024.",
                },
                {
                    "analysis": "J.P. Morgan, revenue for a 10% return",
                    "their_headline": headlines[PEER_JPM_REVENUE],
                    "recomputed_here": jpm.value,
                    "what_differs": f"Our annual-cost model on their capex base; we add depreciation over "
                    f"{base.useful_life_years:g} years, which their single figure does not show.",
                },
                {
                    "analysis": "Bain, revenue needed by 2030",
                    "their_headline": headlines[PEER_BAIN],
                    "recomputed_here": None,
                    "what_differs": "Bain's inputs (capex path, margins) are not in our data; not recomputed.",
                },
                {
                    "analysis": "This chapter, central case",
                    "their_headline": None,
                    "recomputed_here": required.value,
                    "what_differs": f"{base.gw:g} GW under construction only; explicit life, return, opex and margin.",
                },
            ]
        )
    )
    frames["peer_estimates"] = Later(
        lambda: peers[["publisher", "name", "headline_usd_bn", "headline_metric", "target_year", "method", "source_id"]]
    )

    # Uncertainty: which assumption matters, and the range of outcomes.
    ranges = mc_ranges(inputs, base)
    torn = tornado(base, {name: (low, high) for name, (low, _, high) in ranges.items() if low < high})
    frames["tornado"] = torn
    book.record(
        "tornado_top",
        str(torn.iloc[0]["assumption"]),
        unit="text",
        chart="tornado",
        label="The assumption that moves the required revenue most",
    )
    frames["capacity_scenarios"] = Later(lambda: capacity_scenarios(inputs, base))
    end_customer = CapacityAssumptions(**{**base.__dict__, "seller_gross_margin_pct": END_CUSTOMER_MARGIN_PCT})
    book.record(
        "required_revenue_end_customer",
        required_revenue(end_customer),
        unit="usd_bn",
        label=f"Scenario: revenue end customers must pay if whoever sells the compute keeps a "
        f"{END_CUSTOMER_MARGIN_PCT:g}% gross margin (Sequoia's framing)",
    )
    frames["monte_carlo"] = pd.DataFrame(columns=["quantity", "p5", "median", "p95"])
    if p["draws"] > 0:  # draws=0 skips the Monte Carlo (robustness grid runs)
        mc = monte_carlo(ranges, p["draws"], p["seed"], visible_revenue=labs_revenue, central=required.value)
        mc_median = book.record(
            "required_revenue_mc",
            mc["median"],
            unit="usd_bn",
            low=mc["p5"],
            high=mc["p95"],
            label="Required revenue a year, Monte Carlo median (p5–p95)",
            chart="tornado",
        )
        book.record(
            "gap_mc",
            mc["gap_median"],
            unit="usd_bn",
            low=mc["gap_p5"],
            high=mc["gap_p95"],
            label="Gap to the labs' revenue, Monte Carlo median (p5–p95)",
        )
        book.record(
            "central_percentile_in_mc",
            mc["central_percentile"],
            unit="pct",
            label="Share of the Monte Carlo's draws at or below the central case's required revenue",
            note="The central case takes the median cost per GW and the assumed return and opex; the sourced cost "
            "figures reach further above the median than below it, so most draws lie above the central case.",
        )
        book.record(
            "mc_median_vs_central",
            "above" if mc_median.value > required.value else "below",
            unit="text",
            label="Whether the Monte Carlo median is above or below the central case",
        )
        frames["monte_carlo"] = pd.DataFrame(
            [
                {"quantity": "required revenue", "p5": mc["p5"], "median": mc["median"], "p95": mc["p95"]},
                {
                    "quantity": "gap to the labs' revenue",
                    "p5": mc["gap_p5"],
                    "median": mc["gap_median"],
                    "p95": mc["gap_p95"],
                },
            ]
        )
    frames["ranges"] = Later(
        lambda: pd.DataFrame([{"assumption": k, "low": v[0], "central": v[1], "high": v[2]} for k, v in ranges.items()])
    )

    # When would it pay?
    start = as_of.year
    book.record("start_year", start, unit="year", label="Year the payback count starts")
    year = payback_year(start, labs_revenue, p["revenue_growth_pct"], required.value, p["horizon"])
    book.record(
        "payback_year",
        year if year is not None else f"not by {p['horizon']}",
        unit="year" if year else "text",
        label=f"Year the labs' revenue, growing {p['revenue_growth_pct']:g}% a year, covers the capacity's annual cost",
    )
    years = [
        payback_year(start, float(labs), p["revenue_growth_pct"], float(req), p["horizon"])
        for labs, req in zip(spread["labs"], spread["required"], strict=True)
    ]
    dated = [y for y in years if y is not None]
    book.record(
        "payback_year_earliest",
        min(dated) if dated else f"not by {p['horizon']}",
        unit="year" if dated else "text",
        label="Earliest payback year across the defensible choices",
    )
    book.record(
        "payback_year_latest",
        max(dated) if len(dated) == len(years) else f"not by {p['horizon']}",
        unit="year" if len(dated) == len(years) else "text",
        label="Latest payback year across the defensible choices",
    )
    rates = sorted({*PATH_GROWTH_RATES, float(p["revenue_growth_pct"])})
    # The band is the record's range across the choices, set above (``required`` is the record before that).
    spread_of_required = book["required_revenue"]
    frames["payback_paths"] = Later(
        lambda: payback_paths(
            labs_revenue, required.value, spread_of_required.low, spread_of_required.high, start, p["horizon"], rates
        )
    )
    return ChapterResult(book, frames)


def _set_range(book: RecordBook, key: str, values: np.ndarray) -> None:
    """Give a record the spread of ``values`` as its low and high (the central value stays)."""
    item = book[key]
    low, high = plain_number(float(np.min(values))), plain_number(float(np.max(values)))
    book.records[item.key] = replace(item, low=low, high=high)
