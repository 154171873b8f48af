"""Chapter 3 models: where does one dollar of AI application revenue end up?

The chain: end customer → application → model provider (API) → cloud (compute) → chip makers (hardware).
Each layer keeps its gross margin of what reaches it and passes on its cost of revenue, of which a share goes up the
chain. Every layer's take sums back to the dollar.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from aicompute.analysis.data import central_value

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


def waterfall(a: ChainAssumptions, dollar: float = 1.0) -> pd.DataFrame:
    """What each layer keeps of ``dollar`` paid to the application, and what it passes on.

    * the application keeps its gross margin; its cost of revenue splits into model-API fees and other costs;
    * the model provider keeps its gross margin on the fees; its cost splits into cloud compute and other costs;
    * the cloud passes the hardware share of what it receives to chip makers and keeps the rest.
    With a negative application margin the app's cost exceeds the dollar: it 'keeps' a negative amount.
    """
    app_cost = dollar * (1 - a.app_gross_margin_pct / 100)
    to_model = app_cost * a.model_share_of_app_cost_pct / 100
    model_cost = to_model * (1 - a.model_gross_margin_pct / 100)
    to_cloud = model_cost * a.cloud_share_of_model_cost_pct / 100
    to_chips = to_cloud * a.hardware_share_of_cloud_cost_pct / 100
    kept = {
        "application": dollar - app_cost,
        "application's other costs": app_cost - to_model,
        "model provider": to_model - model_cost,
        "model provider's other costs": model_cost - to_cloud,
        "cloud": to_cloud - to_chips,
        "chip makers": to_chips,
    }
    received = {
        "application": dollar,
        "application's other costs": app_cost - to_model,
        "model provider": to_model,
        "model provider's other costs": model_cost - to_cloud,
        "cloud": to_cloud,
        "chip makers": to_chips,
    }
    return pd.DataFrame(
        {"layer": list(LAYERS), "received": [received[k] for k in LAYERS], "kept": [kept[k] for k in LAYERS]}
    )


def passed_up(a: ChainAssumptions) -> float:
    """Share of the dollar that reaches the model provider, the cloud and chip makers together."""
    table = waterfall(a).set_index("layer")["kept"]
    return float(table[["model provider", "cloud", "chip makers"]].sum())


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


def tornado(base: ChainAssumptions, ranges: dict[str, tuple[float, float]], layer: str = "application") -> pd.DataFrame:
    """Swing in the share kept by ``layer`` when each assumption moves from its low to its high, others at base."""
    rows = []
    centre = float(waterfall(base).set_index("layer").loc[layer, "kept"])
    for name, (low, high) in ranges.items():
        values = []
        for value in (low, high):
            params = {**base.__dict__, name: value}
            values.append(float(waterfall(ChainAssumptions(**params)).set_index("layer").loc[layer, "kept"]))
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


def latest_by_company(app: pd.DataFrame, metric: str) -> pd.DataFrame:
    """Each company's latest dated figure for ``metric`` (range-only figures use the midpoint)."""
    rows = app[(app["metric"] == metric) & app["as_of"].notna()].copy()
    rows["value"] = central_value(rows["value"], rows["value_low"], rows["value_high"])
    rows = rows.dropna(subset=["value"]).sort_values("as_of")
    return rows.groupby("company", sort=True).tail(1).reset_index(drop=True)


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
