"""Validate every table in ``data/`` against the data dictionary (``data/datapackage.json``).

Structural rules (types, required, enums, ranges, patterns, unique and foreign keys) are declared in the Frictionless
Data Package and checked by the ``frictionless`` library; rules that span columns (a low above its high, a money
amount below zero, a fiscal label that does not match its period end) are checked here. Every error names the file,
the row (line number in the CSV, the header being line 1), the column, the value and the rule, and all errors are
reported in one run.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from aicompute import paths
from aicompute.analysis.vocabulary import FISCAL_YEAR_END_MONTH


@dataclass(frozen=True)
class DataError:
    file: str
    row: int | None
    column: str | None
    value: str | None
    rule: str

    def __str__(self) -> str:
        where = self.file
        if self.row is not None:
            where += f", row {self.row}"
        if self.column:
            where += f", column '{self.column}'"
        value = "" if self.value is None else f": value {self.value!r}"
        return f"{where}{value}: {self.rule}"


class DataValidationError(ValueError):
    """Raised when ``data/`` breaks its dictionary; carries every error found."""

    def __init__(self, errors: list[DataError]):
        self.errors = errors
        lines = "\n".join(f"  - {e}" for e in errors)
        super().__init__(f"{len(errors)} problem(s) in data/:\n{lines}")


def validate(datapackage: Path | None = None) -> list[DataError]:
    """Return every problem in the data package (empty list when the data are valid)."""
    datapackage = Path(datapackage or paths.DATAPACKAGE)
    descriptor = json.loads(datapackage.read_text(encoding="utf-8"))
    errors = _frictionless_errors(datapackage, descriptor)
    # Cross-column rules only make sense on tables that parsed; skip tables with structural errors.
    broken = {e.file for e in errors}
    for resource in descriptor["resources"]:
        file = _display_path(datapackage.parent / resource["path"])
        if file in broken:
            continue
        frame = pd.read_csv(datapackage.parent / resource["path"], dtype=str, keep_default_na=False)
        errors.extend(_cross_column_errors(file, resource, frame))
    return errors


def check(datapackage: Path | None = None) -> None:
    """Raise :class:`DataValidationError` listing every problem, or return quietly."""
    errors = validate(datapackage)
    if errors:
        raise DataValidationError(errors)


def _display_path(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(paths.ROOT))
    except ValueError:
        return str(path)


def _frictionless_errors(datapackage: Path, descriptor: dict) -> list[DataError]:
    from frictionless import Package  # imported lazily: it is the slowest import of a build

    missing = [r for r in descriptor["resources"] if not (datapackage.parent / r["path"]).exists()]
    if missing:
        return [
            DataError(_display_path(datapackage.parent / r["path"]), None, None, None, "file is missing")
            for r in missing
        ]
    package = Package(str(datapackage))
    report = package.validate()
    errors: list[DataError] = []
    for task in report.tasks:
        file = _display_path(datapackage.parent / Path(task.place).name) if task.place else task.name
        resource = next((r for r in descriptor["resources"] if r["name"] == task.name), None)
        if resource is not None:
            file = _display_path(datapackage.parent / resource["path"])
        fields = [f["name"] for f in resource["schema"]["fields"]] if resource else []
        for error in task.errors:
            errors.append(
                DataError(
                    file=file,
                    row=getattr(error, "row_number", None),
                    column=_column(error, resource),
                    value=_value(error, fields),
                    rule=_explain(error),
                )
            )
    return errors


def _column(error, resource: dict | None) -> str | None:
    """The column at fault; for key errors, the key's columns."""
    if getattr(error, "field_name", None):
        return error.field_name
    if getattr(error, "field_names", None):
        return ", ".join(error.field_names)
    if error.type == "primary-key" and resource is not None:
        return ", ".join(resource["schema"].get("primaryKey", []))
    return None


def _value(error, fields: list[str]) -> str | None:
    if getattr(error, "cell", None) is not None:
        return str(error.cell)
    cells = getattr(error, "cells", None)
    names = getattr(error, "field_names", None)
    if error.type == "primary-key":
        return None
    if cells and names and fields:
        return ", ".join(str(cells[fields.index(n)]) for n in names if n in fields and fields.index(n) < len(cells))
    return None


def _explain(error) -> str:
    note = str(error.note)
    kind = error.type
    if kind == "type-error":
        expected = note.replace("type is ", "").replace('"', "").split("/")[0]
        return f"not a valid {expected}" + (" (dates are YYYY-MM-DD)" if expected == "date" else "")
    if kind == "constraint-error":
        return _constraint(note)
    if kind == "primary-key":
        return f"duplicate key: {note}"
    if kind == "foreign-key":
        return f"unknown reference {note}"
    return f"{error.title}: {note}"


