"""Robustness of every verdict over the grid of defensible choices.

Each chapter's pure ``run(tables, params)`` is evaluated over the full factorial of ITS OWN choices only (its
``CHOICES``: parameter name -> the values a careful analyst could pick), tens of runs per chapter. Every claim's rule
— the same :data:`aicompute.analysis.verdicts.RULES` declarations the ledger uses — is then evaluated vectorised over
the cartesian product of the specifications of just the chapters the rule reads. A choice that several of those
chapters declare under the same name (e.g. the analysis date) is one choice: only combinations that agree on it are
counted.

For each claim the result gives the verdict at the central choices (the base parameters), the share of
specifications giving each verdict, and the single choices that flip it when changed one at a time from the centre.

Typical use::

    grids = run_grids(runners, base_params, tables)      # {chapter: ChapterGrid}
    results = evaluate(grids)                            # {claim_id: ClaimRobustness}
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from aicompute.analysis.records import ChapterResult, Record
from aicompute.analysis.verdicts import CODE, RULES, VERDICTS, Columns, Rule

Run = Callable[[Mapping[str, Any], Mapping[str, Any]], ChapterResult]


@dataclass(frozen=True)
class ChapterRunner:
    """A chapter's pure function, the tables it reads and its grid of choices."""

    run: Run
    tables: tuple[str, ...]
    choices: Mapping[str, Sequence[Any]]


@dataclass
class ChapterGrid:
    """One chapter evaluated over the factorial of its choices; ``central`` is the index of the base parameters."""

    name: str
    choice_names: tuple[str, ...]
    specs: list[dict[str, Any]]
    central: int
    columns: Columns
    seconds: float

    @property
    def size(self) -> int:
        return len(self.specs)


@dataclass(frozen=True)
class Flip:
    """Changing one choice from the central case changes the verdict."""

    chapter: str
    choice: str
    value: Any
    verdict: str

    def text(self) -> str:
        return f"{self.verdict} if {self.chapter}.{self.choice}={_show(self.value)}"


@dataclass(frozen=True)
class ClaimRobustness:
    claim_id: str
    central: str
    shares: dict[str, float]  # verdict -> share of specifications (0-1), every verdict listed
    specifications: int
    flips: tuple[Flip, ...] = ()
    chapters: tuple[str, ...] = ()

    @property
    def robust(self) -> bool:
        """No single change of choice from the centre flips the verdict."""
        return not self.flips

    def summary(self) -> str:
        """One line for the ledger: 'robust (100% of 48 specifications)' or 'flips if …'."""
        agree = self.shares.get(self.central, 0.0)
        of = f"{agree:.0%} of {self.specifications:,} specification{'s' if self.specifications != 1 else ''}"
        if self.robust:
            return f"robust: no single choice flips it ({of} agree)"
        return "flips: " + "; ".join(f.text() for f in self.flips) + f" ({of} agree)"


@dataclass
class GridReport:
    """What :func:`robustness` returns: the chapters' grids, each claim's robustness and the time taken."""

    grids: dict[str, ChapterGrid]
    claims: dict[str, ClaimRobustness]
    run_seconds: float
    evaluate_seconds: float
    skipped: list[str] = field(default_factory=list)

    def describe(self, timing: bool = True) -> str:
        """'grid: backlog 24, circular 8 chapter runs (192 combined specifications)', with the time taken."""
        sizes = ", ".join(f"{g.name} {g.size}" for g in self.grids.values())
        total = int(np.prod([g.size for g in self.grids.values()])) if self.grids else 0
        text = f"grid: {sizes} chapter runs ({total:,} combined specifications)"
        return text + (f"; runs {self.run_seconds:.2f} s, rules {self.evaluate_seconds:.3f} s" if timing else "")


# ---------------------------------------------------------------------------------------------------------------
# Chapters over their own choices


def as_runner(entry: ChapterRunner | tuple) -> ChapterRunner:
    """A runner from ``(run, TABLES, CHOICES)`` or a :class:`ChapterRunner`."""
    if isinstance(entry, ChapterRunner):
        return entry
    run, tables, choices = entry
    return ChapterRunner(run, tuple(tables), normalise_choices(choices))


