"""Chapter 3 models: where does one dollar of AI application revenue end up?

The chain: end customer → application → model provider (API) → cloud (compute) → chip makers (hardware).
Each layer keeps its gross margin of what reaches it and passes on its cost of revenue, of which a share goes up the
chain. Every layer's take sums back to the dollar.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import pandas as pd

from aicompute.analysis.data import central_value
from aicompute.analysis.formula import Formula, evaluate
from aicompute.analysis.memo import same_tables
from aicompute.analysis.records import ChapterResult, Later, RecordBook

LAYERS = (
    "application",
    "application's other costs",
    "model provider",
    "model provider's other costs",
    "cloud",
    "chip makers",
)


@dataclass(frozen=True)
class ChainAssumptions:
    """Percentages (0–100), except ``app_gross_margin_pct``.

    The application's gross margin may be negative: the app then pays out more than it earns.
    """

    app_gross_margin_pct: float
    model_share_of_app_cost_pct: float
    model_gross_margin_pct: float
    cloud_share_of_model_cost_pct: float
    hardware_share_of_cloud_cost_pct: float

    def __post_init__(self) -> None:
        if not -1000 <= self.app_gross_margin_pct <= 100:
            raise ValueError(
                f"app_gross_margin_pct must be at most 100 (negative allowed), got {self.app_gross_margin_pct}"
            )
        for name in (
            "model_share_of_app_cost_pct",
            "model_gross_margin_pct",
            "cloud_share_of_model_cost_pct",
            "hardware_share_of_cloud_cost_pct",
        ):
            value = getattr(self, name)
            if not 0 <= value <= 100:
                raise ValueError(f"{name} must be between 0 and 100 percent, got {value}")


# The pass-through chain, declared once. The model evaluates it (waterfall, passed_up, passed_up_over_ranges) and the
# page's what-if chart compiles the same steps into Vega expressions (aicompute.present.interactive).
# * the application keeps its gross margin; its cost of revenue splits into model-API fees and other costs;
# * the model provider keeps its gross margin on the fees; its cost splits into cloud compute and other costs;
# * the cloud passes the hardware share of what it receives to chip makers and keeps the rest.
CHAIN_FORMULA = Formula(
    inputs=("dollar", "app_margin", "model_share", "model_margin", "cloud_share", "hardware_share"),
    steps=(
        ("app_cost", "dollar * (1 - app_margin / 100)"),
        ("to_model", "app_cost * model_share / 100"),
        ("model_cost", "to_model * (1 - model_margin / 100)"),
        ("to_cloud", "model_cost * cloud_share / 100"),
        ("to_chips", "to_cloud * hardware_share / 100"),
        ("app_keeps", "dollar - app_cost"),
        ("app_other", "app_cost - to_model"),
        ("model_keeps", "to_model - model_cost"),
        ("model_other", "model_cost - to_cloud"),
        ("cloud_keeps", "to_cloud - to_chips"),
        ("chips_keep", "to_chips"),
        ("passed_up", "model_keeps + cloud_keeps + chips_keep"),
    ),
)
# Each layer of the waterfall, and the formula steps giving what it keeps and what it receives.
LAYER_STEPS = {
    "application": ("app_keeps", "dollar"),
    "application's other costs": ("app_other", "app_other"),
    "model provider": ("model_keeps", "to_model"),
    "model provider's other costs": ("model_other", "model_other"),
    "cloud": ("cloud_keeps", "to_cloud"),
    "chip makers": ("chips_keep", "to_chips"),
}


# The ChainAssumptions field behind each input of the formula (after the dollar).
CHAIN_FIELDS = {
    "app_margin": "app_gross_margin_pct",
    "model_share": "model_share_of_app_cost_pct",
    "model_margin": "model_gross_margin_pct",
    "cloud_share": "cloud_share_of_model_cost_pct",
    "hardware_share": "hardware_share_of_cloud_cost_pct",
}


@same_tables()
def chain_values(shares: ChainAssumptions | dict, dollar: float = 1.0) -> dict:
    """Every step of :data:`CHAIN_FORMULA` for ``dollar`` paid to the application (``shares``: as ChainAssumptions
    or a dict of its fields)."""
    fields = shares if isinstance(shares, dict) else shares.__dict__
    return evaluate(CHAIN_FORMULA, {"dollar": dollar, **{name: fields[f] for name, f in CHAIN_FIELDS.items()}})


@same_tables()
def waterfall(a: ChainAssumptions, dollar: float = 1.0) -> pd.DataFrame:
    """What each layer keeps of ``dollar`` paid to the application, and what it receives (:data:`CHAIN_FORMULA`).

    With a negative application margin the app's cost exceeds the dollar: it 'keeps' a negative amount.
    """
    values = chain_values(a, dollar)
    return pd.DataFrame(
        {
            "layer": list(LAYERS),
            "received": [values[LAYER_STEPS[k][1]] for k in LAYERS],
            "kept": [values[LAYER_STEPS[k][0]] for k in LAYERS],
        }
    )


@same_tables()
def passed_up_over_ranges(ranges: dict[str, tuple[float, float]], base: ChainAssumptions) -> tuple[float, float]:
    """Lowest and highest share passed up over every corner of the inputs' ranges (and the central values).

    Passed up (:data:`CHAIN_FORMULA`) = what the model provider keeps + what reaches the cloud = fees × margin +
    fees × (1 − margin) × cloud share, with fees = (1 − app margin) × model share; it rises or falls monotonically in
    each input, so the corners (and the centre) bound it.
    """
    names = list(ranges)
    values = []
    for combo in itertools.product(*((ranges[n][0], getattr(base, n), ranges[n][1]) for n in names)):
        corner = {**base.__dict__, **dict(zip(names, combo, strict=True))}
        values.append(chain_values(corner)["passed_up"])
    return min(values), max(values)


def passed_up(a: ChainAssumptions) -> float:
    """Share of the dollar that reaches the model provider, the cloud and chip makers together."""
    return float(chain_values(a)["passed_up"])


def break_even_gross_margin(opex_pct_of_revenue: float) -> float:
    """The application gross margin at which operating profit is zero: it must cover operating costs."""
    if not 0 <= opex_pct_of_revenue <= 1000:
        raise ValueError(f"opex_pct_of_revenue must be between 0 and 1000 percent, got {opex_pct_of_revenue}")
    return opex_pct_of_revenue


def max_model_spend_share(target_gross_margin_pct: float, model_share_of_app_cost_pct: float) -> float:
    """Largest share of revenue (percent) an app can pay model providers and still reach the target gross margin."""
    if not 0 <= model_share_of_app_cost_pct <= 100:
        raise ValueError("model_share_of_app_cost_pct must be between 0 and 100 percent")
    return (100 - target_gross_margin_pct) * model_share_of_app_cost_pct / 100


@same_tables()
def tornado(base: ChainAssumptions, ranges: dict[str, tuple[float, float]], layer: str = "application") -> pd.DataFrame:
    """Swing in the share kept by ``layer`` when each assumption moves from its low to its high, others at base."""
    rows = []
    kept = LAYER_STEPS[layer][0]
    centre = float(chain_values(base)[kept])
    for name, (low, high) in ranges.items():
        values = [float(chain_values({**base.__dict__, name: value})[kept]) for value in (low, high)]
        rows.append(
            {
                "assumption": name,
                "low_value": low,
                "high_value": high,
                "at_low": values[0],
                "at_high": values[1],
                "base": centre,
                "swing": abs(values[1] - values[0]),
            }
        )
    return pd.DataFrame(rows).sort_values("swing", ascending=False).reset_index(drop=True)


def spend_to_revenue(revenue: float, spend: float) -> float:
    """An application's spend on model providers and compute as a percentage of its revenue (can exceed 100)."""
    if revenue <= 0:
        raise ValueError(f"revenue must be positive, got {revenue}")
    return 100 * spend / revenue


