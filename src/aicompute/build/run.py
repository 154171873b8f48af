"""The report build: validate data, check parameters, run notebooks (cached, in parallel), render, publish atomically.

One build per checkout at a time (``.build/lock``). Each build works in its own staging folder
(``.build/staging-*``) and the page label, records and parameters it publishes all come from that one run.
Nothing under ``report/`` or ``figures/`` changes until every step has succeeded, and then both are swapped in
together (see :mod:`aicompute.build.publish`). A failed notebook is kept in ``.build/failed/``.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from graphlib import TopologicalSorter
from pathlib import Path
from typing import Any

from aicompute import paths
from aicompute.build.cache import (
    NotebookCache,
    digest,
    file_sha256,
    read_json_state,
    write_atomically,
)
from aicompute.build.lock import BuildLock
from aicompute.manifest import Manifest, declared_parameters, load_manifest, resolve_parameters

KERNEL = "python3"
DEFAULT_TIMEOUT = 600  # seconds one cell may run before the build stops it

# What every kernel of a build runs with: dates in UTC and one locale, so outputs do not depend on the machine.
STABLE_ENVIRONMENT = {"TZ": "UTC", "LC_ALL": "C.UTF-8", "LANG": "C.UTF-8", "PYDEVD_DISABLE_FILE_VALIDATION": "1"}


@dataclass
class BuildOptions:
    overrides: list[tuple[str | None, str, Any]] = field(default_factory=list)
    scenario: str = "default"
    force: bool = False
    show_code: bool = False
    jobs: int = 2
    progress: bool = True
    wait: bool = False
    timeout: int = DEFAULT_TIMEOUT


@dataclass
class BuildResult:
    executed: list[str]
    cached: list[str]
    up_to_date: bool
    report: Path
    seconds: float


class NotebookFailed(RuntimeError):
    """A notebook failed (a cell raised, hung or killed its kernel); names the notebook, the cell and the cause."""

    def __init__(self, name: str, source: Path, cell: str, exception: str, kept: Path | None):
        self.name, self.source, self.cell, self.exception, self.kept = name, source, cell, exception, kept
        where = f"\nThe executed notebook is kept for debugging at {_rel(kept)}." if kept else ""
        super().__init__(
            f"notebook '{name}' ({_rel(source)}) failed at {cell}: {exception}{where}\n"
            "report/ and figures/ were left as they were."
        )


def _rel(path: Path) -> str:
    try:
        return str(Path(path).resolve().relative_to(paths.ROOT))
    except ValueError:
        return str(path)


# ---------------------------------------------------------------------------------------------------------------------
# Content hashes: a notebook is re-run only when something that can change its output changed.


def tree_hash(root: Path, patterns: tuple[str, ...], exclude: Callable[[Path], bool] = lambda _: False) -> str:
    files = sorted({p for pattern in patterns for p in root.rglob(pattern) if p.is_file() and not exclude(p)})
    return digest(*[f"{p.relative_to(root)}\0".encode() + p.read_bytes() for p in files])


# The page's own template (nbconvert's): it shapes the merged page, never a notebook's output.
PAGE_TEMPLATE = ("present", "templates", "aicompute")


def _build_only(path: Path) -> bool:
    """Package files that only check inputs or assemble the report: they change the page, not a notebook's output."""
    relative = path.relative_to(paths.PACKAGE)
    if relative.parts[: len(PAGE_TEMPLATE)] == PAGE_TEMPLATE:
        return True
    return relative.parts[0] in {"build", "cli.py", "__main__.py"} or "__pycache__" in relative.parts


def notebook_code_hash() -> str:
    """What every notebook's cache entry keys on from the package: its Python and the fragment templates notebooks
    render into their outputs (the bottom line, the ledger), so an edit to either re-runs the notebooks."""
    return tree_hash(paths.PACKAGE, ("*.py", "*.j2"), exclude=_build_only)


