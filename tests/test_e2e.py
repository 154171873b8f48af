"""End-to-end: build the real notebooks as a re-runner would, and break things the way they really break."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from pathlib import Path

import pytest
from conftest import run_build

from aicompute.present.output import MIMETYPE

pytestmark = pytest.mark.e2e


def digest(repo: Path) -> dict[str, str]:
    """Hashes of everything a reader sees: the page and every figure."""
    files = [repo / "report" / "index.html", *sorted((repo / "figures").glob("*"))]
    return {str(f.relative_to(repo)): hashlib.sha256(f.read_bytes()).hexdigest() for f in files if f.exists()}


def chart_outputs(repo: Path) -> list[str]:
    names = []
    for nb_path in sorted((repo / "report" / "notebooks").glob("*.ipynb")):
        for cell in json.loads(nb_path.read_text())["cells"]:
            for output in cell.get("outputs", []):
                if MIMETYPE in output.get("data", {}):
                    names.append(f"{nb_path.stem}--{output['metadata'][MIMETYPE]['name']}")
    return names


@pytest.fixture(scope="module")
def work_repo(built_repo, tmp_path_factory) -> Path:
    """A copy of the built repository (cache included, so builds are warm) for tests that change things."""
    target = tmp_path_factory.mktemp("work") / "repo"
    shutil.copytree(built_repo, target)
    return target


def test_report_is_one_offline_page_with_every_chart(built_repo):
    page = (built_repo / "report" / "index.html").read_text()
    charts = chart_outputs(built_repo)
    assert len(charts) >= 10
    assert page.count('class="vega-spec"') == len(charts)
    assert page.count("window.vega=") == 1, "the Vega bundle is inlined exactly once"
    assert "window.vegaEmbed=" not in page and "vegaLite" not in page, "charts arrive compiled: no Vega-Lite"
    assert not re.search(r"<script[^>]+src=", page), "no external scripts"
    for cdn in ("cdn.jsdelivr", "cdnjs", "unpkg.com", "require.js", "MathJax.js", "mermaid"):
        assert cdn not in page
    assert "Analysis date <strong>2026-" in page
    for name in charts:
        for suffix in (".svg", ".png"):
            assert (built_repo / "figures" / f"{name}{suffix}").stat().st_size > 1000
    assert (built_repo / "report" / "records.json").exists()
    appendix = page[page.index('id="chapter-appendix"') :]
    assert "haircut_pct" in appendix and 'id="params-backlog"' not in page, "parameters live in the appendix"


def test_code_is_hidden_by_default(built_repo):
    page = (built_repo / "report" / "index.html").read_text()
    assert '<span class="nn">aicompute</span>' not in page


def test_second_build_executes_nothing(built_repo):
    result = run_build(built_repo, "build", "--no-progress")
    assert result.returncode == 0
    assert "up to date" in result.stdout


def test_forced_rebuild_is_byte_identical(built_repo):
    before = digest(built_repo)
    result = run_build(built_repo, "build", "--no-progress", "--force")
    assert result.returncode == 0, result.stderr[-2000:]
    assert "7 notebook(s) executed" in result.stdout
    assert digest(built_repo) == before


def test_non_default_parameters_and_scenario(work_repo):
    result = run_build(
        work_repo,
        "build",
        "--no-progress",
        "--scenario",
        "bear",
        "-p",
        "backlog.haircut_pct=50",
        "-p",
        "backlog.providers=[Microsoft, Oracle, Alphabet, Amazon, CoreWeave]",
    )
    assert result.returncode == 0, result.stderr[-3000:]
    records = json.loads((work_repo / "report" / "records.json").read_text())
    assert records["backlog.backlog_after_haircut"]["label"].startswith("Combined backlog after a 50% haircut")
    page = (work_repo / "report" / "index.html").read_text()
    assert "parameter set <strong>bear+custom</strong>" in page
    assert "CoreWeave" in page


@pytest.mark.parametrize(
    "args, message",
    [
        (["-p", "backlog.haircut_pct=abc"], "must be float"),
        (["-p", "backlog.not_a_param=1"], "declares no parameter 'not_a_param'"),
        (["--scenario", "nosuch"], "no scenario 'nosuch'"),
    ],
)
def test_bad_parameters_stop_before_running(work_repo, args, message):
    before = digest(work_repo)
    result = run_build(work_repo, "build", "--no-progress", *args)
    assert result.returncode == 2
    assert message in result.stderr and "unchanged" in result.stderr
    assert digest(work_repo) == before


def test_malformed_csv_names_file_row_and_column(work_repo):
    before = digest(work_repo)
    path = work_repo / "data" / "backlog.csv"
    original = path.read_text()
    lines = original.splitlines()
    lines[3] = lines[3].replace(",company_reported,", ",company_reported_maybe,", 1)
    lines.append("Oracle,total remaining performance obligations,FY2027 Q1,2026-08-31,not-a-number")
    path.write_text("\n".join(lines) + "\n")
    try:
        result = run_build(work_repo, "build", "--no-progress")
    finally:
        path.write_text(original)
    assert result.returncode == 2
    assert "data/backlog.csv, row 4, column 'basis'" in result.stderr
    assert "column 'value_usd_bn'" in result.stderr
    assert digest(work_repo) == before


def test_failing_cell_names_notebook_cell_and_exception(work_repo):
    before = digest(work_repo)
    path = work_repo / "notebooks" / "06_appendix.ipynb"
    original = path.read_text()
    nb = json.loads(original)
    nb["cells"].insert(
        3,
        {
            "cell_type": "code",
            "execution_count": None,
            "id": "boom",
            "metadata": {},
            "outputs": [],
            "source": "raise RuntimeError('deliberate failure')",
        },
    )
    path.write_text(json.dumps(nb))
    try:
        result = run_build(work_repo, "build", "--no-progress")
    finally:
        path.write_text(original)
    assert result.returncode == 1
    assert "notebook 'appendix'" in result.stderr and "RuntimeError: deliberate failure" in result.stderr
    assert re.search(r"failed at cell \d+, In \[\d+\]", result.stderr)
    kept = work_repo / ".build" / "failed" / "appendix.ipynb"
    assert kept.exists() and str(kept.relative_to(work_repo)) in result.stderr
    assert digest(work_repo) == before


def test_markup_in_data_reaches_the_report_as_text(work_repo):
    path = work_repo / "data" / "claims.csv"
    original = path.read_text()
    path.write_text(
        original.replace(
            "OpenAI and Anthropic supply a large share",
            "<script>alert('pwned')</script> OpenAI and Anthropic supply a large share",
            1,
        )
    )
    try:
        result = run_build(work_repo, "build", "--no-progress")
        page = (work_repo / "report" / "index.html").read_text()
    finally:
        path.write_text(original)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "&lt;script&gt;alert(&#x27;pwned&#x27;)&lt;/script&gt;" in page or "&lt;script&gt;alert(" in page
    assert "<script>alert('pwned')" not in page


def test_show_code_flag_includes_the_code(work_repo):
    result = run_build(work_repo, "build", "--no-progress", "--show-code")
    assert result.returncode == 0, result.stderr[-2000:]
    page = (work_repo / "report" / "index.html").read_text()
    assert re.search(r'<span class="nn">aicompute(\.\w+)*</span>', page)


# A money amount, a percentage, a ratio or a capacity as prose prints them (see records.fmt).
QUANTITY = re.compile(r"\$[\d,.]+(?:bn|tn)|\d[\d,.]*%|\d[\d.]*×|\d[\d.,]* GW|\d[\d.]* years")


def test_summary_prose_quotes_only_recorded_numbers(built_repo):
    """Every amount, share, ratio or capacity the summary prints is a record's value or a bound of its range."""
    page = (built_repo / "report" / "index.html").read_text()
    records = json.loads((built_repo / "report" / "records.json").read_text())
    from aicompute.analysis.records import fmt

    allowed = {fmt(item[field], item["unit"]) for item in records.values() for field in ("value", "low", "high")}
    summary = page[page.index('id="chapter-summary"') : page.index('id="chapter-backlog"')]
    # The prose and the cards (the ledger's own rule texts state thresholds, not findings).
    prose = summary[: summary.index("Claims ledger")]
    text = re.sub(r"<[^>]+>", " ", prose).replace("&amp;", "&").replace("\\$", "$")
    quoted = QUANTITY.findall(text)
    assert len(quoted) >= 20, quoted
    strays = sorted({q for q in quoted if q not in allowed})
    assert strays == [], f"numbers in the summary that are no record's value or bound: {strays}"


