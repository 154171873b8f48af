"""The one chart theme: one font shipped with the project, and one colour per entity in every chart."""

from __future__ import annotations

import altair as alt

# Only the font shipped in fonts/ (SIL OFL) and registered with the renderer: a fallback list would let a machine's
# installed fonts change the figures' pixels.
FONT = "Liberation Sans"

# The same entity has the same colour in every chart of the report.
ENTITY_COLORS: dict[str, str] = {
    "OpenAI": "#1b9e77",
    "Anthropic": "#d95f02",
    "Other customers": "#a6a6a6",
    "Unattributed": "#d9d9d9",
    "Microsoft": "#1f78b4",
    "Oracle": "#e31a1c",
    "Alphabet": "#7570b3",
    "Amazon": "#e6ab02",
    "CoreWeave": "#66a61e",
    "Nvidia": "#4d4d4d",
    "AMD": "#a6761d",
    "Broadcom": "#e7298a",
    "SoftBank": "#17becf",
    "xAI": "#8c564b",
    "Meta": "#0f4c81",
}

# Kinds of money flow in the circular-investment chapter.
FLOW_COLORS: dict[str, str] = {
    "equity": "#1f78b4",
    "cloud_capacity": "#d95f02",
    "chips": "#7570b3",
    "datacenter_lease": "#66a61e",
    "other": "#a6a6a6",
}

# Layers of the pass-through waterfall and parts of the cost stack.
PART_COLORS: dict[str, str] = {
    "kept": "#1b9e77",
    "paid on": "#d95f02",
    "depreciation": "#4d4d4d",
    "operating cost": "#a6a6a6",
    "return on capital": "#1f78b4",
    "gross margin of seller": "#e6ab02",
}

# Tiers of the demand-quality ladder, firmest (dark green) to weakest, "not disclosed" in neutral grey. These are
# categories, so none reuses an entity's colour.
TIER_COLORS: dict[str, str] = {
    "Binding, payer's revenue covers it": "#006d2c",
    "Binding, payer must raise money": "#74c476",
    "Terminable on short notice": "#fdae6b",
    "Reported, not confirmed": "#e6550d",
    "Letter of intent": "#a63603",
    "Not disclosed": "#bdbdbd",
}

BASIS_COLORS: dict[str, str] = {
    "company_reported": "#1f78b4",
    "company_disclosure": "#1f78b4",
    "press_reported": "#d95f02",
    "press_report": "#d95f02",
    "analyst_estimate": "#7570b3",
    "derived": "#a6a6a6",
}


def color_scale(colors: dict[str, str], domain: list[str] | None = None) -> alt.Scale:
    """An Altair colour scale pinned to our palette, in the given (or palette) order."""
    domain = list(domain) if domain is not None else list(colors)
    return alt.Scale(domain=domain, range=[colors.get(name, "#a6a6a6") for name in domain])


@alt.theme.register("aicompute", enable=True)
def aicompute_theme() -> alt.theme.ThemeConfig:
    return {
        "config": {
            "font": FONT,
            "view": {"continuousWidth": 560, "continuousHeight": 300, "stroke": None},
            "title": {
                "anchor": "start",
                "fontSize": 15,
                "subtitleFontSize": 11,
                "subtitleColor": "#555555",
                "offset": 10,
            },
            "axis": {"labelFontSize": 11, "titleFontSize": 12, "gridColor": "#e6e6e6", "domainColor": "#888888"},
            "legend": {
                "labelFontSize": 11,
                "titleFontSize": 12,
                "orient": "bottom",
                "direction": "horizontal",
                "columns": 4,
            },
            "range": {"category": list(ENTITY_COLORS.values())},
        }
    }


def enable() -> None:
    """Switch the report theme on (importing this module already does; kept for explicit notebooks)."""
    alt.theme.enable("aicompute")
