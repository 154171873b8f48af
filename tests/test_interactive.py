"""The what-if charts: one declared formula, evaluated by the model in Python and by the page in Vega, must agree.

The agreement tests draw the Vega-Lite spec offline with vl-convert at chosen slider positions (the parameters'
values set in the spec, as a reader's slider would) and read the numbers back from the SVG text.
"""

from __future__ import annotations

import copy
import html
import re

import pytest

from aicompute.analysis import absorption as ab
from aicompute.analysis import data
from aicompute.analysis import passthrough as pt
from aicompute.analysis.formula import Formula, evaluate, parse
from aicompute.analysis.records import fmt, plain_number
from aicompute.present import interactive as ia

vlc = pytest.importorskip("vl_convert")
VL = "v6.4"

# ---------------------------------------------------------------------------------------------------------------------
# The declarations, evaluated in Python, against hand-worked examples


def test_cost_formula_by_hand():
    # 10 GW × $50bn = $500bn capital; depreciation 500/5 = 100; opex 4% = 20; return 10% = 50; cost 170;
    # a 20% seller margin grosses 170 up to 170/0.8 = 212.5, of which 42.5 is margin.
    values = evaluate(
        ab.COST_FORMULA, {"gw": 10, "cost_per_gw": 50, "life": 5, "ret_pct": 10, "opex_pct": 4, "margin_pct": 20}
    )
    assert values["capital"] == 500
    assert [values[s] for s in ("depreciation", "opex", "ret", "seller_margin")] == [100, 20, 50, 42.5]
    assert values["required"] == 212.5
    assert ab.annual_cost_parts(10, 50, 5, 10, 4, 20) == {
        "depreciation": 100,
        "operating cost": 20,
        "return on capital": 50,
        "gross margin of seller": 42.5,
    }


def test_cover_formula_by_hand():
    assert evaluate(ab.COVER_FORMULA, {"labs_revenue": 50.0, "required": 200.0}) == {
        "labs_revenue": 50.0,
        "required": 200.0,
        "cover": 25.0,
        "gap": 150.0,
    }


def test_chain_formula_by_hand():
    # $1 to the app, 20% app margin: cost 0.80, half to model APIs 0.40; model margin 40%: model cost 0.24, half to
    # clouds 0.12; half of that to chips 0.06. Passed up = model keeps 0.16 + cloud keeps 0.06 + chips 0.06 = 0.28.
    shares = pt.ChainAssumptions(20, 50, 40, 50, 50)
    values = pt.chain_values(shares)
    kept = {k: values[k] for k in ("app_keeps", "app_other", "model_keeps", "model_other", "cloud_keeps", "chips_keep")}
    assert kept == pytest.approx(
        {
            "app_keeps": 0.2,
            "app_other": 0.4,
            "model_keeps": 0.16,
            "model_other": 0.12,
            "cloud_keeps": 0.06,
            "chips_keep": 0.06,
        }
    )
    assert pt.passed_up(shares) == pytest.approx(0.28)
    assert sum(kept.values()) == pytest.approx(1.0)


@pytest.mark.parametrize(
    "expression",
    ["__import__('os').system('true')", "a ** 2", "a if a else 1", "f(a)", "a.b", "'text'", "True", "a < 1", "[a]"],
)
def test_a_step_that_is_not_plain_arithmetic_is_refused(expression):
    with pytest.raises(ValueError, match="formula step"):
        parse(expression)


def test_a_step_using_an_undefined_name_is_refused():
    with pytest.raises(ValueError, match=r"uses \['b'\] before"):
        Formula(inputs=("a",), steps=(("c", "a + b"),))
    with pytest.raises(ValueError, match="needs the inputs"):
        evaluate(Formula(inputs=("a",), steps=(("c", "-a"),)), {})


def test_a_step_becomes_a_bracketed_vega_expression_in_the_same_order():
    assert ia.vega_expression(parse("capital * opex_pct / 100")) == "((datum.capital * datum.opex_pct) / 100)"
    assert ia.vega_expression(parse("-(a - b) / 2.5")) == "((-(datum.a - datum.b)) / 2.5)"


# ---------------------------------------------------------------------------------------------------------------------
# The page's numbers at slider positions, against the Python model


@pytest.fixture(scope="module")
def absorption_result():
    return ab.run(data.load_all(ab.TABLES), {**ab.DEFAULTS, "draws": 0})