@same_tables()
def latest_by_company(app: pd.DataFrame, metric: str) -> pd.DataFrame:
    """Each company's latest dated figure for ``metric`` (range-only figures use the midpoint)."""
    rows = app[(app["metric"] == metric) & app["as_of"].notna()].copy()
    rows["value"] = central_value(rows["value"], rows["value_low"], rows["value_high"])
    rows = rows.dropna(subset=["value"]).sort_values("as_of")
    return rows.groupby("company", sort=True).tail(1).reset_index(drop=True)


@same_tables()
def real_cases(app: pd.DataFrame, companies: list[str]) -> pd.DataFrame:
    """Latest revenue (run-rate, else annual), gross margin and model spend for each company, with sources."""
    out = []
    revenue = pd.concat([latest_by_company(app, "revenue_run_rate"), latest_by_company(app, "revenue")])
    margin = latest_by_company(app, "gross_margin")
    spend = latest_by_company(app, "spend_on_model_providers")
    for company in companies:
        rev = revenue[revenue["company"] == company].sort_values("as_of").tail(1)
        gm = margin[margin["company"] == company]
        sp = spend[spend["company"] == company]
        annual = app[(app["company"] == company) & (app["metric"] == "revenue")]
        ratio = None
        if not sp.empty and not annual.empty:
            same_year = annual[annual["as_of"] == sp["as_of"].iloc[0]]
            if not same_year.empty:
                ratio = spend_to_revenue(float(same_year["value"].iloc[0]), float(sp["value"].iloc[0]))
        out.append(
            {
                "company": company,
                "revenue": float(rev["value"].iloc[0]) if not rev.empty else None,
                "revenue_as_of": rev["as_of"].iloc[0] if not rev.empty else None,
                "revenue_kind": rev["metric"].iloc[0] if not rev.empty else "",
                "gross_margin_pct": float(gm["value"].iloc[0]) if not gm.empty else None,
                "gross_margin_basis": gm["basis"].iloc[0] if not gm.empty else "",
                "model_spend": float(sp["value"].iloc[0]) if not sp.empty else None,
                "spend_to_revenue_pct": ratio,
                "sources": ", ".join(sorted(set(pd.concat([rev, gm, sp])["source_id"]))),
            }
        )
    return pd.DataFrame(out)


