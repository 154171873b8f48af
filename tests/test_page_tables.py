"""Readable tables: plain-English headers with units, words for missing values and flags, source links, no empty
tables, long tables collapsed."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from aicompute.present.display import cell_text, column_label, table_html


def cells(page: str) -> list[str]:
    return [re.sub(r"<[^>]+>", "", c) for c in re.findall(r"<td[^>]*>(.*?)</td>", page)]


def headers(page: str) -> list[str]:
    return re.findall(r"<th scope='col'>(.*?)</th>", page)


def test_headers_are_plain_english_with_units():
    assert column_label("value_usd_bn") == "Value ($bn)"
    assert column_label("share_pct") == "Share (%)"
    assert column_label("period_end") == "Quarter end"
    assert column_label("source_id") == "Source" and column_label("sources") == "Source"
    assert column_label("amount_low_usd_bn") == "Amount low ($bn)"
    assert column_label("payments_to_revenue_pct") == "Payments to revenue (%)"
    assert column_label("n_estimates") == "Number of estimates"
    assert column_label("lab", {"lab": "Model company"}) == "Model company"


def test_cells_in_words_rounded_with_units():
    assert cell_text(pd.NA) == cell_text(None) == cell_text(np.nan) == cell_text(pd.NaT) == "not disclosed"
    assert cell_text("<NA>") == cell_text("None") == cell_text("nan") == "not disclosed"
    assert cell_text(True) == "yes" and cell_text(np.bool_(False)) == "no" and cell_text("False") == "no"
    assert cell_text(pd.Timestamp("2026-03-31 00:00")) == "2026-03-31"
    assert cell_text(44.175, "usd_bn") == "$44.2bn"
    assert cell_text(-3.25, "usd_bn") == "-$3.2bn"  # 3.25 rounds half to even
    assert cell_text(1234.4, "usd_bn") == "$1,234bn"
    assert cell_text(38.0, "pct") == "38%"
    assert cell_text(4.52744765139) == "4.5"
    assert cell_text(0.4567) == "0.46"
    assert cell_text(7) == "7"


def test_a_three_row_table_reads_as_worked_by_hand():
    frame = pd.DataFrame(
        {
            "provider": ["Oracle", "Microsoft", "Amazon"],
            "value_usd_bn": [455.0, 392.4, np.nan],
            "share_pct": [62.5, pd.NA, 10.0],
            "disclosed": [True, False, True],
            "period_end": pd.to_datetime(["2025-08-31", "2025-09-30", None]),
            "sources": ["src-a, src-b", "src-c", None],
        }
    )
    page = table_html(frame, caption="Latest backlog", known_sources={"src-a", "src-b"})
    assert headers(page) == ["Provider", "Value ($bn)", "Share (%)", "Disclosed", "Quarter end", "Source"]
    assert cells(page) == [
        "Oracle", "$455bn", "62.5%", "yes", "2025-08-31", "src-a, src-b",
        "Microsoft", "$392bn", "not disclosed", "no", "2025-09-30", "src-c",
        "Amazon", "not disclosed", "10%", "yes", "not disclosed", "not disclosed",
    ]  # fmt: skip
    # Known ids link to their row in the appendix's source list; an unknown one stays plain text.
    assert re.findall(r'href="#(source-[^"]+)"', page) == ["source-src-a", "source-src-b"]
    assert '<details class="table-block"><summary>' in page and "Latest backlog" in page and "3 rows" in page


def test_formats_win_and_values_are_escaped():
    frame = pd.DataFrame({"ratio": [1.234, None], "note": ["<script>x</script>", "ok"]})
    page = table_html(frame, formats={"ratio": "{:.2f}×"}, known_sources=set())
    assert cells(page)[:2] == ["1.23×", "&lt;script&gt;x&lt;/script&gt;"] and cells(page)[2] == "not disclosed"


def test_open_tables_open_unless_long_and_long_tables_scroll():
    short = table_html(pd.DataFrame({"x": [1, 2]}), open=True, known_sources=set())
    assert '<details class="table-block" open>' in short
    long = table_html(pd.DataFrame({"x": range(26)}), open=True, known_sources=set())
    assert '<details class="table-block">' in long and "table-long" in long and "26 rows" in long
    cut = table_html(pd.DataFrame({"x": range(30)}), max_rows=10, known_sources=set())
    assert "first 10 of 30 rows" in cut and len(cells(cut)) == 10


def test_an_empty_table_is_a_sentence():
    page = table_html(pd.DataFrame({"x": []}), caption="Edges left out, by status", known_sources=set())
    assert page == '<p class="table-empty">No rows for edges left out, by status.</p>'
    assert "<table" not in page


@pytest.mark.parametrize("bad", ["value", 3])
def test_a_table_needs_a_data_frame(bad):
    with pytest.raises(TypeError, match="a pandas DataFrame"):
        table_html(bad, known_sources=set())


def test_categories_spelt_as_identifiers_read_as_words():
    frame = pd.DataFrame({"basis": ["company_reported, press_reported"], "parameter": ["haircut_pct"]})
    assert cells(table_html(frame, known_sources=set())) == ["company reported, press reported", "haircut_pct"]