@pytest.fixture(scope="module")
def passthrough_result():
    params = {
        "as_of": "2026-06-30",
        "app_gross_margin_pct": None,
        "model_gross_margin_pct": None,
        "model_share_of_app_cost_pct": 80.0,
        "cloud_share_of_model_cost_pct": 90.0,
        "hardware_share_of_cloud_cost_pct": 50.0,
        "target_gross_margin_pct": 70.0,
        "app_opex_pct_of_revenue": 40.0,
        "cases": ["Perplexity"],
    }
    return pt.run(data.load_all(pt.TABLES), params)


def at_position(spec: dict, values: dict, probes: list[str]) -> dict:
    """The spec with its parameters set to ``values`` and a text layer printing ``probes`` to 17 significant digits."""
    spec = copy.deepcopy(spec)
    params = {p["name"]: p for p in spec["params"]}
    for name, value in values.items():
        params[name]["value"] = value  # KeyError if the chart has no such parameter: the test must name real ones
    readout = " + ' ' + ".join(f"'{name}=' + format(datum.{name}, '.17g')" for name in probes) or "''"
    spec["layer"].append(
        {
            "mark": {"type": "text"},
            "transform": [{"calculate": f"'PROBE ' + {readout}", "as": "probe"}],
            "encoding": {"text": {"field": "probe", "type": "nominal"}},
        }
    )
    return spec


def joined_lines(text: str) -> str:
    """A drawn text's lines (a text of several lines is drawn as tspans) joined by spaces: the sentence it shows."""
    lines = re.findall(r"<tspan[^>]*>([^<]*)</tspan>", text)
    return " ".join(lines) if lines else text


def drawn(spec: dict) -> tuple[list[str], dict[str, float]]:
    """The SVG's texts, and the probed numbers (read back at full precision)."""
    svg = vlc.vegalite_to_svg(spec, vl_version=VL)
    texts = [html.unescape(joined_lines(t)) for t in re.findall(r"<text[^>]*>(.*?)</text>", svg, re.DOTALL)]
    probe = next(t for t in texts if t.startswith("PROBE"))
    # d3-format writes a typographic minus
    numbers = {k: float(v.replace("\u2212", "-")) for k, v in (item.split("=") for item in probe.split()[1:])}
    return texts, numbers


AB_CENTRAL: dict = {}  # the spec as published: every parameter at its central value
# Hand check of the second position: capital 20 × 70 = 1,400; depreciation 1,400/4 = 350, opex 6% = 84, return 12%
# = 168; cost 602, grossed up by a 50% margin: 1,204 a year ($1.20tn). The gross labs' revenue, $77bn, covers
# 100 × 77 / 1,204 = 6.395% ("6.4%").
AB_POSITIONS = [
    {
        "gw": 20.0,
        "cost_per_gw": 70.0,
        "life": 4.0,
        "ret_pct": 12.0,
        "opex_pct": 6.0,
        "margin_pct": 50.0,
        "revenue_basis": "gross",
    },
    {"gw": 5.0, "cost_per_gw": 35.0, "life": 6.0, "ret_pct": 6.0, "opex_pct": 2.0, "margin_pct": 0.0},
    {"gw": 31.7, "cost_per_gw": 100.0, "life": 2.5, "ret_pct": 14.5, "opex_pct": 8.0, "margin_pct": 33.0},
]


def absorption_model(result, position: dict) -> tuple[float, float]:
    """Required revenue and coverage from the Python model at a slider position (the rest at the central case)."""
    ranges = result.frames["ranges"].set_index("assumption")["central"]
    base = ab.CapacityAssumptions(*(float(ranges[name]) for name in ab.MC_INPUTS))
    inputs = dict(zip(ab.COST_FORMULA.inputs, (getattr(base, n) for n in ab.MC_INPUTS), strict=True))
    inputs.update({k: v for k, v in position.items() if k in inputs})
    assumptions = ab.CapacityAssumptions(*(inputs[name] for name in ab.COST_FORMULA.inputs))
    required = ab.required_revenue(assumptions)
    basis = position.get("revenue_basis", result["revenue_basis"].value)
    labs = float(result[f"labs_revenue_{basis}"].value)
    return required, evaluate(ab.COVER_FORMULA, {"labs_revenue": labs, "required": required})["cover"]