def normalise_choices(choices: Any) -> dict[str, list[Any]]:
    """CHOICES as ``{parameter: [values]}``; also accepts a list of ``(name, values)`` pairs or objects with
    ``.name`` and ``.values``."""
    if choices is None:
        return {}
    if isinstance(choices, Mapping):
        items = choices.items()
    else:
        items = [(c.name, c.values) if hasattr(c, "name") else tuple(c) for c in choices]
    out = {str(name): list(values) for name, values in items}
    empty = [name for name, values in out.items() if not values]
    if empty:
        raise ValueError(f"choices {empty} list no values")
    return out


def factorial(choices: Mapping[str, Sequence[Any]], base: Mapping[str, Any]) -> tuple[list[dict[str, Any]], int]:
    """Every combination of the choices, and the index of the central one (the base parameters' values).

    A base value missing from a choice's list is added first, so the centre is always in the grid.
    """
    names = list(choices)
    if any(name not in base for name in names):
        missing = [name for name in names if name not in base]
        raise KeyError(f"choices {missing} have no central value in the base parameters")
    options = [_with_first(list(choices[name]), base[name]) for name in names]
    specs = [dict(zip(names, combo, strict=True)) for combo in itertools.product(*options)]
    central = next(i for i, spec in enumerate(specs) if all(_same(spec[n], base[n]) for n in names))
    return specs, central


def _run_specs(run: Run, tables: Mapping[str, Any], params: list[dict[str, Any]]) -> list[dict[str, Record]]:
    """The records of one chapter at each of ``params`` (module-level, so a worker process can run a chunk)."""
    return [dict(run(tables, p).records) for p in params]


def run_grids(
    runners: Mapping[str, ChapterRunner | tuple],
    base_params: Mapping[str, Mapping[str, Any]],
    tables: Mapping[str, Any],
    settings: Mapping[str, Mapping[str, Any]] | None = None,
    jobs: int = 1,
    groups: Sequence[Sequence[str]] | None = None,
) -> dict[str, ChapterGrid]:
    """Every chapter over its own choices: ``{chapter: ChapterGrid}``.

    ``settings`` are parameters for every grid run that change no record a rule reads (e.g. no Monte Carlo draws).
    With ``jobs`` > 1 the runs are split into chunks and run in that many worker processes (the runs are pure, so
    the order in which they finish changes nothing). With ``groups`` as well, each group of chapters runs whole in one
    process — the first in this one — so chapters that share remembered parts (:mod:`aicompute.analysis.memo`) build
    them once.
    """
    settings = settings or {}
    plans: dict[str, tuple[ChapterRunner, dict, list, int, list]] = {}
    for name, entry in runners.items():
        runner = as_runner(entry)
        missing = [t for t in runner.tables if t not in tables]
        if missing:
            raise KeyError(f"chapter {name!r} reads tables {missing}, which were not given")
        base = base_params.get(name, {})
        specs, central = factorial(runner.choices, base)
        params = [{**base, **dict(settings.get(name) or {}), **spec} for spec in specs]
        plans[name] = (runner, {t: tables[t] for t in runner.tables}, specs, central, params)
    books: dict[str, list[dict[str, Record]]] = {}
    seconds: dict[str, float] = {}
    if jobs <= 1:
        books, seconds = _run_chapters(plans)
    elif groups:
        books, seconds = _run_groups(plans, groups)
    else:
        books, seconds = _run_in_workers(plans, jobs)
    return {
        name: ChapterGrid(
            name, tuple(runner.choices), specs, central, Columns.from_records(books[name]), seconds[name]
        )
        for name, (runner, _, specs, central, _) in plans.items()
    }


def _run_chapters(plans: Mapping[str, tuple]) -> tuple[dict[str, list], dict[str, float]]:
    """Each chapter's runs in this process, one chapter after another (module-level: a worker runs a group so)."""
    books: dict[str, list] = {}
    seconds: dict[str, float] = {}
    for name, (runner, own, _, _, params) in plans.items():
        start = time.perf_counter()
        books[name] = _run_specs(runner.run, own, params)
        seconds[name] = time.perf_counter() - start
    return books, seconds


