"""The chapters as functions: the registry of chapter modules, the parameters they run with, and a full recompute.

Each chapter module (``aicompute.analysis.<name>``) offers ``run(tables, params) -> ChapterResult``, ``TABLES``
(the tables it reads) and ``CHOICES`` (``{parameter: [values]}``, its grid of defensible choices). A module without
``run`` yet is skipped with a notice, so the registry works while chapters are being converted.
"""

from __future__ import annotations

import functools
import importlib
import inspect
from collections.abc import Callable, Iterable, Mapping, Sequence
from types import ModuleType
from typing import Any

from aicompute import paths
from aicompute.analysis import data
from aicompute.analysis.records import Record
from aicompute.analysis.robustness import ChapterRunner, GridReport, normalise_choices, robustness
from aicompute.analysis.verdicts import Verdict

CHAPTERS = ("backlog", "circular", "passthrough", "absorption", "quality")
# Parameters of every robustness-grid run that change no record a verdict reads: the Monte Carlo records never feed
# a rule (research/rules/absorption.md), so the grid runs without draws to stay within seconds.
GRID_SETTINGS: dict[str, dict[str, Any]] = {"absorption": {"draws": 0}}
# The grid on two cores: the chapters in two groups of about equal work, the first in the kernel's own process, the
# second in one worker. A group keeps together the chapters that share remembered parts (aicompute.analysis.memo):
# quality re-runs the backlog chapter's split. Splitting a chapter's runs across workers would build them twice.
GRID_JOBS = 2
GRID_GROUPS = (("backlog", "quality"), ("absorption", "circular", "passthrough"))


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


def chapter_parameters(
    overrides: Iterable[tuple[str | None, str, Any]] = (), names: Sequence[str] = CHAPTERS
) -> dict[str, dict[str, Any]]:
    """Each chapter's parameters as the build resolves them: the notebook's declared defaults, then the manifest's
    defaults and report-level ``as_of``, then the overrides."""
    from aicompute.manifest import declared_parameters, load_manifest, resolve_parameters

    manifest = load_manifest()
    resolved = resolve_parameters(manifest, list(overrides))
    out = {}
    for name in names:
        declared = declared_parameters(manifest.get(name).path)
        out[name] = {**{key: item.default for key, item in declared.items()}, **resolved.get(name, {})}
    return out


def tables_for(chapter_runners: Mapping[str, ChapterRunner]) -> dict[str, Any]:
    """The tables the chapters read, each loaded once."""
    names = sorted({t for runner in chapter_runners.values() for t in runner.tables})
    return data.load_all(names)


def recompute(
    chapter_runners: Mapping[str, ChapterRunner],
    params: Mapping[str, Mapping[str, Any]],
    tables: Mapping[str, Any] | None = None,
) -> dict[str, Record]:
    """Every record of the given chapters, run once at their parameters, as the chapter notebooks run them (with
    the headline ranges spread over the chapter's whole grid of choices, where the chapter offers that)."""
    tables = tables_for(chapter_runners) if tables is None else tables
    out: dict[str, Record] = {}
    for name, runner in chapter_runners.items():
        own = {t: tables[t] for t in runner.tables}
        out.update(published_run(runner.run)(own, dict(params.get(name, {}))).records)
    return out


def published_run(run: Callable) -> Callable:
    """``run`` as a notebook calls it: ``choice_ranges=True`` where the chapter takes it (the robustness grid calls
    plain ``run``, so that one grid is not nested inside another)."""
    if "choice_ranges" in inspect.signature(run).parameters:
        return functools.partial(run, choice_ranges=True)
    return run


def complete_parameters(
    params: Mapping[str, Mapping[str, Any]], names: Sequence[str] = CHAPTERS
) -> dict[str, dict[str, Any]]:
    """Each chapter's full parameters: its declared defaults and the manifest's, then ``params`` (what a build
    resolved, which lists only what the manifest or an override set)."""
    defaults = chapter_parameters(names=names)
    return {name: {**defaults[name], **dict(params.get(name, {}))} for name in names}


def run_robustness(
    params: Mapping[str, Mapping[str, Any]] | None = None,
    claim_ids: Sequence[str] | None = None,
    notice: Callable[[str], None] = print,
) -> GridReport:
    """The robustness grid centred on the chapters' parameters (what the summary shows beside the ledger).

    The build hands the summary every chapter's resolved parameters, so the grid's centre is exactly the run that
    produced the records; without them (a notebook run on its own) the manifest's defaults are used.
    """
    chapter_runners = runners(notice=notice)
    centre = complete_parameters(params or {}, tuple(chapter_runners))
    tables = tables_for(chapter_runners) if chapter_runners else {}
    settings = {name: GRID_SETTINGS[name] for name in chapter_runners if name in GRID_SETTINGS}
    return robustness(chapter_runners, centre, tables, claim_ids, settings=settings, jobs=GRID_JOBS, groups=GRID_GROUPS)


def centre_disagreements(verdicts: Sequence[Verdict], grid: GridReport) -> list[str]:
    """Claims whose verdict in the ledger differs from the grid's central verdict (they must agree: same records,
    same rules; a difference means the build ran with parameters the grid did not reproduce)."""
    return [v.claim_id for v in verdicts if v.claim_id in grid.claims and grid.claims[v.claim_id].central != v.verdict]


def latest_parameters(params: Mapping[str, Mapping[str, Any]]) -> tuple[str, dict[str, dict[str, Any]]]:
    """The newest analysis date (``scenarios/latest.yaml``: the newest publication date among the sources) and the
    chapters' parameters moved to it, everything else as given."""
    from aicompute.manifest import load_parameter_file

    dates = [value for _, name, value in load_parameter_file(paths.SCENARIOS / "latest.yaml") if name == "as_of"]
    if len(dates) != 1:
        raise ValueError("scenarios/latest.yaml must set exactly one report-level as_of")
    latest = str(dates[0])
    full = complete_parameters(params)
    return latest, {name: ({**p, "as_of": latest} if "as_of" in p else p) for name, p in full.items()}
