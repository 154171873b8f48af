"""What-if charts: the reader sets the assumptions with sliders in the offline page; the chart and its numbers follow.

Each chart compiles a chapter's declared formula (:class:`aicompute.analysis.formula.Formula`, the one the model
evaluates) into Vega ``calculate`` transforms, so the page and the records use one formula. The sliders are Vega-Lite
parameters bound to inputs (drawn by the page's inlined Vega: no server, no CDN), starting at the published central
case, so the page opens showing the published numbers. The central values are also written into the spec's
``usermeta`` (:func:`central_values`): the page's "Reset to our central case" button sets every parameter back to them,
and Vega moves the sliders with them. A line in the chart says whether it shows the central case or the reader's own.
"""

from __future__ import annotations

import ast
import json
import textwrap
from dataclasses import dataclass

import altair as alt
import pandas as pd

from aicompute.analysis import absorption as ab
from aicompute.analysis import passthrough as pt
from aicompute.analysis.formula import Formula
from aicompute.analysis.records import ChapterResult
from aicompute.analysis.vocabulary import LABS
from aicompute.present.charts import finish
from aicompute.present.theme import ENTITY_COLORS, PART_COLORS, color_scale

USERMETA_KEY = "aicompute"  # our part of a spec's usermeta; its "central" maps each parameter to its central value
VEGA_OPERATORS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/"}


@dataclass(frozen=True)
class Slider:
    """One formula input the reader can set: its parameter name, label, central value and the slider's extent."""

    name: str
    label: str
    central: float
    low: float
    high: float
    step: float

    def __post_init__(self) -> None:
        if not self.low <= self.central <= self.high:
            raise ValueError(f"slider {self.name}: central {self.central} outside {self.low}–{self.high}")

    def param(self) -> alt.Parameter:
        binding = alt.binding_range(min=self.low, max=self.high, step=self.step, name=f"{self.label} ")
        return alt.param(name=self.name, value=self.central, bind=binding)


# ---------------------------------------------------------------------------------------------------------------------
# From the declaration to Vega expressions


def vega_expression(tree: ast.expr, field: str = "datum.") -> str:
    """A formula step (a parsed tree) as a Vega expression over ``datum`` fields, fully bracketed.

    The operations are the same, in the same order, as Python's evaluation of the tree, so both give the same
    IEEE-754 result.
    """
    if isinstance(tree, ast.Constant):
        return repr(tree.value)
    if isinstance(tree, ast.Name):
        return f"{field}{tree.id}"
    if isinstance(tree, ast.UnaryOp):
        return f"(-{vega_expression(tree.operand, field)})"
    if isinstance(tree, ast.BinOp):
        left, right = vega_expression(tree.left, field), vega_expression(tree.right, field)
        return f"({left} {VEGA_OPERATORS[type(tree.op)]} {right})"
    raise ValueError(f"not a formula step: {ast.dump(tree)}")


def lit(value: str | list[str]) -> str:
    """A string (or list of strings) as a Vega expression literal, quotes escaped."""
    return json.dumps(value)


def literal(value: float | str) -> str:
    """A central value as a Vega expression literal (floats by repr, so they compare equal to the bit)."""
    return lit(value) if isinstance(value, str) else repr(float(value))


def formula_transforms(formula: Formula, inputs: dict[str, str]) -> list[dict]:
    """Vega-Lite ``calculate`` transforms: each input from its expression, then every step of the formula in order."""
    missing = [name for name in formula.inputs if name not in inputs]
    if missing:
        raise ValueError(f"no expression given for the formula inputs {missing}")
    steps = [{"calculate": inputs[name], "as": name} for name in formula.inputs]
    return steps + [{"calculate": vega_expression(tree), "as": name} for name, tree in formula.trees]


