"""``python -m aicompute diff``: recompute every record and verdict and compare with the published report.

For a re-runner who just added a quarter to ``data/``: each chapter's ``run()`` is called with the manifest's
parameters, the verdicts are recomputed from those records, and the result is compared with ``report/records.json``:
numbers whose value, low or high moved beyond a relative tolerance, records that disappeared or are new, and
verdicts that flipped (the summary publishes them as ``summary.verdict.<claim>``).

Exit status: 0 nothing moved; 1 something moved (the table says what); 2 bad input (no or unreadable records file,
a bad manifest, no chapter to recompute). A chapter whose module has no ``run()`` yet is skipped with a notice, and
so are its records and the verdicts that read them.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aicompute import paths
from aicompute.analysis.records import Record, fmt, moved
from aicompute.analysis.verdicts import RULES, MissingRecordError, Rule

EXIT_SAME = 0
EXIT_MOVED = 1
EXIT_BAD_INPUT = 2
TOLERANCE_PCT = 0.5
VERDICT_PREFIX = "summary.verdict."


@dataclass(frozen=True)
class Change:
    key: str
    what: str  # value, low, high, missing (published, not recomputed), new (recomputed, not published), verdict
    published: Any
    now: Any
    unit: str = ""

    def row(self) -> tuple[str, str, str, str, str]:
        return self.key, self.what, _show(self.published, self.unit), _show(self.now, self.unit), self._change()

    def _change(self) -> str:
        a, b = self.published, self.now
        if isinstance(a, int | float) and isinstance(b, int | float) and not isinstance(a, bool) and a:
            return f"{100 * (b - a) / abs(a):+.1f}%"
        return ""


def compare_records(
    published: Mapping[str, Mapping[str, Any]],
    recomputed: Mapping[str, Record],
    chapters: set[str],
    tolerance_pct: float = TOLERANCE_PCT,
) -> list[Change]:
    """Records of the recomputed chapters that moved, disappeared or are new."""
    changes: list[Change] = []
    ours = {k: v for k, v in published.items() if k.split(".", 1)[0] in chapters}
    for key in sorted(set(ours) | set(recomputed)):
        before, after = ours.get(key), recomputed.get(key)
        if after is None:
            changes.append(Change(key, "missing", before.get("value"), None, before.get("unit", "")))
        elif before is None:
            changes.append(Change(key, "new", None, after.value, after.unit))
        else:
            for field in ("value", "low", "high"):
                if moved(before.get(field), getattr(after, field), tolerance_pct):
                    changes.append(Change(key, field, before.get(field), getattr(after, field), after.unit))
    return changes


def compare_verdicts(
    published: Mapping[str, Mapping[str, Any]],
    recomputed: Mapping[str, Record],
    chapters: set[str],
    rules: Mapping[str, Rule] = RULES,
) -> tuple[list[Change], list[str]]:
    """Verdicts that flipped, for claims whose records all come from recomputed chapters; and the claims skipped."""
    changes, skipped = [], []
    for claim, rule in rules.items():
        needed = rule.shown() + list(rule.counter)
        if not {key.split(".", 1)[0] for key in needed} <= chapters:
            skipped.append(claim)
            continue
        try:
            now = rule.verdict(recomputed).verdict
        except MissingRecordError as exc:
            now = f"not produced: {exc}"
        before = published.get(f"{VERDICT_PREFIX}{claim}", {}).get("value")
        if before != now:
            changes.append(Change(f"{VERDICT_PREFIX}{claim}", "verdict", before, now, "text"))
    return changes, skipped


def read_published(path: Path) -> dict[str, dict[str, Any]]:
    """The published records; a missing or malformed file is bad input (ValueError/FileNotFoundError)."""
    if not path.exists():
        raise FileNotFoundError(f"no published records at {path} (build the report first)")
    try:
        payload = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path} is not valid JSON: {exc}") from exc
    if not isinstance(payload, dict) or not all(isinstance(v, dict) for v in payload.values()):
        raise ValueError(f"{path} must map record keys to records")
    return payload


def table(changes: list[Change]) -> str:
    """The changes as an aligned plain-text table."""
    rows = [("record", "what", "published", "now", "change"), *[c.row() for c in changes]]
    widths = [min(60, max(len(row[i]) for row in rows)) for i in range(5)]
    return "\n".join(
        "  ".join(cell[:60].ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in rows
    )


def run_diff(
    records_path: Path,
    tolerance_pct: float = TOLERANCE_PCT,
    *,
    modules: Mapping[str, Any] | None = None,
    params: Mapping[str, Mapping[str, Any]] | None = None,
    tables: Mapping[str, Any] | None = None,
    out: Callable[[str], None] = print,
) -> int:
    """Recompute, compare, print; return the exit status. ``modules``/``params``/``tables`` default to the real
    chapters, the manifest's resolved parameters and ``data/`` (tests pass fakes)."""
    from aicompute.analysis import report

    published = read_published(Path(records_path))
    chapter_runners = report.runners(modules, notice=out)
    if not chapter_runners:
        raise ValueError("no chapter module has a run(tables, params) yet: there is nothing to recompute")
    params = report.chapter_parameters() if params is None else params
    recomputed = report.recompute(chapter_runners, params, tables)
    chapters = set(chapter_runners)
    changes = compare_records(published, recomputed, chapters, tolerance_pct)
    flips, skipped = compare_verdicts(published, recomputed, chapters)
    if skipped:
        out(f"verdicts not compared (their chapters were skipped): {', '.join(skipped)}")
    changes += flips
    if not changes:
        out(
            f"Nothing moved beyond {tolerance_pct:g}%: "
            f"{len(recomputed)} records of {len(chapters)} chapters recomputed."
        )
        return EXIT_SAME
    out(table(changes))
    out(f"{len(changes)} change(s) beyond {tolerance_pct:g}% ({len(flips)} verdict flip(s)).")
    return EXIT_MOVED


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "diff",
        help="recompute every record and verdict and compare with report/records.json",
        description="Recompute every chapter's records with the manifest's parameters and the verdicts from them, and "
        "list what moved compared with the published report/records.json. Exit 0 if nothing moved, 1 if something "
        "moved, 2 on bad input.",
    )
    parser.add_argument("--records", type=Path, default=None, help="published records (default report/records.json)")
    parser.add_argument(
        "--tolerance", type=float, default=TOLERANCE_PCT, metavar="PCT", help="relative change that counts (percent)"
    )


def main(args: argparse.Namespace) -> int:
    from aicompute.manifest import ManifestError, ParameterError

    try:
        return run_diff(args.records or paths.REPORT / "records.json", args.tolerance)
    except (FileNotFoundError, ValueError, ManifestError, ParameterError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT


def _show(value: Any, unit: str) -> str:
    if value is None:
        return "—"
    if isinstance(value, float) and math.isnan(value):
        return "—"
    try:
        return fmt(value, unit) if unit else str(value)
    except ValueError:
        return str(value)