def _run_groups(
    plans: Mapping[str, tuple], groups: Sequence[Sequence[str]]
) -> tuple[dict[str, list], dict[str, float]]:
    """The first group's chapters here and every other group in a fresh worker process of its own, at once.

    Chapters missing from every group join the first. A group's plans travel in one message, so its chapters share
    the same table objects in the worker (the memo keys on them).
    """
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    placed = [[name for name in group if name in plans] for group in groups]
    rest = [name for name in plans if not any(name in group for group in placed)]
    placed = [placed[0] + rest, *placed[1:]] if placed else [rest]
    local, remote = placed[0], [group for group in placed[1:] if group]
    books: dict[str, list] = {}
    seconds: dict[str, float] = {}
    with ProcessPoolExecutor(max_workers=max(1, len(remote)), mp_context=multiprocessing.get_context("spawn")) as pool:
        futures = [pool.submit(_run_chapters, {name: plans[name] for name in group}) for group in remote]
        here = _run_chapters({name: plans[name] for name in local})
        for part_books, part_seconds in [here, *(future.result() for future in futures)]:
            books.update(part_books)
            seconds.update(part_seconds)
    return books, seconds


def _run_in_workers(plans: Mapping[str, tuple], jobs: int) -> tuple[dict[str, list], dict[str, float]]:
    """Each chapter's runs in ``jobs`` chunks across ``jobs`` processes (a fresh interpreter each: the kernel that
    calls this has threads, so forking it is not safe)."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    start = time.perf_counter()
    with ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context("spawn")) as pool:
        futures = {
            (name, k): pool.submit(_run_specs, runner.run, own, params[k::jobs])
            for name, (runner, own, _, _, params) in plans.items()
            for k in range(jobs)
        }
        books: dict[str, list] = {}
        for name, (_, _, _, _, params) in plans.items():
            chunks = [futures[(name, k)].result() for k in range(jobs)]
            # Chunk k holds runs k, k + jobs, k + 2·jobs ...: put them back in order.
            ordered: list = [None] * len(params)
            for k, chunk in enumerate(chunks):
                ordered[k::jobs] = chunk
            books[name] = ordered
    elapsed = time.perf_counter() - start
    total = sum(len(plan[4]) for plan in plans.values()) or 1
    # Wall time is shared by the chapters; attribute it in proportion to their number of runs.
    return books, {name: elapsed * len(plan[4]) / total for name, plan in plans.items()}


# ---------------------------------------------------------------------------------------------------------------
# Rules over the combined grid


def evaluate(
    grids: Mapping[str, ChapterGrid],
    rules: Mapping[str, Rule] = RULES,
    claim_ids: Sequence[str] | None = None,
) -> dict[str, ClaimRobustness]:
    """Each claim's robustness over the product of the grids of the chapters its rule reads."""
    return {claim: evaluate_rule(rules[claim], grids) for claim in (list(rules) if claim_ids is None else claim_ids)}


def evaluate_rule(rule: Rule, grids: Mapping[str, ChapterGrid]) -> ClaimRobustness:
    chapters = rule.chapters()
    absent = [c for c in chapters if c not in grids]
    if absent:
        raise KeyError(f"claim {rule.claim_id} reads chapters {absent}, which have no grid")
    parts = [grids[c] for c in chapters]
    shape = tuple(g.size for g in parts)
    # Row i of the product takes spec index[k][i] of chapter k (a rule reading no chapter has one row).
    index = [axis.ravel() for axis in np.indices(shape)]
    columns = Columns.combine([g.columns.take(ix) for g, ix in zip(parts, index, strict=True)])
    codes = rule.evaluate(columns)
    agree = _agreeing(parts, index, len(codes))
    counted = codes[agree]
    counts = np.bincount(counted, minlength=len(VERDICTS))
    shares = {verdict: float(counts[CODE[verdict]] / len(counted)) for verdict in VERDICTS}
    central_code = int(codes[np.ravel_multi_index(tuple(g.central for g in parts), shape)])
    flips = tuple(_flips(parts, shape, codes, central_code))
    return ClaimRobustness(rule.claim_id, VERDICTS[central_code], shares, int(agree.sum()), flips, chapters)