def vega_usd(expr: str) -> str:
    """Vega twin of :func:`aicompute.analysis.records.fmt` for ``usd_bn`` ('$262bn', '$5.2bn', '$1.20tn')."""
    size = f"abs({expr})"
    number = f"({size} >= 1000 ? format({size} / 1000, ',.2f') : format({size}, {size} >= 10 ? ',.0f' : ',.1f'))"
    return f"(({expr}) < 0 ? '$-' : '$') + {number} + ({size} >= 1000 ? 'tn' : 'bn')"


def vega_pct(expr: str, sign: str = "%") -> str:
    """Vega twin of :func:`aicompute.analysis.records.fmt` for ``pct`` (``sign`` may be '¢' for cents of a dollar).

    Vega's format() writes a typographic minus; records write '-', so the sign is added by hand.
    """
    size = f"abs({expr})"
    return f"(({expr}) < 0 ? '-' : '') + format({size}, {size} >= 10 ? '.0f' : '.1f') + {lit(sign)}"


CENTRAL_LINE = "Showing our central case: the published numbers. Move the sliders below to set your own."
OWN_LINE = "Showing your own assumptions; 'Reset to our central case' below brings back the published numbers."


# Characters per line of the status text drawn inside a what-if chart: a phone's column holds ~52 at 11 px.
STATUS_CHARS = 52


def phone_lines(text: str, chars: int = STATUS_CHARS) -> str:
    """``text`` with a line break wherever a phone's column needs one (the marks split lines at '\\n'; the lines
    joined by spaces give the sentence back)."""
    return "\n".join(textwrap.wrap(text, chars))


def status_line(central: dict[str, float | str]) -> str:
    """A Vega expression: which assumptions the chart shows, ours (every parameter at its central value) or the
    reader's."""
    at_central = " && ".join(f"({name} == {literal(value)})" for name, value in central.items())
    return f"({at_central}) ? {lit(phone_lines(CENTRAL_LINE))} : {lit(phone_lines(OWN_LINE))}"


def with_central_values(chart: alt.LayerChart, central: dict[str, float | str]) -> alt.LayerChart:
    """The chart with its parameters' central values in its usermeta, for the page's reset control."""
    return chart.properties(usermeta={USERMETA_KEY: {"central": central}})


def central_values(spec: dict) -> dict[str, float | str]:
    """The central value of every parameter a what-if chart lets the reader set ({} for other charts)."""
    meta = spec.get("usermeta") or {}
    return dict((meta.get(USERMETA_KEY) or {}).get("central") or {})


def _extent(central: float, sourced: tuple[float, float], wide: tuple[float, float]) -> tuple[float, float]:
    """A slider's extent: our wide default (ASSUMPTION: room to explore, not data), stretched to hold every sourced
    figure and the central value."""
    return min(wide[0], sourced[0], central), max(wide[1], sourced[1], central)


def _slider(name: str, label: str, central: float, sourced: tuple, wide: tuple, step: float) -> Slider:
    low, high = _extent(central, sourced, wide)
    return Slider(name, label, float(central), float(low), float(high), step)


# ---------------------------------------------------------------------------------------------------------------------
# Chapter 4: what must the capacity earn?

# ASSUMPTION: the sliders' default extents (widened to the sourced figures by _extent); these bound exploration only.
ABSORPTION_EXTENTS = {
    "gw": ((1.0, 40.0), 0.1),
    "cost_per_gw": ((10.0, 100.0), 1.0),
    "life": ((2.0, 10.0), 0.25),
    "ret_pct": ((0.0, 20.0), 0.5),
    "opex_pct": ((0.0, 15.0), 0.5),
    "margin_pct": ((0.0, 80.0), 1.0),
}
ABSORPTION_LABELS = {
    "gw": ("gw", "Capacity, GW"),
    "cost_per_gw": ("cost_per_gw", "Cost per GW, $bn"),
    "life": ("useful_life_years", "Server life, years"),
    "ret_pct": ("required_return_pct", "Required return, % a year"),
    "opex_pct": ("opex_pct_of_capex", "Operating cost, % of capital a year"),
    "margin_pct": ("seller_gross_margin_pct", "Seller's gross margin, %"),
}
BASIS = "revenue_basis"
REQUIRED_ROW, LABS_ROW = "Required revenue", "OpenAI + Anthropic"


