"""Key numbers: a notebook records a named number once; prose, the summary and the verdicts quote the record.

A record is a value with its unit, a short label, the sources behind it and, where the number is uncertain, a low
and a high. Records are written as JSON per chapter into :func:`aicompute.paths.records_dir` (the build points this
at its staging area and publishes them as ``report/records.json``).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from aicompute import paths

UNITS = {"usd_bn", "pct", "ratio", "years", "gw", "count", "year", "text"}


@dataclass(frozen=True)
class Record:
    key: str
    value: float | str | None
    unit: str
    label: str
    sources: list[str] = field(default_factory=list)
    low: float | None = None
    high: float | None = None
    chapter: str = ""
    chart: str | None = None
    note: str = ""

    def text(self, with_range: bool = True) -> str:
        """The number as prose quotes it, e.g. '$625bn (range $400bn–$700bn)'."""
        main = fmt(self.value, self.unit)
        if with_range and self.low is not None and self.high is not None and self.low != self.high:
            return f"{main} (range {fmt(self.low, self.unit)}–{fmt(self.high, self.unit)})"
        return main


def fmt(value: float | str | None, unit: str) -> str:
    """Format a number for prose in a unit: usd_bn -> '$1,234bn', pct -> '45%', years -> '3.2 years'."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "unknown"
    if unit == "text" or isinstance(value, str):
        return str(value)
    if unit == "usd_bn":
        if abs(value) >= 1000:
            return f"${value / 1000:,.2f}tn"
        return f"${value:,.0f}bn" if abs(value) >= 10 else f"${value:,.1f}bn"
    if unit == "pct":
        return f"{value:.0f}%" if abs(value) >= 10 else f"{value:.1f}%"
    if unit == "ratio":
        return f"{value:.2f}×"
    if unit == "years":
        return f"{value:.1f} years"
    if unit == "gw":
        return f"{value:,.1f} GW"
    if unit == "year":
        return f"{value:.0f}"
    if unit == "count":
        return f"{value:,.0f}"
    raise ValueError(f"unknown unit {unit!r}")


class Chapter:
    """The record book of one chapter: ``book = Chapter('backlog'); book.record('combined_share', ...)``."""

    def __init__(self, name: str, directory: Path | None = None):
        self.name = name
        self.directory = Path(directory) if directory else paths.records_dir()
        self.records: dict[str, Record] = {}

    def record(
        self,
        key: str,
        value: float | str | None,
        *,
        unit: str,
        label: str,
        sources: Iterable[str] = (),
        low: float | None = None,
        high: float | None = None,
        chart: str | None = None,
        note: str = "",
    ) -> Record:
        if unit not in UNITS:
            raise ValueError(f"record {key!r}: unit {unit!r} is not one of {sorted(UNITS)}")
        full_key = f"{self.name}.{key}"
        item = Record(
            key=full_key,
            value=_plain(value),
            unit=unit,
            label=label,
            sources=source_ids(sources),
            low=_plain(low),
            high=_plain(high),
            chapter=self.name,
            chart=chart,
            note=note,
        )
        self.records[full_key] = item
        self._write()
        return item

    def _write(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        payload = {key: asdict(item) for key, item in sorted(self.records.items())}
        (self.directory / f"{self.name}.json").write_text(
            json.dumps(payload, indent=1, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8"
        )


def source_ids(sources: Iterable[str]) -> list[str]:
    """Sorted, unique source ids; items may be comma-joined lists ("a, b"), as the tables' ``sources`` columns are."""
    ids = set()
    for item in sources:
        if isinstance(item, str):
            ids.update(part.strip() for part in item.split(",") if part.strip())
    return sorted(ids)


def _plain(value):
    """Store numbers as plain floats rounded to 6 significant digits, so records are stable and JSON-safe."""
    if value is None or isinstance(value, str):
        return value
    number = float(value)
    if math.isnan(number):
        return None
    return float(f"{number:.6g}")


def load(directory: Path | None = None) -> dict[str, Record]:
    """Every record written so far. Outside a build, fall back to the records published with the report."""
    directory = Path(directory) if directory else paths.records_dir()
    files = sorted(directory.glob("*.json")) if directory.exists() else []
    if not files and directory == paths.records_dir() and (paths.REPORT / "records.json").exists():
        published = json.loads((paths.REPORT / "records.json").read_text(encoding="utf-8"))
        return {key: Record(**item) for key, item in published.items()}
    out: dict[str, Record] = {}
    for file in files:
        for key, item in json.loads(file.read_text(encoding="utf-8")).items():
            out[key] = Record(**item)
    return out


def merge(directory: Path, target: Path) -> None:
    """Write every chapter's records into one JSON file (the published ``report/records.json``)."""
    merged = {key: asdict(item) for key, item in sorted(load(directory).items())}
    target.write_text(json.dumps(merged, indent=1, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")
