"""The report build: validate data, check parameters, run notebooks (cached, in parallel), render, publish atomically.

Nothing under ``report/`` or ``figures/`` changes until every step has succeeded: the build writes into
``.build/staging`` and swaps the finished folders in at the end. A failed notebook is kept in ``.build/failed/``.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from graphlib import TopologicalSorter
from pathlib import Path
from typing import Any

from aicompute import paths
from aicompute.manifest import Manifest, declared_parameters, load_manifest, resolve_parameters

KERNEL = "python3"


@dataclass
class BuildOptions:
    overrides: list[tuple[str | None, str, Any]] = field(default_factory=list)
    scenario: str = "default"
    force: bool = False
    show_code: bool = False
    jobs: int = 2
    progress: bool = True


@dataclass
class BuildResult:
    executed: list[str]
    cached: list[str]
    up_to_date: bool
    report: Path
    seconds: float


class NotebookFailed(RuntimeError):
    """A notebook cell raised; names the notebook, the cell and the exception, and where the notebook was kept."""

    def __init__(self, name: str, source: Path, cell: str, exception: str, kept: Path):
        self.name, self.source, self.cell, self.exception, self.kept = name, source, cell, exception, kept
        super().__init__(
            f"notebook '{name}' ({_rel(source)}) failed at {cell}: {exception}\n"
            f"The executed notebook is kept for debugging at {_rel(kept)}.\n"
            "report/ and figures/ were left as they were."
        )


def _rel(path: Path) -> str:
    try:
        return str(Path(path).resolve().relative_to(paths.ROOT))
    except ValueError:
        return str(path)


# ---------------------------------------------------------------------------------------------------------------------
# Content hashes: a notebook is re-run only when something that can change its output changed.


def _digest(*parts: bytes | str) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(part if isinstance(part, bytes) else part.encode("utf-8"))
        h.update(b"\0")
    return h.hexdigest()


def tree_hash(root: Path, patterns: tuple[str, ...], exclude: frozenset[str] = frozenset()) -> str:
    files = sorted({p for pattern in patterns for p in root.rglob(pattern) if p.is_file() and p.name not in exclude})
    return _digest(*[f"{p.relative_to(root)}\0".encode() + p.read_bytes() for p in files])


# Package files that only check inputs or assemble the report: they change the page, not what a notebook computes.
REPORT_ONLY = frozenset(
    {
        "run.py",
        "render.py",
        "cli.py",
        "__main__.py",
        "manifest.py",
        "validate.py",
        "index.html.j2",
        "report.css",
        "conf.json",
    }
)


def hand_upstream_parameters(manifest: Manifest, parameters: dict[str, dict]) -> None:
    """A notebook that declares ``chapter_params`` (the summary) is given the resolved parameters of the notebooks it
    depends on, so that what it recomputes (the robustness grid) is centred on exactly this run."""
    for spec in manifest.notebooks:
        if "chapter_params" in declared_parameters(spec.path):
            parameters[spec.name]["chapter_params"] = {name: dict(parameters[name]) for name in spec.depends_on}


def notebook_keys(manifest: Manifest, parameters: dict[str, dict], data_hash: str, code_hash: str) -> dict[str, str]:
    keys: dict[str, str] = {}
    order = TopologicalSorter({s.name: s.depends_on for s in manifest.notebooks}).static_order()
    for name in order:
        spec = manifest.get(name)
        upstream = [keys[d] for d in sorted(spec.depends_on)]
        keys[name] = _digest(
            spec.path.read_bytes(), json.dumps(parameters[name], sort_keys=True), data_hash, code_hash, *upstream
        )
    return keys


# ---------------------------------------------------------------------------------------------------------------------
# Steps


def validate_data(data_hash: str, force: bool) -> None:
    """Validate data/ against its dictionary; a successful validation of the same bytes is remembered."""
    stamp = paths.CACHE / "validated" / data_hash
    if stamp.exists() and not force:
        return
    from aicompute.build.validate import check

    check()
    stamp.parent.mkdir(parents=True, exist_ok=True)
    stamp.write_text("ok\n")


def clean_notebook(nb: dict) -> dict:
    """Drop what differs run to run (timings, papermill metadata, random cell ids) so outputs are reproducible."""
    nb["metadata"].pop("papermill", None)
    nb["metadata"].pop("widgets", None)
    for index, cell in enumerate(nb["cells"]):
        cell["id"] = f"cell-{index}"
        cell.get("metadata", {}).pop("papermill", None)
        cell.get("metadata", {}).pop("execution", None)
        for output in cell.get("outputs", []):
            output.get("metadata", {}).pop("execution", None)
    return nb


def _execute(name: str, source: Path, target: Path, parameters: dict, failed_dir: Path) -> dict:
    import papermill
    from papermill.exceptions import PapermillExecutionError

    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        papermill.execute_notebook(
            str(source),
            str(target),
            parameters=parameters,
            kernel_name=KERNEL,
            cwd=str(paths.ROOT),
            progress_bar=False,
            log_output=False,
            report_mode=False,
            # Without this the kernel prints a transport warning at start-up: noise in a build log.
            extra_arguments=["--IPKernelApp.log_level=ERROR"],
        )
    except PapermillExecutionError as exc:
        kept = failed_dir / f"{name}.ipynb"
        kept.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(target, kept)
        cell = f"cell {exc.cell_index} (In [{exc.exec_count}])"
        raise NotebookFailed(name, source, cell, f"{exc.ename}: {exc.evalue}", kept) from None
    except Exception as exc:  # kernel died, bad notebook JSON...
        kept = failed_dir / f"{name}.ipynb"
        if target.exists():
            kept.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(target, kept)
        raise NotebookFailed(name, source, "start-up", f"{type(exc).__name__}: {exc}", kept) from None
    nb = clean_notebook(json.loads(target.read_text(encoding="utf-8")))
    target.write_text(json.dumps(nb, indent=1, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")
    return nb


def _run_one(name: str, key: str, manifest: Manifest, parameters: dict, stage: Path) -> bool:
    """Execute (or take from cache) one notebook; return True if it was executed."""
    from aicompute.build.export import export_figures

    cached = paths.CACHE / "notebooks" / f"{name}-{key[:20]}"
    if not (cached / "done").exists():
        work = stage / "work" / name
        shutil.rmtree(work, ignore_errors=True)
        records = work / "records"
        records.mkdir(parents=True)
        nb = _execute(name, manifest.get(name).path, work / "executed.ipynb", parameters[name], paths.BUILD / "failed")
        export_figures(nb, name, work / "figures")
        # A notebook records under its own name (Chapter(name)); that file is its share of the records.
        own = stage / "records" / f"{name}.json"
        if own.exists():
            shutil.copyfile(own, records / f"{name}.json")
        (work / "done").write_text("ok\n")
        shutil.rmtree(cached, ignore_errors=True)
        cached.parent.mkdir(parents=True, exist_ok=True)
        shutil.copytree(work, cached)
        executed = True
    else:
        executed = False
    # Publish the cached results into this build's staging area.
    shutil.copyfile(cached / "executed.ipynb", stage / "executed" / f"{name}.ipynb")
    for record in (cached / "records").glob("*.json"):
        shutil.copyfile(record, stage / "records" / record.name)
    if (cached / "figures").exists():
        shutil.copytree(cached / "figures", stage / "figures", dirs_exist_ok=True)
    return executed


def run_notebooks(
    manifest: Manifest,
    parameters: dict[str, dict],
    keys: dict[str, str],
    stage: Path,
    jobs: int,
    progress: bool,
) -> tuple[list[str], list[str]]:
    """Run the notebooks in dependency order, independent ones in parallel; return (executed, cached)."""
    from tqdm import tqdm

    sorter = TopologicalSorter({s.name: s.depends_on for s in manifest.notebooks})
    sorter.prepare()
    executed: list[str] = []
    cached: list[str] = []
    running: dict[Future, str] = {}
    bar = tqdm(total=len(manifest.notebooks), desc="notebooks", unit="nb", disable=not progress, file=sys.stderr)
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        try:
            while sorter.is_active():
                for name in sorter.get_ready():
                    running[pool.submit(_run_one, name, keys[name], manifest, parameters, stage)] = name
                bar.set_postfix_str(", ".join(sorted(n for f, n in running.items() if f.running())))
                done, _ = wait(list(running), return_when=FIRST_COMPLETED)
                for future in done:
                    name = running.pop(future)
                    (executed if future.result() else cached).append(name)
                    sorter.done(name)
                    bar.update(1)
        except BaseException:
            for future in running:
                future.cancel()
            raise
        finally:
            bar.close()
    return executed, cached


def publish(stage: Path) -> None:
    """Swap the staged report/ and figures/ in; the old ones are removed only after the new ones are in place."""
    for name, target in (("report", paths.REPORT), ("figures", paths.FIGURES)):
        old = paths.BUILD / f"old-{name}"
        shutil.rmtree(old, ignore_errors=True)
        if target.exists():
            target.rename(old)
        (stage / name).rename(target)
        shutil.rmtree(old, ignore_errors=True)


def _report_state() -> dict:
    state = paths.CACHE / "report.json"
    return json.loads(state.read_text()) if state.exists() else {}


def _report_fingerprint() -> str:
    index = paths.REPORT / "index.html"
    figures = sorted(p.name for p in paths.FIGURES.glob("*")) if paths.FIGURES.exists() else []
    return _digest(index.read_bytes() if index.exists() else b"missing", *figures)


def build(options: BuildOptions, log: Callable[[str], None] = print) -> BuildResult:
    started = time.perf_counter()
    manifest = load_manifest()
    # The summary names the parameter set it ran with; it is told as a parameter, like everything else it reads.
    parameters = resolve_parameters(manifest, [*options.overrides, (None, "scenario", options.scenario)])
    hand_upstream_parameters(manifest, parameters)
    data_hash = tree_hash(paths.DATA, ("*.csv", "*.json", "*.md"))
    validate_data(data_hash, options.force)
    validated = time.perf_counter()
    code_hash = tree_hash(paths.PACKAGE, ("*.py",), exclude=REPORT_ONLY)
    report_code_hash = tree_hash(paths.PACKAGE, ("*.py", "*.j2", "*.css", "*.json"))
    keys = notebook_keys(manifest, parameters, data_hash, code_hash + options.scenario)
    report_key = _digest(
        *[keys[n] for n in manifest.report_order],
        str(options.show_code),
        options.scenario,
        paths.MANIFEST.read_bytes(),
        report_code_hash,
    )
    state = _report_state()
    if not options.force and state.get("key") == report_key and state.get("fingerprint") == _report_fingerprint():
        log("report/ is up to date: nothing changed in notebooks, parameters, data or code.")
        return BuildResult([], list(keys), True, paths.REPORT / "index.html", time.perf_counter() - started)
    if options.force:
        shutil.rmtree(paths.CACHE / "notebooks", ignore_errors=True)

    stage = paths.BUILD / "staging"
    shutil.rmtree(stage, ignore_errors=True)
    for sub in ("executed", "records", "figures", "report"):
        (stage / sub).mkdir(parents=True)
    os.environ.update(
        {
            "AICOMPUTE_BUILD": "1",
            "AICOMPUTE_RECORDS": str(stage / "records"),
            "AICOMPUTE_ROOT": str(paths.ROOT),
            "PYDEVD_DISABLE_FILE_VALIDATION": "1",
        }
    )
    ran = time.perf_counter()
    executed, cached = run_notebooks(manifest, parameters, keys, stage, options.jobs, options.progress)
    ran = time.perf_counter() - ran

    from aicompute.build.render import render_report

    render_report(manifest, parameters, stage, show_code=options.show_code, scenario=options.scenario)
    publish(stage)
    shutil.rmtree(stage, ignore_errors=True)
    state_file = paths.CACHE / "report.json"
    state_file.parent.mkdir(parents=True, exist_ok=True)
    state_file.write_text(json.dumps({"key": report_key, "fingerprint": _report_fingerprint()}))
    seconds = time.perf_counter() - started
    checking = validated - started
    log(
        f"report/index.html written: {len(executed)} notebook(s) executed, {len(cached)} from cache, {seconds:.1f} s "
        f"(validation {checking:.1f} s, notebooks {ran:.1f} s, rendering {seconds - checking - ran:.1f} s)."
    )
    return BuildResult(executed, cached, False, paths.REPORT / "index.html", seconds)