def absorption_sliders(result: ChapterResult) -> list[Slider]:
    """One slider per input of :data:`aicompute.analysis.absorption.COST_FORMULA`, at the chapter's central case."""
    ranges = result.frames["ranges"].set_index("assumption")
    scenarios = result.frames["capacity_scenarios"]["gw"]
    sliders = []
    for name in ab.COST_FORMULA.inputs:
        field, label = ABSORPTION_LABELS[name]
        row = ranges.loc[field]
        sourced = (float(scenarios.min()), float(scenarios.max())) if name == "gw" else (row["low"], row["high"])
        note = f" (sourced {sourced[0]:g}–{sourced[1]:g})" if name in ("gw", "cost_per_gw", "life") else ""
        wide, step = ABSORPTION_EXTENTS[name]
        sliders.append(_slider(name, label + note, row["central"], sourced, wide, step))
    return sliders


def absorption_what_if(result: ChapterResult, *, source: str | None = None, as_of: str | None = None) -> alt.LayerChart:
    """Required revenue (split into its parts) against the labs' revenue, with a slider for every assumption."""
    sliders = absorption_sliders(result)
    r = result.book
    basis_central = str(r["revenue_basis"].value)
    labs = {basis: float(r[f"labs_revenue_{basis}"].value) for basis in ab.REVENUE_BASES}
    basis_param = alt.param(
        name=BASIS,
        value=basis_central,
        bind=alt.binding_select(
            options=list(ab.REVENUE_BASES),
            labels=[f"{basis} of partners' shares ({r[f'labs_revenue_{basis}'].text()})" for basis in ab.REVENUE_BASES],
            name="Labs' revenue basis ",
        ),
    )
    inputs = {s.name: s.name for s in sliders}
    labs_expr = " : ".join(f"datum.basis == {lit(b)} ? {v!r}" for b, v in labs.items()) + f" : {labs[basis_central]!r}"
    transforms = [
        *formula_transforms(ab.COST_FORMULA, inputs),
        {"calculate": BASIS, "as": "basis"},
        *_lab_transforms(result.frames["demand"]),
        # COVER_FORMULA's "required" is the cost formula's step of that name, already in datum.
        *formula_transforms(ab.COVER_FORMULA, {"labs_revenue": labs_expr, "required": "datum.required"}),
    ]
    central = {**{s.name: s.central for s in sliders}, BASIS: basis_central}
    chart = _absorption_chart(transforms, sliders, basis_param, central)
    key_values = (
        f"Central case: the capacity must earn {r['required_revenue'].text(False)} a year; the two labs' revenue "
        f"covers {r['labs_cover'].text(False)} of it."
    )
    chart = finish(
        chart, title=ABSORPTION_TITLE, subtitle=ABSORPTION_SUBTITLE, source=source, as_of=as_of, key_values=key_values
    )
    return with_central_values(chart, central)


def _lab_transforms(demand: pd.DataFrame) -> list[dict]:
    """Each lab's run-rate on the chosen basis (a field named after the lab), for the split of the labs' bar."""
    labs = demand[demand["who"].isin(LABS)]
    return [
        {
            "calculate": f"datum.basis == 'gross' ? {float(row.gross_usd_bn)!r} : {float(row.net_usd_bn)!r}",
            "as": row.who,
        }
        for row in labs.itertuples()
    ]


