"""Validate every table in ``data/`` against the data dictionary (``data/datapackage.json``).

Structural rules (types, required, enums, ranges, patterns, unique and foreign keys) are declared in the Frictionless
Data Package and checked by the ``frictionless`` library; rules that span columns (a low above its high, a money
amount below zero, a fiscal label that does not match its period end) are checked here, and so are the rules the
report needs beyond the dictionary: the header lists exactly the declared columns, numbers are finite, every table
the report reads has rows, and every provider, lab and company name is listed in ``entities.csv`` (one list, with
"did you mean ...?"). Every error names the file, the row (line number in the CSV, the header being line 1), the
column, the value and the rule, once: a table whose header is wrong is reported as such and not checked cell by cell
(which would only repeat the same mistake as shifted values).
"""

from __future__ import annotations

import csv
import difflib
import json
import math
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


# Tables that may legitimately have no rows (no correction has been published yet); every other table must have rows.
MAY_BE_EMPTY = frozenset({"corrections"})

# Columns holding names of entities, checked against entities.csv: table -> column -> kinds allowed (None: any kind).
# Names joined with '+' (several providers or labs counted together) are checked one by one. Free-text columns that
# describe groups ("Investor group (Thrive-led; ...)", "Customer A") are not checked: compute_deals.buyer/seller,
# equity_investments.investor, customer_concentration.customer, application_layer.company/counterpart.
ENTITY_COLUMNS: dict[str, dict[str, tuple[str, ...] | None]] = {
    "backlog": {"provider": ("provider",)},
    "backlog_attribution": {"provider": ("provider",), "lab": ("lab",)},
    "equity_investments": {"lab": ("lab",)},
    "lab_financials": {"lab": ("lab",)},
    "revenue": {"company": None},
    "capex": {"company": None},
    "customer_concentration": {"company": None},
}
ENTITIES = "entities"

_NOT_FINITE = {"inf", "+inf", "-inf", "infinity", "+infinity", "-infinity", "nan", "+nan", "-nan"}


def validate(datapackage: Path | None = None) -> list[DataError]:
    """Return every problem in the data package (empty list when the data are valid), each cell's once."""
    datapackage = Path(datapackage or paths.DATAPACKAGE)
    descriptor = json.loads(datapackage.read_text(encoding="utf-8"))
    base = datapackage.parent
    errors: list[DataError] = []
    readable: list[dict] = []
    for resource in descriptor["resources"]:
        problems = _header_errors(base, resource)
        errors.extend(problems)
        if not problems:
            readable.append(resource)
    errors.extend(_non_finite_errors(base, readable))
    errors.extend(_frictionless_errors(datapackage, {**descriptor, "resources": readable}))
    # Rules across columns and tables only make sense on tables that parsed; skip tables with structural errors.
    broken = {e.file for e in errors}
    entities = _entities(base, descriptor, broken)
    for resource in readable:
        file = _display_path(base / resource["path"])
        if file in broken:
            continue
        frame = pd.read_csv(base / resource["path"], dtype=str, keep_default_na=False)
        errors.extend(_empty_table_errors(file, resource, frame))
        errors.extend(_cross_column_errors(file, resource, frame, _fiscal_months(entities)))
        if entities is not None:
            errors.extend(_entity_errors(file, resource, frame, entities))
    return _once_per_cell(errors)


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


def _once_per_cell(errors: list[DataError]) -> list[DataError]:
    """The first error of each cell only: a NaN is 'not finite', not also 'below the minimum'."""
    seen: set[tuple] = set()
    kept = []
    for error in errors:
        key = (error.file, error.row, error.column) if error.row is not None and error.column else id(error)
        if key not in seen:
            seen.add(key)
            kept.append(error)
    return kept


def _header(path: Path) -> list[str] | None:
    with open(path, newline="", encoding="utf-8") as fh:
        return next(csv.reader(fh), None)


