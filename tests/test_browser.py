"""The report in a real browser (Debian's Chromium through Playwright), with the network blocked."""

from __future__ import annotations

import os
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


@pytest.fixture(scope="module")
def page_session(built_repo):
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
        page.goto((built_repo / "report" / "index.html").as_uri())
        page.wait_for_function(
            "document.querySelectorAll('.vega-target[data-drawn]').length === "
            "document.querySelectorAll('script.vega-spec').length",
            timeout=30_000,
        )
        yield {
            "page": page,
            "requests": requests,
            "errors": errors,
            "seconds": time.perf_counter() - started,
            "repo": built_repo,
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
    bar.hover()
    tooltip = page.locator("#vg-tooltip-element")
    tooltip.wait_for(state="visible", timeout=5_000)
    text = tooltip.inner_text()
    assert "provider" in text and "basis" in text


def test_table_of_contents_links_resolve(page_session):
    page = page_session["page"]
    targets = page.evaluate("Array.from(document.querySelectorAll('.report-toc a')).map(a => a.getAttribute('href'))")
    assert len(targets) > 20
    missing = page.evaluate(
        "(ids) => ids.filter(h => !document.getElementById(decodeURIComponent(h.slice(1))))", targets
    )
    assert missing == []
    card_links = page.evaluate("Array.from(document.querySelectorAll('.card a')).map(a => a.getAttribute('href'))")
    assert (
        card_links and page.evaluate("(ids) => ids.filter(h => !document.getElementById(h.slice(1)))", card_links) == []
    )


def test_an_executed_chapter_shows_its_charts_in_stock_nbconvert_offline(page_session, tmp_path):
    """A forker converts an executed chapter with stock nbconvert (no template of ours) and opens it with no network."""
    import subprocess
    import sys

    built_repo = page_session["repo"]
    executed = built_repo / "report" / "notebooks" / "passthrough.ipynb"
    subprocess.run(
        [sys.executable, "-m", "jupyter", "nbconvert", "--to", "html", "--output-dir", str(tmp_path), str(executed)],
        check=True,
        capture_output=True,
    )
    requests: list[str] = []
    # One Playwright session per module: open a page in the fixture's browser.
    page = offline_page(page_session["page"].context.browser, requests)
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