def _absorption_chart(transforms: list[dict], sliders: list[Slider], basis_param, central: dict) -> alt.LayerChart:
    colors = {**PART_COLORS, **{lab: ENTITY_COLORS[lab] for lab in LABS}}
    part_label = " : ".join(f"datum.step == {lit(step)} ? {lit(part)}" for part, step in ab.COST_PARTS.items())
    base = alt.Chart()
    y = alt.Y("row:N", sort=[REQUIRED_ROW, LABS_ROW], title=None)
    # Below the chart: above it, the headline and status lines take the room a legend would need.
    color = alt.Color(
        "part:N", scale=color_scale(colors, [*ab.COST_PARTS, *LABS]), title=None, legend=alt.Legend(orient="bottom")
    )
    tooltip = [alt.Tooltip("part:N", title="part"), alt.Tooltip("usd_bn:Q", format="$,.1f", title="USD bn a year")]
    parts = (
        base.transform_fold(list(ab.COST_PARTS.values()), as_=["step", "usd_bn"])
        .transform_calculate(part=f"{part_label} : datum.step", row=lit(REQUIRED_ROW))
        .mark_bar(height=34)
        .encode(
            y=y,
            x=alt.X("usd_bn:Q", title="USD bn a year", axis=alt.Axis(tickCount=6, labelOverlap=True)),
            color=color,
            order="order:Q",
            tooltip=tooltip,
        )
        .transform_calculate(order=f"indexof({lit(list(ab.COST_PARTS.values()))}, datum.step)")
    )
    labs_bar = (
        base.transform_fold(list(LABS), as_=["part", "usd_bn"])
        .transform_calculate(row=lit(LABS_ROW), order=f"indexof({lit(list(LABS))}, datum.part)")
        .mark_bar(height=34)
        .encode(y=y, x="usd_bn:Q", color=color, order="order:Q", tooltip=tooltip)
    )
    # Room to the right of the longer bar for its label (an invisible point the x scale must include).
    room = base.transform_calculate(at="1.6 * max(datum.required, datum.labs_revenue)").mark_point(opacity=0)
    labels = base.transform_calculate(row=lit(REQUIRED_ROW), at="datum.required", label=vega_usd("datum.required"))
    labs_label = base.transform_calculate(
        row=lit(LABS_ROW),
        at="datum.labs_revenue",
        label=vega_usd("datum.labs_revenue") + " + ' (' + datum.basis + ')'",
    )
    text_layers = [
        layer.mark_text(align="left", dx=6, fontSize=12, fontWeight="bold").encode(y=y, x="at:Q", text="label:N")
        for layer in (labels, labs_label)
    ]
    headline_layer = base.transform_calculate(label=ABSORPTION_HEADLINE).mark_text(
        align="left", baseline="top", x=0, y=-66, fontSize=13, fontWeight="bold", lineBreak="\n"
    )
    status_layer = base.transform_calculate(label=status_line(central)).mark_text(
        align="left", baseline="top", x=0, y=-30, fontSize=11, color="#555555", lineBreak="\n"
    )
    layers = [
        parts,
        labs_bar,
        room.encode(x="at:Q"),
        *text_layers,
        *(layer.encode(text="label:N") for layer in (headline_layer, status_layer)),
    ]
    chart = alt.LayerChart(layer=layers, data=alt.Data(values=[{}]), transform=transforms)
    return chart.properties(height=100).add_params(*[s.param() for s in sliders], basis_param)


ABSORPTION_TITLE = "What if? Set your own assumptions with the controls below the chart"
ABSORPTION_SUBTITLE = (
    "Required revenue a year = depreciation (capital ÷ server life) + operating cost + return on capital, grossed up "
    "by the seller's gross margin; capital = GW × cost per GW. The same formula as the chapter's model. Slider ends "
    "are room to explore, not data."
)
# Two lines, to fit a phone's column; joined by a space they read as one sentence.
ABSORPTION_HEADLINE = (
    "'The capacity must earn ' + "
    + vega_usd("datum.required")
    + " + ' a year;\\n' + 'the two labs\\' revenue covers ' + "
    + vega_pct("datum.cover")
    + " + ' of it.'"
)


# ---------------------------------------------------------------------------------------------------------------------
# Chapter 3: where does an application dollar go?

