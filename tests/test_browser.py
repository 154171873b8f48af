"""The report in a real browser (Debian's Chromium through Playwright), with the network blocked."""

from __future__ import annotations

import os
import re
import shutil
import time

import pytest
from test_e2e import chart_outputs

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


def require_chromium() -> None:
    if not os.path.exists(CHROMIUM):
        if os.environ.get("CI"):
            pytest.fail("Chromium is required in CI (.ci/run installs Debian's chromium)")
        pytest.skip("Chromium is not installed (apt-get install chromium)")


def launch(playwright):
    return playwright.chromium.launch(
        executable_path=CHROMIUM,
        args=[
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--no-first-run",
            "--disable-sync",
        ],
    )


def offline_page(browser, requests: list[str], width: int = 1280, height: int = 900):
    """A page that may load file: URLs only; every other request is refused and noted in ``requests``."""
    page = browser.new_page(viewport={"width": width, "height": height})

    def block(route):
        if route.request.url.startswith("file:"):
            route.continue_()
        else:
            requests.append(route.request.url)
            route.abort()

    page.route("**/*", block)
    return page


# What the summary's first cell shows (the integrator writes it); only a stand-in for a build whose summary lacks it.
STAND_IN_BOTTOM_LINE = (
    '<div class="jp-Cell"><div class="bottom-line"><p><strong>The question:</strong> is the boom circular?</p>'
    '<p class="verdict-tally">6 supported, 5 partly, 1 cannot tell</p><p>Three key numbers, each with its range.</p>'
    "<p><strong>Biggest caveat:</strong> stand-in text.</p></div></div>"
)


@pytest.fixture(scope="module")
def report_page(built_repo, tmp_path_factory) -> str:
    """The built page; if the summary does not yet emit its bottom line, a copy with a stand-in where it goes."""
    page = (built_repo / "report" / "index.html").read_text(encoding="utf-8")
    if 'class="bottom-line"' in page:
        return (built_repo / "report" / "index.html").as_uri()
    marker = '<main id="report-main">'
    assert marker in page
    copy = tmp_path_factory.mktemp("stand-in") / "index.html"
    copy.write_text(page.replace(marker, marker + STAND_IN_BOTTOM_LINE, 1), encoding="utf-8")
    return copy.as_uri()


ALL_DRAWN = "document.documentElement.getAttribute('data-charts-drawn') === 'true'"


@pytest.fixture(scope="module")
def page_session(built_repo, report_page):
    require_chromium()
    from playwright.sync_api import sync_playwright

    requests: list[str] = []
    errors: list[str] = []
    with sync_playwright() as p:
        browser = launch(p)
        page = offline_page(browser, requests)
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        started = time.perf_counter()
        page.goto(report_page)
        page.wait_for_function(
            "document.querySelectorAll('.vega-target[data-drawn]').length === "
            "document.querySelectorAll('script.vega-spec').length",
            timeout=30_000,
        )
        yield {
            "page": page,
            "browser": browser,
            "requests": requests,
            "errors": errors,
            "seconds": time.perf_counter() - started,
            "repo": built_repo,
            "url": report_page,
        }
        browser.close()


def test_every_chart_output_is_drawn(page_session):
    page = page_session["page"]
    drawn = page.evaluate("document.querySelectorAll('.vega-target[data-drawn] svg.marks').length")
    assert drawn == len(chart_outputs(page_session["repo"]))


def test_no_network_requests_and_no_console_errors(page_session):
    assert page_session["requests"] == []
    assert page_session["errors"] == []


def test_hovering_a_mark_shows_a_tooltip_with_its_source(page_session):
    page = page_session["page"]
    bar = page.locator("#chart-backlog--snapshot .mark-rect path").first
    bar.scroll_into_view_if_needed()
    box_ = bar.bounding_box()
    page.mouse.move(box_["x"] + box_["width"] / 2, box_["y"] + box_["height"] / 2)
    tooltip = page.locator("#vg-tooltip-element")
    tooltip.wait_for(state="visible", timeout=5_000)
    text = tooltip.inner_text().lower()
    assert "provider" in text and "basis" in text and "$" in text


