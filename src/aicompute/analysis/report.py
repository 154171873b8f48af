"""The chapters as functions: the registry of chapter modules, the parameters they run with, and a full recompute.

Each chapter module (``aicompute.analysis.<name>``) offers ``run(tables, params) -> ChapterResult``, ``TABLES``
(the tables it reads) and ``CHOICES`` (``{parameter: [values]}``, its grid of defensible choices). A module without
``run`` yet is skipped with a notice, so the registry works while chapters are being converted.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from types import ModuleType
from typing import Any

from aicompute import paths
from aicompute.analysis import data
from aicompute.analysis.records import Record
from aicompute.analysis.robustness import ChapterRunner, normalise_choices

CHAPTERS = ("backlog", "circular", "passthrough", "absorption")


def chapter_modules(names: Sequence[str] = CHAPTERS) -> dict[str, ModuleType]:
    return {name: importlib.import_module(f"aicompute.analysis.{name}") for name in names}


def runners(
    modules: Mapping[str, Any] | None = None, notice: Callable[[str], None] = print
) -> dict[str, ChapterRunner]:
    """``{chapter: ChapterRunner}`` for every chapter module with a ``run``; the others are skipped with a notice.

    A module whose ``CHOICES`` is not ``{parameter: [values]}`` runs at its central choices only (with a notice).
    """
    modules = chapter_modules() if modules is None else modules
    out: dict[str, ChapterRunner] = {}
    for name, module in modules.items():
        run = getattr(module, "run", None)
        if not callable(run):
            notice(f"skipped chapter {name!r}: its module has no run(tables, params) yet")
            continue
        declared = getattr(module, "TABLES", None)
        tables = tuple(_every_table() if declared is None else declared)
        try:
            choices = normalise_choices(getattr(module, "CHOICES", None))
        except (TypeError, ValueError, AttributeError):
            notice(f"chapter {name!r}: CHOICES is not {{parameter: [values]}}; its grid is the central case only")
            choices = {}
        out[name] = ChapterRunner(run, tables, choices)
    return out


def _every_table() -> list[str]:
    return [entry["name"] for entry in data.descriptor()["resources"]]


def scenario_overrides(scenario: str) -> list[tuple[str | None, str, Any]]:
    """The parameter overrides of a named scenario (``scenarios/<name>.yaml``); none for 'default'."""
    from aicompute.manifest import load_parameter_file

    if scenario == "default":
        return []
    file = paths.SCENARIOS / f"{scenario}.yaml"
    if not file.exists():
        raise FileNotFoundError(
            f"no scenario file scenarios/{scenario}.yaml to reproduce the parameters of {scenario!r}"
        )
    return load_parameter_file(file)


def chapter_parameters(
    overrides: Iterable[tuple[str | None, str, Any]] = (), names: Sequence[str] = CHAPTERS
) -> dict[str, dict[str, Any]]:
    """Each chapter's parameters as the build resolves them (manifest defaults, report-level ``as_of``,
    overrides)."""
    from aicompute.manifest import load_manifest, resolve_parameters

    resolved = resolve_parameters(load_manifest(), list(overrides))
    return {name: resolved.get(name, {}) for name in names}


def tables_for(chapter_runners: Mapping[str, ChapterRunner]) -> dict[str, Any]:
    """The tables the chapters read, each loaded once."""
    names = sorted({t for runner in chapter_runners.values() for t in runner.tables})
    return data.load_all(names)


def recompute(
    chapter_runners: Mapping[str, ChapterRunner],
    params: Mapping[str, Mapping[str, Any]],
    tables: Mapping[str, Any] | None = None,
) -> dict[str, Record]:
    """Every record of the given chapters, run once at their parameters."""
    tables = tables_for(chapter_runners) if tables is None else tables
    out: dict[str, Record] = {}
    for name, runner in chapter_runners.items():
        own = {t: tables[t] for t in runner.tables}
        out.update(runner.run(own, dict(params.get(name, {}))).records)
    return out
