"""Clearly wrong data is stopped with one clear error per problem (issue 14): file, row, right column, value, rule."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from test_validate import edit

from aicompute import paths
from aicompute.build.validate import validate


@pytest.fixture
def data_copy(tmp_path) -> Path:
    target = tmp_path / "data"
    shutil.copytree(paths.DATA, target)
    return target


def errors_for(data: Path) -> list[str]:
    """Every error, with the copy's location shown as data/ (as for the real folder)."""
    return [str(e).replace(f"{data.parent}/", "") for e in validate(data / "datapackage.json")]


def drop_column(path: Path, column: str) -> None:
    import csv

    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    index = rows[0].index(column)
    with open(path, "w", newline="", encoding="utf-8") as fh:
        csv.writer(fh, lineterminator="\n").writerows([r[:index] + r[index + 1 :] for r in rows])


@pytest.mark.parametrize("value", ["inf", "-inf", "Infinity", "nan", "NaN", "1e999"])
def test_non_finite_money_is_one_clear_error(data_copy, value):
    edit(data_copy, "backlog", 0, "value_usd_bn", value)
    errors = errors_for(data_copy)
    assert errors == [
        f"data/backlog.csv, row 2, column 'value_usd_bn': value '{value}': must be a finite number "
        "(inf, nan and overflowing values are not allowed)"
    ], errors


def test_nan_in_lab_financials_is_not_reported_as_below_minimum(data_copy):
    edit(data_copy, "lab_financials", 3, "value", "nan")
    errors = errors_for(data_copy)
    assert len(errors) == 1 and "lab_financials.csv, row 5, column 'value'" in errors[0] and "finite" in errors[0]
    assert "at least" not in errors[0]


def test_misspelled_provider_in_attribution_says_did_you_mean(data_copy):
    edit(data_copy, "backlog_attribution", 0, "provider", "Microsfot")
    errors = errors_for(data_copy)
    assert len(errors) == 1, errors
    assert "backlog_attribution.csv, row 2, column 'provider': value 'Microsfot'" in errors[0]
    assert "did you mean 'Microsoft'?" in errors[0]
    assert "add the row 'Microsfot,provider,' to data/entities.csv" in errors[0]


def test_misspelled_name_inside_a_joined_list_is_caught(data_copy):
    edit(data_copy, "backlog_attribution", 0, "provider", "Microsoft+Oracel")
    errors = errors_for(data_copy)
    assert len(errors) == 1 and "'Microsoft+Oracel'" in errors[0] and "did you mean 'Oracle'?" in errors[0]


def test_lab_in_a_provider_column_names_the_kind(data_copy):
    edit(data_copy, "backlog", 0, "provider", "OpenAI")
    errors = errors_for(data_copy)
    assert any("backlog.csv, row 2, column 'provider'" in e and "'OpenAI' is a lab" in e for e in errors), errors


def test_new_company_passes_once_added_to_entities(data_copy):
    edit(data_copy, "revenue", 0, "company", "Nebius")
    assert any("unknown provider, lab or company 'Nebius'" in e for e in errors_for(data_copy))
    with open(data_copy / "entities.csv", "a", encoding="utf-8") as fh:
        fh.write("Nebius,company,\n")
    assert errors_for(data_copy) == []


@pytest.mark.parametrize("table", ["claims", "equity_investments"])
def test_header_only_table_the_report_needs_is_an_error(data_copy, table):
    path = data_copy / f"{table}.csv"
    path.write_text(path.read_text(encoding="utf-8").splitlines()[0] + "\n", encoding="utf-8")
    assert errors_for(data_copy) == [
        f"data/{table}.csv: has no rows; the report needs this table (only its header is there)"
    ]


def test_corrections_may_be_empty(data_copy):
    path = data_copy / "corrections.csv"
    path.write_text(path.read_text(encoding="utf-8").splitlines()[0] + "\n", encoding="utf-8")
    assert errors_for(data_copy) == []


def test_missing_column_is_named_once_without_shifted_value_errors(data_copy):
    drop_column(data_copy / "backlog.csv", "fiscal_label")
    errors = errors_for(data_copy)
    assert len(errors) == 1, errors
    assert errors[0].startswith("data/backlog.csv, row 1, column 'fiscal_label': column is missing")


def test_extra_column_is_named(data_copy):
    path = data_copy / "capex.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    path.write_text("\n".join([lines[0] + ",comment"] + [line + "," for line in lines[1:]]) + "\n", encoding="utf-8")
    errors = errors_for(data_copy)
    assert errors == [
        "data/capex.csv, row 1, column 'comment': extra column, not declared in datapackage.json "
        "(remove it or declare it)"
    ], errors


def test_entities_agree_with_the_vocabulary():
    from aicompute.analysis.data import load
    from aicompute.analysis.vocabulary import FISCAL_YEAR_END_MONTH, LABS, PROVIDERS

    entities = load("entities")
    kind = dict(zip(entities["name"], entities["kind"], strict=True))
    assert all(kind[p] == "provider" for p in PROVIDERS) and all(kind[lab] == "lab" for lab in LABS)
    months = {r.name: int(r.fiscal_year_end_month) for r in entities.itertuples() if r.kind == "provider"}
    assert months == FISCAL_YEAR_END_MONTH
