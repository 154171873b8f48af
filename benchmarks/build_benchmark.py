"""Build benchmark: prints figures, asserts nothing (timing goals are not unit tests).

Measures, on a throw-away copy of the repository:
- cold build (no cache) and warm rebuild (nothing changed), wall seconds;
- per notebook, papermill's time against the same code run as a plain Python script (the floor);
- report size, times until the first chart, the first screen's charts and every chart have drawn in Chromium, and
  the Monte Carlo's speed.

Targets on a 2-core machine: warm rebuild under 2 s; cold build at most 1.5x the plain-Python floor of the
notebooks run in parallel, plus export; report under 3 MB; the first screen's charts drawn within 0.5 s and every
chart within 2 s of load (drawn one at a time in reading order); 100,000 Monte Carlo draws well under a second.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
from conftest import copy_repo, run_build  # noqa: E402


def timed(fn):
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def plain_python_seconds(repo: Path, notebook: Path, records: Path) -> float:
    """Run the notebook's code cells as one Python script (no kernel): the floor papermill is measured against."""
    import json

    cells = [c for c in json.loads(notebook.read_text())["cells"] if c["cell_type"] == "code"]
    script = repo / ".build" / f"{notebook.stem}.py"
    script.parent.mkdir(parents=True, exist_ok=True)
    script.write_text("\n\n".join("".join(c["source"]) for c in cells))
    env = {**os.environ, "AICOMPUTE_ROOT": str(repo), "AICOMPUTE_BUILD": "1", "AICOMPUTE_RECORDS": str(records)}
    seconds, result = timed(
        lambda: subprocess.run([sys.executable, str(script)], cwd=repo, env=env, capture_output=True, text=True)
    )
    if result.returncode != 0:
        raise RuntimeError(f"{notebook.name} failed as a script:\n{result.stderr[-2000:]}")
    return seconds


def papermill_seconds(repo: Path, notebook: Path, records: Path) -> float:
    import papermill

    env = {"AICOMPUTE_ROOT": str(repo), "AICOMPUTE_BUILD": "1", "AICOMPUTE_RECORDS": str(records)}
    os.environ.update(env)
    out = repo / ".build" / f"{notebook.stem}.out.ipynb"
    seconds, _ = timed(
        lambda: papermill.execute_notebook(
            str(notebook), str(out), kernel_name="python3", cwd=str(repo), progress_bar=False, log_output=False
        )
    )
    return seconds


def touch_one_table(repo: Path, table: str) -> None:
    """A harmless edit to one table (a locator gains a word): only the chapters that read it should re-run."""
    import csv

    path = repo / "data" / f"{table}.csv"
    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    rows[0]["locator"] = (rows[0]["locator"] or "") + " (benchmark edit)"
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def draw_seconds(report: Path, runs: int = 3) -> dict[str, float] | None:
    """Median over ``runs`` loads at 1280x900 of: the first chart drawn, the last chart drawn (ms after navigation
    start, as the page records them), the charts on the first screen, and the document being parsed (domInteractive)."""
    chromium = shutil.which("chromium")
    if not chromium:
        return None
    import statistics

    from playwright.sync_api import sync_playwright

    figures: list[dict[str, float]] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=chromium, args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
        )
        for _ in range(runs):
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.route("**/*", lambda r: r.continue_() if r.request.url.startswith("file:") else r.abort())
            page.goto(report.as_uri())
            page.wait_for_function(
                "document.documentElement.getAttribute('data-charts-drawn') === 'true'", timeout=60_000
            )
            figures.append(
                page.evaluate(
                    """(() => {
                      const drawn = Array.from(document.querySelectorAll('figure.aicompute-chart')).map(f => ({
                        ms: +f.querySelector('.vega-target').getAttribute('data-drawn-ms'),
                        top: f.getBoundingClientRect().top + window.scrollY}));
                      const ms = drawn.map(d => d.ms);
                      const screen = drawn.filter(d => d.top < window.innerHeight).map(d => d.ms);
                      return {first: Math.min(...ms), all: Math.max(...ms),
                              first_screen: screen.length ? Math.max(...screen) : 0, charts: ms.length,
                              on_first_screen: screen.length,
                              parsed: performance.getEntriesByType('navigation')[0].domInteractive};
                    })()"""
                )
            )
            page.close()
        browser.close()
    return {key: statistics.median(f[key] for f in figures) for key in figures[0]}