def test_absorption_opens_on_the_published_numbers(absorption_result):
    r = absorption_result
    texts, numbers = drawn(at_position(ia.absorption_what_if(r).to_dict(), AB_CENTRAL, ["required", "cover"]))
    assert plain_number(numbers["required"]) == r["required_revenue"].value  # the record, to its stored 6 digits
    central = ab.CapacityAssumptions(*(r.frames["ranges"].set_index("assumption")["central"][n] for n in ab.MC_INPUTS))
    assert numbers["required"] == ab.required_revenue(central)  # and the model's float, to the last bit
    headline = f"The capacity must earn {r['required_revenue'].text(False)} a year; the two labs' revenue covers "
    assert f"{headline}{r['labs_cover'].text(False)} of it." in texts
    assert ia.CENTRAL_LINE in texts  # and says so


@pytest.mark.parametrize("position", AB_POSITIONS)
def test_absorption_sliders_agree_with_the_model(absorption_result, position):
    spec = ia.absorption_what_if(absorption_result).to_dict()
    texts, numbers = drawn(at_position(spec, position, ["required", "cover"]))
    required, cover = absorption_model(absorption_result, position)
    assert numbers["required"] == required  # same IEEE operations, same order: equal to the bit
    assert numbers["cover"] == cover  # same IEEE operations, same order: equal to the bit
    assert any(fmt(required, "usd_bn") in t and fmt(cover, "pct") in t for t in texts if t.startswith("The capacity"))


def test_absorption_hand_checked_position(absorption_result):
    texts, numbers = drawn(
        at_position(ia.absorption_what_if(absorption_result).to_dict(), AB_POSITIONS[0], ["required"])
    )
    assert numbers["required"] == pytest.approx(1204.0)
    expected_cover = 100 * float(absorption_result["labs_revenue_gross"].value) / 1204
    assert f"The capacity must earn $1.20tn a year; the two labs' revenue covers {expected_cover:.1f}% of it." in texts


def test_the_reset_values_are_the_sliders_central_case(absorption_result, passthrough_result):
    """The page's reset button sets each parameter to the value in the spec's usermeta: those must be the sliders'
    declared central values (and the select's published basis), the values each parameter starts at."""
    for spec, sliders in (
        (ia.absorption_what_if(absorption_result).to_dict(), ia.absorption_sliders(absorption_result)),
        (ia.passthrough_what_if(passthrough_result).to_dict(), ia.passthrough_sliders(passthrough_result)),
    ):
        central = ia.central_values(spec)
        starts = {p["name"]: p["value"] for p in spec["params"] if "bind" in p}
        assert central == starts
        assert {s.name: central[s.name] for s in sliders} == {s.name: s.central for s in sliders}
    basis = ia.central_values(ia.absorption_what_if(absorption_result).to_dict())[ia.BASIS]
    assert basis == absorption_result["revenue_basis"].value


def test_resetting_a_moved_chart_restores_the_published_numbers(absorption_result):
    """Moving the sliders changes the numbers and the status line; setting every parameter back to its reset value
    (what the page's button does) gives the published numbers again, to the bit."""
    r = absorption_result
    spec = ia.absorption_what_if(r).to_dict()
    moved_texts, moved = drawn(at_position(spec, AB_POSITIONS[0], ["required", "cover"]))
    assert plain_number(moved["required"]) != r["required_revenue"].value
    assert ia.OWN_LINE in moved_texts and ia.CENTRAL_LINE not in moved_texts
    back = {**AB_POSITIONS[0], **ia.central_values(spec)}
    texts, numbers = drawn(at_position(spec, back, ["required", "cover"]))
    central = ab.CapacityAssumptions(*(r.frames["ranges"].set_index("assumption")["central"][n] for n in ab.MC_INPUTS))
    assert numbers["required"] == ab.required_revenue(central)
    assert plain_number(numbers["cover"]) == r["labs_cover"].value
    assert ia.CENTRAL_LINE in texts and ia.OWN_LINE not in texts


def test_charts_without_sliders_have_no_reset_values():
    assert ia.central_values({"mark": "bar"}) == {}
    assert ia.central_values({"usermeta": {"embedOptions": {}}}) == {}


