"""The build never publishes a wrong report (issue 14): one build at a time, all-or-nothing publish, a cache that can
only miss, honest exit codes. Uses a tiny fake project (tests/conftest.py) so that kernels start once or twice."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

import pytest
from conftest import run_build

from aicompute.build import publish as publish_module
from aicompute.build.cache import NotebookCache
from aicompute.build.lock import BuildLock, BuildLocked
from aicompute.build.publish import PublishError, publish

# ---------------------------------------------------------------------------------------------------------------------
# Lock


def test_second_build_exits_75_naming_the_running_one(tiny_project):
    with BuildLock(tiny_project / ".build" / "lock"):
        result = run_build(tiny_project, "build", "--no-progress")
    assert result.returncode == 75, result.stderr
    assert f"another build is running (pid {os.getpid()})" in result.stderr
    assert not (tiny_project / "report" / "index.html").exists()


def test_wait_flag_waits_for_the_running_build(tiny_project):
    lock = BuildLock(tiny_project / ".build" / "lock")
    lock.acquire()
    threading.Timer(1.5, lock.release).start()
    result = run_build(tiny_project, "build", "--no-progress", "--wait", "-p", "when=2026-03-31")
    assert result.returncode == 0, result.stderr
    assert "done 2026-03-31" in (tiny_project / "report" / "index.html").read_text()


def test_lock_in_process_raises_with_holder_pid(tmp_path):
    with BuildLock(tmp_path / "lock"):
        with pytest.raises(BuildLocked, match=f"pid {os.getpid()}"):
            BuildLock(tmp_path / "lock").acquire()
    BuildLock(tmp_path / "lock").acquire()  # released when the holder left


# ---------------------------------------------------------------------------------------------------------------------
# Publish


def _folders(tmp_path: Path) -> tuple[dict[str, Path], dict[str, Path]]:
    staged, targets = {}, {}
    for name in ("report", "figures"):
        (tmp_path / "stage" / name).mkdir(parents=True)
        (tmp_path / "stage" / name / "new.txt").write_text("new")
        (tmp_path / name).mkdir()
        (tmp_path / name / "old.txt").write_text("old")
        staged[name], targets[name] = tmp_path / "stage" / name, tmp_path / name
    return staged, targets


def test_publish_swaps_both(tmp_path):
    staged, targets = _folders(tmp_path)
    publish(staged, targets, tmp_path / "parking")
    assert [p.name for p in targets["report"].iterdir()] == ["new.txt"]
    assert [p.name for p in targets["figures"].iterdir()] == ["new.txt"]


@pytest.mark.parametrize("failing_step", [1, 2, 3, 4])
def test_failed_publish_leaves_both_exactly_as_they_were(tmp_path, monkeypatch, failing_step):
    """Steps: park report, place report, park figures (an unwritable figures/), place figures."""
    staged, targets = _folders(tmp_path)
    calls = {"n": 0}
    real_move = publish_module._move

    def move(source, target):
        calls["n"] += 1
        if calls["n"] == failing_step:
            raise PermissionError(13, "Permission denied", str(source))
        real_move(source, target)

    monkeypatch.setattr(publish_module, "_move", move)
    with pytest.raises(PublishError, match="left exactly as they were"):
        publish(staged, targets, tmp_path / "parking")
    for name in ("report", "figures"):
        assert [p.name for p in targets[name].iterdir()] == ["old.txt"]
        assert (targets[name] / "old.txt").read_text() == "old"


# ---------------------------------------------------------------------------------------------------------------------
# Cache


@pytest.fixture
def stored(tmp_path):
    work = tmp_path / "work"
    (work / "records").mkdir(parents=True)
    (work / "figures").mkdir()
    (work / "executed.ipynb").write_text('{"cells": []}')
    (work / "records" / "nb.json").write_text("{}")
    (work / "figures" / "nb--a.svg").write_text("<svg/>")
    notices: list[str] = []
    cache = NotebookCache(tmp_path / "cache", notice=notices.append)
    entry = cache.store("nb", "k" * 64, work, {"backlog": "h1", "sources": "h2"})
    return cache, entry, notices


def test_cache_hit_only_while_every_table_read_is_unchanged(stored):
    cache, entry, notices = stored
    assert cache.lookup("nb", "k" * 64, {"backlog": "h1", "sources": "h2", "capex": "x"}).key == entry.key
    assert cache.lookup("nb", "k" * 64, {"backlog": "CHANGED", "sources": "h2"}) is None
    assert cache.lookup("nb", "other" * 13, {"backlog": "h1", "sources": "h2"}) is None
    assert notices == []


@pytest.mark.parametrize(
    "damage",
    [
        lambda f: (f / "executed.ipynb").write_text('{"cel'),  # truncated notebook
        lambda f: (f / "executed.ipynb").unlink(),  # entry without its notebook
        lambda f: (f / "entry.json").write_text('{"form'),  # truncated entry file
        lambda f: (f / "entry.json").unlink(),
        lambda f: (f / "figures" / "nb--a.svg").write_bytes(b"\x00"),
    ],
)
def test_damaged_entry_is_discarded_with_a_notice(stored, damage):
    cache, entry, notices = stored
    damage(entry.folder)
    assert cache.lookup("nb", "k" * 64, {"backlog": "h1", "sources": "h2"}) is None
    assert len(notices) == 1 and "damaged" in notices[0] and "re-runs" in notices[0]
    assert not entry.folder.exists()


def test_truncated_vega_bundle_is_rebuilt(tmp_path, monkeypatch):
    from aicompute.build import render

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    notices: list[str] = []
    first = render.vega_bundle(notice=notices.append)
    cached = next((tmp_path / "aicompute").glob("vega-bundle-*.js"))
    cached.write_text(cached.read_text()[:1000])
    assert render.vega_bundle(notice=notices.append) == first
    assert len(notices) == 1 and "damaged" in notices[0]


# ---------------------------------------------------------------------------------------------------------------------
# The whole build on the tiny project: damaged cache, exit codes, hung cell, dead kernel


def test_damaged_report_state_and_cached_notebook_never_break_a_build(tiny_project):
    assert run_build(tiny_project, "build", "--no-progress").returncode == 0
    (tiny_project / ".cache" / "report.json").write_text('{"ke')
    forced = run_build(tiny_project, "build", "--no-progress", "--force")
    assert forced.returncode == 0, forced.stderr
    (tiny_project / ".cache" / "report.json").write_text('{"ke')
    cached_nb = next((tiny_project / ".cache" / "notebooks" / "tiny").glob("*/executed.ipynb"))
    cached_nb.write_text(cached_nb.read_text()[:50])
    plain = run_build(tiny_project, "build", "--no-progress")
    assert plain.returncode == 0, plain.stderr
    assert "damaged" in plain.stdout and "1 notebook(s) executed" in plain.stdout
    assert "done" in (tiny_project / "report" / "index.html").read_text()


@pytest.mark.parametrize(
    "args, message",
    [
        (["-p", "tiny.mode=!!python/object:os.system ls"], "not valid YAML"),
        (["--params-file", "broken.yaml"], "not valid YAML"),
        (["--params-file", "missing.yaml"], "no such parameter file"),
        (["-p", "tiny.mode=[]"], "must be str"),
    ],
)
def test_bad_parameters_exit_2_without_traceback(tiny_project, args, message):
    (tiny_project / "broken.yaml").write_text("tiny: {mode: [unclosed\n")
    result = run_build(tiny_project, "build", "--no-progress", *args)
    assert result.returncode == 2, result.stderr
    assert message in result.stderr and "Traceback" not in result.stderr


def test_failing_cell_exits_1_naming_notebook_cell_and_exception(tiny_project):
    result = run_build(tiny_project, "build", "--no-progress", "-p", "tiny.mode=raise")
    assert result.returncode == 1
    assert "notebook 'tiny'" in result.stderr and "cell 4" in result.stderr and "ValueError: boom" in result.stderr


def test_dead_kernel_names_the_cell_it_died_in(tiny_project):
    result = run_build(tiny_project, "build", "--no-progress", "-p", "tiny.mode=die")
    assert result.returncode == 1
    assert "cell 3" in result.stderr and "kernel died" in result.stderr and "start-up" not in result.stderr


def test_hanging_cell_is_stopped_by_the_timeout_and_named(tiny_project):
    result = run_build(tiny_project, "build", "--no-progress", "--timeout", "2", "-p", "tiny.mode=hang", timeout=120)
    assert result.returncode == 1
    assert "cell 2" in result.stderr and "longer than 2 s" in result.stderr


def test_unexpected_error_is_one_line_with_the_log_path(tiny_project):
    (tiny_project / "data" / "datapackage.json").write_text(json.dumps({"resources": "not a list"}))
    result = run_build(tiny_project, "build", "--no-progress")
    assert result.returncode == 70, result.stderr
    assert "Traceback" not in result.stderr and ".build/logs/build-" in result.stderr
    log = next((tiny_project / ".build" / "logs").glob("build-*.log")).read_text()
    assert "Traceback" in log


def test_the_notebook_cache_key_follows_the_fragment_templates_but_not_the_page_template(tmp_path, monkeypatch):
    """The bottom line and the ledger are rendered inside notebooks from present/templates/fragments: editing one must
    re-run the notebooks (a cached notebook would keep the old HTML). The page's own template only shapes the page."""
    import shutil

    from aicompute import paths
    from aicompute.build import run

    package = tmp_path / "aicompute"
    shutil.copytree(paths.PACKAGE, package, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(paths, "PACKAGE", package)
    before = run.notebook_code_hash()
    page = package / "present" / "templates" / "aicompute" / "index.html.j2"
    page.write_text(page.read_text(encoding="utf-8") + "\n{# page only #}\n", encoding="utf-8")
    assert run.notebook_code_hash() == before
    fragment = package / "present" / "templates" / "fragments" / "bottom_line.html.j2"
    fragment.write_text(fragment.read_text(encoding="utf-8") + "\n{# in a notebook's output #}\n", encoding="utf-8")
    assert run.notebook_code_hash() != before


def test_a_chart_that_cannot_be_drawn_exits_1_naming_notebook_and_chart(monkeypatch, capsys):
    """Not 'unexpected error' (70): the message says which notebook's which chart, and that nothing was published."""
    from aicompute import cli
    from aicompute.build import run
    from aicompute.build.export import FigureExportFailed

    def broken_chart(options, log=print):
        raise FigureExportFailed("notebook 'backlog': chart 'snapshot' could not be drawn: unknown transform")

    monkeypatch.setattr(run, "build", broken_chart)
    assert cli.main(["build", "--no-progress"]) == 1
    err = capsys.readouterr().err
    assert "notebook 'backlog': chart 'snapshot' could not be drawn" in err
    assert "left as they were" in err and "unexpected" not in err