def test_navigation_lists_every_chapter_and_its_links_resolve(page_session):
    page = page_session["page"]
    targets = page.evaluate("Array.from(document.querySelectorAll('.side-nav a')).map(a => a.getAttribute('href'))")
    assert len(targets) == 7 and targets[0] == "#chapter-summary"
    missing = page.evaluate(
        "(ids) => ids.filter(h => !document.getElementById(decodeURIComponent(h.slice(1))))", targets
    )
    assert missing == []
    card_links = page.evaluate("Array.from(document.querySelectorAll('.card a')).map(a => a.getAttribute('href'))")
    assert (
        card_links and page.evaluate("(ids) => ids.filter(h => !document.getElementById(h.slice(1)))", card_links) == []
    )


def box(page, selector: str) -> dict:
    return page.evaluate(
        "(s) => { const r = document.querySelector(s).getBoundingClientRect(); return {top: r.top, bottom: r.bottom} }",
        selector,
    )


def test_the_bottom_line_and_verdict_tally_are_on_the_first_screen(page_session):
    page = page_session["page"]
    page.evaluate("window.scrollTo(0, 0)")
    for selector in (".bottom-line", ".bottom-line .verdict-tally"):
        where = box(page, selector)
        assert 0 <= where["top"] and where["bottom"] <= 900, (selector, where)


def test_on_a_phone_nothing_overflows_and_the_bottom_line_is_on_the_first_screen(page_session):
    """At 390x844: the question, the verdict tally, the three numbers with their ranges and the biggest caveat."""
    phone = offline_page(page_session["browser"], [], width=390, height=844)
    phone.goto(page_session["url"])
    phone.wait_for_function(ALL_DRAWN, timeout=30_000)
    assert phone.evaluate("document.scrollingElement.scrollWidth") <= 390
    assert box(phone, ".bottom-line")["top"] < 844 / 2
    for selector in (".bottom-line .verdict-tally", ".bottom-line .card-grid", ".bottom-line .biggest-caveat"):
        assert box(phone, selector)["bottom"] <= 844, (selector, box(phone, selector))
    assert phone.evaluate("document.querySelectorAll('.bottom-line .card .card-range').length") == 3
    assert phone.evaluate("getComputedStyle(document.querySelector('.side-nav')).display") == "none"
    phone.close()


# The main argument (summary and chapters, the appendix excluded) reads in about 15 minutes: its height at 1280 px,
# with the collapsed blocks closed as the page opens, is at most this (issue 13).
MAIN_ARGUMENT_PX = 24_000


def test_the_main_argument_fits_its_reading_budget(page_session):
    page = page_session["page"]
    assert page.evaluate("innerWidth") == 1280
    top = page.evaluate("document.getElementById('chapter-appendix').getBoundingClientRect().top + scrollY")
    assert 10_000 < top <= MAIN_ARGUMENT_PX, f"the appendix starts at {top:.0f} px"


# Chart text on a phone: font size times the drawing's scale, in CSS px; every chart, the what-if ones included.
MIN_CHART_TEXT_PX = 10

CHART_TEXT = """() => [...document.querySelectorAll('figure.aicompute-chart')].map(f => {
  const svg = f.querySelector('svg'), box = svg.getBoundingClientRect();
  const scale = box.width / svg.viewBox.baseVal.width;
  const texts = [...svg.querySelectorAll('text')].filter(t => t.textContent.trim());
  const sizes = texts.map(t => parseFloat(getComputedStyle(t).fontSize) * scale);
  const out = texts.filter(t => { const r = t.getBoundingClientRect();
    return r.left < box.left - 1 || r.right > box.right + 1; }).map(t => t.textContent.trim());
  return {id: f.id, smallest: Math.min(...sizes), cropped: out, texts: texts.length};
})"""


def test_on_a_phone_chart_text_keeps_a_readable_size_and_is_not_cropped(page_session):
    phone = offline_page(page_session["browser"], [], width=390, height=844)
    phone.goto(page_session["url"])
    phone.wait_for_function(ALL_DRAWN, timeout=30_000)
    charts = phone.evaluate(CHART_TEXT)
    phone.close()
    assert len(charts) == len(chart_outputs(page_session["repo"])) and all(c["texts"] > 3 for c in charts)
    small = {c["id"]: round(c["smallest"], 1) for c in charts if c["smallest"] < MIN_CHART_TEXT_PX}
    assert not small, small
    cropped = {c["id"]: c["cropped"] for c in charts if c["cropped"]}
    assert not cropped, cropped