_CONSTRAINT = re.compile(r'constraint "(\w+)" is "(.*)"$')


def _constraint(note: str) -> str:
    """Frictionless says 'constraint "enum" is "[...]"'; say what the value must be instead."""
    match = _CONSTRAINT.search(note)
    if not match:
        return f"breaks the rule {note}"
    rule, bound = match.groups()
    if rule == "enum":
        return "must be one of: " + bound.strip("[]").replace("'", "")
    if rule == "pattern":
        return f"does not match the required pattern {bound}"
    if rule == "minimum":
        return f"must be at least {bound} (minimum)"
    if rule == "maximum":
        return f"must be at most {bound} (maximum)"
    if rule == "required":
        return "is required but empty"
    return f"breaks the rule {rule} = {bound}"


# ---------------------------------------------------------------------------------------------------------------------
# Cross-column rules

_FISCAL_LABEL = re.compile(r"^FY(\d{4}) Q([1-4])$")


def fiscal_quarter_end(provider: str, fiscal_label: str) -> pd.Timestamp:
    """Last day of a provider's fiscal quarter, e.g. ('Microsoft', 'FY2026 Q1') -> 2025-09-30."""
    match = _FISCAL_LABEL.match(fiscal_label)
    if not match:
        raise ValueError(f"fiscal label {fiscal_label!r} is not of the form 'FY2026 Q1'")
    year, quarter = int(match.group(1)), int(match.group(2))
    end_month = FISCAL_YEAR_END_MONTH[provider]
    # Fiscal year FY{year} ends in end_month of calendar `year`.
    months_before_year_end = 3 * (4 - quarter)
    month_index = year * 12 + (end_month - 1) - months_before_year_end
    return pd.Timestamp(year=month_index // 12, month=month_index % 12 + 1, day=1) + pd.offsets.MonthEnd(0)


def _pairs(columns: Iterable[str]) -> list[tuple[str, str]]:
    """(low, high) column pairs such as value_low/value_high or share_low_pct/share_high_pct."""
    columns = list(columns)
    pairs = []
    for low in columns:
        if "_low" in low:
            high = low.replace("_low", "_high")
            if high in columns:
                pairs.append((low, high))
    return pairs


def _number(text: str) -> float | None:
    try:
        return float(text) if text != "" else None
    except ValueError:
        return None


def _cross_column_errors(file: str, resource: dict, frame: pd.DataFrame) -> list[DataError]:
    errors: list[DataError] = []
    for index, row in frame.iterrows():
        line = int(index) + 2  # header is line 1
        for low, high in _pairs(frame.columns):
            lo, hi = _number(row[low]), _number(row[high])
            if lo is not None and hi is not None and lo > hi:
                errors.append(DataError(file, line, low, row[low], f"is above '{high}' ({row[high]})"))
        if "value" in frame.columns and "value_low" in frame.columns:
            value, lo, hi = _number(row["value"]), _number(row["value_low"]), _number(row["value_high"])
            if value is not None and lo is not None and value < lo:
                errors.append(DataError(file, line, "value", row["value"], "is below 'value_low'"))
            if value is not None and hi is not None and value > hi:
                errors.append(DataError(file, line, "value", row["value"], "is above 'value_high'"))
        if "unit" in frame.columns:
            for column in [c for c in ("value", "value_low", "value_high") if c in frame.columns]:
                number = _number(row[column])
                if number is None:
                    continue
                if row["unit"].startswith("usd") and number < 0:
                    errors.append(DataError(file, line, column, row[column], "money cannot be negative"))
                if row["unit"] == "pct" and number > 100:
                    errors.append(DataError(file, line, column, row[column], "a percentage cannot exceed 100"))
        if {"provider", "fiscal_label", "period_end"} <= set(frame.columns):
            errors.extend(_fiscal_period_errors(file, line, row))
    return errors


def _fiscal_period_errors(file: str, line: int, row: pd.Series) -> list[DataError]:
    provider = row["provider"]
    if provider not in FISCAL_YEAR_END_MONTH or not _FISCAL_LABEL.match(row["fiscal_label"]):
        return []
    expected = fiscal_quarter_end(provider, row["fiscal_label"])
    actual = pd.Timestamp(row["period_end"])
    if actual != expected:
        return [
            DataError(
                file,
                line,
                "period_end",
                row["period_end"],
                f"{provider}'s {row['fiscal_label']} ends on {expected.date()}, not on this date",
            )
        ]
    return []