# Hand check of the first position: app margin −50%: the app's cost is $1.50 per dollar, all of it model fees; the
# model provider keeps 20% (0.30) and pays 1.20 to clouds; chips get 70% of that (0.84), the cloud keeps 0.36.
# Passed up 0.30 + 0.36 + 0.84 = 1.50 (150¢); the application keeps −50¢.
PT_POSITIONS = [
    {"app_margin": -50.0, "model_share": 100.0, "model_margin": 20.0, "cloud_share": 100.0, "hardware_share": 70.0},
    {"app_margin": 60.0, "model_share": 37.0, "model_margin": 71.0, "cloud_share": 55.0, "hardware_share": 20.0},
    {"app_margin": 23.0, "model_share": 50.0},
]


def passthrough_model(result, position: dict) -> dict:
    shares = {**result.frames["base"].__dict__, **{pt.CHAIN_FIELDS[k]: v for k, v in position.items()}}
    return pt.chain_values(pt.ChainAssumptions(**shares))


def test_passthrough_opens_on_the_published_numbers(passthrough_result):
    r = passthrough_result
    texts, numbers = drawn(at_position(ia.passthrough_what_if(r).to_dict(), {}, ["passed_up_cents", "app_keeps_cents"]))
    assert plain_number(numbers["passed_up_cents"]) == r["passed_up"].value
    assert numbers["passed_up_cents"] == 100 * pt.passed_up(r.frames["base"])
    assert plain_number(numbers["app_keeps_cents"]) == r["app_keeps"].value
    cents = r["passed_up"].text(False).replace("%", "¢")
    assert f"passed up: {cents}" in texts
    assert ia.CENTRAL_LINE in texts


@pytest.mark.parametrize("position", PT_POSITIONS)
def test_passthrough_sliders_agree_with_the_model(passthrough_result, position):
    spec = ia.passthrough_what_if(passthrough_result).to_dict()
    texts, numbers = drawn(at_position(spec, position, ["passed_up_cents", "app_keeps_cents"]))
    model = passthrough_model(passthrough_result, position)
    assert numbers["passed_up_cents"] == 100 * model["passed_up"]  # same IEEE operations, same order: equal to the bit
    assert numbers["app_keeps_cents"] == 100 * model["app_keeps"]  # same IEEE operations, same order: equal to the bit
    passed, kept = fmt(100 * model["passed_up"], "pct")[:-1], fmt(100 * model["app_keeps"], "pct")[:-1]
    assert f"passed up: {passed}¢" in texts
    assert any(t.startswith("Of each application dollar") and t.endswith(f"keeps {kept}¢.") for t in texts)


def test_passthrough_hand_checked_position(passthrough_result):
    texts, numbers = drawn(at_position(ia.passthrough_what_if(passthrough_result).to_dict(), PT_POSITIONS[0], []))
    assert (
        "Of each application dollar, 150¢ flows up to model providers, clouds and chip makers; the application keeps "
        "-50¢." in texts
    )


def test_sliders_start_at_the_central_case_and_hold_the_sourced_range(absorption_result, passthrough_result):
    sliders = {s.name: s for s in ia.absorption_sliders(absorption_result)}
    assert (sliders["cost_per_gw"].central, sliders["life"].central, sliders["gw"].central) == (55.0, 5.75, 15.2)
    assert sliders["cost_per_gw"].low <= 35 and sliders["cost_per_gw"].high >= 100  # the sourced all-in range
    assert sliders["gw"].low <= 2.7 and sliders["gw"].high >= 35  # every published capacity figure
    chain = {s.name: s for s in ia.passthrough_sliders(passthrough_result)}
    assert (chain["app_margin"].central, chain["model_share"].central) == (23.0, 80.0)
    assert chain["model_margin"].low >= 0  # where the model is defined
    with pytest.raises(ValueError, match="outside"):
        ia.Slider("x", "x", 5.0, 0.0, 1.0, 0.1)


def test_the_specs_draw_statically(absorption_result, passthrough_result):
    """The build exports every chart to SVG and PNG: the what-if charts must draw at their initial values."""
    for spec in (
        ia.absorption_what_if(absorption_result).to_dict(),
        ia.passthrough_what_if(passthrough_result).to_dict(),
    ):
        assert vlc.vegalite_to_png(spec, vl_version=VL, scale=1)[:4] == b"\x89PNG"
        bound = {p["name"] for p in spec["params"] if "bind" in p}
        assert bound == set(ia.central_values(spec)) and len(bound) >= 5
