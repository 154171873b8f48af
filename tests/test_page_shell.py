"""The page shell: chart labels and captions from the specs, chapter titles from the notebooks' headings, the bottom
line first, the analysis date, every chapter's parameters handed to the appendix and listed beside their defaults."""

from __future__ import annotations

import pytest

from aicompute.build import render
from aicompute.build.run import hand_upstream_parameters
from aicompute.manifest import Manifest, NotebookSpec
from aicompute.present import appendix
from aicompute.present.output import MIMETYPE


def spec(title=None, **children) -> dict:
    out = {"mark": "bar", **children}
    if title is not None:
        out["title"] = title
    return out


def test_chart_label_is_title_and_subtitle_and_caption_is_the_source_line():
    chart = spec(
        {
            "text": "Labs hold 45% of the backlog",
            "subtitle": ["Latest quarters.", "Source: SEC filings · as of 2026-06-30"],
        }
    )
    assert render.chart_label(chart, "snapshot") == (
        "Labs hold 45% of the backlog Latest quarters. Source: SEC filings · as of 2026-06-30"
    )
    assert render.chart_caption(render.chart_title(chart)[1]) == "Source: SEC filings · as of 2026-06-30"
    # A source named mid-sentence: the caption starts at "Source"; no source line: the last subtitle line.
    assert render.chart_caption(["Reported backlog (USD bn). Sources: company filings."]) == "Sources: company filings."
    assert render.chart_caption(["First line", "Second line"]) == "Second line"
    assert render.chart_caption([]) == ""


def test_chart_title_is_found_in_layers_and_a_chart_without_one_is_named():
    layered = spec(layer=[spec(), spec("Inner title")])
    assert render.chart_title(layered) == ("Inner title", [])
    assert render.chart_label(spec(), "deal-graph") == "Chart: deal graph"
    assert render.chart_label(spec(description="A described chart"), "x") == "A described chart"


def notebook(*cells: dict) -> dict:
    return {"cells": list(cells), "metadata": {}, "nbformat": 4, "nbformat_minor": 5}


def markdown(text: str) -> dict:
    return {"cell_type": "markdown", "metadata": {}, "source": text}


def code(html_output: str = "", chart: dict | None = None, tags: list[str] | None = None) -> dict:
    outputs = []
    if html_output:
        outputs.append({"output_type": "display_data", "data": {"text/html": html_output}, "metadata": {}})
    if chart is not None:
        outputs.append(
            {"output_type": "display_data", "data": {MIMETYPE: chart}, "metadata": {MIMETYPE: {"name": "c1"}}}
        )
    return {"cell_type": "code", "metadata": {"tags": tags or []}, "source": "x", "outputs": outputs}


def small_manifest() -> Manifest:
    specs = [NotebookSpec("summary", None, "Summary (manifest)"), NotebookSpec("backlog", None, "Backlog (manifest)")]
    return Manifest("T", "S", specs, ["summary", "backlog"], {"as_of": "2026-06-30"})


def test_chapter_titles_come_from_the_notebooks_headings():
    executed = {
        "summary": notebook(code(tags=["parameters"]), markdown("Intro\n\n# The *summary*\n\n## Key numbers")),
        "backlog": notebook(markdown("## Only a sub-heading")),
    }
    assert render.navigation(small_manifest(), executed) == [
        {"href": "#chapter-summary", "text": "The summary"},
        {"href": "#chapter-backlog", "text": "Backlog (manifest)"},
    ]