def _header_errors(base: Path, resource: dict) -> list[DataError]:
    """A missing file, a missing, extra or misplaced column: one error each, named by the column itself."""
    path = base / resource["path"]
    file = _display_path(path)
    if not path.exists():
        return [DataError(file, None, None, None, "file is missing")]
    try:
        header = _header(path)
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        return [DataError(file, None, None, None, f"cannot be read as UTF-8 CSV ({exc})")]
    declared = [f["name"] for f in resource["schema"]["fields"]]
    if not header:
        return [DataError(file, 1, None, None, f"has no header; it must be: {','.join(declared)}")]
    errors = [
        DataError(
            file, 1, name, None, f"column is missing (declared in datapackage.json; header: {','.join(declared)})"
        )
        for name in declared
        if name not in header
    ]
    errors += [
        DataError(file, 1, name, None, "extra column, not declared in datapackage.json (remove it or declare it)")
        for name in header
        if name not in declared
    ]
    errors += [
        DataError(file, 1, name, None, "column appears twice") for name in sorted(set(header)) if header.count(name) > 1
    ]
    if not errors and header != declared:
        errors.append(
            DataError(file, 1, None, None, f"columns are out of order; the header must be: {','.join(declared)}")
        )
    return errors


def _non_finite_errors(base: Path, resources: list[dict]) -> list[DataError]:
    """Numbers must be finite: 'inf', 'nan' or an overflowing 1e999 would pass as numbers and poison every sum."""
    errors = []
    for resource in resources:
        numeric = [f["name"] for f in resource["schema"]["fields"] if f.get("type") in {"number", "integer"}]
        if not numeric:
            continue
        path = base / resource["path"]
        with open(path, newline="", encoding="utf-8") as fh:
            for line, row in enumerate(csv.DictReader(fh), start=2):
                for column in numeric:
                    text = (row.get(column) or "").strip()
                    if text and not _finite(text):
                        rule = "must be a finite number (inf, nan and overflowing values are not allowed)"
                        errors.append(DataError(_display_path(path), line, column, text, rule))
    return errors


def _finite(text: str) -> bool:
    if text.lower() in _NOT_FINITE:
        return False
    try:
        return math.isfinite(float(text))
    except ValueError:
        return True  # not a number at all: the type check reports it


def _empty_table_errors(file: str, resource: dict, frame: pd.DataFrame) -> list[DataError]:
    if frame.empty and resource["name"] not in MAY_BE_EMPTY:
        return [
            DataError(file, None, None, None, "has no rows; the report needs this table (only its header is there)")
        ]
    return []


def _entities(base: Path, descriptor: dict, broken: set[str]) -> pd.DataFrame | None:
    """The entity list, or None when the package has none (or it is broken: its own errors are reported)."""
    resource = next((r for r in descriptor["resources"] if r["name"] == ENTITIES), None)
    if resource is None or _display_path(base / resource["path"]) in broken:
        return None
    return pd.read_csv(base / resource["path"], dtype=str, keep_default_na=False)


def _fiscal_months(entities: pd.DataFrame | None) -> dict[str, int]:
    if entities is None or "fiscal_year_end_month" not in entities.columns:
        return dict(FISCAL_YEAR_END_MONTH)
    return {r["name"]: int(r["fiscal_year_end_month"]) for _, r in entities.iterrows() if r["fiscal_year_end_month"]}


def _entity_errors(file: str, resource: dict, frame: pd.DataFrame, entities: pd.DataFrame) -> list[DataError]:
    kinds = dict(zip(entities["name"], entities["kind"], strict=True))
    errors = []
    for column, allowed in ENTITY_COLUMNS.get(resource["name"], {}).items():
        if column not in frame.columns:
            continue
        for index, value in frame[column].items():
            for name in [part.strip() for part in value.split("+")] if value else []:
                rule = _entity_rule(name, allowed, kinds)
                if rule:
                    errors.append(DataError(file, int(index) + 2, column, value, rule))
                    break
    return errors


def _entity_rule(name: str, allowed: tuple[str, ...] | None, kinds: dict[str, str]) -> str | None:
    """Why ``name`` is not an acceptable entity in this column, or None."""
    wanted = " or ".join(allowed) if allowed else "provider, lab or company"
    if name in kinds:
        if allowed and kinds[name] not in allowed:
            return f"'{name}' is a {kinds[name]} in data/entities.csv; this column takes a {wanted}"
        return None
    candidates = [n for n, k in kinds.items() if not allowed or k in allowed] or list(kinds)
    close = difflib.get_close_matches(name, candidates, n=1, cutoff=0.6) or [
        n for n in candidates if n.lower() == name.lower()
    ]
    hint = f"did you mean '{close[0]}'? " if close else ""
    kind = allowed[0] if allowed else "company"
    return (
        f"unknown {wanted} '{name}': {hint}Every name must be listed in data/entities.csv. If it is a new one, "
        f"add the row '{name},{kind},' to data/entities.csv (columns name,kind,fiscal_year_end_month; kind is "
        "provider, lab or company; a provider also needs the month its fiscal year ends)."
    )