def table_hashes() -> dict[str, str]:
    """sha256 of each table of data/, by table name (what a notebook's cache entry is checked against)."""
    from aicompute.analysis.data import descriptor

    hashes = {}
    for resource in json.loads(paths.DATAPACKAGE.read_text(encoding="utf-8"))["resources"]:
        file = paths.DATA / resource["path"]
        hashes[resource["name"]] = file_sha256(file) if file.exists() else "missing"
    descriptor.cache_clear()
    return hashes


def context_hash(manifest: Manifest) -> str:
    """What every notebook can see besides its tables: the manifest, the data dictionary and every notebook's
    declared parameters (the appendix lists them)."""
    declared = {
        spec.name: {k: [v.type, repr(v.default), v.help] for k, v in declared_parameters(spec.path).items()}
        for spec in manifest.notebooks
    }
    return digest(paths.MANIFEST.read_bytes(), paths.DATAPACKAGE.read_bytes(), json.dumps(declared, sort_keys=True))


def hand_upstream_parameters(manifest: Manifest, parameters: dict[str, dict]) -> None:
    """A notebook that declares ``chapter_params`` is given the resolved parameters of the notebooks it depends on
    (the summary: so that what it recomputes, the robustness grid, is centred on exactly this run); one with no
    dependencies (the appendix, which lists them) gets every other notebook's, without making it wait for them."""
    own = {
        spec.name: {k: v for k, v in parameters[spec.name].items() if k != "chapter_params"}
        for spec in manifest.notebooks
    }
    for spec in manifest.notebooks:
        if "chapter_params" in declared_parameters(spec.path):
            upstream = spec.depends_on or [s.name for s in manifest.notebooks if s.name != spec.name]
            parameters[spec.name]["chapter_params"] = {name: dict(own[name]) for name in upstream}


def static_key(source: Path, parameters: dict, code_hash: str, context: str, upstream: list[str]) -> str:
    """Everything a notebook's output depends on except the tables it reads (checked per entry)."""
    return digest(source.read_bytes(), json.dumps(parameters, sort_keys=True), code_hash, context, *upstream)


# ---------------------------------------------------------------------------------------------------------------------
# Steps


def validate_data(data_hash: str, force: bool) -> None:
    """Validate data/ against its dictionary; a successful validation of the same bytes is remembered."""
    stamp = paths.CACHE / "validated" / digest(data_hash, file_sha256(paths.PACKAGE / "build" / "validate.py"))
    if stamp.exists() and not force:
        return
    from aicompute.build.validate import check

    check()
    write_atomically(stamp, "ok\n")


def clean_notebook(nb: dict, local_paths: dict[str, str] | None = None) -> dict:
    """Drop what differs run to run (timings, papermill metadata, random cell ids) so outputs are reproducible.

    ``local_paths`` maps this machine's folders (the checkout, this build's staging folder) to stable names, so a
    path a cell happens to display does not make the output depend on where or when it was built.
    """
    nb["metadata"].pop("papermill", None)
    nb["metadata"].pop("widgets", None)
    for index, cell in enumerate(nb["cells"]):
        cell["id"] = f"cell-{index}"
        cell.get("metadata", {}).pop("papermill", None)
        cell.get("metadata", {}).pop("execution", None)
        for output in cell.get("outputs", []):
            output.get("metadata", {}).pop("execution", None)
            _replace_paths(output, local_paths or {})
    return nb


def _replace_paths(output: dict, local_paths: dict[str, str]) -> None:
    if "text" in output:
        output["text"] = _swap_paths(output["text"], local_paths)
    data = output.get("data")
    if isinstance(data, dict):
        for mime in ("text/plain", "text/html", "text/markdown"):
            if mime in data:
                data[mime] = _swap_paths(data[mime], local_paths)


def _swap_paths(text: str | list[str], local_paths: dict[str, str]) -> str | list[str]:
    if isinstance(text, list):
        return [_swap_paths(line, local_paths) for line in text]
    for local, stable in local_paths.items():
        text = text.replace(local, stable)
    return text