def _agreeing(parts: Sequence[ChapterGrid], index: Sequence[np.ndarray], n: int) -> np.ndarray:
    """Rows where chapters sharing a choice name agree on its value (the same choice seen from two chapters)."""
    keep = np.ones(n, dtype=bool)
    for name in _shared_names(parts):
        holders = [(g, ix) for g, ix in zip(parts, index, strict=True) if name in g.choice_names]
        labels = {}
        codes = [
            np.array([labels.setdefault(repr(spec[name]), len(labels)) for spec in g.specs])[ix] for g, ix in holders
        ]
        for other in codes[1:]:
            keep &= other == codes[0]
    return keep


def _shared_names(parts: Sequence[ChapterGrid]) -> set[str]:
    seen: dict[str, int] = {}
    for grid in parts:
        for name in grid.choice_names:
            seen[name] = seen.get(name, 0) + 1
    return {name for name, count in seen.items() if count > 1}


def _flips(parts: Sequence[ChapterGrid], shape: tuple[int, ...], codes: np.ndarray, central: int) -> list[Flip]:
    """Each single choice that, changed from the centre (in every chapter that declares it), changes the verdict."""
    out: list[Flip] = []
    done: set[tuple[str, str]] = set()
    for grid in parts:
        centre_spec = grid.specs[grid.central]
        for name in grid.choice_names:
            shared = name in _shared_names(parts)
            if shared and (name, "") in done:
                continue
            done.add((name, "") if shared else (name, grid.name))
            for spec in grid.specs:
                if _same(spec[name], centre_spec[name]) or not _one_change(spec, centre_spec, name):
                    continue
                position = [g.central for g in parts]
                for k, other in enumerate(parts):
                    if other is grid or (shared and name in other.choice_names):
                        position[k] = _spec_index(other, name, spec[name])
                if -1 in position:  # another chapter does not offer this value of the shared choice
                    continue
                code = int(codes[np.ravel_multi_index(tuple(position), shape)])
                if code != central:
                    owner = "report" if shared else grid.name
                    out.append(Flip(owner, name, spec[name], VERDICTS[code]))
    return out


def _spec_index(grid: ChapterGrid, name: str, value: Any) -> int:
    """The spec of ``grid`` at the centre except ``name`` = ``value``."""
    centre = grid.specs[grid.central]
    target = {**centre, name: value}
    matches = (i for i, spec in enumerate(grid.specs) if all(_same(spec[n], target[n]) for n in grid.choice_names))
    return next(matches, -1)


def _one_change(spec: Mapping[str, Any], centre: Mapping[str, Any], name: str) -> bool:
    return all(_same(spec[n], centre[n]) for n in spec if n != name)


def _with_first(values: list[Any], central: Any) -> list[Any]:
    return values if any(_same(v, central) for v in values) else [central, *values]


def _same(a: Any, b: Any) -> bool:
    return type(a) is type(b) and bool(a == b) if isinstance(a, bool) or isinstance(b, bool) else bool(a == b)


def _show(value: Any) -> str:
    if isinstance(value, list | tuple):
        return "[" + ", ".join(map(str, value)) + "]"
    return str(value)


# ---------------------------------------------------------------------------------------------------------------


def robustness(
    runners: Mapping[str, ChapterRunner | tuple],
    base_params: Mapping[str, Mapping[str, Any]],
    tables: Mapping[str, Any],
    claim_ids: Sequence[str] | None = None,
    rules: Mapping[str, Rule] = RULES,
    settings: Mapping[str, Mapping[str, Any]] | None = None,
    jobs: int = 1,
    groups: Sequence[Sequence[str]] | None = None,
) -> GridReport:
    """Run the chapters over their grids and evaluate the claims whose chapters all ran (others are skipped)."""
    start = time.perf_counter()
    grids = run_grids(runners, base_params, tables, settings, jobs, groups)
    ran = time.perf_counter() - start
    wanted = list(claim_ids) if claim_ids is not None else list(rules)
    covered = [c for c in wanted if all(ch in grids for ch in rules[c].chapters())]
    start = time.perf_counter()
    claims = evaluate(grids, rules, covered)
    return GridReport(grids, claims, ran, time.perf_counter() - start, [c for c in wanted if c not in covered])
