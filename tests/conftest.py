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
