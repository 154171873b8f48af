"""Every path the project uses, resolved from the repository root (never from the working directory)."""

from __future__ import annotations

import os
from pathlib import Path

_MARKER = "params.yaml"


def _find_root() -> Path:
    override = os.environ.get("AICOMPUTE_ROOT")
    if override:
        return Path(override).resolve()
    # An editable install keeps this file at <root>/src/aicompute/paths.py.
    for candidate in [Path(__file__).resolve().parents[2], *Path.cwd().resolve().parents, Path.cwd().resolve()]:
        if (candidate / _MARKER).exists():
            return candidate
    raise RuntimeError(f"Cannot find the repository root (a folder holding {_MARKER}); set AICOMPUTE_ROOT.")


ROOT = _find_root()
DATA = ROOT / "data"
DATAPACKAGE = DATA / "datapackage.json"
NOTEBOOKS = ROOT / "notebooks"
REPORT = ROOT / "report"
FIGURES = ROOT / "figures"
MANIFEST = ROOT / "params.yaml"
SCENARIOS = ROOT / "scenarios"
CACHE = ROOT / ".cache"
BUILD = ROOT / ".build"
PACKAGE = Path(__file__).resolve().parent


def user_cache() -> Path:
    """Per-user cache for build tools that do not depend on the project (e.g. the Vega bundle)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "aicompute"


def records_dir() -> Path:
    """Where key numbers are written and read: the build points this at its own staging area; a notebook run outside
    the build (JupyterLab, a standalone papermill run) writes to a folder no build reads or publishes."""
    return Path(os.environ.get("AICOMPUTE_RECORDS", str(BUILD / "standalone-records")))