def monte_carlo_seconds(draws: int = 100_000) -> float:
    from aicompute.analysis.absorption import monte_carlo

    ranges = {
        "gw": (5, 15.2, 35),
        "cost_per_gw": (35, 56, 100),
        "useful_life_years": (4, 5.75, 6),
        "required_return_pct": (6, 10, 14),
        "opex_pct_of_capex": (2, 4, 8),
        "seller_gross_margin_pct": (0, 0, 50),
    }
    monte_carlo(ranges, 1000, 1)  # warm up numpy
    seconds, _ = timed(lambda: monte_carlo(ranges, draws, 1, visible_revenue=70))
    return seconds


def robustness_grid() -> str:
    """The robustness grid as the summary runs it: every chapter over its own choices, then every declared rule."""
    from aicompute.analysis import report
    from aicompute.analysis.memo import clear_all

    clear_all()  # a cold start, as in a build's summary kernel
    cpu = time.process_time()
    seconds, grid = timed(lambda: report.run_robustness(None, None, notice=lambda _: None))
    cpu = time.process_time() - cpu
    per_chapter = ", ".join(f"{g.name} {1000 * g.seconds / g.size:.0f} ms/run" for g in grid.grids.values())
    return (
        f"{grid.describe()}; {seconds:.1f} s in all ({cpu:.1f} s CPU in this process) in {report.GRID_JOBS} "
        f"processes, groups {report.GRID_GROUPS}; {per_chapter}"
        "   target: a few seconds"
    )


def print_page_figures(report: Path) -> None:
    """The page's size and its drawing times in Chromium, against the targets."""
    size = report.stat().st_size
    print(f"report size: {size / 1e6:.2f} MB   target < 3 MB")
    drawn = draw_seconds(report)
    if drawn is None:
        print("charts drawn in Chromium: not measured (no chromium)")
        return
    print(
        f"charts drawn in Chromium (1280x900, median of 3, ms after navigation): first {drawn['first']:.0f}, "
        f"first screen's {drawn['on_first_screen']:.0f} chart(s) by {drawn['first_screen']:.0f} (target "
        f"< 500), all {drawn['charts']:.0f} by {drawn['all']:.0f} (target < 2000); document parsed (domInteractive) "
        f"at {drawn['parsed']:.0f}"
    )


def main() -> None:
    # --draw-only [PAGE]: measure an existing page (default report/index.html) without building anything.
    if "--draw-only" in sys.argv:
        rest = sys.argv[sys.argv.index("--draw-only") + 1 :]
        print_page_figures(Path(rest[0]) if rest else ROOT / "report" / "index.html")
        return
    with tempfile.TemporaryDirectory() as tmp:
        repo = copy_repo(Path(tmp) / "repo")
        cold, result = timed(lambda: run_build(repo, "build", "--no-progress"))
        assert result.returncode == 0, result.stderr
        warm, result = timed(lambda: run_build(repo, "build", "--no-progress"))
        print(f"cold build (no cache):        {cold:6.1f} s")
        print(f"warm rebuild (nothing changed): {warm:6.2f} s   target < 2 s")
        edited, result = timed(
            lambda: (touch_one_table(repo, "peer_estimates"), run_build(repo, "build", "--no-progress"))[1]
        )
        assert result.returncode == 0, result.stderr
        reran = next((line for line in result.stdout.splitlines() if line.startswith("executed:")), "executed: none")
        print(f"rebuild after editing one table (peer_estimates.csv): {edited:6.1f} s   {reran}")

        from aicompute.manifest import load_manifest

        os.environ["AICOMPUTE_ROOT"] = str(repo)
        records = repo / ".build" / "bench-records"
        rows = []
        for spec in load_manifest(repo / "params.yaml").notebooks:
            notebook = repo / spec.path.relative_to(ROOT)
            plain = plain_python_seconds(repo, notebook, records)
            pm = papermill_seconds(repo, notebook, records)
            rows.append((spec.name, plain, pm))
        print("\nnotebook        plain python   papermill   overhead")
        for name, plain, pm in rows:
            print(f"{name:14s} {plain:10.1f} s {pm:9.1f} s {pm - plain:8.1f} s")
        floor = sum(r[1] for r in rows) / 2  # two notebooks at a time on two cores
        print(
            f"\nplain-Python floor, two at a time: {floor:.1f} s; cold build / floor = {cold / floor:.2f} "
            "(target <= 1.5, plus export)"
        )

        print_page_figures(repo / "report" / "index.html")
    print(f"Monte Carlo, 100,000 draws: {monte_carlo_seconds() * 1000:.0f} ms")
    print(f"robustness {robustness_grid()}")


if __name__ == "__main__":
    main()