# ASSUMPTION: the sliders' default extents (widened to the sourced ranges, then kept where the model is defined).
PASSTHROUGH_SLIDERS = {
    "app_margin": ("Application's gross margin, %", (-100.0, 90.0), (-1000.0, 100.0)),
    "model_margin": ("Model provider's gross margin, %", (0.0, 90.0), (0.0, 100.0)),
    "model_share": ("Share of the app's costs paid to model providers, %", (0.0, 100.0), (0.0, 100.0)),
    "cloud_share": ("Share of the model provider's costs paid to clouds, %", (0.0, 100.0), (0.0, 100.0)),
    "hardware_share": ("Share of the cloud's receipts paid for chips, %", (0.0, 100.0), (0.0, 100.0)),
}
SOURCED_SHARES = ("app_margin", "model_margin")
# The waterfall's layers in the chart's order: what the application side keeps or spends elsewhere, then what is
# passed up (model provider, cloud, chip makers) as one run, so a bracket can span it.
CHAIN_ORDER = (
    "application",
    "application's other costs",
    "model provider's other costs",
    "model provider",
    "cloud",
    "chip makers",
)
PASSED_UP = ("model provider", "cloud", "chip makers")
# Categories, not entities: none of these reuses an entity colour exactly; the passed-up layers share one hue.
LAYER_COLORS = {
    "application": "#01665e",
    "application's other costs": "#d9d9d9",
    "model provider's other costs": "#bdbdbd",
    "model provider": "#3f007d",
    "cloud": "#6a51a3",
    "chip makers": "#9e9ac8",
}
LIGHT_LAYERS = ("application's other costs", "model provider's other costs", "chip makers")


def passthrough_sliders(result: ChapterResult) -> list[Slider]:
    """One slider per share or margin of :data:`aicompute.analysis.passthrough.CHAIN_FORMULA`, at the central case."""
    base, ranges = result.frames["base"], result.frames["ranges"]
    sliders = []
    for name, (label, wide, valid) in PASSTHROUGH_SLIDERS.items():
        field = pt.CHAIN_FIELDS[name]
        sourced = ranges[field]
        note = "sourced" if name in SOURCED_SHARES else "our assumption; our range"
        low, high = _extent(getattr(base, field), sourced, wide)
        sliders.append(
            Slider(
                name,
                f"{label} ({note} {sourced[0]:g}–{sourced[1]:g})",
                float(getattr(base, field)),
                float(max(low, valid[0])),
                float(min(high, valid[1])),
                1.0,
            )
        )
    return sliders


def passthrough_what_if(
    result: ChapterResult, *, source: str | None = None, as_of: str | None = None
) -> alt.LayerChart:
    """One application dollar split into what each layer keeps, with a slider for every share and margin."""
    sliders = passthrough_sliders(result)
    inputs = {"dollar": "1", **{s.name: s.name for s in sliders}}
    steps = {layer: step for layer, (step, _) in pt.LAYER_STEPS.items()}
    transforms = [
        *formula_transforms(pt.CHAIN_FORMULA, inputs),
        {"calculate": "100 * datum.passed_up", "as": "passed_up_cents"},
        {"calculate": "100 * datum.app_keeps", "as": "app_keeps_cents"},
        {"fold": [steps[layer] for layer in CHAIN_ORDER], "as": ["step", "dollars"]},
        {"calculate": "100 * datum.dollars", "as": "cents"},
        {
            "calculate": " : ".join(f"datum.step == {lit(steps[k])} ? {lit(k)}" for k in CHAIN_ORDER) + " : ''",
            "as": "layer",
        },
        {"calculate": f"indexof({lit(list(CHAIN_ORDER))}, datum.layer)", "as": "order"},
        {"stack": "cents", "groupby": [], "sort": [{"field": "order"}], "as": ["c0", "c1"], "offset": "zero"},
    ]
    central = {s.name: s.central for s in sliders}
    r = result.book
    key_values = (
        f"Central case: of each application dollar, {r['passed_up'].text(False).replace('%', '¢')} flows up to model "
        f"providers, clouds and chip makers; the application keeps {r['app_keeps'].text(False).replace('%', '¢')}."
    )
    chart = _passthrough_chart(transforms, sliders, central)
    chart = finish(
        chart, title=PASSTHROUGH_TITLE, subtitle=PASSTHROUGH_SUBTITLE, source=source, as_of=as_of, key_values=key_values
    )
    return with_central_values(chart, central)


