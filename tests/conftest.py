"""Shared fixtures: small hand-made tables, and a throw-away copy of the repository for end-to-end builds."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
IGNORE = shutil.ignore_patterns(
    ".venv",
    ".git",
    ".cache",
    ".build",
    ".research",
    "report",
    "figures",
    "__pycache__",
    "*.egg-info",
    ".pytest_cache",
    ".ruff_cache",
)


def copy_repo(target: Path) -> Path:
    """A copy of the repository's sources and data (no outputs, no caches) to build in."""
    shutil.copytree(ROOT, target, ignore=IGNORE)
    (target / "report").mkdir()
    (target / "figures").mkdir()
    return target


def run_build(repo: Path, *args: str, timeout: int = 600) -> subprocess.CompletedProcess:
    """Run the CLI against ``repo`` the way a re-runner would, and return the finished process."""
    env = {**os.environ, "AICOMPUTE_ROOT": str(repo)}
    env.pop("AICOMPUTE_BUILD", None)
    env.pop("AICOMPUTE_RECORDS", None)
    return subprocess.run(
        [sys.executable, "-m", "aicompute", *args], cwd=repo, env=env, capture_output=True, text=True, timeout=timeout
    )


@pytest.fixture(scope="session")
def built_repo(tmp_path_factory) -> Path:
    """A repository copy with a complete default build (shared by the end-to-end and browser tests)."""
    repo = copy_repo(tmp_path_factory.mktemp("built") / "repo")
    result = run_build(repo, "build", "--no-progress")
    assert result.returncode == 0, result.stderr[-3000:]
    return repo


# ---------------------------------------------------------------------------------------------------------------------
# A tiny fake project (one table, one notebook) for build tests that need a real kernel but not the real chapters.

TINY_NOTEBOOK_CELLS = [
    ('mode: str = "ok"\nscenario: str = "default"\nwhen: str = "2026-01-01"', ["parameters"]),
    ("from aicompute.analysis import data\nsources = data.load('sources')", []),
    ("import time\nif mode == 'hang':\n    time.sleep(3600)", []),
    ("import os\nif mode == 'die':\n    os._exit(1)", []),
    ("if mode == 'raise':\n    raise ValueError('boom')", []),
    ("print('done', when)", []),
]


def _tiny_notebook() -> dict:
    cells = [
        {
            "cell_type": "code",
            "execution_count": None,
            "id": f"c{i}",
            "metadata": {"tags": tags},
            "outputs": [],
            "source": source,
        }
        for i, (source, tags) in enumerate(TINY_NOTEBOOK_CELLS)
    ]
    return {
        "cells": cells,
        "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }


TINY_DATAPACKAGE = {
    "name": "tiny",
    "resources": [
        {
            "name": "sources",
            "path": "sources.csv",
            "schema": {
                "fields": [
                    {"name": "source_id", "type": "string", "constraints": {"required": True}},
                    {"name": "published", "type": "date"},
                    {"name": "value", "type": "number"},
                ],
                "primaryKey": ["source_id"],
            },
        }
    ],
}


def make_tiny_project(root: Path) -> Path:
    """A project with one table and one notebook whose ``mode`` parameter makes it succeed, raise, hang or die."""
    import json

    for folder in ("notebooks", "data", "scenarios", "report", "figures"):
        (root / folder).mkdir(parents=True, exist_ok=True)
    (root / "params.yaml").write_text(
        "report:\n  title: Tiny\n  order: [tiny]\nnotebooks:\n"
        "  - name: tiny\n    path: notebooks/tiny.ipynb\n    title: Tiny\n    parameters: {}\n",
        encoding="utf-8",
    )
    (root / "notebooks" / "tiny.ipynb").write_text(json.dumps(_tiny_notebook(), indent=1), encoding="utf-8")
    (root / "data" / "datapackage.json").write_text(json.dumps(TINY_DATAPACKAGE, indent=1), encoding="utf-8")
    (root / "data" / "sources.csv").write_text("source_id,published,value\ns1,2026-01-31,1.5\n", encoding="utf-8")
    return root


@pytest.fixture
def tiny_project(tmp_path) -> Path:
    return make_tiny_project(tmp_path / "tiny")
