"""Key numbers: a notebook records a named number once; prose, the summary and the verdicts quote the record.

A record is a value with its unit, a short label, the sources behind it and, where the number is uncertain, a low
and a high. A chapter's ``run()`` collects its records in a :class:`RecordBook`; :func:`save` writes them as JSON
per chapter into :func:`aicompute.paths.records_dir` (the build points this at its staging area and publishes them
as ``report/records.json``; a notebook run outside the build writes under ``.build/standalone-records``).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
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


class RecordBook:
    """The key numbers of one chapter, collected in memory: ``book = RecordBook('backlog'); book.record(...)``.

    A chapter's ``run()`` fills a book and returns it inside a :class:`ChapterResult`; nothing is written until
    :func:`save` is called, so ``run()`` stays pure and can be evaluated many times over (the robustness grid).
    """

    def __init__(self, name: str):
        self.name = name
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
            value=plain_number(value),
            unit=unit,
            label=label,
            sources=source_ids(sources),
            low=plain_number(low),
            high=plain_number(high),
            chapter=self.name,
            chart=chart,
            note=note,
        )
        self.records[full_key] = item
        return item

    def __getitem__(self, key: str) -> Record:
        """A record by its short key (``book['share']``) or full key (``book['backlog.share']``)."""
        return self.records[key if key.startswith(f"{self.name}.") else f"{self.name}.{key}"]

    def __contains__(self, key: str) -> bool:
        return (key if key.startswith(f"{self.name}.") else f"{self.name}.{key}") in self.records


class Later:
    """A frame that only a chart or table needs, computed the first time it is read (the robustness grid reads only
    records, so its runs never build it): ``frames["demand"] = Later(lambda: pd.concat(...))``."""

    __slots__ = ("make",)

    def __init__(self, make):
        self.make = make


class OwnCopies(dict):
    """A chapter's frames: a :class:`Later` is computed on first read, and DataFrames and Series are handed out as
    copies (reading never exposes an object the grid's memo shares)."""

    @staticmethod
    def _own(value):
        if hasattr(value, "iloc"):  # a DataFrame or Series
            return value.copy()
        if isinstance(value, dict):  # e.g. one frame per layer
            return {k: OwnCopies._own(v) for k, v in value.items()}
        return value

    def _resolved(self, key):
        value = super().__getitem__(key)
        if isinstance(value, Later):
            value = value.make()
            super().__setitem__(key, value)
        return value

    def __getitem__(self, key):
        return self._own(self._resolved(key))

    def get(self, key, default=None):
        return self[key] if key in self else default

    def values(self):
        return [self[k] for k in self]

    def items(self):
        return [(k, self[k]) for k in self]

    # Overriding __iter__ makes dict(frames) and {**frames} read through __getitem__ (CPython copies a dict
    # subclass item by item only then), so they too get built frames and copies.
    def __iter__(self):
        return super().__iter__()


@dataclass
class ChapterResult:
    """What a chapter's ``run(tables, params)`` returns: its key numbers and the frames its charts draw.

    A frame read from ``frames`` is the reader's own copy: a chapter's frames may be remembered across the runs of the
    robustness grid (:mod:`aicompute.analysis.memo`), so a notebook that adds a column must not change them.
    """

    book: RecordBook
    frames: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.frames = OwnCopies(self.frames)

    @property
    def name(self) -> str:
        return self.book.name

    @property
    def records(self) -> dict[str, Record]:
        return self.book.records

    def __getitem__(self, key: str) -> Record:
        return self.book[key]


def save(result: ChapterResult | RecordBook, directory: Path | None = None) -> Path:
    """Write a chapter's records as ``<directory>/<chapter>.json`` (default: :func:`aicompute.paths.records_dir`)."""
    book = result.book if isinstance(result, ChapterResult) else result
    directory = Path(directory) if directory else paths.records_dir()
    directory.mkdir(parents=True, exist_ok=True)
    payload = {key: asdict(item) for key, item in sorted(book.records.items())}
    target = directory / f"{book.name}.json"
    target.write_text(json.dumps(payload, indent=1, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")
    return target


def source_classes(record: Record, kinds: Mapping[str, str]) -> list[str]:
    """The classes of a record's sources (filing, transcript, company release, press, analyst, commentary), strongest
    first; ``kinds`` maps a source id to its kind in data/sources.csv."""
    from aicompute.analysis.vocabulary import SOURCE_CLASS

    order = list(dict.fromkeys(SOURCE_CLASS.values()))
    found = {SOURCE_CLASS.get(kinds.get(source, ""), "") for source in record.sources} - {""}
    return sorted(found, key=order.index)


def moved(before: object, after: object, tolerance_pct: float = 0.5) -> bool:
    """Whether a number moved by more than ``tolerance_pct`` percent of its size (text or None: whether it changed)."""
    if before is None or after is None or isinstance(before, str) or isinstance(after, str):
        return before != after
    scale = max(abs(before), abs(after))
    return scale > 0 and abs(after - before) > tolerance_pct / 100 * scale


def source_ids(sources: Iterable[str]) -> list[str]:
    """Sorted, unique source ids; items may be comma-joined lists ("a, b"), as the tables' ``sources`` columns are."""
    ids = set()
    # A pandas column iterates far faster as a plain list (records take whole tables' source columns).
    sources = sources.tolist() if hasattr(sources, "tolist") else sources
    for item in sources:
        if isinstance(item, str):
            ids.update(part.strip() for part in item.split(",") if part.strip())
    return sorted(ids)


def plain_number(value):
    """Store numbers as plain floats rounded to 6 significant digits, so records are stable and JSON-safe."""
    if value is None or isinstance(value, str):
        return value
    number = float(value)
    if math.isnan(number):
        return None
    return float(f"{number:.6g}")


def load(directory: Path | None = None) -> dict[str, Record]:
    """Every record saved in ``directory`` (default: :func:`aicompute.paths.records_dir`); never the published ones.

    Quoting numbers from ``report/records.json`` outside a build would mix runs, so there is no fallback: an empty
    folder gives an empty dict and the caller decides what that means.
    """
    directory = Path(directory) if directory else paths.records_dir()
    out: dict[str, Record] = {}
    for file in sorted(directory.glob("*.json")) if directory.exists() else []:
        for key, item in json.loads(file.read_text(encoding="utf-8")).items():
            out[key] = Record(**item)
    return out


def merge(directory: Path, target: Path) -> None:
    """Write every chapter's records into one JSON file (the published ``report/records.json``)."""
    merged = {key: asdict(item) for key, item in sorted(load(directory).items())}
    target.write_text(json.dumps(merged, indent=1, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")