# ---------------------------------------------------------------------------------------------------------------------
# The chapter as one function: tables and parameters in, records and chart frames out.

TABLES = ("application_layer", "lab_financials")
PARAMS = (
    "as_of",
    "app_gross_margin_pct",
    "model_gross_margin_pct",
    "model_share_of_app_cost_pct",
    "cloud_share_of_model_cost_pct",
    "hardware_share_of_cloud_cost_pct",
    "target_gross_margin_pct",
    "app_opex_pct_of_revenue",
    "cases",
)
# ASSUMPTION: the ranges the sensitivity check gives our assumed shares (percent); the margins' ranges come from data.
ASSUMED_SHARE_RANGES: dict[str, tuple[float, float]] = {
    "model_share_of_app_cost_pct": (50.0, 100.0),
    "cloud_share_of_model_cost_pct": (70.0, 100.0),
    "hardware_share_of_cloud_cost_pct": (35.0, 70.0),
}
# The defensible alternatives for each parameter, central first (the robustness engine runs the full factorial).
# The three shares are ASSUMPTIONS (no source discloses them); their alternatives are the ends of the labelled ranges.
CHOICES: dict[str, tuple] = {
    name: (central, *ASSUMED_SHARE_RANGES[name])
    for name, central in (
        ("model_share_of_app_cost_pct", 80.0),
        ("cloud_share_of_model_cost_pct", 90.0),
        ("hardware_share_of_cloud_cost_pct", 50.0),
    )
}
TORNADO_LAYERS = ("application", "model provider", "cloud", "chip makers")


def check_params(params: dict) -> dict:
    """The chapter's parameters, checked: every name known and present, percentages numbers, cases a list."""
    unknown = sorted(set(params) - set(PARAMS))
    missing = sorted(set(PARAMS) - set(params))
    if unknown or missing:
        raise ValueError(f"passthrough parameters: unknown {unknown}, missing {missing}; expected {list(PARAMS)}")
    try:
        as_of = pd.Timestamp(params["as_of"])
    except (TypeError, ValueError) as err:
        raise ValueError(f"as_of must be a date (YYYY-MM-DD), got {params['as_of']!r}") from err
    if pd.isna(as_of):
        raise ValueError(f"as_of must be a date (YYYY-MM-DD), got {params['as_of']!r}")
    for name in PARAMS[1:-1]:
        value = params[name]
        optional = name in ("app_gross_margin_pct", "model_gross_margin_pct")
        if (value is None and not optional) or (value is not None and not isinstance(value, int | float)):
            raise ValueError(f"{name} must be a number (percent){' or None' if optional else ''}, got {value!r}")
    opex, target = params["app_opex_pct_of_revenue"], params["target_gross_margin_pct"]
    if not 0 <= opex <= 1000:
        raise ValueError(f"app_opex_pct_of_revenue must be between 0 and 1000 percent, got {opex}")
    if not -1000 <= target <= 100:
        raise ValueError(f"target_gross_margin_pct must be at most 100 percent, got {target}")
    if isinstance(params["cases"], str) or not all(isinstance(c, str) for c in params["cases"]):
        raise ValueError(f"cases must be a list of company names, got {params['cases']!r}")
    return {**params, "as_of": as_of}


