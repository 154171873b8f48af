"""The one chart theme: one font shipped with the project, and one colour per entity in every chart."""

from __future__ import annotations

import altair as alt

# The font shipped in fonts/ (SIL OFL) and registered with the renderer, under a family name no machine has
# installed: with "Liberation Sans" the renderer took an installed copy (Debian's 1.07) over ours, so the PNGs
# depended on the machine. The rest of the list is only for the browser, which does not have "Report Sans".
FONT_FAMILY = "Report Sans"
FONT = f'"{FONT_FAMILY}", "Liberation Sans", Arial, sans-serif'

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

# Entities drawn only in the circular-money chart (the lumped "other" investors stay a neutral grey).
ENTITY_COLORS.update({"Other investors": "#8c8c8c", "SpaceX (xAI)": ENTITY_COLORS["xAI"], "Cerebras": "#b15928",
                      "Akamai": "#fb9a99"})

# Category palettes below are tonal ramps (slate blues, teals, greys) that share no colour with ENTITY_COLORS, so a
# colour always means one company, and a category is read as a shade. tests/test_charts.py checks the two never meet.

# Kinds of money flow in the circular-investment chapter.
FLOW_COLORS: dict[str, str] = {
    "equity": "#253494",
    "cloud_capacity": "#41b6c4",
    "chips": "#7fcdbb",
    "datacenter_lease": "#225ea8",
    "other": "#c7e9b4",
}
FLOW_LABELS: dict[str, str] = {
    "equity": "Equity",
    "cloud_capacity": "Cloud capacity",
    "chips": "Chips",
    "datacenter_lease": "Data-center lease",
    "other": "Other",
}

# Layers of the pass-through waterfall (sourced solid, assumed pale) and parts of the cost stack.
PART_COLORS: dict[str, str] = {
    "sourced": "#3f4f63",
    "assumed": "#b9c4d0",
    "total": "#1d2733",
    "depreciation": "#253494",
    "operating cost": "#7fcdbb",
    "return on capital": "#41b6c4",
    "gross margin of seller": "#e0e4e8",
}

# Two measures or two windows side by side (e.g. equity in against spend back).
PAIR_COLORS: tuple[str, str] = ("#253494", "#7fcdbb")

# The end an assumption is set to in a tornado.
END_COLORS: dict[str, str] = {"low end of its range": "#41b6c4", "high end of its range": "#253494"}

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
    "company_reported": "#225ea8",
    "company_disclosure": "#225ea8",
    "press_reported": "#7fcdbb",
    "press_report": "#7fcdbb",
    "analyst_estimate": "#41b6c4",
    "derived": "#e0e4e8",
}

# Signs (a margin below or above zero): a red and a grey that are no company's colour.
SIGN_COLORS: dict[str, str] = {"negative": "#b2182b", "positive": "#3f4f63"}

# Width of every chart in the figure export, labels included; in the page a chart takes its column's width.
WIDTH = 560
# Below this container width (a phone's column is ~366 px) titles wrap shorter and legends take fewer columns.
NARROW_PX = 480


def legend_columns(wide: int) -> dict:
    """A legend's columns: ``wide`` in the report's column, one on a phone, where a legend starts after the y-axis
    labels and several columns would run past the chart's right edge (there is no container in a figure: wide)."""
    return {"expr": f"containerSize()[0] < {NARROW_PX} ? 1 : {wide}"}


def color_scale(colors: dict[str, str], domain: list[str] | None = None) -> alt.Scale:
    """An Altair colour scale pinned to our palette, in the given (or palette) order."""
    domain = list(domain) if domain is not None else list(colors)
    return alt.Scale(domain=domain, range=[colors.get(name, "#a6a6a6") for name in domain])


@alt.theme.register("aicompute", enable=True)
def aicompute_theme() -> alt.theme.ThemeConfig:
    return {
        "config": {
            "font": FONT,
            "view": {"continuousWidth": WIDTH, "continuousHeight": 300, "stroke": None},
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
                # Legends sit above the marks they explain, never below a tall chart.
                "orient": "top",
                "direction": "horizontal",
                "columns": legend_columns(3),
                "labelLimit": 260,
                "symbolType": "square",
            },
            # An x-axis title ends at the plot's right edge, so a long one can run under the y-axis labels on a phone.
            "axisX": {"labelFlush": True, "titleAnchor": "end"},
            "text": {"font": FONT},
            # A chart without a scale of its own gets neutral slate shades, never an entity's colour.
            "range": {"category": ["#3f4f63", "#41b6c4", "#253494", "#7fcdbb", "#b9c4d0", "#225ea8"]},
        }
    }


def enable() -> None:
    """Switch the report theme on (importing this module already does; kept for explicit notebooks)."""
    alt.theme.enable("aicompute")