def _cell_label(cell: dict, index: int) -> str:
    first = next((line.strip() for line in "".join(cell.get("source", "")).splitlines() if line.strip()), "")
    count = cell.get("execution_count")
    prompt = f", In [{count}]" if count else ""
    return f"cell {index}{prompt}: {first[:60]!r}"


def _unfinished_cell(target: Path, status: str = "running") -> str | None:
    """The cell execution stopped in, counted among the notebook's own cells (papermill's injected ones left out):
    with ``failed``, the cell papermill marked failed; otherwise the last cell that was started (the one that hung
    or killed the kernel: papermill marks it completed on the way out, but later cells never start)."""
    try:
        nb = json.loads(target.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    own = [c for c in nb.get("cells", []) if not _injected(c)]
    started = None
    for index, cell in enumerate(own):
        meta = cell.get("metadata", {}).get("papermill", {})
        if status == "failed" and meta.get("status") == "failed":
            return _cell_label(cell, index)
        if status != "failed" and cell.get("cell_type") == "code" and meta.get("start_time"):
            started = _cell_label(cell, index)
    return started


def _injected(cell: dict) -> bool:
    tags = set(cell.get("metadata", {}).get("tags", []))
    return bool(tags & {"injected-parameters", "papermill-error-cell-tag"})


def _kernel_manager(environment: dict[str, str]):
    """A kernel manager whose kernel gets ``environment`` on top of ours (per notebook, without touching
    os.environ, which the parallel notebooks share)."""
    from jupyter_client.manager import AsyncKernelManager

    manager = AsyncKernelManager(kernel_name=KERNEL)
    manager.kernel_spec.env = {**manager.kernel_spec.env, **environment}
    return manager


def _execute(name: str, source: Path, target: Path, parameters: dict, environment: dict, timeout: int) -> dict:
    import papermill
    from nbclient.exceptions import CellTimeoutError, DeadKernelError
    from papermill.exceptions import PapermillExecutionError

    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        papermill.execute_notebook(
            str(source),
            str(target),
            parameters=parameters,
            kernel_name=KERNEL,
            km=_kernel_manager(environment),
            cwd=str(paths.ROOT),
            progress_bar=False,
            log_output=False,
            report_mode=False,
            execution_timeout=timeout,
            # Without this the kernel prints a transport warning at start-up: noise in a build log.
            extra_arguments=["--IPKernelApp.log_level=ERROR"],
        )
    except PapermillExecutionError as exc:
        cell = _unfinished_cell(target, "failed") or f"cell {exc.cell_index} (In [{exc.exec_count}])"
        raise NotebookFailed(name, source, cell, f"{exc.ename}: {exc.evalue}", _keep(name, target)) from None
    except CellTimeoutError:
        cell = _unfinished_cell(target) or "an unknown cell"
        cause = f"the cell ran longer than {timeout} s and was stopped (raise the limit with --timeout SECONDS)"
        raise NotebookFailed(name, source, cell, cause, _keep(name, target)) from None
    except DeadKernelError as exc:
        cell = _unfinished_cell(target) or "an unknown cell"
        cause = f"the kernel died ({exc}); out of memory, or a crash in native code"
        raise NotebookFailed(name, source, cell, cause, _keep(name, target)) from None
    except Exception as exc:  # noqa: BLE001 - the kernel could not start, the notebook is not valid JSON...
        cell = _unfinished_cell(target) or "start-up"
        raise NotebookFailed(name, source, cell, f"{type(exc).__name__}: {exc}", _keep(name, target)) from None
    stable = {environment["AICOMPUTE_RECORDS"]: ".build/records", str(paths.ROOT) + "/": ""}
    nb = clean_notebook(json.loads(target.read_text(encoding="utf-8")), stable)
    target.write_text(json.dumps(nb, indent=1, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")
    return nb


def _keep(name: str, target: Path) -> Path | None:
    if not target.exists():
        return None
    kept = paths.BUILD / "failed" / f"{name}.ipynb"
    kept.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(target, kept)
    return kept


def _reads(log: Path, hashes: dict[str, str]) -> dict[str, str]:
    names = sorted(set(log.read_text(encoding="utf-8").split())) if log.exists() else []
    return {name: hashes.get(name, "missing") for name in names}


@dataclass
class RunContext:
    manifest: Manifest
    parameters: dict[str, dict]
    stage: Path
    cache: NotebookCache
    code_hash: str
    context_hash: str
    table_hashes: dict[str, str]
    timeout: int
    use_cache: bool
    keys: dict[str, str] = field(default_factory=dict)


def _run_one(name: str, ctx: RunContext) -> bool:
    """Execute (or take from the cache) one notebook into this build's staging folder; True if it was executed."""
    from aicompute.build.export import export_figures

    spec = ctx.manifest.get(name)
    upstream = [ctx.keys[d] for d in sorted(spec.depends_on)]
    key = static_key(spec.path, ctx.parameters[name], ctx.code_hash, ctx.context_hash, upstream)
    entry = ctx.cache.lookup(name, key, ctx.table_hashes) if ctx.use_cache else None
    executed = entry is None
    if entry is None:
        work = ctx.stage / "work" / name
        (work / "records").mkdir(parents=True)
        environment = {
            **STABLE_ENVIRONMENT,
            "AICOMPUTE_BUILD": "1",
            "AICOMPUTE_ROOT": str(paths.ROOT),
            "AICOMPUTE_RECORDS": str(ctx.stage / "records"),
            "AICOMPUTE_READS": str(work / "reads.txt"),
        }
        nb = _execute(name, spec.path, work / "executed.ipynb", ctx.parameters[name], environment, ctx.timeout)
        export_figures(nb, name, work / "figures")
        # A notebook records under its own name; that file is its share of the records.
        own = ctx.stage / "records" / f"{name}.json"
        if own.exists():
            shutil.copyfile(own, work / "records" / f"{name}.json")
        entry = ctx.cache.store(name, key, work, _reads(work / "reads.txt", ctx.table_hashes))
    ctx.keys[name] = entry.key
    shutil.copyfile(entry.folder / "executed.ipynb", ctx.stage / "executed" / f"{name}.ipynb")
    for record in (entry.folder / "records").glob("*.json"):
        shutil.copyfile(record, ctx.stage / "records" / record.name)
    if (entry.folder / "figures").exists():
        shutil.copytree(entry.folder / "figures", ctx.stage / "figures", dirs_exist_ok=True)
    return executed


def run_notebooks(ctx: RunContext, jobs: int, progress: bool) -> tuple[list[str], list[str]]:
    """Run the notebooks in dependency order, independent ones in parallel; return (executed, cached)."""
    from tqdm import tqdm

    sorter = TopologicalSorter({s.name: s.depends_on for s in ctx.manifest.notebooks})
    sorter.prepare()
    executed: list[str] = []
    cached: list[str] = []
    running: dict[Future, str] = {}
    total = len(ctx.manifest.notebooks)
    bar = tqdm(total=total, desc="notebooks", unit="nb", disable=not progress, file=sys.stderr)
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        try:
            while sorter.is_active():
                for name in sorter.get_ready():
                    running[pool.submit(_run_one, name, ctx)] = name
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


def _report_fingerprint() -> str:
    index = paths.REPORT / "index.html"
    records = paths.REPORT / "records.json"
    figures = sorted(p.name for p in paths.FIGURES.glob("*")) if paths.FIGURES.exists() else []
    return digest(
        file_sha256(index) if index.exists() else "missing",
        file_sha256(records) if records.exists() else "missing",
        *figures,
    )


def _use_utc() -> None:
    """Figures are exported in this process: read and format their dates in UTC, whatever the machine's zone."""
    os.environ["TZ"] = "UTC"
    if hasattr(time, "tzset"):
        time.tzset()


def _clear_stale_staging() -> None:
    """Staging folders of builds that were killed (we hold the lock, so no other build is using one)."""
    for stale in [*paths.BUILD.glob("staging-*"), paths.BUILD / "staging"]:
        shutil.rmtree(stale, ignore_errors=True)


def build(options: BuildOptions, log: Callable[[str], None] = print) -> BuildResult:
    """Build the report; raises BuildLocked if another build of this checkout is running (unless options.wait)."""
    manifest = load_manifest()
    # The summary names the parameter set it ran with; it is told as a parameter, like everything else it reads.
    parameters = resolve_parameters(manifest, [*options.overrides, (None, "scenario", options.scenario)])
    hand_upstream_parameters(manifest, parameters)
    with BuildLock(paths.BUILD / "lock", wait=options.wait):
        return _build_locked(options, manifest, parameters, log)


def _build_locked(
    options: BuildOptions, manifest: Manifest, parameters: dict[str, dict], log: Callable[[str], None]
) -> BuildResult:
    started = time.perf_counter()
    _use_utc()
    _clear_stale_staging()
    data_hash = tree_hash(paths.DATA, ("*.csv", "*.json", "*.md"))
    validate_data(data_hash, options.force)
    validated = time.perf_counter()
    code_hash = notebook_code_hash()
    report_code_hash = tree_hash(
        paths.PACKAGE, ("*.py", "*.j2", "*.css", "*.json"), exclude=lambda p: "__pycache__" in p.parts
    )

    stage = Path(tempfile.mkdtemp(prefix="staging-", dir=paths.BUILD))
    try:
        for sub in ("executed", "records", "figures", "report"):
            (stage / sub).mkdir(parents=True)
        ctx = RunContext(
            manifest=manifest,
            parameters=parameters,
            stage=stage,
            cache=NotebookCache(paths.CACHE / "notebooks", notice=log),
            code_hash=code_hash + options.scenario,
            context_hash=context_hash(manifest),
            table_hashes=table_hashes(),
            timeout=options.timeout,
            # --force never reads the cache (it still writes fresh entries).
            use_cache=not options.force,
        )
        ran = time.perf_counter()
        executed, cached = run_notebooks(ctx, options.jobs, options.progress)
        ran = time.perf_counter() - ran

        report_key = digest(
            *[ctx.keys[n] for n in manifest.report_order],
            str(options.show_code),
            options.scenario,
            paths.MANIFEST.read_bytes(),
            report_code_hash,
            data_hash,
        )
        state_file = paths.CACHE / "report.json"
        if not options.force and not executed:
            state = read_json_state(state_file, notice=log)
            if state.get("key") == report_key and state.get("fingerprint") == _report_fingerprint():
                log("report/ is up to date: nothing changed in notebooks, parameters, data or code.")
                return BuildResult([], cached, True, paths.REPORT / "index.html", time.perf_counter() - started)

        from aicompute.build.publish import publish
        from aicompute.build.render import render_report

        render_report(manifest, parameters, stage, show_code=options.show_code, scenario=options.scenario)
        publish(
            {"report": stage / "report", "figures": stage / "figures"},
            {"report": paths.REPORT, "figures": paths.FIGURES},
            parking=stage / "previous",
        )
        write_atomically(state_file, json.dumps({"key": report_key, "fingerprint": _report_fingerprint()}))
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    seconds = time.perf_counter() - started
    checking = validated - started
    log(
        f"report/index.html written: {len(executed)} notebook(s) executed, {len(cached)} from cache, {seconds:.1f} s "
        f"(validation {checking:.1f} s, notebooks {ran:.1f} s, rendering {seconds - checking - ran:.1f} s)."
    )
    if executed:
        log("executed: " + ", ".join(executed))
    return BuildResult(executed, cached, False, paths.REPORT / "index.html", seconds)
