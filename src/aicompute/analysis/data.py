"""The one loader: read a table of ``data/`` with the types its data dictionary declares."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

import pandas as pd

from aicompute import paths

_PANDAS_TYPES = {"string": "string", "number": "Float64", "integer": "Int64", "boolean": "boolean"}


@lru_cache(maxsize=4)
def descriptor(datapackage: Path | None = None) -> dict:
    """The data dictionary (Frictionless Data Package descriptor) as a dict."""
    return json.loads(Path(datapackage or paths.DATAPACKAGE).read_text(encoding="utf-8"))


def resource(name: str, datapackage: Path | None = None) -> dict:
    for entry in descriptor(datapackage)["resources"]:
        if entry["name"] == name:
            return entry
    known = ", ".join(r["name"] for r in descriptor(datapackage)["resources"])
    raise KeyError(f"no table named {name!r} in the data dictionary; known tables: {known}")


def table_names(datapackage: Path | None = None) -> list[str]:
    return [r["name"] for r in descriptor(datapackage)["resources"]]


def load(name: str, datapackage: Path | None = None) -> pd.DataFrame:
    """Load table ``name`` with declared types: numbers as nullable floats, dates as datetimes, blanks as missing."""
    entry = resource(name, datapackage)
    _note_read(name)
    base = Path(datapackage or paths.DATAPACKAGE).parent
    fields = entry["schema"]["fields"]
    frame = pd.read_csv(base / entry["path"], dtype=str, keep_default_na=False, na_values=[""])
    for field in fields:
        column, kind = field["name"], field.get("type", "string")
        if kind == "date":
            frame[column] = pd.to_datetime(frame[column], format="%Y-%m-%d")
        elif kind == "boolean":
            frame[column] = frame[column].map({"true": True, "false": False}).astype("boolean")
        else:
            frame[column] = frame[column].astype(_PANDAS_TYPES.get(kind, "string"))
    return frame


def _note_read(name: str) -> None:
    """Inside a build, tell the build which tables this notebook read: its cache entry keys on their content."""
    log = os.environ.get("AICOMPUTE_READS")
    if log:
        with open(log, "a", encoding="utf-8") as fh:
            fh.write(name + "\n")


def load_all(names: Iterable[str] | None = None, datapackage: Path | None = None) -> dict[str, pd.DataFrame]:
    """The named tables (default: every table) by name: what a chapter's ``run(tables, params)`` takes.

    A chapter passes its own ``TABLES`` so that it reads only what it needs (the build's cache keys on what is read).
    """
    return {name: load(name, datapackage) for name in (names if names is not None else table_names(datapackage))}


def central_value(value: pd.Series, low: pd.Series, high: pd.Series) -> pd.Series:
    """One number per row: the value, else the midpoint of its range, else whichever end of the range is given."""
    return value.fillna((low + high) / 2).fillna(low).fillna(high)


def as_of_date() -> pd.Timestamp:
    """The data's as-of date: the latest publication date among the sources (never the wall clock)."""
    return load("sources")["published"].max()