def test_the_bottom_line_moves_under_the_header_and_charts_get_labels():
    chart = spec({"text": "Title", "subtitle": "Source: X"})
    executed = {
        "summary": notebook(
            markdown("# Summary"),
            code(tags=["parameters"]),
            code('<div class="bottom-line"><p class="verdict-tally">6 supported</p></div>'),
        ),
        "backlog": notebook(markdown("# Backlog"), code(chart=chart)),
    }
    merged = render.merged_notebook(small_manifest(), executed)
    ids = [c["id"] for c in merged["cells"]]
    # The parameters cell is hidden; the bottom line (third cell of the summary, index 1 once hidden) comes first.
    assert ids == ["summary-1", "summary-anchor", "summary-0", "backlog-anchor", "backlog-0", "backlog-1"]
    meta = merged["cells"][-1]["outputs"][0]["metadata"][MIMETYPE]
    assert meta == {"name": "c1", "anchor": "chart-backlog--c1", "label": "Title Source: X", "caption": "Source: X"}
    assert not any("Parameters this chapter ran with" in str(c["source"]) for c in merged["cells"])


def test_analysis_date_is_the_report_level_as_of_the_chapters_ran_with():
    manifest = small_manifest()
    assert render.analysis_date(manifest, {"summary": {}, "backlog": {"as_of": "2026-03-31"}}) == "2026-03-31"
    assert render.analysis_date(manifest, {"a": {"as_of": "2026-03-31"}, "b": {"as_of": "2025-12-31"}}) == (
        "2025-12-31 / 2026-03-31"
    )
    assert render.analysis_date(manifest, {"summary": {}}) == "2026-06-30"


def test_a_notebook_declaring_chapter_params_without_dependencies_gets_every_other_notebooks(monkeypatch):
    declares = {"summary": {"chapter_params"}, "appendix": {"chapter_params"}, "backlog": {"as_of"}}
    monkeypatch.setattr("aicompute.build.run.declared_parameters", lambda path: declares[path])
    specs = [
        NotebookSpec("backlog", "backlog", "B"),
        NotebookSpec("summary", "summary", "S", depends_on=["backlog"]),
        NotebookSpec("appendix", "appendix", "A"),
    ]
    manifest = Manifest("T", "S", specs, ["summary", "backlog", "appendix"])
    parameters = {"backlog": {"as_of": "2026-06-30"}, "summary": {"scenario": "bear"}, "appendix": {}}
    hand_upstream_parameters(manifest, parameters)
    assert parameters["summary"]["chapter_params"] == {"backlog": {"as_of": "2026-06-30"}}
    # The appendix sees the summary's own parameters, not the summary's hand-over copy.
    assert parameters["appendix"]["chapter_params"] == {
        "backlog": {"as_of": "2026-06-30"},
        "summary": {"scenario": "bear"},
    }


def test_the_appendix_lists_each_parameter_used_beside_its_declared_default():
    frame = appendix.parameter_frame({"backlog": {"as_of": "2026-06-30", "haircut_pct": 25.0}})
    backlog = frame[frame["parameter"].isin(["haircut_pct", "providers", "include_undated"])].set_index("parameter")
    assert backlog.loc["haircut_pct", ["value used", "default", "changed"]].tolist() == ["25", "0", True]
    assert backlog.loc["providers", "value used"] == "Microsoft, Oracle, Alphabet, Amazon"
    assert backlog.loc["include_undated", ["value used", "changed"]].tolist() == ["no", False]
    assert "chapter_params" not in set(frame["parameter"]) and "Appendix" not in set(frame["chapter"])
    assert list(frame["chapter"].unique()) == ["Summary", "Backlog", "Circular", "Passthrough", "Absorption", "Quality"]
    absorption = frame[frame["parameter"] == "gw"].iloc[0]
    assert absorption["value used"] == "from the data" and absorption["explanation"].startswith("Override the capacity")


@pytest.mark.parametrize(
    "value,text", [(None, "from the data"), (True, "yes"), ([], "none"), (5.0, "5"), ("net", "net")]
)
def test_parameter_values_read_as_words(value, text):
    assert appendix.parameter_text(value) == text


def test_parameter_explanations_name_python_values_in_words():
    assert appendix.explanation_text("Override the capacity (None: the estimate's value); False drops them.") == (
        "Override the capacity (not set: the estimate's value); no drops them."
    )