def test_every_chart_has_a_descriptive_label_and_a_caption(page_session):
    page = page_session["page"]
    charts = page.evaluate(
        """Array.from(document.querySelectorAll('figure.aicompute-chart')).map(f => ({
             id: f.id,
             label: (f.querySelector('[role=img][aria-label]') || {getAttribute: () => ''}).getAttribute('aria-label'),
             svg: f.querySelector('svg').getAttribute('aria-label'),
             caption: (f.querySelector('figcaption') || {textContent: ''}).textContent.trim()}))"""
    )
    assert len(charts) == len(chart_outputs(page_session["repo"]))
    for chart in charts:
        assert len(chart["label"]) > 20 and chart["label"] != "Vega visualization", chart
        assert chart["svg"] == chart["label"], chart
    # Charts with a subtitle carry its source line as a visible caption (the chart builders write it).
    assert sum(bool(c["caption"]) for c in charts) >= len(charts) / 2, charts


def test_no_raw_missing_values_or_flags_in_the_text(page_session):
    text = page_session["page"].evaluate(
        """(() => { const c = document.body.cloneNode(true);
           c.querySelectorAll('code, pre, script, style, svg, .vega-bindings').forEach(e => e.remove());
           return c.textContent; })()"""
    )
    found = [
        text[max(0, m.start() - 60) : m.end() + 20] for m in re.finditer(r"<NA>|\b(None|NaN|nan|True|False)\b", text)
    ]
    assert found == []


def test_every_source_link_in_a_table_resolves(page_session):
    page = page_session["page"]
    links = page.evaluate("Array.from(document.querySelectorAll('a.source-link')).map(a => a.getAttribute('href'))")
    assert len(links) > 20
    assert page.evaluate("(ids) => ids.filter(h => !document.getElementById(h.slice(1)))", links) == []


def test_the_page_is_valid_html_with_every_script_inside_the_body(built_repo):
    page = (built_repo / "report" / "index.html").read_text(encoding="utf-8")
    # The last </body> (the Vega bundle's code writes one into a string) ends the document.
    assert page.rstrip().endswith("</body>\n</html>")
    after_body = page[page.rindex("</body>") :]
    assert "<script" not in after_body
    assert not re.search(r"<table[^>]*>\s*<thead>.*?</thead>\s*<tbody>\s*</tbody>", page, re.DOTALL), "an empty table"


# Whether the what-if charts' sliders and reset buttons take up room (are shown) in the current media.
CONTROLS_SHOWN = """(() => { const shown = (s) => Array.from(document.querySelectorAll(s))
    .filter(e => e.getBoundingClientRect().height > 0).length;
  return {sliders: shown('.aicompute-chart .vega-bindings') === 2, reset: shown('button.chart-reset') === 2}; })()"""


def test_printing_to_pdf_gives_a_whole_document(page_session, tmp_path):
    page = page_session["page"]
    page.emulate_media(media="print")
    try:
        hidden_nav = page.evaluate("getComputedStyle(document.querySelector('.top-nav')).display")
        closed_table = page.evaluate(
            "document.querySelector('details.table-block:not([open]) table').getBoundingClientRect().height"
        )
        printed_controls = page.evaluate(CONTROLS_SHOWN)
        pdf = page.pdf(path=str(tmp_path / "report.pdf"), format="A4", print_background=True)
    finally:
        page.emulate_media(media="screen")
    assert hidden_nav == "none"
    assert closed_table > 0, "collapsed tables are printed open"
    assert page.evaluate(CONTROLS_SHOWN) == {"sliders": True, "reset": True}, "on screen: the what-if controls show"
    assert printed_controls == {"sliders": False, "reset": False}, "on paper: neither sliders nor reset button"
    assert pdf.startswith(b"%PDF") and len(pdf) > 200_000
    assert len(re.findall(rb"/Type\s*/Page\b", pdf)) > 20