def _passthrough_chart(transforms: list[dict], sliders: list[Slider], central: dict) -> alt.LayerChart:
    base = alt.Chart()
    # Below the chart: above it, the headline and status lines take the room a legend would need.
    color = alt.Color(
        "layer:N",
        scale=color_scale(LAYER_COLORS, list(CHAIN_ORDER)),
        title=None,
        legend=alt.Legend(orient="bottom"),
    )
    bars = base.mark_bar(height=40).encode(
        x=alt.X("c0:Q", title="Cents of each dollar the application earns"),
        x2="c1:Q",
        color=color,
        tooltip=[alt.Tooltip("layer:N", title="layer"), alt.Tooltip("cents:Q", format=".1f", title="cents kept")],
    )
    cents = (
        base.transform_filter("abs(datum.cents) >= 4")
        .transform_calculate(
            mid="(datum.c0 + datum.c1) / 2",
            label=vega_pct("datum.cents", "¢"),
            light=f"indexof({lit(list(LIGHT_LAYERS))}, datum.layer) >= 0",
        )
        .mark_text(fontSize=12, fontWeight="bold")
        .encode(x="mid:Q", text="label:N", color=alt.condition("datum.light", alt.value("#222222"), alt.value("white")))
    )
    # The bracket over the passed-up layers, with their total.
    span = base.transform_filter(f"indexof({lit(list(PASSED_UP))}, datum.layer) >= 0").transform_aggregate(
        start="min(c0)", end="max(c1)", passed_up_cents="max(passed_up_cents)"
    )
    bracket = span.mark_rule(strokeWidth=2, color="#3f007d", yOffset=-30).encode(x="start:Q", x2="end:Q")
    bracket_label = (
        span.transform_calculate(
            mid="(datum.start + datum.end) / 2", label="'passed up: ' + " + vega_pct("datum.passed_up_cents", "¢")
        )
        .mark_text(yOffset=-40, fontSize=12, fontWeight="bold", color="#3f007d")
        .encode(x="mid:Q", text="label:N")
    )
    # The folded rows all carry the same totals: one row of them for the headline and the status line.
    one_row = base.transform_aggregate(n="count()", groupby=["passed_up_cents", "app_keeps_cents"])
    headline = one_row.transform_calculate(label=PASSTHROUGH_HEADLINE).mark_text(
        align="left", baseline="top", x=0, y=-100, fontSize=13, fontWeight="bold", lineBreak="\n"
    )
    status = one_row.transform_calculate(label=status_line(central)).mark_text(
        align="left", baseline="top", x=0, y=-50, fontSize=11, color="#555555", lineBreak="\n"
    )
    layers = [bars, cents, bracket, bracket_label, *(m.encode(text="label:N") for m in (headline, status))]
    chart = alt.LayerChart(layer=layers, data=alt.Data(values=[{}]), transform=transforms)
    return chart.properties(height=60).add_params(*[s.param() for s in sliders])


PASSTHROUGH_TITLE = "What if? Set the shares and margins yourself with the controls below the chart"
PASSTHROUGH_SUBTITLE = (
    "Each layer keeps its gross margin of what reaches it and passes a share of its costs up the chain; the layers "
    "sum to the dollar. The same formula as the chapter's model. The two margins start at the sourced medians; the "
    "three shares are our assumptions."
)


PASSTHROUGH_HEADLINE = (
    "'Of each application dollar, ' + "
    + vega_pct("datum.passed_up_cents", "¢")
    + " + ' flows up to\\n' + 'model providers, clouds and chip makers;\\n' + 'the application keeps ' + "
    + vega_pct("datum.app_keeps_cents", "¢")
    + " + '.'"
)