@same_tables()
def up_to(frame: pd.DataFrame, column: str, as_of: pd.Timestamp) -> pd.DataFrame:
    """Rows describing a date on or before ``as_of`` (undated rows stay: they are shown, never quoted as latest)."""
    return frame[frame[column].isna() | (frame[column] <= as_of)]


@same_tables()
def lab_gross_margins(fin: pd.DataFrame, year: int = 2025) -> pd.DataFrame:
    """The model providers' reported gross margins for ``year`` (the sourced range of the model margin)."""
    return fin[(fin["metric"] == "gross_margin") & (fin["period_end"].dt.year == year)]


def count_below(margins: pd.Series, threshold: float) -> int:
    """How many reported margins are below ``threshold``."""
    return int((margins.dropna() < threshold).sum())


@same_tables()
def margin_bars(real: pd.DataFrame) -> pd.DataFrame:
    """The real cases with a reported gross margin, signed for the chart."""
    margins = real.dropna(subset=["gross_margin_pct"]).copy()
    margins["low"] = margins["gross_margin_pct"]
    margins["high"] = margins["gross_margin_pct"]
    margins["sign"] = margins["gross_margin_pct"].map(lambda v: "negative" if v < 0 else "positive")
    return margins


def sensitivity_ranges(app_margins: pd.DataFrame, lab_margins: pd.DataFrame) -> dict[str, tuple[float, float]]:
    """Low–high of every chain input: the margins' sourced spread, our assumed shares' labelled ranges."""
    return {
        "app_gross_margin_pct": (float(app_margins["value"].min()), float(app_margins["value"].max())),
        "model_gross_margin_pct": (float(lab_margins["value"].min()), float(lab_margins["value"].max())),
        **ASSUMED_SHARE_RANGES,
    }


def run(tables: dict[str, pd.DataFrame], params: dict) -> ChapterResult:
    """Chapter 3: every recorded number and every frame its charts and tables draw."""
    p = check_params(params)
    app, fin = (
        up_to(tables["application_layer"], "as_of", p["as_of"]),
        up_to(tables["lab_financials"], "period_end", p["as_of"]),
    )
    book = RecordBook("passthrough")
    app_margins, lab_margins = latest_by_company(app, "gross_margin"), lab_gross_margins(fin)
    app_margin = p["app_gross_margin_pct"]
    model_margin = p["model_gross_margin_pct"]
    app_margin = float(app_margins["value"].median()) if app_margin is None else float(app_margin)
    model_margin = float(lab_margins["value"].median()) if model_margin is None else float(model_margin)
    base = ChainAssumptions(
        app_margin,
        p["model_share_of_app_cost_pct"],
        model_margin,
        p["cloud_share_of_model_cost_pct"],
        p["hardware_share_of_cloud_cost_pct"],
    )
    frames = {"app_margins": app_margins, "lab_margins": lab_margins, "base": base}
    _record_chain(book, frames, base, app_margins, lab_margins, sensitivity_ranges(app_margins, lab_margins))
    _record_real_cases(book, frames, app, app_margins, p)
    _record_concentration(book, frames, app)
    ranges = sensitivity_ranges(app_margins, lab_margins)
    frames["ranges"] = ranges
    # Built when a chart first reads them (the robustness grid never does).
    frames["swings"] = Later(lambda: swings_by_layer(base, ranges))
    frames["swing_table"] = Later(lambda: swing_table(swings_by_layer(base, ranges)))
    return ChapterResult(book, frames)


def swings_by_layer(base: ChainAssumptions, ranges: dict[str, tuple[float, float]]) -> dict[str, pd.DataFrame]:
    """The tornado of every layer's kept share."""
    return {layer: tornado(base, ranges, layer=layer) for layer in TORNADO_LAYERS}