def test_an_executed_chapter_shows_its_charts_in_stock_nbconvert_offline(built_repo, page_session, tmp_path):
    """A forker converts an executed chapter with stock nbconvert (no template of ours) and opens it with no network."""
    import subprocess
    import sys

    executed = built_repo / "report" / "notebooks" / "passthrough.ipynb"
    subprocess.run(
        [sys.executable, "-m", "jupyter", "nbconvert", "--to", "html", "--output-dir", str(tmp_path), str(executed)],
        check=True,
        capture_output=True,
    )
    requests: list[str] = []
    # One Playwright per process: reuse the module's browser (a second sync_playwright() would refuse to start).
    page = offline_page(page_session["browser"], requests)
    page.goto((tmp_path / "passthrough.html").as_uri())
    page.wait_for_load_state("load")
    sizes = page.evaluate(
        "Array.from(document.querySelectorAll('img[src^=\"data:image/png\"]'))"
        ".map(i => [i.naturalWidth, i.naturalHeight])"
    )
    page.close()
    charts = [c for c in chart_outputs(built_repo) if c.startswith("passthrough--")]
    assert len(sizes) == len(charts) > 0, (sizes, charts)
    assert all(w > 200 and h > 100 for w, h in sizes), sizes


def test_every_chart_records_when_it_was_drawn_in_reading_order(page_session):
    """The page notes when each chart was drawn (the benchmark reads these); with no scrolling, in reading order."""
    times = page_session["page"].evaluate(
        "Array.from(document.querySelectorAll('figure.aicompute-chart .vega-target'))"
        ".map(t => Number(t.getAttribute('data-drawn-ms')))"
    )
    assert len(times) == len(chart_outputs(page_session["repo"]))
    assert all(ms > 0 for ms in times), times
    assert times == sorted(times), times


def test_the_page_draws_compiled_vega_with_no_vega_lite(page_session):
    page = page_session["page"]
    shipped = page.evaluate(
        """({vega: typeof vega.View, embed: typeof window.vegaEmbed, lite: typeof window.vegaLite,
            schemas: Array.from(document.querySelectorAll('script.vega-spec'))
              .map(s => JSON.parse(s.textContent).$schema)})"""
    )
    assert shipped["vega"] == "function" and shipped["embed"] == shipped["lite"] == "undefined"
    assert {schema.rsplit("/", 2)[-2] for schema in shipped["schemas"]} == {"vega"}, shipped["schemas"]


# ---------------------------------------------------------------------------------------------------------------------
# The what-if chart: sliders move the numbers; "Reset to our central case" moves the sliders back


WHAT_IF = "#chart-absorption--what-if"
HEADLINE = "The capacity must earn"


# A drawn text; one of several lines (tspans) as its lines joined by spaces: the sentence it shows.
JOINED = (
    "(t => { const l = t.querySelectorAll('tspan');"
    " return l.length ? Array.from(l, x => x.textContent).join(' ') : t.textContent; })"
)


def chart_texts(page, figure: str) -> list[str]:
    return page.evaluate(f"(f) => Array.from(document.querySelectorAll(f + ' svg text'), {JOINED})", figure)


def headline(page) -> str:
    return next(t for t in chart_texts(page, WHAT_IF) if t.startswith(HEADLINE))


def controls(page) -> dict[str, tuple[str, str]]:
    """Each bound input's value and the number Vega quotes beside a slider."""
    return page.evaluate(
        """(f) => Object.fromEntries(Array.from(document.querySelectorAll(f + ' .vega-bindings input, '
             + f + ' .vega-bindings select')).map(i => [i.name, [i.value,
             i.type === 'range' ? i.nextElementSibling.textContent : '']]))""",
        WHAT_IF,
    )


def set_input(page, name: str, value: str, event: str = "input") -> None:
    page.evaluate(
        """([f, name, value, event]) => { const i = document.querySelector(`${f} [name="${name}"]`);
             i.value = value; i.dispatchEvent(new Event(event, {bubbles: true})); }""",
        [WHAT_IF, name, value, event],
    )


def published_headline(repo) -> str:
    import json

    from aicompute.analysis.records import fmt

    records = json.loads((repo / "report" / "records.json").read_text(encoding="utf-8"))
    required, cover = records["absorption.required_revenue"], records["absorption.labs_cover"]
    return f"{HEADLINE} {fmt(required['value'], 'usd_bn')} a year; the two labs' revenue covers " + (
        f"{fmt(cover['value'], 'pct')} of it."
    )