def _frictionless_errors(datapackage: Path, descriptor: dict) -> list[DataError]:
    from frictionless import Package  # imported lazily: it is the slowest import of a build

    if not descriptor["resources"]:
        return []
    names = {r["name"] for r in descriptor["resources"]}
    resources = []
    for resource in descriptor["resources"]:
        # A foreign key into a table left out (its header is wrong) cannot be checked; that table's error says why.
        keys = [k for k in resource["schema"].get("foreignKeys", []) if k["reference"].get("resource", "") in names]
        resources.append({**resource, "schema": {**resource["schema"], "foreignKeys": keys}})
    package = Package({**descriptor, "resources": resources}, basepath=str(datapackage.parent))
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
                    rule=_explain(error, resource),
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


def _explain(error, resource: dict | None = None) -> str:
    """What the value must be, from the data dictionary itself (never from the wording of the library's message)."""
    kind = error.type
    field = _field(resource, getattr(error, "field_name", None))
    if kind == "type-error":
        expected = (field or {}).get("type", "value")
        return f"not a valid {expected}" + (" (dates are YYYY-MM-DD)" if expected == "date" else "")
    if kind == "constraint-error" and field is not None:
        return broken_constraint(field, getattr(error, "cell", None))
    if kind == "primary-key":
        return f"duplicate key: {error.note}"
    if kind == "foreign-key":
        return f"unknown reference {error.note}"
    return f"{error.title}: {error.note}"


def _field(resource: dict | None, name: str | None) -> dict | None:
    if resource is None or name is None:
        return None
    return next((f for f in resource["schema"]["fields"] if f["name"] == name), None)


def broken_constraint(field: dict, cell: object) -> str:
    """The first of the field's declared constraints that ``cell`` breaks, said as what the value must be."""
    constraints = field.get("constraints", {})
    text = "" if cell is None else str(cell)
    if constraints.get("required") and text == "":
        return "is required but empty"
    if "enum" in constraints and text not in [str(v) for v in constraints["enum"]]:
        return "must be one of: " + ", ".join(str(v) for v in constraints["enum"])
    if "pattern" in constraints and not re.fullmatch(constraints["pattern"], text):
        return f"does not match the required pattern {constraints['pattern']}"
    number = _number(text)
    if number is not None and "minimum" in constraints and number < constraints["minimum"]:
        return f"must be at least {constraints['minimum']} (minimum)"
    if number is not None and "maximum" in constraints and number > constraints["maximum"]:
        return f"must be at most {constraints['maximum']} (maximum)"
    return "breaks a constraint of " + ", ".join(f"{k} = {v}" for k, v in constraints.items())


# ---------------------------------------------------------------------------------------------------------------------
# Cross-column rules

_FISCAL_LABEL = re.compile(r"^FY(\d{4}) Q([1-4])$")


def fiscal_quarter_end(provider: str, fiscal_label: str, months: dict[str, int] | None = None) -> pd.Timestamp:
    """Last day of a provider's fiscal quarter, e.g. ('Microsoft', 'FY2026 Q1') -> 2025-09-30."""
    match = _FISCAL_LABEL.match(fiscal_label)
    if not match:
        raise ValueError(f"fiscal label {fiscal_label!r} is not of the form 'FY2026 Q1'")
    end_month = (months or FISCAL_YEAR_END_MONTH)[provider]
    # A pandas fiscal-quarter period: 'Q-JUN' years end in June and are named by the calendar year they end in.
    anchor = pd.Timestamp(year=2000, month=end_month, day=1).strftime("%b").upper()
    period = pd.Period(f"{match.group(1)}Q{match.group(2)}", freq=f"Q-{anchor}")
    return period.end_time.normalize()


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


def _cross_column_errors(
    file: str, resource: dict, frame: pd.DataFrame, months: dict[str, int] | None = None
) -> list[DataError]:
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
            errors.extend(_fiscal_period_errors(file, line, row, months or dict(FISCAL_YEAR_END_MONTH)))
    return errors


def _fiscal_period_errors(file: str, line: int, row: pd.Series, months: dict[str, int]) -> list[DataError]:
    provider = row["provider"]
    if provider not in months or not _FISCAL_LABEL.match(row["fiscal_label"]):
        return []
    expected = fiscal_quarter_end(provider, row["fiscal_label"], months)
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