def test_every_source_is_listed_with_an_http_link(built_repo):
    import pandas as pd

    page = (built_repo / "report" / "index.html").read_text()
    sources = pd.read_csv(built_repo / "data" / "sources.csv")
    appendix = page[page.index('id="chapter-appendix"') :]
    for source_id in sources["source_id"]:
        assert f"<code>{source_id}</code>" in appendix
    links = re.findall(r'<td><a href="([^"]+)" rel="noopener noreferrer">', appendix)
    assert len(links) == len(sources) and all(link.startswith(("http://", "https://")) for link in links)
    assert appendix.count('href="data:text/csv;base64,') == len(list((built_repo / "data").glob("*.csv")))


def test_a_notebook_runs_top_to_bottom_outside_the_pipeline(built_repo, tmp_path):
    """A forker opens notebooks/01_backlog.ipynb and runs it as it is (no build environment)."""
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if not k.startswith("AICOMPUTE_")}
    env["AICOMPUTE_ROOT"] = str(built_repo)
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "jupyter",
            "nbconvert",
            "--to",
            "notebook",
            "--execute",
            "--output-dir",
            str(tmp_path),
            str(built_repo / "notebooks" / "01_backlog.ipynb"),
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    executed = json.loads((tmp_path / "01_backlog.ipynb").read_text())
    errors = [o for c in executed["cells"] for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert errors == []
    # Outside a build the records go where no build reads or publishes them.
    assert (built_repo / ".build" / "standalone-records" / "backlog.json").exists()


def test_fresh_build_reproduces_the_committed_report_byte_for_byte(built_repo):
    """A fresh clone's build leaves `git status` clean: same page, records and figures as committed (issue 14)."""
    from conftest import ROOT

    committed = [
        ROOT / "report" / "index.html",
        ROOT / "report" / "records.json",
        *sorted((ROOT / "figures").glob("*")),
    ]
    differ = []
    for path in committed:
        fresh = built_repo / path.relative_to(ROOT)
        if not fresh.exists() or fresh.read_bytes() != path.read_bytes():
            differ.append(str(path.relative_to(ROOT)))
    extra = sorted(
        str(p.relative_to(built_repo))
        for p in (built_repo / "figures").glob("*")
        if not (ROOT / "figures" / p.name).exists()
    )
    assert not differ and not extra, f"differ from the committed files: {differ}; not committed: {extra}"