def test_sliders_move_the_numbers_and_reset_restores_the_published_ones(page_session):
    import json

    from aicompute.analysis.records import fmt
    from aicompute.present.interactive import CENTRAL_LINE, OWN_LINE

    page = page_session["page"]
    page.locator(WHAT_IF).scroll_into_view_if_needed()
    published = chart_texts(page, WHAT_IF)
    assert headline(page) == published_headline(page_session["repo"])
    assert CENTRAL_LINE in published
    central = json.loads(page.get_attribute(f"{WHAT_IF} button.chart-reset", "data-central"))
    start = controls(page)
    sliders = {name: float(value) for name, (value, beside) in start.items() if name != "revenue_basis"}
    assert sliders == {name: value for name, value in central.items() if name != "revenue_basis"}
    assert {name: float(beside) for name, (_, beside) in start.items() if name != "revenue_basis"} == sliders
    assert start["revenue_basis"][0] == central["revenue_basis"]

    # Twice the capacity: every part of the cost doubles, so the required revenue doubles and the cover halves.
    records = json.loads((page_session["repo"] / "report" / "records.json").read_text(encoding="utf-8"))
    gw = 2 * central["gw"]
    set_input(page, "gw", str(gw))
    page.wait_for_function(
        f"([f, h]) => !Array.from(document.querySelectorAll(f + ' svg text'), {JOINED}).some(t => t === h)",
        arg=[WHAT_IF, published_headline(page_session["repo"])],
    )
    required = records["absorption.required_revenue"]["value"] * gw / central["gw"]
    cover = records["absorption.labs_cover"]["value"] * central["gw"] / gw
    assert headline(page) == f"{HEADLINE} {fmt(required, 'usd_bn')} a year; the two labs' revenue covers " + (
        f"{fmt(cover, 'pct')} of it."
    )
    assert float(controls(page)["gw"][1]) == gw, "the number beside the slider follows it"
    assert OWN_LINE in chart_texts(page, WHAT_IF)
    set_input(page, "revenue_basis", "gross" if central["revenue_basis"] != "gross" else "net", "change")
    page.wait_for_function(
        "([f, b]) => document.querySelector(f).textContent.includes('(' + b + ')')",
        arg=[WHAT_IF, "gross" if central["revenue_basis"] != "gross" else "net"],
    )

    page.click(f"{WHAT_IF} button.chart-reset")
    page.wait_for_function(
        f"([f, h]) => Array.from(document.querySelectorAll(f + ' svg text'), {JOINED}).some(t => t === h)",
        arg=[WHAT_IF, published_headline(page_session["repo"])],
    )
    assert controls(page) == start, "every slider, and the number beside it, is back at the central case"
    # Vega reuses the axis labels' nodes, so their order in the document may change; the texts may not.
    assert sorted(chart_texts(page, WHAT_IF)) == sorted(published), "every drawn number is the published one again"


def test_a_chart_that_cannot_be_drawn_says_so_and_the_rest_are_drawn(page_session, tmp_path):
    page_text = (page_session["repo"] / "report" / "index.html").read_text(encoding="utf-8")
    spec = re.search(r"<script[^>]*vega-spec[^>]*>(.*?)</script>", page_text, re.DOTALL)
    assert spec
    unknown = '{"data": [{"name": "d", "transform": [{"type": "no-such-transform"}]}]}'
    broken = page_text[: spec.start(1)] + unknown + page_text[spec.end(1) :]
    (tmp_path / "index.html").write_text(broken, encoding="utf-8")
    page = offline_page(page_session["browser"], [])
    page.goto((tmp_path / "index.html").as_uri())
    page.wait_for_function(ALL_DRAWN, timeout=30_000)
    figures = page.evaluate(
        "Array.from(document.querySelectorAll('figure.aicompute-chart')).map(f => [!!f.querySelector('svg.marks'),"
        " f.querySelector('.vega-target').textContent])"
    )
    page.close()
    assert figures[0][0] is False and figures[0][1].startswith("This chart could not be drawn: ")
    assert all(drawn for drawn, _ in figures[1:])


def test_printing_draws_every_chart_first(page_session):
    """A reader who prints before the queue has finished gets every chart: 'beforeprint' draws the rest at once."""
    page = offline_page(page_session["browser"], [])
    page.goto(page_session["url"], wait_until="domcontentloaded")
    before = page.evaluate("document.querySelectorAll('.vega-target[data-drawn]').length")
    page.evaluate("window.dispatchEvent(new Event('beforeprint'))")
    after = page.evaluate(
        "[document.querySelectorAll('.vega-target[data-drawn] svg.marks').length,"
        " document.querySelectorAll('figure.aicompute-chart').length]"
    )
    page.close()
    assert before < after[1], "the queue had not finished: the test must start before it does"
    assert after[0] == after[1]