def swing_table(swings: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """One row per assumption, one column per layer: how far the layer's kept share swings."""
    heat = pd.DataFrame({layer: t.set_index("assumption")["swing"] for layer, t in swings.items()})
    return heat.reset_index().rename(columns={"index": "assumption"})


def _record_chain(book: RecordBook, frames: dict, base: ChainAssumptions, app_margins, lab_margins, ranges) -> None:
    flow = waterfall(base)
    frames["flow"] = flow
    low, high = passed_up_over_ranges(ranges, base)
    book.record(
        "passed_up",
        100 * passed_up(base),
        unit="pct",
        chart="waterfall",
        label="Share of an application dollar that reaches model providers, clouds and chip makers",
        sources=[*app_margins["source_id"], *lab_margins["source_id"]],
        low=100 * low,
        high=100 * high,
        note="Central: sourced median margins and our assumed shares (80% of an app's cost to model providers, 90% "
        "of a model provider's to clouds: ASSUMPTIONS). Range: min–max over the margins' sourced spread and the "
        "assumed shares' labelled ranges (50–100%, 70–100%).",
    )
    book.record(
        "app_keeps",
        100 * float(flow.set_index("layer").loc["application", "kept"]),
        unit="pct",
        label="Share of its revenue the application keeps (its gross margin)",
        chart="waterfall",
    )
    book.record(
        "app_gross_margin_used",
        base.app_gross_margin_pct,
        unit="pct",
        label="Application gross margin in the central case (median of the sourced margins unless set)",
        sources=app_margins["source_id"],
    )
    book.record(
        "model_gross_margin_used",
        base.model_gross_margin_pct,
        unit="pct",
        label="Model provider's gross margin in the central case (median of the labs' 2025 margins unless set)",
        sources=lab_margins["source_id"],
    )


def _record_real_cases(book: RecordBook, frames: dict, app: pd.DataFrame, app_margins, p: dict) -> None:
    real = real_cases(app, list(p["cases"]))
    margins = margin_bars(real)
    frames["real"], frames["margins"] = real, margins
    book.record(
        "negative_margin_cases",
        count_below(margins["gross_margin_pct"], 0),
        unit="count",
        label="Applications with a negative reported gross margin",
        sources=app_margins["source_id"],
    )
    book.record(
        "margin_cases",
        len(margins),
        unit="count",
        label="Applications shown with a reported gross margin",
        sources=margins["sources"],
    )
    over = real.dropna(subset=["spend_to_revenue_pct"])
    frames["over"] = over
    for r in over.itertuples():
        book.record(
            f"spend_to_revenue.{r.company.split()[0].lower()}",
            r.spend_to_revenue_pct,
            unit="pct",
            label=f"{r.company}: spend on model providers and cloud as a share of revenue",
            sources=[r.sources],
        )
    target, share = p["target_gross_margin_pct"], p["model_share_of_app_cost_pct"]
    book.record(
        "max_model_spend",
        max_model_spend_share(target, share),
        unit="pct",
        label=f"Most an application can spend on model APIs and keep a {target:.0f}% gross margin",
    )
    opex = p["app_opex_pct_of_revenue"]
    break_even = break_even_gross_margin(opex)
    book.record(
        "break_even_gross_margin",
        break_even,
        unit="pct",
        label=f"Gross margin an application needs to break even with operating costs of {opex:.0f}% of revenue",
    )
    frames["below_break_even"] = margins[margins["gross_margin_pct"] < break_even]
    book.record(
        "below_break_even_cases",
        len(frames["below_break_even"]),
        unit="count",
        label="Applications whose reported gross margin is below the break-even margin",
        sources=margins["sources"],
    )


def _record_concentration(book: RecordBook, frames: dict, app: pd.DataFrame) -> None:
    frames["api_share"] = app[app["metric"] == "share_of_lab_api_revenue"]
    startup = app[(app["company"].str.contains("34 leading")) & (app["metric"] == "other")]
    if not startup.empty:
        book.record(
            "labs_share_of_ai_startup_revenue",
            float(startup["value"].iloc[0]),
            unit="pct",
            label="OpenAI's and Anthropic's share of the run-rate revenue of 34 leading AI start-ups",
            sources=list(startup["source_id"]),
        )
