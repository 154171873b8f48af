"""The validator on the real data, and on the bad inputs a re-runner will really make."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest

from aicompute import paths
from aicompute.build.validate import DataValidationError, check, fiscal_quarter_end, validate


@pytest.fixture
def data_copy(tmp_path) -> Path:
    target = tmp_path / "data"
    shutil.copytree(paths.DATA, target)
    return target


def edit(data: Path, table: str, row: int, column: str, value: str) -> None:
    """Set one cell: ``row`` counts data rows from 0 (file line row + 2)."""
    path = data / f"{table}.csv"
    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
        fields = list(rows[0].keys())
    rows[row][column] = value
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=fields, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def errors_for(data: Path) -> list[str]:
    return [str(e) for e in validate(data / "datapackage.json")]


def test_real_data_is_valid():
    assert validate() == []


@pytest.mark.parametrize(
    "table, column, value, expected",
    [
        ("backlog", "source_id", "no-such-source", "unknown reference"),
        ("backlog", "source_id", "", "is required but empty"),
        ("backlog", "value_usd_bn", "lots", "not a valid number"),
        ("backlog", "value_usd_bn", "-5", "must be at least 0"),
        ("backlog_attribution", "share_low_pct", "140", "must be at most 100"),
        ("backlog", "period_end", "2025-02-30", "not a valid date"),
        ("backlog", "period_end", "31/03/2025", "not a valid date"),
        ("backlog", "fiscal_label", "FY2025 Q5", "pattern"),
        ("sources", "url", "ftp://example.com/file", "pattern"),
        ("sources", "url", "javascript:alert(1)", "pattern"),
        ("backlog", "basis", "rumour", "must be one of: company_reported"),
    ],
)
def test_bad_cell_is_named_by_file_row_and_column(data_copy, table, column, value, expected):
    edit(data_copy, table, 2, column, value)
    errors = errors_for(data_copy)
    matching = [e for e in errors if f"data/{table}.csv" in e or f"{table}.csv" in e]
    assert matching, errors
    # Row 2 of the data is line 4 of the file (the header is line 1).
    assert any("row 4" in e and f"'{column}'" in e and expected in e for e in matching), matching


def test_duplicate_key_is_reported(data_copy):
    rows = (data_copy / "sources.csv").read_text(encoding="utf-8").splitlines()
    (data_copy / "sources.csv").write_text("\n".join([*rows, rows[1]]) + "\n", encoding="utf-8")
    errors = errors_for(data_copy)
    assert any("sources.csv" in e and "duplicate key" in e for e in errors), errors


def test_fiscal_label_must_match_period_end(data_copy):
    # Microsoft's fiscal Q1 ends in September, so a June date is a period that does not exist for that label.
    path = data_copy / "backlog.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    index = next(i for i, line in enumerate(lines) if line.startswith("Microsoft,") and "FY2026 Q1" in line)
    lines[index] = lines[index].replace("2025-09-30", "2025-06-30")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    errors = errors_for(data_copy)
    assert any(f"row {index + 1}" in e and "'period_end'" in e and "ends on 2025-09-30" in e for e in errors), errors


def test_low_above_high_and_money_below_zero_across_columns(data_copy):
    edit(data_copy, "lab_financials", 0, "value_low", "9")
    edit(data_copy, "lab_financials", 0, "value_high", "3")
    errors = errors_for(data_copy)
    assert any("lab_financials.csv, row 2, column 'value_low'" in e and "above 'value_high'" in e for e in errors)


def test_every_error_is_reported_in_one_run(data_copy):
    edit(data_copy, "backlog", 0, "value_usd_bn", "abc")
    edit(data_copy, "sources", 1, "url", "not-a-url")
    edit(data_copy, "capex", 3, "kind", "maybe")
    errors = errors_for(data_copy)
    assert len(errors) >= 3
    assert {"backlog.csv", "sources.csv", "capex.csv"} <= {e.split(",")[0].split("/")[-1] for e in errors}


def test_check_raises_with_all_errors_listed(data_copy):
    edit(data_copy, "backlog", 0, "value_usd_bn", "abc")
    with pytest.raises(DataValidationError) as info:
        check(data_copy / "datapackage.json")
    assert "backlog.csv, row 2, column 'value_usd_bn'" in str(info.value)


def test_missing_file_is_an_error(data_copy):
    (data_copy / "capex.csv").unlink()
    assert any("capex.csv" in e and "missing" in e for e in errors_for(data_copy))


@pytest.mark.parametrize(
    "provider, label, expected",
    [
        ("Microsoft", "FY2026 Q1", "2025-09-30"),  # Microsoft's year ends in June
        ("Microsoft", "FY2026 Q4", "2026-06-30"),
        ("Oracle", "FY2026 Q1", "2025-08-31"),  # Oracle's year ends in May
        ("Oracle", "FY2026 Q3", "2026-02-28"),
        ("Alphabet", "FY2025 Q4", "2025-12-31"),
        ("Amazon", "FY2024 Q1", "2024-03-31"),
    ],
)
def test_fiscal_quarter_end_hand_worked(provider, label, expected):
    assert str(fiscal_quarter_end(provider, label).date()) == expected
